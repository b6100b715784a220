// The text pipelines on random-weight models with the real bert-base-uncased tokenizer: each
// pipeline's numbers are checked against a direct Session run on the same ids, and the
// aggregation and span logic against hand-made logits.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_pipelines {

namespace {

minibert::Tokenizer uncased() {
    return minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/bert-base-uncased");
}

}  // namespace

TEST_CASE("Classifier: probabilities are the softmax of the session's logits, labels from id2label") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    minibert::Classifier classifier(model, uncased());
    const std::vector<std::string> texts{"a gorgeous , witty , seductive movie .", "dull and overlong", "ok"};
    const auto results = classifier.classify(texts);
    REQUIRE(results.size() == 3);

    minibert::Session session(model);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto enc = classifier.tokenizer().encode(texts[i]);
        minibert::Batch batch;
        batch.add(enc.ids, enc.type_ids);
        const auto out = session.run(batch);
        const auto& r = results[i];
        CHECK(r.logits[0] == doctest::Approx(out.logits(0, 0)).epsilon(1e-6));
        CHECK(r.logits[1] == doctest::Approx(out.logits(0, 1)).epsilon(1e-6));
        CHECK(r.probabilities[0] + r.probabilities[1] == doctest::Approx(1.0));
        const double expected = 1.0 / (1.0 + std::exp(static_cast<double>(r.logits[1 - r.label_id] - r.logits[r.label_id])));
        CHECK(r.score == doctest::Approx(expected).epsilon(1e-6));
        CHECK(r.label == model.config().id2label[r.label_id]);
        CHECK(r.score >= 0.5f);
    }
}

TEST_CASE("Pipelines: memory follows the work; max_batch is a ceiling, not a reservation") {
    // Issue 11: max_batch 20000 with one text reserved 20000 x max_length tokens (20.7 GB).
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    minibert::PipelineOptions wide;
    wide.max_batch = 20000;
    minibert::Classifier classifier(model, uncased(), wide);
    const std::size_t one_text = minibert::Session::workspace_bytes(model, 1, classifier.max_length());
    CHECK(classifier.workspace_bytes() == one_text);
    const auto first = classifier.classify("a gorgeous , witty , seductive movie .");
    CHECK(classifier.workspace_bytes() == one_text);

    // Three texts grow it to at most twice what they need; answers equal the one-at-a-time ones.
    const std::vector<std::string> texts{"dull and overlong", "ok", "a gorgeous , witty , seductive movie ."};
    const auto together = classifier.classify(texts);
    CHECK(classifier.workspace_bytes() > one_text);
    minibert::SessionOptions bound = minibert::Session::options_for(3, classifier.max_length());
    bound.max_tokens = 2 * classifier.max_length();  // the doubling from one text's room; three short texts need less
    CHECK(classifier.workspace_bytes() <= minibert::Session::workspace_bytes(model, bound));
    minibert::PipelineOptions single;
    single.max_batch = 1;
    minibert::Classifier one_by_one(model, uncased(), single);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto alone = one_by_one.classify(texts[i]);
        CHECK(alone.label_id == together[i].label_id);
        CHECK(alone.logits[0] == doctest::Approx(together[i].logits[0]).epsilon(1e-5));
    }
    CHECK(first.logits[0] == doctest::Approx(together[2].logits[0]).epsilon(1e-5));
}

TEST_CASE("Classifier: pairs get token types, long texts truncate or are rejected as chosen") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    minibert::PipelineOptions options;
    options.max_length = 16;
    minibert::Classifier truncating(model, uncased(), options);
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += "word ";
    CHECK_NOTHROW(truncating.classify(long_text));
    CHECK(truncating.classify_pairs({{"a question", "an answer that goes on"}}).size() == 1);

    options.overflow = minibert::Overflow::reject;
    minibert::Classifier rejecting(model, uncased(), options);
    try {
        rejecting.classify(long_text);
        FAIL("no error");
    } catch (const minibert::Error& e) {
        CHECK(e.kind() == minibert::ErrorKind::limit);
        CHECK(std::string(e.what()).find("42 tokens") != std::string::npos);
    }
    // Invalid UTF-8 is the tokenizer's error, with the byte position.
    CHECK_THROWS_AS(truncating.classify(std::string("bad \xff byte")), minibert::Error);
}

TEST_CASE("Classifier refuses a model that is not a sequence classifier") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("small-bert-qa"));
    CHECK_THROWS_AS(minibert::Classifier(model, uncased()), minibert::Error);
}

TEST_CASE("Pipelines refuse a tokenizer whose vocabulary is larger than the model's") {
    // roberta-base's tokenizer.json runs through TokenizerPipeline (50265 tokens); tinybert's
    // embedding has 30522 rows, so ids past it would read outside the table.
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    const minibert::Tokenizer roberta =
        minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/roberta-base");
    REQUIRE(roberta.kind() == minibert::TokenizerKind::pipeline);
    REQUIRE(roberta.vocab_size() > model.config().vocab_size);
    try {
        minibert::Classifier classifier(model, roberta);
        FAIL("a tokenizer larger than the model's vocabulary must be refused");
    } catch (const minibert::Error& e) {
        CHECK(e.kind() == minibert::ErrorKind::config);
        CHECK(std::string(e.what()).find("the tokenizer has 50265 tokens but the model's vocab_size is") != std::string::npos);
    }
}

TEST_CASE("Embedder: mean pooling equals the session's, normalisation gives unit vectors") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    minibert::PoolingConfig mean;
    minibert::Embedder embedder(model, uncased(), mean);
    const auto e = embedder.embed("the film is a delight");
    REQUIRE(e.size() == 312);
    minibert::Session session(model);
    const auto enc = embedder.tokenizer().encode("the film is a delight");
    minibert::Batch batch;
    batch.add(enc.ids);
    const auto out = session.run(batch);
    for (std::size_t c = 0; c < 312; ++c) CHECK(e[c] == doctest::Approx(out.mean_pooled(0, c)).epsilon(1e-5));

    minibert::PoolingConfig cls_normalized;
    cls_normalized.mean = false;
    cls_normalized.cls = true;
    cls_normalized.normalize = true;
    minibert::Embedder normalized(model, uncased(), cls_normalized);
    const auto n = normalized.embed(std::vector<std::string>{"the film is a delight", "a different sentence entirely"});
    double norm = 0;
    for (float v : n[0]) norm += static_cast<double>(v) * v;
    CHECK(norm == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(minibert::Embedder::cosine(n[0], n[0]) == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(minibert::Embedder::cosine(n[0], n[1]) < 0.9999f);
}

TEST_CASE("Embedder honours a sentence-transformers folder's pooling and Normalize module") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "minibert-test-st-folder";
    fs::remove_all(dir);
    fs::create_directories(dir / "1_Pooling");
    for (const char* f : {"config.json", "model.safetensors"})
        fs::copy_file(fs::path(test_support::model_path("tinybert-4l-312")) / f, dir / f);
    fs::copy_file(fs::path(MINIBERT_TEST_DATA_DIR) / "tokenizer/bert-base-uncased/vocab.txt", dir / "vocab.txt");
    std::ofstream(dir / "modules.json") << R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
        {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
        {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])";
    std::ofstream(dir / "1_Pooling/config.json") << R"({"word_embedding_dimension": 312, "pooling_mode_cls_token": true,
        "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false})";
    std::ofstream(dir / "sentence_bert_config.json") << R"({"max_seq_length": 8, "do_lower_case": false})";
    auto embedder = minibert::Embedder::load(dir.string());
    CHECK(embedder.pooling().cls);
    CHECK(embedder.pooling().mean);
    CHECK(embedder.pooling().normalize);
    CHECK(embedder.max_length() == 8);
    CHECK(embedder.dimension() == 624);
    const auto e = embedder.embed("a sentence that is longer than eight word pieces for sure");
    double norm = 0;
    for (float v : e) norm += static_cast<double>(v) * v;
    CHECK(norm == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("TokenTagger: spans map back to the text, aggregation merges pieces") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("small-bert-tokcls"));
    minibert::TokenTagger tagger(model, uncased());
    const std::string text = "John Johanson lives in Zürich, près de Genève.";
    for (auto aggregation : {minibert::Aggregation::none, minibert::Aggregation::simple, minibert::Aggregation::first}) {
        for (const auto& e : tagger.tag(text, aggregation)) {
            CHECK(e.start < e.end);
            CHECK(e.end <= text.size());
            CHECK(e.label != "O");
            CHECK(e.score > 0.0f);
            CHECK(e.score <= 1.0f);
            CHECK(e.char_end - e.char_start <= e.end - e.start);
        }
    }
    // none reports every non-O piece; its pieces' spans cover the aggregated ones.
    const auto pieces = tagger.tag(text, minibert::Aggregation::none);
    const auto groups = tagger.tag(text, minibert::Aggregation::simple);
    CHECK(groups.size() <= pieces.size());
}

TEST_CASE("QuestionAnswerer: the answer is a span of the context, also across strided windows") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("small-bert-qa"));
    minibert::QuestionAnswererOptions qa;
    qa.max_seq_length = 32;
    qa.doc_stride = 8;
    qa.max_answer_length = 5;
    minibert::QuestionAnswerer answerer(model, uncased(), qa);
    std::string context;
    for (int i = 0; i < 30; ++i) context += "Sentence number " + std::to_string(i) + " talks about Zürich and Paris. ";
    const auto a = answerer.answer("Where is the city?", context);
    CHECK(a.end > a.start);
    CHECK(a.text == context.substr(a.start, a.end - a.start));
    CHECK(a.score > 0.0f);
    CHECK(a.score <= 1.0f);
    // The long context yields the same best answer as the window that contains it alone would.
    const std::size_t from = a.start > 40 ? a.start - 40 : 0;
    const auto local = answerer.answer("Where is the city?", context.substr(from, 120));
    CHECK(local.score > 0.0f);

    std::string long_question;
    for (int i = 0; i < 40; ++i) long_question += "why ";
    CHECK_THROWS_AS(answerer.answer(long_question, "short context"), minibert::Error);
}

TEST_CASE("TokenTagger aggregation follows Hugging Face's none / simple / first on known logits") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("small-bert-tokcls"));
    minibert::TokenTagger tagger(model, uncased());
    const std::string text = "John Johanson lives in Paris";
    const auto enc = tagger.tokenizer().encode(text);
    REQUIRE(enc.tokens == std::vector<std::string>{"[CLS]", "john", "johan", "##son", "lives", "in", "paris", "[SEP]"});
    // labels: O, B-PER, I-PER, B-LOC, I-LOC. john B-PER, johan I-PER, ##son O, paris B-LOC.
    const std::vector<std::size_t> chosen{0, 1, 2, 0, 0, 0, 3, 0};
    std::vector<float> logits(8 * 5, 0.0f);
    for (std::size_t t = 0; t < 8; ++t) logits[t * 5 + chosen[t]] = 5.0f;
    const minibert::MatrixView view(logits.data(), 8, 5);
    const float p = static_cast<float>(std::exp(5.0) / (std::exp(5.0) + 4.0));

    const auto none = tagger.entities(text, enc, view, minibert::Aggregation::none);
    REQUIRE(none.size() == 3);
    CHECK(none[0].label == "B-PER");
    CHECK(none[0].word == "john");
    CHECK(none[1].label == "I-PER");
    CHECK(none[1].index == 2);
    CHECK(none[2].label == "B-LOC");
    CHECK(none[2].score == doctest::Approx(p));

    // simple: john + johan form one PER (##son is O and ends it); paris is a LOC.
    const auto simple = tagger.entities(text, enc, view, minibert::Aggregation::simple);
    REQUIRE(simple.size() == 2);
    CHECK(simple[0].label == "PER");
    CHECK(simple[0].word == "john johan");
    CHECK(text.substr(simple[0].start, simple[0].end - simple[0].start) == "John Johan");
    CHECK(simple[0].score == doctest::Approx(p));
    CHECK(simple[1].label == "LOC");
    CHECK(simple[1].char_start == 23);
    CHECK(simple[1].char_end == 28);

    // first: the word "johanson" takes its first piece's I-PER, so the PER covers both words.
    const auto first = tagger.entities(text, enc, view, minibert::Aggregation::first);
    REQUIRE(first.size() == 2);
    CHECK(first[0].word == "john johanson");
    CHECK(text.substr(first[0].start, first[0].end - first[0].start) == "John Johanson");
    CHECK(first[1].word == "paris");

    // A B- tag after an I- of the same type starts a new entity.
    std::vector<float> split(8 * 5, 0.0f);
    const std::vector<std::size_t> tags{0, 1, 1, 2, 0, 0, 0, 0};
    for (std::size_t t = 0; t < 8; ++t) split[t * 5 + tags[t]] = 5.0f;
    const auto two = tagger.entities(text, enc, minibert::MatrixView(split.data(), 8, 5), minibert::Aggregation::simple);
    REQUIRE(two.size() == 2);
    CHECK(two[0].word == "john");
    CHECK(two[1].word == "johanson");
}

namespace {

/// A cross-encoder folder in a temporary directory: the small-bert-rerank checkpoint, the
/// bert-base-uncased vocabulary, and config.json with `extra` members merged in.
std::string rerank_folder(const std::string& name, const std::string& extra) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("minibert-test-rerank-" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path source = test_support::model_path("small-bert-rerank");
    fs::copy_file(source / "model.safetensors", dir / "model.safetensors");
    nlohmann::json config = test_support::read_json((source / "config.json").string());
    if (!extra.empty()) config.update(nlohmann::json::parse(extra));
    std::ofstream(dir / "config.json") << config.dump();
    fs::copy_file(fs::path(MINIBERT_TEST_DATA_DIR) / "tokenizer/bert-base-uncased/vocab.txt", dir / "vocab.txt");
    return dir.string();
}

}  // namespace

TEST_CASE("Reranker: scores are the cross-encoder's pair logits, ranked best first") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("small-bert-rerank"));
    REQUIRE(model.config().num_labels == 1);
    minibert::PipelineOptions options;
    options.max_batch = 2;  // several packed batches for five passages
    minibert::Reranker reranker(model, uncased(), options);
    CHECK(reranker.activation() == minibert::ScoreActivation::identity);
    const std::string query = "what is the capital of france";
    const std::vector<std::string> passages{"paris is the capital of france .", "the eiffel tower",
                                            "bananas are yellow", "france", "a much longer passage about many things"};
    const auto scores = reranker.score(query, passages);
    REQUIRE(scores.size() == passages.size());

    // Each score equals a single-pair session run: batching and packing change nothing.
    minibert::Session session(model);
    for (std::size_t i = 0; i < passages.size(); ++i) {
        const auto enc = reranker.tokenizer().encode_pair(query, passages[i]);
        minibert::Batch batch;
        batch.add(enc.ids, enc.type_ids);
        const auto out = session.run(batch);
        CHECK(scores[i] == doctest::Approx(out.logits(0, 0)).epsilon(1e-6));
    }
    const auto ranked = reranker.rerank(query, passages);
    REQUIRE(ranked.size() == passages.size());
    std::vector<bool> seen(passages.size(), false);
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        CHECK(ranked[r].score == scores[ranked[r].index]);
        if (r) CHECK(ranked[r - 1].score >= ranked[r].score);
        seen[ranked[r].index] = true;
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](bool s) { return s; }));
    const auto top2 = reranker.rerank(query, passages, 2);
    REQUIRE(top2.size() == 2);
    CHECK(top2[0].index == ranked[0].index);
    CHECK(top2[1].index == ranked[1].index);
    CHECK(reranker.rerank(query, std::vector<std::string>{}).empty());
}

TEST_CASE("Reranker: the activation comes from the sentence-transformers config, or the caller") {
    const std::vector<std::string> passages{"paris is the capital of france .", "bananas are yellow"};
    auto raw = minibert::Reranker::load(rerank_folder("raw", ""));
    CHECK(raw.activation() == minibert::ScoreActivation::identity);
    const auto logits = raw.score("capital of france", passages);

    auto st4 = minibert::Reranker::load(rerank_folder(
        "st4", R"({"sentence_transformers": {"activation_fn": "torch.nn.modules.activation.Sigmoid", "version": "4.0.1"}})"));
    CHECK(st4.activation() == minibert::ScoreActivation::sigmoid);
    auto old = minibert::Reranker::load(
        rerank_folder("st2", R"({"sbert_ce_default_activation_function": "torch.nn.modules.activation.Sigmoid"})"));
    CHECK(old.activation() == minibert::ScoreActivation::sigmoid);
    const auto probs = st4.score("capital of france", passages);
    for (std::size_t i = 0; i < passages.size(); ++i) {
        CHECK(probs[i] == doctest::Approx(1.0 / (1.0 + std::exp(-static_cast<double>(logits[i])))).epsilon(1e-6));
        CHECK(probs[i] > 0.0f);
        CHECK(probs[i] < 1.0f);
    }
    auto identity = minibert::Reranker::load(
        rerank_folder("st4-identity", R"({"sentence_transformers": {"activation_fn": "torch.nn.modules.linear.Identity"}})"));
    CHECK(identity.activation() == minibert::ScoreActivation::identity);

    // The caller's choice wins over the folder's.
    minibert::RerankOptions forced;
    forced.activation = minibert::ScoreActivation::tanh;
    auto tanh = minibert::Reranker::load(rerank_folder("st4-forced", R"({"sentence_transformers": {"activation_fn": "torch.nn.Sigmoid"}})"),
                                         {}, forced);
    CHECK(tanh.activation() == minibert::ScoreActivation::tanh);
    CHECK(tanh.score("capital of france", passages)[0] == doctest::Approx(std::tanh(logits[0])).epsilon(1e-6));
}

TEST_CASE("Reranker refuses what is not a one-label cross-encoder, and an unknown activation") {
    const minibert::Model two_labels = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    try {
        minibert::Reranker r(two_labels, uncased());
        FAIL("a two-label classifier is not a cross-encoder");
    } catch (const minibert::Error& e) {
        CHECK(std::string(e.what()).find("one label; this model has 2") != std::string::npos);
    }
    const minibert::Model qa = minibert::Model::load(test_support::model_path("small-bert-qa"));
    CHECK_THROWS_AS(minibert::Reranker(qa, uncased()), minibert::Error);
    try {
        minibert::Reranker::load(rerank_folder("softmax", R"({"sentence_transformers": {"activation_fn": "torch.nn.Softmax"}})"));
        FAIL("an unknown activation must be refused");
    } catch (const minibert::Error& e) {
        CHECK(e.kind() == minibert::ErrorKind::unsupported);
        CHECK(std::string(e.what()).find("torch.nn.Softmax") != std::string::npos);
    }
    CHECK_THROWS_AS(minibert::Reranker::load(rerank_folder("bad-st", R"({"sentence_transformers": [1, 2]})")), minibert::Error);
    CHECK_THROWS_AS(minibert::Reranker::load(rerank_folder("bad-name", R"({"sbert_ce_default_activation_function": 3})")),
                    minibert::Error);
    // Long passages follow the Overflow policy, named by index.
    minibert::PipelineOptions reject;
    reject.overflow = minibert::Overflow::reject;
    reject.max_length = 16;
    minibert::Reranker strict(minibert::Model::load(test_support::model_path("small-bert-rerank")), uncased(), reject);
    try {
        strict.score("a query", std::vector<std::string>{"short", "a passage far too long to fit in sixteen word pieces at all , really"});
        FAIL("a pair longer than max_length must be refused under Overflow::reject");
    } catch (const minibert::Error& e) {
        CHECK(std::string(e.what()).find("text 1 has") != std::string::npos);
    }
    // Invalid UTF-8 in a passage is the tokenizer's clear error, not a crash.
    CHECK_THROWS_AS(strict.score("a query", std::vector<std::string>{"ok", std::string("bad \xff\xfe bytes")}), minibert::Error);
}
}  // namespace minibert_test_pipelines
