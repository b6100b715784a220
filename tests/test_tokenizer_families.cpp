// TokenizerPipeline (tokenizer.json: byte-level BPE, Unigram, WordPiece with other parts)
// against the Hugging Face Rust engine: every golden line of roberta-base, ModernBERT-base,
// sentence-camembert-base, t5-small and all-mpnet-base-v2 must match exactly (ids, tokens,
// type ids, special-tokens mask, offsets), and bad files and inputs give minibert::Error.
#include <doctest/doctest.h>

#include <fstream>
#include <unistd.h>
#include <thread>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/tokenizer/tokenizer.hpp"
#include "tokenizer_golden_io.hpp"
#include "minibert/tokenizer/tokenizer_pipeline.hpp"
#include "fuzz/pipeline_harness.hpp"

#include <filesystem>

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_tokenizer_families {

namespace {

using golden::byte_to_char;
using golden::data_dir;
using golden::offsets_json;
using golden::read_file;
using golden::read_jsonl;

const minibert::TokenizerPipeline& pipeline(const std::string& name) {
    static std::map<std::string, minibert::TokenizerPipeline> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, minibert::load_tokenizer_pipeline(data_dir + name + "/tokenizer.json")).first;
    return it->second;
}

std::string golden_path(const std::string& name, const char* suffix) {
    // BERT's goldens live in goldens/ (shared with test_tokenizer_goldens.cpp); the families' in <name>/.
    if (name.rfind("bert-base-", 0) == 0) return data_dir + "goldens/" + name + suffix;
    return data_dir + name + "/goldens" + suffix;
}

// `Tok` is TokenizerPipeline or Tokenizer (which delegates to one); `stride` > 1 checks a sample.
template <class Tok>
void check_singles(const Tok& tok, const std::string& name, std::size_t stride = 1) {
    const auto lines = read_jsonl(golden_path(name, ".jsonl"));
    REQUIRE(lines.size() == 1173);
    std::size_t matched = 0, checked = 0;
    for (std::size_t i = 0; i < lines.size(); i += stride, ++checked) {
        const auto& g = lines[i];
        const std::string text = g["text"];
        const minibert::Encoding e = tok.encode(text);
        const bool ok = nlohmann::json(e.ids) == g["ids"] && nlohmann::json(e.tokens) == g["tokens"] &&
                        nlohmann::json(e.type_ids) == g["type_ids"] &&
                        nlohmann::json(e.special_tokens_mask) == g["special_tokens_mask"] &&
                        offsets_json(e.offsets) == g["byte_offsets"];
        CHECK_MESSAGE(ok, name << " line " << i + 1 << " " << nlohmann::json(text).dump() << "\n  got    "
                                << nlohmann::json(e.tokens).dump() << " " << nlohmann::json(e.ids).dump() << " "
                                << offsets_json(e.offsets).dump() << "\n  golden " << g["tokens"].dump() << " "
                                << g["ids"].dump() << " " << g["byte_offsets"].dump());
        matched += ok;
    }
    CHECK(matched == checked);
    MESSAGE(name << ": " << matched << "/" << checked << " single-text goldens match");
}

template <class Tok>
void check_pairs(const Tok& tok, const std::string& name, std::size_t stride = 1) {
    const auto lines = read_jsonl(golden_path(name, ".pairs.jsonl"));
    REQUIRE(lines.size() == 220);
    std::size_t matched = 0, truncated_matched = 0, checked = 0;
    for (std::size_t i = 0; i < lines.size(); i += stride, ++checked) {
        const auto& g = lines[i];
        const std::string a = g["text"], b = g["text_pair"];
        const minibert::Encoding e = tok.encode_pair(a, b);
        nlohmann::json char_offsets = nlohmann::json::array();
        for (std::size_t k = 0; k < e.size(); ++k) {
            const std::string& text = e.sequence_ids[k] == 1 ? b : a;
            char_offsets.push_back({byte_to_char(text, e.offsets[k].first), byte_to_char(text, e.offsets[k].second)});
        }
        const bool ok = nlohmann::json(e.ids) == g["ids"] && nlohmann::json(e.tokens) == g["tokens"] &&
                        nlohmann::json(e.type_ids) == g["type_ids"] &&
                        nlohmann::json(e.special_tokens_mask) == g["special_tokens_mask"] && char_offsets == g["offsets"];
        CHECK_MESSAGE(ok, name << " pair line " << i + 1 << " " << nlohmann::json(a).dump() << " / " << nlohmann::json(b).dump()
                                << "\n  got    " << nlohmann::json(e.tokens).dump() << " " << char_offsets.dump()
                                << "\n  golden " << g["tokens"].dump() << " " << g["offsets"].dump());
        matched += ok;

        const auto& t = g["truncated"];
        REQUIRE(t["strategy"] == "longest_first");
        minibert::EncodeOptions options;
        options.max_length = t["max_length"];
        options.truncation = minibert::TruncationStrategy::longest_first;
        const minibert::Encoding truncated = tok.encode_pair(a, b, options);
        const bool t_ok = nlohmann::json(truncated.ids) == t["ids"] && nlohmann::json(truncated.type_ids) == t["type_ids"];
        CHECK_MESSAGE(t_ok, name << " truncated pair line " << i + 1 << " got " << nlohmann::json(truncated.ids).dump()
                                 << " golden " << t["ids"].dump());
        truncated_matched += t_ok;
    }
    CHECK(matched == checked);
    CHECK(truncated_matched == checked);
    MESSAGE(name << ": " << matched << "/" << checked << " pair goldens match; truncated: " << truncated_matched << "/"
                 << checked);
}

template <class Fn>
void expect_error(Fn&& fn, const char* what) {
    bool threw = false;
    try {
        fn();
    } catch (const minibert::Error& e) {
        threw = true;
        const std::string message = std::string(what) + ": " + e.what();
        MESSAGE(message);
        CHECK(std::string(e.what()).size() < 400);  // bounded messages: the input is never dumped
    }
    const std::string missing = std::string(what) + ": no minibert::Error";
    CHECK_MESSAGE(threw, missing);
}

}  // namespace

TEST_CASE("families: roberta-base (byte-level BPE, RobertaProcessing, trimmed offsets)") {
    check_singles(pipeline("roberta-base"), "roberta-base");
    check_pairs(pipeline("roberta-base"), "roberta-base");
}

TEST_CASE("families: ModernBERT-base (NFC, byte-level BPE, added tokens inside text)") {
    check_singles(pipeline("ModernBERT-base"), "ModernBERT-base");
    check_pairs(pipeline("ModernBERT-base"), "ModernBERT-base");
}

TEST_CASE("families: sentence-camembert-base (Precompiled + Replace, Metaspace, Unigram)") {
    check_singles(pipeline("sentence-camembert-base"), "sentence-camembert-base");
    check_pairs(pipeline("sentence-camembert-base"), "sentence-camembert-base");
}

TEST_CASE("families: t5-small (Precompiled, WhitespaceSplit + Metaspace, Unigram)") {
    check_singles(pipeline("t5-small"), "t5-small");
    check_pairs(pipeline("t5-small"), "t5-small");
}

TEST_CASE("families: all-mpnet-base-v2 (BertNormalizer, WordPiece, RobertaProcessing, normalised added tokens)") {
    check_singles(pipeline("all-mpnet-base-v2"), "all-mpnet-base-v2");
    check_pairs(pipeline("all-mpnet-base-v2"), "all-mpnet-base-v2");
}

// The pipeline is a superset of the WordPiece Tokenizer: BERT's own files compose too.
TEST_CASE("families: bert-base-uncased and -cased through the pipeline") {
    for (const char* name : {"bert-base-uncased", "bert-base-cased"}) {
        check_singles(pipeline(name), name);
        check_pairs(pipeline(name), name);
    }
}

// What the pipelines (Classifier, Embedder, ...) and the tools see: Tokenizer::from_folder must
// delegate every non-BERT tokenizer.json to TokenizerPipeline, with the same results.
TEST_CASE("families: Tokenizer::from_folder routes each family to the pipeline, goldens sampled") {
    struct Family {
        const char* name;
        const char* model;
        std::size_t specials_single, specials_pair;
    };
    const Family families[] = {{"roberta-base", "BPE", 2, 4},
                               {"ModernBERT-base", "BPE", 2, 3},
                               {"sentence-camembert-base", "Unigram", 2, 4},
                               {"t5-small", "Unigram", 1, 2},
                               {"all-mpnet-base-v2", "WordPiece", 2, 4}};
    for (const Family& f : families) {
        CAPTURE(f.name);
        const minibert::Tokenizer tok = minibert::Tokenizer::from_folder(data_dir + f.name);
        REQUIRE(tok.kind() == minibert::TokenizerKind::pipeline);
        REQUIRE(tok.pipeline() != nullptr);
        CHECK(tok.pipeline()->model_type() == f.model);
        CHECK(tok.vocab_size() == pipeline(f.name).vocab_size());
        CHECK(tok.num_special_tokens(false) == f.specials_single);
        CHECK(tok.num_special_tokens(true) == f.specials_pair);
        // Every 4th single text and every 3rd pair (with its truncated form, longest_first).
        check_singles(tok, f.name, 4);
        check_pairs(tok, f.name, 3);

        const std::string text = "Hello world, this is a longer sentence for truncation.";
        const minibert::Encoding e = tok.encode(text);
        CHECK(tok.tokenize(text).size() + f.specials_single == e.size());
        CHECK(tok.decode(e.ids) == pipeline(f.name).decode(e.ids));
        CHECK(tok.decode(e.ids, false) == pipeline(f.name).decode(e.ids, false));
        for (std::int32_t id : e.ids) CHECK(tok.token_to_id(tok.id_to_token(id)) == id);
        CHECK_THROWS_AS(tok.id_to_token(-1), minibert::Error);
        CHECK_THROWS_AS(tok.id_to_token(static_cast<std::int32_t>(tok.vocab_size())), minibert::Error);
        CHECK_THROWS_AS(tok.encode("bad \xC3("), minibert::Error);
        minibert::EncodeOptions cut;
        cut.max_length = 6;
        const minibert::Encoding t = tok.encode(text, cut);
        CHECK(t.size() == 6);
        CHECK(nlohmann::json(t.ids) == nlohmann::json(pipeline(f.name).encode(text, cut).ids));
        CHECK(t.special_tokens_mask.back() == 1);  // the closing special survives truncation
        cut.truncation = minibert::TruncationStrategy::only_second;
        const minibert::Encoding p = tok.encode_pair("short", text, cut);
        CHECK(nlohmann::json(p.ids) == nlohmann::json(pipeline(f.name).encode_pair("short", text, cut).ids));
    }
}

TEST_CASE("families: a pipeline Tokenizer pads with the file's pad token, else tokenizer_config.json's") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("minibert-tokwire-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(data_dir + "roberta-base/tokenizer.json", dir / "tokenizer.json");
    minibert::PaddingOptions longest;
    longest.strategy = minibert::PaddingStrategy::longest;
    {
        // roberta-base's tokenizer.json has no padding section and there is no config yet.
        const minibert::Tokenizer tok = minibert::Tokenizer::from_folder(dir);
        CHECK(tok.pad_id() == -1);
        try {
            (void)tok.encode_batch({"a", "a longer text"}, {}, longest);
            FAIL("padding without a pad token must throw");
        } catch (const minibert::Error& e) {
            CHECK(e.kind() == minibert::ErrorKind::config);
            CHECK(std::string(e.what()).find("no pad token") != std::string::npos);
        }
    }
    {
        std::ofstream(dir / "tokenizer_config.json") << R"({"pad_token": {"content": "<pad>"}, "model_max_length": 512})";
        const minibert::Tokenizer tok = minibert::Tokenizer::from_folder(dir);
        CHECK(tok.pad_id() == 1);
        CHECK(tok.config().model_max_length == 512);
        const auto batch = tok.encode_batch({"a", "a longer text"}, {}, longest);
        REQUIRE(batch.size() == 2);
        REQUIRE(batch[0].size() == batch[1].size());
        CHECK(batch[0].ids.back() == 1);
        CHECK(batch[0].attention_mask.back() == 0);
        CHECK(batch[0].special_tokens_mask.back() == 1);
    }
    {
        // A pad token the vocabulary lacks is not invented: padding stays refused.
        std::ofstream(dir / "tokenizer_config.json") << R"({"pad_token": "<no-such-pad>"})";
        const minibert::Tokenizer tok = minibert::Tokenizer::from_folder(dir);
        CHECK(tok.pad_id() == -1);
    }
    fs::remove_all(dir);
    // camembert's file names its pad token in a padding section.
    CHECK(minibert::Tokenizer::from_folder(data_dir + "sentence-camembert-base").pad_id() ==
          pipeline("sentence-camembert-base").pad_id());
}

TEST_CASE("families: only exactly BERT-shaped tokenizer.json files keep the fused WordPiece path") {
    const std::string bert_text = read_file(data_dir + "bert-base-uncased/tokenizer.json");
    const nlohmann::json bert = nlohmann::json::parse(bert_text);
    const minibert::Tokenizer fused = minibert::Tokenizer::from_tokenizer_json(bert_text);
    CHECK(fused.kind() == minibert::TokenizerKind::wordpiece);
    auto routed = [&](const nlohmann::json& j) { return minibert::Tokenizer::from_tokenizer_json(j.dump()); };
    const std::vector<std::string> texts{"Hello, World! [MASK] here.", "naïve café 東京", "[CLS] [SEP] [PAD]"};
    {
        auto j = bert;  // an added token matched on normalised text: not BERT's shape
        for (auto& t : j["added_tokens"]) if (t["content"] == "[MASK]") t["normalized"] = true;
        const minibert::Tokenizer tok = routed(j);
        CHECK(tok.kind() == minibert::TokenizerKind::pipeline);
        CHECK(tok.encode("Hello").ids == fused.encode("Hello").ids);
    }
    {
        auto j = bert;
        j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFD"}}, {{"type", "Lowercase"}}}}};
        CHECK(routed(j).kind() == minibert::TokenizerKind::pipeline);
    }
    {
        auto j = bert;
        j["pre_tokenizer"] = {{"type", "WhitespaceSplit"}};
        CHECK(routed(j).kind() == minibert::TokenizerKind::pipeline);
    }
    {
        auto j = bert;
        j["post_processor"] = {{"type", "RobertaProcessing"}, {"sep", {"[SEP]", 102}}, {"cls", {"[CLS]", 101}},
                               {"trim_offsets", true}, {"add_prefix_space", false}};
        CHECK(routed(j).kind() == minibert::TokenizerKind::pipeline);
    }
    {
        auto j = bert;  // BERT's shape with the optional parts absent: still fused
        j["normalizer"] = nullptr;
        j["post_processor"] = nullptr;
        j["model"].erase("type");
        CHECK(routed(j).kind() == minibert::TokenizerKind::wordpiece);
    }
    // Both engines agree on BERT's file.
    const minibert::Tokenizer both = minibert::Tokenizer::from_tokenizer_json(bert_text);
    for (const std::string& t : texts) {
        CAPTURE(t);
        CHECK(both.encode(t).ids == pipeline("bert-base-uncased").encode(t).ids);
        CHECK(both.encode(t).offsets == pipeline("bert-base-uncased").encode(t).offsets);
    }
}

TEST_CASE("families: hand checks from the published docs") {
    CHECK(pipeline("roberta-base").encode("Hello world").ids == std::vector<std::int32_t>{0, 31414, 232, 2});
    CHECK(pipeline("roberta-base").encode(" Hello world").ids == std::vector<std::int32_t>{0, 20920, 232, 2});
    CHECK(pipeline("t5-small").encode("Hello world").ids == std::vector<std::int32_t>{8774, 296, 1});
    CHECK(pipeline("sentence-camembert-base").encode("Hello world").ids == std::vector<std::int32_t>{5, 9774, 18909, 6});
    CHECK(pipeline("roberta-base").model_type() == "BPE");
    CHECK(pipeline("t5-small").model_type() == "Unigram");
}

TEST_CASE("families: padding") {
    auto tok = pipeline("roberta-base");  // a copy: the shared one stays as loaded
    std::vector<minibert::Encoding> batch{tok.encode("Hello world"), tok.encode("Hi")};
    minibert::PaddingOptions padding;
    padding.strategy = minibert::PaddingStrategy::longest;
    expect_error([&] { tok.pad(batch, padding); }, "no pad token in the file");
    tok.set_pad_token("<pad>");
    tok.pad(batch, padding);
    CHECK(batch[1].ids == std::vector<std::int32_t>{0, 30086, 2, 1});
    CHECK(batch[1].attention_mask == std::vector<std::int32_t>{1, 1, 1, 0});
    expect_error([&] { tok.set_pad_token("<no such token>"); }, "unknown pad token");
    CHECK(pipeline("sentence-camembert-base").pad_id() == 1);  // from the file's padding settings
}

TEST_CASE("families: decode") {
    const auto& rb = pipeline("roberta-base");
    CHECK(rb.decode(rb.encode("Hello, world! café 😀").ids) == "Hello, world! café 😀");
    const auto& t5 = pipeline("t5-small");
    CHECK(t5.decode(t5.encode("Hello world").ids) == "Hello world");
    const auto& mp = pipeline("all-mpnet-base-v2");
    CHECK(mp.decode(mp.encode("Hello, world!").ids) == "hello, world!");
}

TEST_CASE("families: bad tokenizer.json gives minibert::Error") {
    const std::string roberta = read_file(data_dir + "roberta-base/tokenizer.json");
    nlohmann::json base = nlohmann::json::parse(roberta);

    expect_error([] { minibert::TokenizerPipeline::from_json_string("{not json", "bad.json"); }, "invalid JSON");
    expect_error([] { minibert::TokenizerPipeline::from_json_string("[1,2]", "bad.json"); }, "root not an object");
    expect_error([] { minibert::load_tokenizer_pipeline(data_dir + "no-such/tokenizer.json"); }, "missing file");
    {
        auto j = base;
        j["model"].erase("merges");
        j["model"]["type"] = "BPE";
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "no-merges.json"); }, "missing merges");
    }
    {
        auto j = base;
        j["model"]["type"] = "CharLevel";
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "unknown-model.json"); }, "unknown model type");
    }
    {
        auto j = base;
        j["model"]["merges"][0] = "Ġ t h";
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "bad-merge.json"); }, "merge of three parts");
    }
    {
        auto j = base;
        j["model"]["merges"][0] = "notatoken alsonot";
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "oov-merge.json"); }, "merge out of vocabulary");
    }
    {
        auto j = base;
        j["model"]["vocab"]["hello"] = "seven";
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "vocab-type.json"); }, "vocab id of the wrong type");
    }
    {
        auto j = base;
        j["model"]["merges"] = 5;
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "merges-type.json"); }, "merges not an array");
    }
    {
        auto j = base;
        j["pre_tokenizer"]["add_prefix_space"] = "yes";
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "flag-type.json"); }, "flag of the wrong type");
    }
    {
        auto j = base;
        j["post_processor"]["cls"] = nlohmann::json::array({"<s>", -4});
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "negative-id.json"); }, "negative special id");
    }
    {
        auto j = base;
        j["added_tokens"][0]["id"] = 1.5;
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "added-id.json"); }, "fractional added id");
    }
    {
        auto j = base;
        j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "(a|b)*"}}}, {"content", ""}};
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "regex.json"); }, "unsupported regex");
    }
    {
        auto j = base;
        j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA!!"}};
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "charsmap.json"); }, "bad base64 charsmap");
        j["normalizer"]["precompiled_charsmap"] = "/////wAAAAA=";  // trie size 0xFFFFFFFF
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "charsmap.json"); }, "charsmap trie too large");
    }
    {
        const std::string t5 = read_file(data_dir + "t5-small/tokenizer.json");
        auto j = nlohmann::json::parse(t5);
        j["model"]["vocab"][5] = nlohmann::json::array({"x"});
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "unigram-piece.json"); }, "unigram piece without score");
        j = nlohmann::json::parse(t5);
        j["model"]["unk_id"] = 999999;
        expect_error([&] { minibert::TokenizerPipeline::from_json_string(j.dump(), "unigram-unk.json"); }, "unk_id out of range");
    }
}

TEST_CASE("families: invalid UTF-8 input gives minibert::Error") {
    for (const char* name : {"roberta-base", "ModernBERT-base", "sentence-camembert-base", "t5-small", "all-mpnet-base-v2"}) {
        const auto& tok = pipeline(name);
        expect_error([&] { tok.encode(std::string("ab\xC3(", 4)); }, "truncated sequence");
        expect_error([&] { tok.encode(std::string("\xED\xA0\x80", 3)); }, "surrogate");
        expect_error([&] { tok.encode_pair("fine", std::string("\xFF", 1)); }, "bad second text");
        expect_error([&] { tok.id_to_token(-1); }, "negative id");
    }
}

namespace {

minibert::TokenizerPipeline seed_pipeline(const std::string& name) {
    const std::string text = read_file(std::string(MINIBERT_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_tokenizer_pipeline/" + name);
    REQUIRE(!text.empty());
    REQUIRE(text[0] == 'J');
    return minibert::TokenizerPipeline::from_json_string(text.substr(1), name);
}

}  // namespace

// Small hand-made files (the fuzzer's seeds) for components the five real files do not use:
// their expected outputs are worked out by hand from the engine's rules.
TEST_CASE("families: components beyond the five files (fuzz seeds)") {
    SUBCASE("BPE + NFKC/Lowercase/Strip/Replace + ByteLevel(add_prefix_space) + Roberta") {
        const auto tok = seed_pipeline("json-bpe");
        const auto e = tok.encode("  HELLO   hello ");
        // Strip and lower-case, collapse the spaces, then a prefix space. The merges are ranked
        // "h e" < "l l" < "he ll" < "hell o" < "\u0120 h", so "h" joins "e" before the space
        // can take it: "\u0120" + "hello". Trimming leaves the spaces empty ranges.
        CHECK(e.tokens == std::vector<std::string>{"<s>", "\u0120", "hello", "\u0120", "hello", "</s>"});
        CHECK(e.ids == std::vector<std::int32_t>{0, 10, 9, 10, 9, 1});
        CHECK(e.offsets[1] == std::pair<std::size_t, std::size_t>{2, 2});
        CHECK(e.offsets[2] == std::pair<std::size_t, std::size_t>{2, 7});
        CHECK(e.offsets[3] == std::pair<std::size_t, std::size_t>{10, 10});
        CHECK(e.offsets[4] == std::pair<std::size_t, std::size_t>{10, 15});
        CHECK(tok.decode(e.ids) == " hello hello");
    }
    SUBCASE("Unigram with byte fallback, WhitespaceSplit + Metaspace(first)") {
        const auto tok = seed_pipeline("json-unigram");
        const auto e = tok.encode("ab A");
        // "\u2581ab": "\u2581"+"ab" and "\u2581a"+"b" both score -4; the engine keeps the first
        // path found (a strictly better score is needed to replace it). "A" has no piece: byte
        // fallback <0x41>; no prepend on the second word (scheme "first"). The Prepend
        // normaliser's "\u2581" takes the alignment of the first character.
        CHECK(e.tokens == std::vector<std::string>{"\u2581", "ab", "<0x41>", "</s>"});
        CHECK(e.ids == std::vector<std::int32_t>{2, 5, 6, 1});
        CHECK(e.offsets[0] == std::pair<std::size_t, std::size_t>{0, 1});
        CHECK(e.offsets[2] == std::pair<std::size_t, std::size_t>{3, 4});
        const auto p = tok.encode_pair("a", "b");
        CHECK(p.tokens == std::vector<std::string>{"\u2581a", "</s>", "\u2581", "b", "</s>"});
        CHECK(p.type_ids == std::vector<std::int32_t>{0, 0, 1, 1, 1});
    }
    SUBCASE("WordPiece + BertNormalizer + BertProcessing + single_word/lstrip/rstrip added token") {
        const auto tok = seed_pipeline("json-wordpiece");
        const auto e = tok.encode("Hello, [MASK] x[MASK]");
        // The first [MASK] stands alone and takes the spaces around it; the second follows "x",
        // so single_word rejects it and it is split as text ("x [ mask ]", all unknown here).
        CHECK(e.tokens == std::vector<std::string>{"[CLS]", "hello", ",", " [MASK] ", "[UNK]", "[UNK]", "[UNK]", "[UNK]", "[SEP]"});
        CHECK(e.offsets[3] == std::pair<std::size_t, std::size_t>{6, 14});
        const auto p = tok.encode_pair("hello", "hello");
        CHECK(p.type_ids == std::vector<std::int32_t>{0, 0, 0, 1, 1});
    }
    SUBCASE("Precompiled from a hand-built double array") {
        const auto tok = seed_pipeline("json-precompiled");
        const auto e = tok.encode("AA b");
        // "A" -> "x" by the charsmap; "b" has no piece: the unknown id, with the text as token.
        CHECK(e.tokens == std::vector<std::string>{"\u2581x", "x", "\u2581", "b"});
        CHECK(e.ids == std::vector<std::int32_t>{1, 2, 3, 0});
        CHECK(e.offsets[0] == std::pair<std::size_t, std::size_t>{0, 1});
        CHECK(e.offsets[1] == std::pair<std::size_t, std::size_t>{1, 2});
    }
}

TEST_CASE("families: fuzz corpus and regressions replay") {
    namespace fs = std::filesystem;
    std::size_t count = 0;
    for (const char* kind : {"corpus", "regressions"}) {
        const fs::path dir = fs::path(MINIBERT_SOURCE_DIR) / "tests" / "fuzz" / kind / "fuzz_tokenizer_pipeline";
        if (!fs::is_directory(dir)) continue;
        for (const auto& entry : fs::directory_iterator(dir)) {
            const std::string data = read_file(entry.path().string());
            fuzz_pipeline::target(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
            ++count;
        }
    }
    CHECK(count >= 9);
}

TEST_CASE("families: long and hostile texts stay linear and bounded") {
    for (const char* name : {"roberta-base", "ModernBERT-base", "sentence-camembert-base", "t5-small", "all-mpnet-base-v2"}) {
        const auto& tok = pipeline(name);
        const std::string word(200000, 'a');
        const auto e = tok.encode(word);
        CHECK(e.size() > 2);
        std::string mixed;
        for (int i = 0; i < 20000; ++i) mixed += "\xE2\x85\xAB\xEF\xAC\x81" "e\xCC\x81 \xF0\x9F\x98\x80";  // Roman XII, fi ligature, e + acute, emoji
        const auto m = tok.encode(mixed);
        CHECK(m.size() > 2);
        CHECK(m.offsets.back().second <= mixed.size());
        std::string spaced;  // many matches of CamemBERT's Replace(" {2,}")
        for (int i = 0; i < 100000; ++i) spaced += "a   ";
        const auto sp = tok.encode(spaced);
        CHECK(sp.size() > 2);
    }
}

TEST_CASE("families: WordPiece stays linear on a long word when max_input_chars_per_word is huge") {
    auto j = nlohmann::json::parse(read_file(data_dir + "all-mpnet-base-v2/tokenizer.json"));
    j["model"]["max_input_chars_per_word"] = 1000000000;
    const auto tok = minibert::TokenizerPipeline::from_json_string(j.dump(), "huge-word-limit.json");
    std::string word;
    for (int i = 0; i < 50000; ++i) word += "abc";
    const auto e = tok.encode(word);
    CHECK(e.size() > 1000);
    CHECK(e.offsets[e.size() - 2].second == word.size());
}

// One pipeline shared by threads, and pipelines alternating on one thread (the per-thread word
// cache must never serve one pipeline's tokens to another).
TEST_CASE("families: threads and alternating pipelines give the single-thread results") {
    const auto lines = read_jsonl(data_dir + "roberta-base/goldens.jsonl");
    std::vector<std::string> texts;
    for (const auto& g : lines) texts.push_back(g["text"]);
    const auto& a = pipeline("roberta-base");
    const auto& b = pipeline("ModernBERT-base");
    const auto& c = pipeline("t5-small");
    std::vector<std::vector<std::int32_t>> expect_a, expect_b, expect_c;
    for (const auto& t : texts) expect_a.push_back(a.encode(t).ids);
    for (const auto& t : texts) expect_b.push_back(b.encode(t).ids);
    for (const auto& t : texts) expect_c.push_back(c.encode(t).ids);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        mismatches += a.encode(texts[i]).ids != expect_a[i];
        mismatches += b.encode(texts[i]).ids != expect_b[i];
        mismatches += c.encode(texts[i]).ids != expect_c[i];
    }
    CHECK(mismatches == 0);
    std::vector<std::size_t> bad(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 3; ++round) {
                for (std::size_t i = t; i < texts.size(); i += 2) {
                    bad[t] += (t % 2 == 0 ? a : c).encode(texts[i]).ids != (t % 2 == 0 ? expect_a : expect_c)[i];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(bad == std::vector<std::size_t>(4, 0));
}
}  // namespace minibert_test_tokenizer_families
