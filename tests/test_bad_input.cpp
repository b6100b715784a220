// Bad input gets a minibert::Error that names what is wrong: never a crash, never UB.
// One test case per kind of bad input; the checkpoints are the fixture's tiny-bert folders,
// corrupted in memory.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"

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
        INFO("message: " << e.what());
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
