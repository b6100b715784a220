// Bad input gets a minibert::Error that names what is wrong: never a crash, never UB.
// One test case per kind of bad input; the checkpoints are the fixture's tiny-bert folders,
// corrupted in memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include <sys/stat.h>

#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_bad_input {

namespace {

using minibert::Error;
using minibert::ErrorKind;

std::string read_bytes(const std::string& path) { return minibert::read_text_file(path); }

/// Splits a safetensors file into (header JSON, data section).
std::pair<nlohmann::json, std::string> split(const std::string& bytes) {
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    return {nlohmann::json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
}

std::string join(const nlohmann::json& header, const std::string& data) {
    const std::string text = header.dump();
    std::string out(8, '\0');
    std::uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + text + data;
}

struct TinyBert {
    std::string config = read_bytes(test_support::model_path("tiny-bert") + "/config.json");
    std::string weights = read_bytes(test_support::model_path("tiny-bert") + "/model.safetensors");
};

/// Runs `fn`, requires an Error of `kind` whose message contains every fragment.
template <class Fn>
void expect_error(Fn&& fn, ErrorKind kind, std::initializer_list<const char*> fragments) {
    try {
        fn();
        FAIL("no minibert::Error thrown");
    } catch (const Error& e) {
        INFO("message: " << std::string(e.what()));
        CHECK(e.kind() == kind);
        for (const char* f : fragments) CHECK(std::string(e.what()).find(f) != std::string::npos);
    }
}

minibert::Model load_memory(const std::string& config, const std::string& weights) {
    return minibert::Model::from_memory(config, weights.data(), weights.size());
}

std::filesystem::path temp_folder(const char* name) {
    auto dir = std::filesystem::temp_directory_path() / ("minibert-test-" + std::string(name));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("a missing config.json names the folder") {
    auto dir = temp_folder("no-config");
    expect_error([&] { minibert::Model::load(dir.string()); }, ErrorKind::io, {"config.json", dir.string().c_str()});
}

TEST_CASE("a missing model.safetensors names the folder") {
    auto dir = temp_folder("no-weights");
    std::filesystem::copy_file(test_support::model_path("tiny-bert") + "/config.json", dir / "config.json");
    expect_error([&] { minibert::Model::load(dir.string()); }, ErrorKind::io, {"model.safetensors"});
}

TEST_CASE("a folder with only pytorch_model.bin points at the converter") {
    auto dir = temp_folder("only-bin");
    std::filesystem::copy_file(test_support::model_path("tiny-bert") + "/config.json", dir / "config.json");
    { std::ofstream(dir / "pytorch_model.bin") << "x"; }
    expect_error([&] { minibert::Model::load(dir.string()); }, ErrorKind::unsupported, {"convert_weights.py"});
}

TEST_CASE("a file shorter than the 8-byte header length") {
    TinyBert m;
    expect_error([&] { load_memory(m.config, m.weights.substr(0, 5)); }, ErrorKind::format, {"too short"});
}

TEST_CASE("a header length that runs past the end of the file") {
    TinyBert m;
    std::string bytes = m.weights.substr(0, 100);  // truncated file: header cut short
    expect_error([&] { load_memory(m.config, bytes); }, ErrorKind::format, {"runs past the end"});
}

TEST_CASE("a header that is not JSON") {
    TinyBert m;
    std::string bytes = m.weights;
    bytes[8] = '#';
    expect_error([&] { load_memory(m.config, bytes); }, ErrorKind::format, {"not a JSON object"});
}

TEST_CASE("data offsets outside the data section name the tensor") {
    TinyBert m;
    auto [header, data] = split(m.weights);
    header["pooler.dense.bias"]["data_offsets"][1] = data.size() + 4;
    expect_error([&] { load_memory(m.config, join(header, data)); }, ErrorKind::format, {"pooler.dense.bias", "outside"});
}

TEST_CASE("overlapping tensors are refused") {
    TinyBert m;
    auto [header, data] = split(m.weights);
    header["pooler.dense.bias"]["data_offsets"] = header["embeddings.LayerNorm.bias"]["data_offsets"];
    expect_error([&] { load_memory(m.config, join(header, data)); }, ErrorKind::format, {"overlap"});
}

TEST_CASE("a shape whose byte count disagrees with its offsets") {
    TinyBert m;
    auto [header, data] = split(m.weights);
    header["pooler.dense.bias"]["shape"] = {33};
    expect_error([&] { load_memory(m.config, join(header, data)); }, ErrorKind::format, {"pooler.dense.bias", "bytes"});
}

TEST_CASE("a dtype the loader cannot read names the tensor and dtype") {
    TinyBert m;
    auto [header, data] = split(m.weights);
    header["pooler.dense.bias"]["dtype"] = "I32";  // same byte count as F32, so only the dtype is wrong
    expect_error([&] { load_memory(m.config, join(header, data)); }, ErrorKind::unsupported, {"pooler.dense.bias", "I32"});
    header["pooler.dense.bias"]["dtype"] = "F8_E4M3";
    expect_error([&] { load_memory(m.config, join(header, data)); }, ErrorKind::unsupported, {"pooler.dense.bias", "F8_E4M3"});
}

TEST_CASE("a tensor shape that disagrees with config.json names the tensor") {
    TinyBert m;
    auto config = nlohmann::json::parse(m.config);
    config["vocab_size"] = 101;
    expect_error([&] { load_memory(config.dump(), m.weights); }, ErrorKind::shape,
                 {"embeddings.word_embeddings.weight", "[100, 32]", "[101, 32]"});
}

TEST_CASE("a config that declares fewer layers than the file holds") {
    TinyBert m;
    auto config = nlohmann::json::parse(m.config);
    config["num_hidden_layers"] = 1;
    expect_error([&] { load_memory(config.dump(), m.weights); }, ErrorKind::shape, {"encoder.layer.1.attention.self.query.weight"});
}

TEST_CASE("a missing tensor is named") {
    TinyBert m;
    auto [header, data] = split(m.weights);
    header.erase("encoder.layer.1.output.dense.bias");
    expect_error([&] { load_memory(m.config, join(header, data)); }, ErrorKind::shape, {"encoder.layer.1.output.dense.bias"});
}

TEST_CASE("an unknown model_type is named") {
    TinyBert m;
    auto config = nlohmann::json::parse(m.config);
    config["model_type"] = "roberta";
    expect_error([&] { load_memory(config.dump(), m.weights); }, ErrorKind::unsupported, {"roberta"});
}

TEST_CASE("an unknown hidden_act is named") {
    TinyBert m;
    auto config = nlohmann::json::parse(m.config);
    config["hidden_act"] = "swish";
    expect_error([&] { load_memory(config.dump(), m.weights); }, ErrorKind::unsupported, {"swish"});
}

TEST_CASE("an unknown architecture is named") {
    TinyBert m;
    auto config = nlohmann::json::parse(m.config);
    config["architectures"] = {"BertForMultipleChoice"};
    expect_error([&] { load_memory(config.dump(), m.weights); }, ErrorKind::unsupported, {"BertForMultipleChoice"});
}

TEST_CASE("heads that do not divide the hidden size") {
    TinyBert m;
    auto config = nlohmann::json::parse(m.config);
    config["num_attention_heads"] = 5;
    expect_error([&] { load_memory(config.dump(), m.weights); }, ErrorKind::config, {"divisible"});
}

TEST_CASE("config.json that is not JSON") {
    TinyBert m;
    expect_error([&] { load_memory("{\"model_type\": \"bert\",", m.weights); }, ErrorKind::format, {"not a JSON object"});
}

namespace {
minibert::Session tiny_session() {
    static const minibert::Model model = minibert::Model::load(test_support::model_path("tiny-bert"));
    minibert::SessionOptions options;
    options.max_batch = 4;
    options.max_tokens = 1024;
    return minibert::Session(model, options);
}
}  // namespace

TEST_CASE("a token id >= vocab_size names the id and position") {
    auto session = tiny_session();
    minibert::Batch batch;
    batch.add({1, 2, 100});
    expect_error([&] { session.run(batch); }, ErrorKind::invalid_input, {"token id 100", "position 2", "[0, 100)"});
    minibert::Batch negative;
    negative.add({-1});
    expect_error([&] { session.run(negative); }, ErrorKind::invalid_input, {"token id -1"});
}

TEST_CASE("a type id >= type_vocab_size is named") {
    auto session = tiny_session();
    minibert::Batch batch;
    batch.add({1, 2, 3}, {0, 1, 2});
    expect_error([&] { session.run(batch); }, ErrorKind::invalid_input, {"token type id 2", "position 2"});
}

TEST_CASE("a sequence longer than max_position_embeddings") {
    auto session = tiny_session();
    minibert::Batch batch;
    batch.add(std::vector<std::int32_t>(513, 1));
    expect_error([&] { session.run(batch); }, ErrorKind::limit, {"513", "max_position_embeddings"});
}

TEST_CASE("an empty batch and an empty sequence") {
    auto session = tiny_session();
    expect_error([&] { session.run(minibert::Batch()); }, ErrorKind::invalid_input, {"empty"});
    minibert::Batch batch;
    expect_error([&] { batch.add(std::vector<std::int32_t>{}); }, ErrorKind::invalid_input, {"empty"});
}

TEST_CASE("ids and mask or type ids of different lengths") {
    const std::vector<std::int32_t> ids{1, 2, 3, 4}, mask{1, 1, 1}, types{0, 0};
    expect_error([&] { minibert::Batch::from_padded({ids.data(), 4}, {mask.data(), 3}, {}, 1, 4); },
                 ErrorKind::invalid_input, {"attention_mask", "3", "4"});
    expect_error([&] { minibert::Batch::from_padded({ids.data(), 4}, {}, {types.data(), 2}, 1, 4); },
                 ErrorKind::invalid_input, {"token_type_ids"});
    minibert::Batch batch;
    expect_error([&] { batch.add(std::vector<std::int32_t>{1, 2, 3}, std::vector<std::int32_t>{0, 0}); },
                 ErrorKind::invalid_input, {"3 ids", "2 token type ids"});
}

TEST_CASE("a mask that is not right-padded, or masks everything") {
    const std::vector<std::int32_t> ids{1, 2, 3, 4}, holes{1, 0, 1, 0}, none{0, 0, 0, 0};
    expect_error([&] { minibert::Batch::from_padded({ids.data(), 4}, {holes.data(), 4}, {}, 1, 4); },
                 ErrorKind::invalid_input, {"right-padded", "position 2"});
    expect_error([&] { minibert::Batch::from_padded({ids.data(), 4}, {none.data(), 4}, {}, 1, 4); },
                 ErrorKind::invalid_input, {"masks every token"});
}

TEST_CASE("session limits: batch size and total tokens") {
    auto session = tiny_session();
    minibert::Batch batch;
    for (int i = 0; i < 5; ++i) batch.add({1, 2});
    expect_error([&] { session.run(batch); }, ErrorKind::limit, {"5 sequences", "max_batch"});
    minibert::Batch many;
    for (int i = 0; i < 3; ++i) many.add(std::vector<std::int32_t>(400, 1));
    expect_error([&] { session.run(many); }, ErrorKind::limit, {"1200 tokens", "max_tokens"});
}

TEST_CASE("DistilBERT refuses non-zero token type ids") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tiny-distilbert"));
    minibert::Session session(model);
    minibert::Batch batch;
    batch.add({1, 2}, {0, 1});
    expect_error([&] { session.run(batch); }, ErrorKind::invalid_input, {"DistilBERT has no token types"});
}

// ---------------------------------------------------------------------------------------------
// Hostile input, round two (issue #12): every crafted input is generated here.

namespace {

/// A safetensors file's tensors, to be re-encoded and written back contiguously.
struct RawTensor {
    std::string dtype;
    nlohmann::json shape;
    std::string bytes;
};

std::map<std::string, RawTensor> tensors_of(const std::string& weights) {
    auto [header, data] = split(weights);
    std::map<std::string, RawTensor> out;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const auto b = it.value()["data_offsets"][0].get<std::size_t>(), e = it.value()["data_offsets"][1].get<std::size_t>();
        out[it.key()] = {it.value()["dtype"].get<std::string>(), it.value()["shape"], data.substr(b, e - b)};
    }
    return out;
}

std::string build_safetensors(const std::map<std::string, RawTensor>& tensors,
                              const nlohmann::json& metadata = {{"format", "pt"}}) {
    nlohmann::json header = {{"__metadata__", metadata}};
    std::string data;
    for (const auto& [name, t] : tensors) {
        header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
        data += t.bytes;
    }
    return join(header, data);
}

std::vector<float> floats_of(const RawTensor& t) {
    std::vector<float> v(t.bytes.size() / 4);
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
}

/// `t` (F32) stored as `dtype` with element `at` replaced by `poison` (a double, so F64 can
/// hold 1e300).
RawTensor poisoned(const RawTensor& t, const std::string& dtype, std::size_t at, double poison) {
    const std::vector<float> v = floats_of(t);
    RawTensor out{dtype, t.shape, {}};
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double x = i == at ? poison : static_cast<double>(v[i]);
        if (dtype == "F32") {
            const auto f = static_cast<float>(x);
            out.bytes.append(reinterpret_cast<const char*>(&f), 4);
        } else if (dtype == "F64") {
            out.bytes.append(reinterpret_cast<const char*>(&x), 8);
        } else if (dtype == "F16") {
            const std::uint16_t h = minibert::half::from_float(static_cast<float>(x)).bits;
            out.bytes.append(reinterpret_cast<const char*>(&h), 2);
        } else {  // BF16: the upper half of the fp32 bits (NaN stays NaN, Inf stays Inf)
            const auto f = static_cast<float>(x);
            std::uint32_t u;
            std::memcpy(&u, &f, 4);
            const auto h = static_cast<std::uint16_t>(u >> 16);
            out.bytes.append(reinterpret_cast<const char*>(&h), 2);
        }
    }
    return out;
}

minibert::Model load_memory_with(const std::string& config, const std::string& weights, const minibert::LoadOptions& o) {
    return minibert::Model::from_memory(config, weights.data(), weights.size(), o);
}

/// 100,000 nested arrays around `inner`: 200 KB that used to overflow the stack in dump().
std::string deep(const std::string& inner = "1", std::size_t levels = 100000) {
    return std::string(levels, '[') + inner + std::string(levels, ']');
}

}  // namespace

TEST_CASE("non-finite weights are refused at load in every storage type, naming the tensor") {
    TinyBert m;
    const auto tensors = tensors_of(m.weights);
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    struct Case {
        const char* tensor;
        const char* dtype;
        std::size_t at;
        double value;
        const char* fragment;
    };
    const Case cases[] = {
        {"pooler.dense.bias", "F32", 3, nan, "NaN at element 3"},
        {"encoder.layer.0.attention.output.LayerNorm.weight", "F16", 0, nan, "NaN at element 0"},
        {"embeddings.word_embeddings.weight", "BF16", 5, inf, "+Inf at element 5"},
        {"encoder.layer.1.intermediate.dense.weight", "F64", 7, 1e300, "F64 1e+300"},
        {"encoder.layer.0.attention.self.query.bias", "F16", 1, -inf, "-Inf at element 1"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.tensor);
        CAPTURE(c.dtype);
        auto edited = tensors;
        edited[c.tensor] = poisoned(tensors.at(c.tensor), c.dtype, c.at, c.value);
        const std::string file = build_safetensors(edited);
        for (auto weights : {minibert::WeightType::fp32, minibert::WeightType::fp16, minibert::WeightType::int8_dynamic}) {
            minibert::LoadOptions o;
            o.weights = weights;
            expect_error([&] { load_memory_with(m.config, file, o); }, ErrorKind::format, {c.tensor, c.fragment, "allow_non_finite"});
        }
    }
    // The same file with one finite change loads (the check has no false positive), and the
    // opt-out accepts a NaN.
    auto edited = tensors;
    edited["pooler.dense.bias"] = poisoned(tensors.at("pooler.dense.bias"), "F64", 3, 0.5);
    CHECK_NOTHROW(load_memory(m.config, build_safetensors(edited)));
    edited["pooler.dense.bias"] = poisoned(tensors.at("pooler.dense.bias"), "F32", 3, nan);
    minibert::LoadOptions allow;
    allow.allow_non_finite = true;
    CHECK_NOTHROW(load_memory_with(m.config, build_safetensors(edited), allow));
}

TEST_CASE("int8 folders: an F16 _scale is refused (scales are F32), a NaN scale too") {
    TinyBert m;
    auto tensors = tensors_of(m.weights);
    const std::string name = "encoder.layer.0.attention.self.query.weight";
    const std::vector<float> w = floats_of(tensors.at(name));
    const std::size_t rows = tensors.at(name).shape[0].get<std::size_t>();
    RawTensor codes{"I8", tensors.at(name).shape, std::string(w.size(), '\1')};
    RawTensor scales{"F32", {rows}, {}};
    for (std::size_t r = 0; r < rows; ++r) {
        const float s = 0.01f;
        scales.bytes.append(reinterpret_cast<const char*>(&s), 4);
    }
    tensors[name] = codes;
    tensors[name + "_scale"] = scales;
    CHECK_NOTHROW(load_memory(m.config, build_safetensors(tensors)));
    tensors[name + "_scale"] = poisoned(scales, "F16", 0, 0.01);
    expect_error([&] { load_memory(m.config, build_safetensors(tensors)); }, ErrorKind::format, {"_scale", "F16", "must be F32"});
    tensors[name + "_scale"] = poisoned(scales, "F32", 2, std::numeric_limits<double>::quiet_NaN());
    minibert::LoadOptions allow;  // the opt-out is for weights; a scale must be finite regardless
    allow.allow_non_finite = true;
    expect_error([&] { load_memory_with(m.config, build_safetensors(tensors), allow); }, ErrorKind::format, {"_scale", "finite"});
}

TEST_CASE("safetensors: a repeated key and trailing bytes after the data are refused") {
    TinyBert m;
    auto [header, data] = split(m.weights);
    // The same tensor twice, the first invalid: nlohmann kept the last and loaded it.
    std::string text = header.dump();
    const std::string first = "{\"pooler.dense.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,999999]},";
    text = first + text.substr(1);
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
    bytes += text + data;
    expect_error([&] { load_memory(m.config, bytes); }, ErrorKind::format, {"repeats the key", "pooler.dense.bias"});
    // A key repeated inside a tensor's entry too.
    std::string inner = header.dump();
    const auto at = inner.find("\"dtype\"");
    inner.insert(at, "\"dtype\":\"I8\",");
    bytes.assign(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((inner.size() >> (8 * i)) & 0xff);
    expect_error([&] { load_memory(m.config, bytes + inner + data); }, ErrorKind::format, {"repeats the key", "dtype"});
    // Trailing bytes: Hugging Face's reader refuses them (MetadataIncompleteBuffer).
    expect_error([&] { load_memory(m.config, m.weights + std::string(16, '\0')); }, ErrorKind::format, {"16 trailing bytes"});
    CHECK_NOTHROW(load_memory(m.config, m.weights));
}

TEST_CASE("config.json: id2label keys are canonical indices; layer_norm_eps stays a normal fp32") {
    TinyBert m;
    nlohmann::json config = nlohmann::json::parse(m.config);
    config["num_labels"] = 2;
    for (const char* key : {" 0", "+0", "00", "0x1", "1 ", "-1", "", "99999999999999999999"}) {
        CAPTURE(key);
        config["id2label"] = {{key, "a"}, {"1", "b"}};
        expect_error([&] { minibert::ModelConfig::parse(config.dump(), "c.json"); }, ErrorKind::config, {"id2label key", "not an index"});
    }
    config["id2label"] = {{"0", "neg"}, {"1", "pos"}};
    CHECK(minibert::ModelConfig::parse(config.dump()).id2label == std::vector<std::string>{"neg", "pos"});
    for (double eps : {1e-50, 1e-40, 1e-39}) {
        CAPTURE(eps);
        config["layer_norm_eps"] = eps;
        expect_error([&] { minibert::ModelConfig::parse(config.dump(), "c.json"); }, ErrorKind::config, {"layer_norm_eps", "denormal"});
    }
    config["layer_norm_eps"] = 1e-37;
    CHECK(minibert::ModelConfig::parse(config.dump()).layer_norm_eps > 0.0f);
}

TEST_CASE("deeply nested JSON is refused by depth, never dumped (config, safetensors header, pooling files)") {
    TinyBert m;
    nlohmann::json config = nlohmann::json::parse(m.config);
    for (const char* key : {"vocab_size", "model_type", "id2label", "layer_norm_eps", "architectures"}) {
        CAPTURE(key);
        // The deep value comes first; the depth check refuses the text before any key is read.
        const std::string edited = "{\"" + std::string(key) + "\":" + deep() + "," + config.dump().substr(1);
        expect_error([&] { minibert::ModelConfig::parse(edited, "deep.json"); }, ErrorKind::format, {"deep.json", "deeper than 64"});
    }
    // 64 levels still parse (and are then refused for their type, with a bounded summary).
    config["vocab_size"] = nlohmann::json::parse(deep("1", 63));
    try {
        minibert::ModelConfig::parse(config.dump(), "c.json");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("an array of 1 values") != std::string::npos);
    }
    // A huge string value is quoted cut short.
    config["vocab_size"] = std::string(1 << 20, 'x');
    try {
        minibert::ModelConfig::parse(config.dump(), "c.json");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).size() < 300);
        CHECK(std::string(e.what()).find("1048576 bytes") != std::string::npos);
    }
    // The safetensors header goes through the same layer.
    const std::string header = "{\"x\":" + deep() + "}";
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    expect_error([&] { load_memory(m.config, bytes + header); }, ErrorKind::format, {"deeper than 64"});
    // sentence-transformers files.
    auto dir = temp_folder("deep-st");
    { std::ofstream(dir / "modules.json") << deep(); }
    expect_error([&] { minibert::PoolingConfig::from_folder(dir.string()); }, ErrorKind::format, {"modules.json", "deeper than 64"});
}

TEST_CASE("sentence-transformers files of the wrong shape are Errors naming file and key") {
    auto dir = temp_folder("st-types");
    std::filesystem::create_directories(dir / "1_Pooling");
    { std::ofstream(dir / "modules.json") << "[1, 2]"; }
    expect_error([&] { minibert::PoolingConfig::from_folder(dir.string()); }, ErrorKind::format, {"modules.json", "[0]", "an object"});
    { std::ofstream(dir / "modules.json") << R"([{"type": 5, "path": "1_Pooling"}])"; }
    expect_error([&] { minibert::PoolingConfig::from_folder(dir.string()); }, ErrorKind::format, {"modules.json", "type", "a string"});
    { std::ofstream(dir / "modules.json") << R"([{"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"}])"; }
    { std::ofstream(dir / "1_Pooling" / "config.json") << R"({"pooling_mode_mean_tokens": null})"; }
    expect_error([&] { minibert::PoolingConfig::from_folder(dir.string()); }, ErrorKind::format,
                 {"1_Pooling", "pooling_mode_mean_tokens", "true or false", "null"});
    { std::ofstream(dir / "1_Pooling" / "config.json") << R"({"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": "no"})"; }
    expect_error([&] { minibert::PoolingConfig::from_folder(dir.string()); }, ErrorKind::format, {"pooling_mode_cls_token"});
    { std::ofstream(dir / "1_Pooling" / "config.json") << R"({"pooling_mode_mean_tokens": true})"; }
    CHECK(minibert::PoolingConfig::from_folder(dir.string()).mean);
}

TEST_CASE("the file policy: directories, FIFOs, symlink loops and devices are Errors, never hangs") {
    namespace fs = std::filesystem;
    auto dir = temp_folder("file-policy");
    fs::create_directories(dir / "a-directory");
    REQUIRE(::mkfifo((dir / "a-fifo").c_str(), 0600) == 0);  // nobody writes: a blocking open would hang
    fs::create_symlink(dir / "loop-b", dir / "loop-a");
    fs::create_symlink(dir / "loop-a", dir / "loop-b");
    fs::create_symlink("/dev/zero", dir / "zero");
    const std::pair<const char*, const char*> cases[] = {{"a-directory", "is a directory"}, {"a-fifo", "FIFO"},
                                                         {"loop-a", "symlink loop"},        {"zero", "character device"},
                                                         {"missing", "does not exist"}};
    for (const auto& [name, fragment] : cases) {
        CAPTURE(name);
        const std::string path = (dir / name).string();
        expect_error([&] { minibert::read_text_file(path); }, ErrorKind::io, {name, fragment});
        expect_error([&] { minibert::MappedFile::open(path); }, ErrorKind::io, {name, fragment});
        expect_error([&] { minibert::ModelConfig::load(path); }, ErrorKind::io, {fragment});
    }
    // Each of them named tokenizer.json, tokenizer_config.json, vocab.txt or config.json.
    for (const char* file : {"tokenizer.json", "tokenizer_config.json", "vocab.txt", "config.json", "modules.json"}) {
        for (const auto& [name, fragment] : cases) {
            if (std::string(name) == "missing") continue;
            CAPTURE(file);
            CAPTURE(name);
            auto folder = temp_folder("file-policy-folder");
            const fs::path target = folder / file;
            if (std::string(name) == "a-directory") fs::create_directories(target);
            else if (std::string(name) == "a-fifo") REQUIRE(::mkfifo(target.c_str(), 0600) == 0);
            else if (std::string(name) == "zero") fs::create_symlink("/dev/zero", target);
            else fs::create_symlink(target, target);  // a symlink to itself
            if (std::string(file) == "config.json")
                fs::copy_file(test_support::model_path("tiny-bert") + "/model.safetensors", folder / "model.safetensors");
            auto attempt = [&] {
                if (std::string(file) == "config.json") minibert::Model::load(folder.string());
                else if (std::string(file) == "modules.json") minibert::PoolingConfig::from_folder(folder.string());
                else minibert::Tokenizer::from_folder(folder);
            };
            expect_error(attempt, ErrorKind::io, {file, fragment});
        }
    }
    // The tokenizer folder itself a symlink loop: an Error, not std::filesystem::filesystem_error.
    expect_error([&] { minibert::Tokenizer::from_folder(dir / "loop-a"); }, ErrorKind::io, {"not a directory"});
    // The size cap: a sparse 300 MiB tokenizer.json is refused before a byte is read.
    {
        const fs::path big = dir / "big.json";
        { std::ofstream(big) << "{"; }
        fs::resize_file(big, 300ull << 20);
        expect_error([&] { minibert::read_text_file(big.string()); }, ErrorKind::limit, {"big.json", "limit"});
    }
}

TEST_CASE("a weights file that shrinks while it is read is an Error (LoadOptions::read_file)") {
    auto dir = temp_folder("shrink");
    std::filesystem::copy_file(test_support::model_path("tiny-bert") + "/config.json", dir / "config.json");
    std::filesystem::copy_file(test_support::model_path("tiny-bert") + "/model.safetensors", dir / "model.safetensors");
    minibert::LoadOptions read;
    read.read_file = true;
    const minibert::Model copied = minibert::Model::load(dir.string(), read);
    const minibert::Model mapped = minibert::Model::load(dir.string());
    CHECK(copied.resident_bytes() == mapped.resident_bytes());
    {
        minibert::SessionOptions so;
        so.max_batch = 1;
        minibert::Session a(copied, so), b(mapped, so);
        const std::vector<std::int32_t> ids{2, 17, 42, 3};
        const auto batch = minibert::Batch::from_padded({ids.data(), ids.size()}, {}, {}, 1, ids.size());
        const auto oa = a.run(batch);
        const auto ob = b.run(batch);
        const std::size_t n = oa.mean_pooled.rows() * oa.mean_pooled.cols();
        CHECK(std::equal(oa.mean_pooled.data(), oa.mean_pooled.data() + n, ob.mean_pooled.data()));
    }
    // The read path checks the size it was promised: truncate between open and read.
    const std::string path = (dir / "model.safetensors").string();
    const auto opened = minibert::OpenedFile::open(path, UINT64_MAX);
    std::vector<char> buffer(opened.size());
    std::filesystem::resize_file(path, opened.size() / 2);
    expect_error([&] { opened.read_all(buffer.data(), buffer.size()); }, ErrorKind::io, {"shrank while being read"});
    // A file truncated before the load is refused whichever way it is read.
    expect_error([&] { minibert::Model::load(dir.string(), read); }, ErrorKind::format, {"model.safetensors"});
    expect_error([&] { minibert::Model::load(dir.string()); }, ErrorKind::format, {"model.safetensors"});
}
}  // namespace minibert_test_bad_input
