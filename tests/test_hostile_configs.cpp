// Hostile inputs: absurd sizes in config.json are refused before anything is allocated from
// them; a checkpoint whose tensors are fine but whose config lies is refused with the tensor
// named; hostile session limits get Error(limit) naming the limit. Also replays every fuzz seed
// and every fuzz regression input (tests/fuzz/corpus/, tests/fuzz/regressions/) through the
// fuzz targets, so a crash the fuzzers once found stays fixed in the ordinary test run.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "alloc_counter.hpp"
#include "fuzz/harnesses.hpp"
#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_hostile_configs {

namespace {

using minibert::Error;
using minibert::ErrorKind;
using nlohmann::json;

/// Runs `fn`, requires an Error of `kind` whose message contains every fragment.
template <class Fn>
void expect_error(Fn&& fn, ErrorKind kind, const std::vector<std::string>& fragments) {
    try {
        fn();
        FAIL("no minibert::Error thrown");
    } catch (const Error& e) {
        INFO("message: " << std::string(e.what()));
        CHECK(e.kind() == kind);
        for (const std::string& f : fragments) CHECK(std::string(e.what()).find(f) != std::string::npos);
    }
}

/// The largest single allocation made while `fn` runs (it may throw minibert::Error).
template <class Fn>
std::size_t largest_allocation(Fn&& fn) {
    alloc_counter::Scope scope;
    try {
        fn();
    } catch (const Error&) {
    }
    return scope.counted().largest;
}

json bert_config() {
    return json::parse(R"({"architectures": ["BertForSequenceClassification"], "model_type": "bert",
        "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 37, "max_position_embeddings": 512, "type_vocab_size": 2, "num_labels": 2})");
}
json distilbert_config() {
    return json::parse(R"({"architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": 100,
        "dim": 32, "n_layers": 3, "n_heads": 4, "hidden_dim": 37, "max_position_embeddings": 512})");
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string join(const json& header, const std::string& data) {
    const std::string text = header.dump();
    std::string out(8, '\0');
    const std::uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + text + data;
}

/// A safetensors file of zero-filled F32 tensors with the given shapes.
std::string zero_tensors(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& tensors) {
    json header = json::object();
    std::size_t offset = 0;
    for (const auto& [name, shape] : tensors) {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + 4 * n}}};
        offset += 4 * n;
    }
    return join(header, std::string(offset, '\0'));
}

}  // namespace

TEST_CASE("absurd sizes in config.json are refused, naming the key, before any allocation") {
    struct Case {
        const char* key;
        json value;
        const char* fragment;
    };
    const Case bert_cases[] = {
        {"hidden_size", 1000000000, "hidden_size"},
        {"num_hidden_layers", 1000000, "num_hidden_layers"},
        {"vocab_size", 0, "vocab_size"},
        {"vocab_size", -1, "vocab_size"},
        {"vocab_size", json(18446744073709551615ull), "18446744073709551615"},
        {"hidden_size", 768.0, "must be an integer"},
        {"hidden_size", 768.5, "must be an integer"},
        {"hidden_size", "768", "must be an integer"},
        {"hidden_size", true, "must be an integer"},
        {"hidden_size", nullptr, "has no 'hidden_size'"},
        {"hidden_size", json::array({768}), "must be an integer"},
        {"num_attention_heads", 0, "num_attention_heads"},
        {"num_attention_heads", 5, "not divisible"},
        {"num_attention_heads", 64, "not divisible"},
        {"intermediate_size", 1ll << 40, "intermediate_size"},
        {"intermediate_size", -3072, "intermediate_size"},
        {"max_position_embeddings", 1ll << 32, "max_position_embeddings"},
        {"max_position_embeddings", 0, "max_position_embeddings"},
        {"type_vocab_size", 1 << 20, "type_vocab_size"},
        {"num_labels", 1ll << 31, "num_labels"},
        {"num_labels", 0, "num_labels"},
        {"pad_token_id", -1, "pad_token_id"},
        {"layer_norm_eps", -1.0, "layer_norm_eps"},
        {"layer_norm_eps", "1e-12", "layer_norm_eps"},
    };
    for (const Case& c : bert_cases) {
        json config = bert_config();
        config[c.key] = c.value;
        CAPTURE(config.dump());
        const std::string text = config.dump();
        expect_error([&] { minibert::ModelConfig::parse(text, "hostile.json"); }, ErrorKind::config, {"hostile.json", c.fragment});
        CHECK(largest_allocation([&] { minibert::ModelConfig::parse(text, "hostile.json"); }) < 4096);
    }
    const Case distil_cases[] = {{"dim", 1000000000, "dim"},        {"n_layers", 1000000, "n_layers"},
                                 {"n_heads", 5, "not divisible"},    {"hidden_dim", -1, "hidden_dim"},
                                 {"dim", 64.0, "must be an integer"}, {"vocab_size", 0, "vocab_size"}};
    for (const Case& c : distil_cases) {
        json config = distilbert_config();
        config[c.key] = c.value;
        CAPTURE(config.dump());
        expect_error([&] { minibert::ModelConfig::parse(config.dump(), "hostile.json"); }, ErrorKind::config, {c.fragment});
    }
    // A huge id2label is refused by num_labels' limit before a label string is made.
    json config = bert_config();
    config.erase("num_labels");
    config["id2label"] = {{"0", "a"}, {"1", "b"}};
    config["num_labels"] = 1 << 21;
    expect_error([&] { minibert::ModelConfig::parse(config.dump()); }, ErrorKind::config, {"num_labels"});
}

TEST_CASE("the largest config the limits allow has a parameter count that fits in size_t") {
    json config = bert_config();
    config["vocab_size"] = 1 << 24;
    config["hidden_size"] = 1 << 16;
    config["num_attention_heads"] = 1;
    config["num_hidden_layers"] = 256;
    config["intermediate_size"] = 1 << 18;
    config["max_position_embeddings"] = 1 << 16;
    config["type_vocab_size"] = 1024;
    const minibert::ModelConfig c = minibert::ModelConfig::parse(config.dump());
    // 2^40 + 2^32 + 2^26 + ... embeddings, 256 x (4 (2^32 + 2^16) + 2^35 + ...) per layer: ~2^44.
    CHECK(c.parameter_count() > (std::size_t{1} << 43));
    CHECK(c.parameter_count() < (std::size_t{1} << 46));
}

TEST_CASE("a config with a huge width and a file that matches only its small tensors allocates nothing big") {
    // hidden 65536 with 1-row embedding tables and layer 0's Q/K/V biases: those tensors (8 x
    // 256 KiB) are genuinely in the file, so the loader gets as far as layer 0's weights, which
    // would be 3 x 16 GiB. It must name the missing tensor without first reserving room for them
    // (it used to reserve 48 GiB from config.json's sizes alone: std::bad_alloc, not an Error).
    const std::size_t h = 65536;
    json config = bert_config();
    config["hidden_size"] = h;
    config["num_attention_heads"] = 1;
    config["intermediate_size"] = 4 * h;
    config["vocab_size"] = 1;
    config["max_position_embeddings"] = 1;
    config["type_vocab_size"] = 1;
    config["num_hidden_layers"] = 256;
    const std::string weights = zero_tensors({{"bert.embeddings.word_embeddings.weight", {1, h}},
                                              {"bert.embeddings.position_embeddings.weight", {1, h}},
                                              {"bert.embeddings.token_type_embeddings.weight", {1, h}},
                                              {"bert.embeddings.LayerNorm.weight", {h}},
                                              {"bert.embeddings.LayerNorm.bias", {h}},
                                              {"bert.encoder.layer.0.attention.self.query.bias", {h}},
                                              {"bert.encoder.layer.0.attention.self.key.bias", {h}},
                                              {"bert.encoder.layer.0.attention.self.value.bias", {h}}});
    const std::string text = config.dump();
    expect_error([&] { minibert::Model::from_memory(text, weights.data(), weights.size()); }, ErrorKind::shape,
                 {"encoder.layer.0.attention.self.query.weight"});
    const std::size_t largest =
        largest_allocation([&] { minibert::Model::from_memory(text, weights.data(), weights.size()); });
    CHECK(largest <= 3 * h * sizeof(float));  // the three stacked biases, all in the file
}

TEST_CASE("safetensors shapes are checked before anything is allocated from them") {
    struct Case {
        json shape;
        const char* fragment;
    };
    const Case cases[] = {
        {json::array({1ull << 62, 4}), "[4611686018427387904, 4]"},  // numel x 4 overflows
        {json::array({1ull << 32, 1ull << 32}), "bytes of data"},     // numel overflows
        {json::array({65536, 65536}), "bytes of data"},               // 16 GiB claimed, 16 bytes present
        {json::array({-1, 4}), "negative"},
        {json::array({2.5}), "non-integer"},
        {json::array({"4"}), "non-integer"},
        {json(4), "'shape' array"},
    };
    for (const Case& c : cases) {
        json header = {{"t", {{"dtype", "F32"}, {"shape", c.shape}, {"data_offsets", {0, 16}}}}};
        const std::string bytes = join(header, std::string(16, '\0'));
        CAPTURE(header.dump());
        auto parse = [&] { minibert::SafeTensors::parse(minibert::MappedFile::from_memory(bytes.data(), bytes.size(), "h.safetensors")); };
        expect_error(parse, ErrorKind::format, {"h.safetensors", "'t'", c.fragment});
        CHECK(largest_allocation(parse) < 4096);
    }
    // Offsets that run past the data, or backwards, and a header length past the file.
    for (const json& offsets : {json::array({0, 1ull << 40}), json::array({8, 4}), json::array({-1, 4})}) {
        json header = {{"t", {{"dtype", "U8"}, {"shape", {4}}, {"data_offsets", offsets}}}};
        const std::string bytes = join(header, std::string(16, '\0'));
        expect_error([&] { minibert::SafeTensors::parse(minibert::MappedFile::from_memory(bytes.data(), bytes.size(), "h")); },
                     ErrorKind::format, {"'t'", "data_offsets"});
    }
    std::string huge_header(16, '\0');
    for (int i = 0; i < 8; ++i) huge_header[i] = static_cast<char>(0xff);
    expect_error([&] { minibert::SafeTensors::parse(minibert::MappedFile::from_memory(huge_header.data(), 16, "h")); },
                 ErrorKind::format, {"header length"});
}

TEST_CASE("a checkpoint whose tensors are fine but whose config lies names the tensor") {
    const std::string dir = test_support::model_path("tiny-bert-seqcls");
    const std::string weights = read_file(dir + "/model.safetensors");
    const json truth = json::parse(read_file(dir + "/config.json"));
    struct Lie {
        const char* key;
        json value;
        std::vector<std::string> fragments;
    };
    const Lie lies[] = {
        {"hidden_size", 64, {"embeddings.word_embeddings.weight", "[100, 32]", "[100, 64]"}},
        {"vocab_size", 99, {"embeddings.word_embeddings.weight", "[99, 32]"}},
        {"max_position_embeddings", 128, {"embeddings.position_embeddings.weight", "[128, 32]"}},
        {"type_vocab_size", 2, {"embeddings.token_type_embeddings.weight", "[3, 32]", "[2, 32]"}},
        {"intermediate_size", 64, {"encoder.layer.0.intermediate.dense.", "64]"}},  // .weight or .bias, whichever is read first
        {"num_hidden_layers", 3, {"encoder.layer.2.attention.self.query."}},
        {"num_hidden_layers", 1, {"encoder.layer.1.attention.self.query.weight", "declares 1"}},
        {"num_labels", 5, {"classifier.weight", "[5, 32]"}},
    };
    for (const Lie& lie : lies) {
        json config = truth;
        config[lie.key] = lie.value;
        if (std::string(lie.key) == "num_labels") config.erase("id2label");
        CAPTURE(std::string(lie.key));
        expect_error([&] { minibert::Model::from_memory(config.dump(), weights.data(), weights.size()); }, ErrorKind::shape,
                     lie.fragments);
    }
    // A lying family: DistilBERT's names are not in a BERT file.
    json distil = distilbert_config();
    distil["n_layers"] = 2;
    expect_error([&] { minibert::Model::from_memory(distil.dump(), weights.data(), weights.size()); }, ErrorKind::shape,
                 {"embeddings.word_embeddings.weight"});
    // Heads are not visible in any shape: a different divisor of hidden loads (and is documented).
    json heads = truth;
    heads["num_attention_heads"] = 2;
    CHECK_NOTHROW(minibert::Model::from_memory(heads.dump(), weights.data(), weights.size()));
}

TEST_CASE("hostile session limits get Error(limit) naming the limit, before allocating") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tiny-bert"));
    auto with = [](std::size_t threads, std::size_t batch, std::size_t tokens, std::size_t sequence) {
        minibert::SessionOptions o;
        o.threads = threads;
        o.max_batch = batch;
        o.max_tokens = tokens;
        o.max_sequence = sequence;
        return o;
    };
    struct Case {
        minibert::SessionOptions options;
        const char* fragment;
    };
    const Case cases[] = {
        {with(1, 1, SIZE_MAX, 0), "SessionOptions::max_tokens"},
        {with(1, 1, (std::size_t{1} << 31) + 1, 0), "SessionOptions::max_tokens"},
        {with(1000000, 1, 0, 0), "SessionOptions::threads"},
        {with(1, 0, 0, 0), "SessionOptions::max_batch"},
        {with(1, 1, 0, 513), "max_position_embeddings 512"},
        {with(1, 1, 0, SIZE_MAX), "SessionOptions::max_sequence"},
    };
    for (const Case& c : cases) {
        CAPTURE(std::string(c.fragment));
        expect_error([&] { minibert::Session s(model, c.options); }, ErrorKind::limit, {c.fragment});
        expect_error([&] { (void)minibert::Session::workspace_bytes(model, c.options); }, ErrorKind::limit, {c.fragment});
        CHECK(largest_allocation([&] { minibert::Session s(model, c.options); }) < 4096);
    }
    expect_error([&] { (void)minibert::Session::options_for(SIZE_MAX / 2, 4); }, ErrorKind::limit, {"overflows"});
    // The largest allowed max_tokens is sized without overflow (the allocation itself is not tried).
    const std::size_t big = minibert::Session::workspace_bytes(model, with(1, 64, std::size_t{1} << 31, 0));
    CHECK(big > (std::size_t{1} << 31) * model.config().hidden_size * sizeof(float) * 6);
}

TEST_CASE("fuzz regressions: tokenizer.json numbers that are not 32-bit integers") {
    const std::string base = read_file(std::string(MINIBERT_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_tokenizer_json/template.json");
    CHECK_NOTHROW(minibert::Tokenizer::from_tokenizer_json(base));
    auto with = [&](auto&& edit) {
        json j = json::parse(base);
        edit(j);
        return j.dump();
    };
    // 1e30 as a type_id or special-token id was cast to int (undefined behaviour, UBSan found it).
    expect_error([&] { minibert::Tokenizer::from_tokenizer_json(with([](json& j) { j["post_processor"]["single"][0]["SpecialToken"]["type_id"] = 1e30; })); },
                 ErrorKind::format, {"type_id", "1e+30"});
    expect_error([&] { minibert::Tokenizer::from_tokenizer_json(with([](json& j) { j["post_processor"]["pair"][1]["Sequence"]["type_id"] = -1e30; })); },
                 ErrorKind::format, {"type_id"});
    expect_error([&] { minibert::Tokenizer::from_tokenizer_json(with([](json& j) { j["post_processor"]["special_tokens"]["[CLS]"]["ids"] = {1e30}; })); },
                 ErrorKind::format, {"ids", "1e+30"});
    // 2^32 + 1 silently wrapped to id 1.
    expect_error([&] { minibert::Tokenizer::from_tokenizer_json(with([](json& j) { j["post_processor"]["special_tokens"]["[CLS]"]["ids"] = {4294967297ull}; })); },
                 ErrorKind::format, {"4294967297"});
    expect_error([&] { minibert::Tokenizer::from_tokenizer_json(with([](json& j) { j["post_processor"]["special_tokens"]["[CLS]"]["ids"] = "2"; })); },
                 ErrorKind::format, {"ids"});
}

TEST_CASE("fuzz regressions: tokenizer_config.json additional_special_tokens of the wrong type") {
    // {"content": 1} escaped as nlohmann::json::type_error instead of minibert::Error.
    expect_error([] { minibert::TokenizerConfig::from_json(R"({"additional_special_tokens": [{"content": 1}]})", "tc.json"); },
                 ErrorKind::format, {"tc.json", "additional_special_tokens"});
    expect_error([] { minibert::TokenizerConfig::from_json(R"({"additional_special_tokens": [7]})", "tc.json"); },
                 ErrorKind::format, {"additional_special_tokens"});
}

TEST_CASE("every fuzz seed and regression input replays without a crash or a foreign exception") {
    namespace fs = std::filesystem;
    const fs::path root = fs::path(MINIBERT_SOURCE_DIR) / "tests" / "fuzz";
    std::size_t replayed = 0;
    for (const auto& [name, target] : fuzz::targets()) {
        for (const char* kind : {"corpus", "regressions"}) {
            const fs::path dir = root / kind / name;
            if (!fs::is_directory(dir)) continue;
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(dir))
                if (entry.is_regular_file()) files.push_back(entry.path());
            std::sort(files.begin(), files.end());
            for (const fs::path& file : files) {
                CAPTURE(file.string());
                const std::string bytes = read_file(file);
                // The targets swallow minibert::Error only; anything else fails here.
                CHECK_NOTHROW(target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
                ++replayed;
            }
        }
    }
    CHECK(replayed >= 30);
}

TEST_CASE("limits are explicit: at the limit runs, one past it is Error(limit) naming the limit") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tiny-bert"));
    minibert::SessionOptions o;
    o.max_batch = 3;
    o.max_tokens = 40;
    o.max_sequence = 16;
    minibert::Session session(model, o);
    auto batch_of = [](std::initializer_list<std::size_t> lengths) {
        minibert::Batch b;
        for (std::size_t n : lengths) b.add(std::vector<std::int32_t>(n, 5));
        return b;
    };
    CHECK_NOTHROW(session.run(batch_of({16, 16, 8})));  // every limit reached exactly
    expect_error([&] { session.run(batch_of({1, 1, 1, 1})); }, ErrorKind::limit, {"4 sequences", "SessionOptions::max_batch"});
    expect_error([&] { session.run(batch_of({16, 16, 9})); }, ErrorKind::limit, {"41 tokens", "SessionOptions::max_tokens"});
    expect_error([&] { session.run(batch_of({17})); }, ErrorKind::limit, {"sequence 0", "17 tokens", "SessionOptions::max_sequence"});
    // Past the model's own limit (max_position_embeddings 512) whatever the session allows.
    minibert::SessionOptions wide;
    wide.max_tokens = 2048;
    minibert::Session full(model, wide);
    CHECK(full.options().max_sequence == 512);
    CHECK_NOTHROW(full.run(batch_of({512})));
    expect_error([&] { full.run(batch_of({513})); }, ErrorKind::limit, {"513 tokens", "max_position_embeddings"});
    // A refused batch leaves the session usable.
    CHECK(session.run(batch_of({2})).batch_size == 1);
    // Defaults, as documented: max_sequence = max_position_embeddings, max_tokens = max(1024,
    // max_sequence), max_batch capped at max_tokens.
    minibert::SessionOptions odd;
    odd.max_batch = 5000;
    minibert::Session defaults(model, odd);
    CHECK(defaults.options().max_sequence == 512);
    CHECK(defaults.options().max_tokens == 1024);
    CHECK(defaults.options().max_batch == 1024);
    CHECK(defaults.options().threads == 1);
}

TEST_CASE("pipelines past the length limit: Overflow::truncate cuts, Overflow::reject names the text") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    const minibert::Tokenizer tok =
        minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/bert-base-uncased");
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += "word ";  // 40 tokens + [CLS] [SEP]
    const std::vector<std::string> texts{"short", long_text, "also short"};
    for (std::size_t max_length : {std::size_t{8}, std::size_t{32}}) {
        CAPTURE(max_length);
        minibert::PipelineOptions options;
        options.max_length = max_length;
        options.max_batch = 2;  // three texts: two forward passes, no error
        minibert::Classifier truncating(model, tok, options);
        CHECK(truncating.max_length() == max_length);
        CHECK(truncating.classify(texts).size() == 3);
        minibert::Embedder embedder(model, tok, minibert::PoolingConfig{}, options);
        CHECK(embedder.embed(texts).size() == 3);

        options.overflow = minibert::Overflow::reject;
        minibert::Classifier rejecting(model, tok, options);
        expect_error([&] { rejecting.classify(texts); }, ErrorKind::limit,
                     {"text 1", "42 tokens", "at most " + std::to_string(max_length), "Overflow::truncate"});
        minibert::Embedder rejecting_embedder(model, tok, minibert::PoolingConfig{}, options);
        expect_error([&] { rejecting_embedder.embed(texts); }, ErrorKind::limit, {"text 1", "Overflow::truncate"});
    }
    // A text of exactly max_length tokens (30 words + [CLS] [SEP]) passes under reject.
    minibert::PipelineOptions exact;
    exact.max_length = 32;
    exact.overflow = minibert::Overflow::reject;
    minibert::Classifier at_limit(model, tok, exact);
    CHECK_NOTHROW(at_limit.classify(std::string(long_text, 0, 5 * 30)));
    // The pipeline's length limit is capped by the model's and the tokenizer's.
    minibert::PipelineOptions huge;
    huge.max_length = 100000;
    CHECK(minibert::Classifier(model, tok, huge).max_length() == 512);
    minibert::PipelineOptions tiny;
    tiny.max_length = 4;
    expect_error([&] { minibert::Classifier(model, tok, tiny); }, ErrorKind::limit, {"max_length 4", "no room"});
}

TEST_CASE("Batch::from_padded refuses a batch x length that wraps around") {
    // 2^63 x 2 is 0 modulo 2^64: it used to pass the size check against an empty ids span and
    // then read past it.
    const std::vector<std::int32_t> none;
    expect_error([&] { minibert::Batch::from_padded({none.data(), 0}, {}, {}, std::size_t{1} << 63, 2); },
                 ErrorKind::invalid_input, {"input_ids hold 0 values"});
    const std::vector<std::int32_t> four{1, 2, 3, 4};
    expect_error([&] { minibert::Batch::from_padded({four.data(), 4}, {}, {}, (std::size_t{1} << 62) + 1, 4); },
                 ErrorKind::invalid_input, {"input_ids hold 4 values"});
    CHECK(minibert::Batch::from_padded({four.data(), 4}, {}, {}, 2, 2).tokens() == 4);
}


TEST_CASE("an inconsistent pruned folder is refused, naming what disagrees") {
    // tiny-bert-pruned: 3 layers of 4 heads (size 8); pruned_heads {"0": [1, 3], "2": [0, 1, 2]};
    // intermediate_sizes [37, 20, 5].
    const std::string dir = test_support::model_path("tiny-bert-pruned");
    const std::string weights = read_file(dir + "/model.safetensors");
    const json truth = json::parse(read_file(dir + "/config.json"));
    REQUIRE_NOTHROW(minibert::Model::from_memory(truth.dump(), weights.data(), weights.size()));
    struct Case {
        const char* what;
        const char* key;
        json value;  // null: the key removed
        ErrorKind kind;
        std::vector<std::string> fragments;
    };
    const Case cases[] = {
        {"head out of range", "pruned_heads", {{"0", {1, 4}}, {"2", {0, 1, 2}}}, ErrorKind::config,
         {"pruned_heads.0[1]", "[0, 3]", "got 4"}},
        {"head listed twice", "pruned_heads", {{"0", {1, 1}}, {"2", {0, 1, 2}}}, ErrorKind::config, {"twice"}},
        {"layer out of range", "pruned_heads", {{"0", {1, 3}}, {"3", {0}}}, ErrorKind::config, {"pruned_heads.3", "[0, 3)"}},
        {"layer not an index", "pruned_heads", {{"00", {1, 3}}}, ErrorKind::config, {"pruned_heads.00", "names no layer"}},
        {"heads not a list", "pruned_heads", {{"0", 1}}, ErrorKind::config, {"pruned_heads.0", "an array"}},
        {"every head pruned", "pruned_heads", {{"0", {0, 1, 2, 3}}}, ErrorKind::config, {"all 4 heads"}},
        {"a pruned file without pruned_heads", "pruned_heads", nullptr, ErrorKind::shape,
         {"encoder.layer.0.attention.self.query.weight", "16 rows", "4 of 4 heads", "32 rows"}},
        {"pruned_heads that disagree with the tensors", "pruned_heads", {{"0", {1}}, {"2", {0, 1, 2}}}, ErrorKind::shape,
         {"encoder.layer.0.attention.self.query.weight", "16 rows", "3 of 4 heads", "24 rows"}},
        {"FFN widths missing", "intermediate_sizes", nullptr, ErrorKind::shape, {"encoder.layer.1.intermediate.dense.", "37"}},
        {"FFN widths that disagree", "intermediate_sizes", {37, 21, 5}, ErrorKind::shape, {"encoder.layer.1.intermediate.dense.", "21"}},
        {"FFN widths of the wrong length", "intermediate_sizes", {37, 20}, ErrorKind::config, {"intermediate_sizes", "one per layer (3)"}},
        {"FFN width above intermediate_size", "intermediate_sizes", {37, 20, 38}, ErrorKind::config,
         {"intermediate_sizes[2]", "[1, 37]"}},
        {"FFN width 0", "intermediate_sizes", {37, 0, 5}, ErrorKind::config, {"intermediate_sizes[1]"}},
    };
    for (const Case& c : cases) {
        json config = truth;
        if (c.value.is_null()) config.erase(c.key);
        else config[c.key] = c.value;
        CAPTURE(std::string(c.what));
        expect_error([&] { minibert::Model::from_memory(config.dump(), weights.data(), weights.size()); }, c.kind, c.fragments);
    }
}
}  // namespace minibert_test_hostile_configs
