// fp16 and int8 models against fp32, on the random-weight checkpoints of the three real shapes
// (tinybert-4l-312, bert-base-2l with a pooler, distilbert-3l), and the quantised folder format.
//
// Measures: cosine similarity to the fp32 model of every token's last hidden state (the worst
// token), and of each sequence's mean-pooled embedding and BERT pooler output (the worst one).
// Thresholds, with the measured values they guard (random weights are harder than trained ones:
// no structure for the per-channel scales to exploit, so these bound real models from below):
//   fp16:          worst token and pooled >= 0.99999 (measured > 0.999999: weights keep 11 bits)
//   int8 dynamic:  worst token and pooled >= 0.998 (measured 0.9991-0.9997 over the three shapes:
//                  per-token activations and per-channel weights through 2-4 LayerNorm'd layers)
//   int8 + int8 word embeddings: the same (measured 0.9990-0.9997; per-row codes add ~1e-4)
//   int8 static (4 calibration sentences): >= 0.995 (measured 0.9993)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <unistd.h>  // getpid: a scratch folder per process

#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_quantized_models {

namespace {

using minibert::EmbeddingStorage;
using minibert::LoadOptions;
using minibert::WeightType;

const char* kShapes[] = {"tinybert-4l-312", "bert-base-2l", "distilbert-3l"};

minibert::Batch make_batch(std::size_t vocab) {
    std::mt19937 rng(17);
    std::uniform_int_distribution<std::int32_t> id(1000, static_cast<std::int32_t>(vocab) - 1);
    minibert::Batch batch;
    for (std::size_t length : {5, 17, 64}) {
        std::vector<std::int32_t> ids(length);
        for (auto& v : ids) v = id(rng);
        ids.front() = 101;
        ids.back() = 102;
        batch.add(ids);
    }
    return batch;
}

double cosine(const float* a, const float* b, std::size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

struct Result {
    std::vector<float> hidden, mean, pooler, logits;
    std::size_t tokens = 0, seqs = 0, hidden_size = 0;
};

Result run(const minibert::Model& model, const minibert::Batch& batch, std::size_t threads = 1) {
    minibert::SessionOptions options;
    options.threads = threads;
    options.max_batch = 8;
    options.max_tokens = 256;
    options.max_sequence = 128;
    minibert::Session session(model, options);
    const minibert::Outputs out = session.run(batch);
    Result r;
    r.tokens = out.last_hidden_state.rows();
    r.seqs = out.batch_size;
    r.hidden_size = out.last_hidden_state.cols();
    auto copy = [](const minibert::MatrixView& m) {
        std::vector<float> v;
        for (std::size_t i = 0; i < m.rows(); ++i) v.insert(v.end(), m.row(i), m.row(i) + m.cols());
        return v;
    };
    r.hidden = copy(out.last_hidden_state);
    r.mean = copy(out.mean_pooled);
    if (out.pooler_output.rows()) r.pooler = copy(out.pooler_output);
    if (out.logits.rows()) r.logits = copy(out.logits);
    return r;
}

double worst(const std::vector<float>& a, const std::vector<float>& b, std::size_t width) {
    REQUIRE(a.size() == b.size());
    double w = 1.0;
    for (std::size_t i = 0; i < a.size(); i += width) w = std::min(w, cosine(a.data() + i, b.data() + i, width));
    return w;
}

struct Similarity {
    double token, pooled;
};

Similarity compare(const Result& ref, const Result& got) {
    Similarity s;
    s.token = worst(ref.hidden, got.hidden, ref.hidden_size);
    s.pooled = worst(ref.mean, got.mean, ref.hidden_size);
    if (!ref.pooler.empty()) s.pooled = std::min(s.pooled, worst(ref.pooler, got.pooler, ref.hidden_size));
    return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

std::string build_dir() { return std::filesystem::path(test_support::models_dir()).parent_path().string(); }

/// Where this process writes its converted folders: one per process, because the same test runs
/// concurrently (ctest -j with the per-level entries; scripts/test_aarch64.sh runs two qemu CPUs
/// at once) and two converters writing one folder with --force broke each other (CI, aarch64).
/// Removed when the process exits (about 60 MB).
std::string scratch_root() {
    struct Root {
        std::string path;
        ~Root() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Root root{build_dir() + "/test-quantized-" + std::to_string(::getpid())};
    return root.path;
}

/// Runs scripts/convert_weights.py; returns its exit status.
int convert(const std::string& src, const std::string& out, const std::string& extra) {
    const char* py = std::getenv("PYTHON");
    const std::string cmd = std::string(py ? py : "/usr/bin/python3") + " " + MINIBERT_SOURCE_DIR +
                            "/scripts/convert_weights.py " + src + " " + out + " --dtype int8 --force " + extra +
                            " > " + out + ".log 2>&1";
    return std::system(cmd.c_str());
}

/// Rewrites one tensor's header entry of a safetensors file (same data bytes) into `out_path`.
void rewrite_entry(const std::string& in_path, const std::string& out_path, const std::string& tensor,
                   const std::string& dtype, const std::vector<std::size_t>& shape) {
    std::ifstream in(in_path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    REQUIRE(header.contains(tensor));
    header[tensor]["dtype"] = dtype;
    header[tensor]["shape"] = shape;
    std::string h = header.dump();
    while (h.size() % 8) h += ' ';
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((std::uint64_t(h.size()) >> (8 * i)) & 0xff);
    std::ofstream(out_path, std::ios::binary) << out << h << bytes.substr(8 + n);
}

}  // namespace

TEST_CASE("fp16 and int8 models stay close to fp32 on all three shapes") {
    for (const std::string name : kShapes) {
        CAPTURE(name);
        const std::string dir = test_support::model_path(name);
        const minibert::Model fp32 = minibert::Model::load(dir, LoadOptions{WeightType::fp32});
        const minibert::Batch batch = make_batch(fp32.config().vocab_size);
        const Result ref = run(fp32, batch);

        const minibert::Model fp16 = minibert::Model::load(dir, LoadOptions{WeightType::fp16, EmbeddingStorage::fp16});
        CHECK(fp16.weight_type() == WeightType::fp16);
        const Similarity h = compare(ref, run(fp16, batch));
        MESSAGE(name << " fp16: worst token cosine " << h.token << ", worst pooled " << h.pooled);
        CHECK(h.token >= 0.99999);
        CHECK(h.pooled >= 0.99999);

        const minibert::Model int8 = minibert::Model::load(dir, LoadOptions{WeightType::int8_dynamic});
        CHECK(int8.weight_type() == WeightType::int8_dynamic);
        const Result q = run(int8, batch);
        const Similarity d = compare(ref, q);
        MESSAGE(name << " int8 dynamic: worst token cosine " << d.token << ", worst pooled " << d.pooled);
        CHECK(d.token >= 0.998);
        CHECK(d.pooled >= 0.998);
        CHECK(same_bits(run(int8, batch, 3).hidden, q.hidden));  // thread count never matters

        const minibert::Model int8e =
            minibert::Model::load(dir, LoadOptions{WeightType::int8_dynamic, EmbeddingStorage::int8});
        const Similarity e = compare(ref, run(int8e, batch));
        MESSAGE(name << " int8 dynamic + int8 embeddings: worst token cosine " << e.token << ", worst pooled " << e.pooled);
        CHECK(e.token >= 0.998);
        CHECK(e.pooled >= 0.998);

        // Resident weights: fp16 about half, int8 about a quarter (fp32 position embeddings,
        // LayerNorms, biases and the heads, and the int8 scales, are the rest).
        CHECK(fp16.resident_bytes() < fp32.resident_bytes() * 0.55);
        CHECK(int8e.resident_bytes() < fp32.resident_bytes() * 0.35);
    }
}

TEST_CASE("a dynamic int8 batch gives each sequence the numbers it gets alone") {
    const minibert::Model model =
        minibert::Model::load(test_support::model_path("tinybert-4l-312"), LoadOptions{WeightType::int8_dynamic});
    const minibert::Batch batch = make_batch(model.config().vocab_size);
    const Result all = run(model, batch);
    minibert::Batch second;
    second.add(std::vector<std::int32_t>(batch.ids().data() + batch.offsets()[1], batch.ids().data() + batch.offsets()[2]));
    const Result alone = run(model, second);
    const std::size_t h = all.hidden_size;
    CHECK(std::memcmp(alone.hidden.data(), all.hidden.data() + batch.offsets()[1] * h, alone.hidden.size() * sizeof(float)) == 0);
}

TEST_CASE("a converted int8 folder loads as it is and equals load-time quantisation") {
    const std::string src = test_support::model_path("tinybert-4l-312");
    const std::string out = scratch_root() + "/tinybert-4l-312-int8";
    std::filesystem::create_directories(out);
    REQUIRE(convert(src, out, "--embeddings int8") == 0);

    const minibert::Model converted = minibert::Model::load(out);  // native: the folder's int8
    CHECK(converted.weight_type() == WeightType::int8_dynamic);
    const minibert::Model at_load =
        minibert::Model::load(src, LoadOptions{WeightType::int8_dynamic, EmbeddingStorage::int8});
    const minibert::Batch batch = make_batch(converted.config().vocab_size);
    const Result a = run(converted, batch), b = run(at_load, batch);
    CHECK(same_bits(a.hidden, b.hidden));  // the converter's codes and scales are minibert's, bit for bit
    CHECK(same_bits(a.logits, b.logits));
    CHECK(converted.resident_bytes() == at_load.resident_bytes());
    const auto src_bytes = std::filesystem::file_size(src + "/model.safetensors");
    const auto out_bytes = std::filesystem::file_size(out + "/model.safetensors");
    MESSAGE("tinybert-4l-312 file: " << src_bytes << " -> " << out_bytes << " bytes");
    CHECK(out_bytes < src_bytes * 0.3);

    // The same folder runs as fp32 or fp16 too (codes dequantised at load).
    const minibert::Model widened = minibert::Model::load(out, LoadOptions{WeightType::fp32});
    CHECK(compare(a, run(widened, batch)).token > 0.999);
    // Static needs calibrated scales, which this folder lacks: a clear error naming the tensor.
    CHECK_THROWS_WITH_AS(minibert::Model::load(out, LoadOptions{WeightType::int8_static}),
                         doctest::Contains("input_scale"), minibert::Error);
}

TEST_CASE("loading hands the mapped file's pages back without changing a byte it reads") {
    // The loader releases each tensor's pages after copying it (MappedFile::release). A released
    // page of a file mapping refills from the file; a caller's buffer must never be released.
    const std::string src = test_support::model_path("tinybert-4l-312");
    const std::string out = scratch_root() + "/tinybert-4l-312-int8-release";
    std::filesystem::create_directories(out);
    REQUIRE(convert(src, out, "--embeddings int8") == 0);
    for (const std::string& folder : {src, out}) {
        CAPTURE(folder);
        const std::string path = folder + "/model.safetensors";
        std::ifstream in(path, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::vector<char> untouched = bytes;
        const std::string config = minibert::read_text_file(folder + "/config.json");
        const minibert::Model from_file = minibert::Model::load(folder);
        const minibert::Model from_memory = minibert::Model::from_memory(config, bytes.data(), bytes.size());
        CHECK(bytes == untouched);  // release() left the caller's buffer alone
        const minibert::Batch batch = make_batch(from_file.config().vocab_size);
        const Result a = run(from_file, batch), b = run(from_memory, batch);
        CHECK(same_bits(a.hidden, b.hidden));

        // Every tensor's bytes read back the same after release() dropped their pages.
        const minibert::SafeTensors st = minibert::SafeTensors::open(path);
        for (const auto& t : st.tensors()) {
            const std::vector<std::uint8_t> before(t.data, t.data + t.byte_size);
            st.release(t);
            CHECK(std::memcmp(before.data(), t.data, t.byte_size) == 0);
        }
    }
}

TEST_CASE("a calibrated (static) int8 folder loads and stays close to fp32") {
    const std::string tokenize = build_dir() + "/examples/minibert-tokenize";
    if (!std::filesystem::exists(tokenize)) {
        MESSAGE("skipped: " << tokenize << " is not built (cmake --build . --target minibert-tokenize)");
        return;
    }
    const std::string src = test_support::model_path("tinybert-4l-312");
    const std::string out = scratch_root() + "/tinybert-4l-312-static";
    std::filesystem::create_directories(out);
    const std::string lines = scratch_root() + "/calibration.txt";
    {
        std::ofstream f(lines);
        f << "a gorgeous , witty , seductive movie .\nthe film is strictly routine .\n"
             "it 's a charming and often affecting journey .\nunflinchingly bleak and desperate\n";
    }
    REQUIRE(convert(src, out,
                    "--calibrate " + lines + " --tokenizer-dir " + MINIBERT_TEST_DATA_DIR +
                        "/tokenizer/bert-base-uncased --tokenizer-bin " + tokenize) == 0);
    const minibert::Model model = minibert::Model::load(out);
    CHECK(model.weight_type() == WeightType::int8_static);
    const minibert::Model fp32 = minibert::Model::load(src);
    const minibert::Batch batch = make_batch(fp32.config().vocab_size);
    const Similarity s = compare(run(fp32, batch), run(model, batch));
    MESSAGE("tinybert-4l-312 int8 static: worst token cosine " << s.token << ", worst pooled " << s.pooled);
    // Static scales from 4 sentences: values beyond the calibrated range clip, so a looser bound.
    CHECK(s.token >= 0.995);
    CHECK(s.pooled >= 0.995);
}

TEST_CASE("malformed quantised tensors are refused with the tensor's name") {
    const std::string src = test_support::model_path("tinybert-4l-312");
    const std::string good = scratch_root() + "/tinybert-4l-312-int8";
    if (!std::filesystem::exists(good + "/model.safetensors")) {
        std::filesystem::create_directories(good);
        REQUIRE(convert(src, good, "--embeddings int8") == 0);
    }
    const std::string bad = scratch_root() + "/bad";
    std::filesystem::create_directories(bad);
    std::filesystem::copy_file(good + "/config.json", bad + "/config.json",
                               std::filesystem::copy_options::overwrite_existing);
    const std::string scale = "bert.encoder.layer.1.attention.self.key.weight_scale";
    const std::string codes = "bert.encoder.layer.1.attention.self.key.weight";

    rewrite_entry(good + "/model.safetensors", bad + "/model.safetensors", scale, "I32", {312});
    CHECK_THROWS_WITH_AS(minibert::Model::load(bad), doctest::Contains(scale.c_str()), minibert::Error);
    rewrite_entry(good + "/model.safetensors", bad + "/model.safetensors", scale, "F32", {156, 2});
    CHECK_THROWS_WITH_AS(minibert::Model::load(bad), doctest::Contains(scale.c_str()), minibert::Error);
    rewrite_entry(good + "/model.safetensors", bad + "/model.safetensors", codes, "U8", {312, 312});
    CHECK_THROWS_WITH_AS(minibert::Model::load(bad), doctest::Contains(codes.c_str()), minibert::Error);
}

// Every family (models/<family>.hpp) in fp16 and int8, against its own fp32 run, with the
// thresholds above; logits too (cosine over each row of a head's output). And the converter's
// int8 folder of each family equals load-time quantisation bit for bit (its names, MPNet's
// attention.attn.{q,k,v,o} included, are the loader's).
TEST_CASE("fp16 and int8 for every family, and each family's converted int8 folder") {
    for (const std::string name : {"tiny-roberta", "tiny-xlmr-seqcls", "tiny-camembert-tokcls", "tiny-electra",
                                   "tiny-electra-seqcls", "tiny-mpnet", "tiny-mpnet-qa"}) {
        CAPTURE(name);
        const std::string dir = test_support::model_path(name);
        const minibert::Model fp32 = minibert::Model::load(dir, LoadOptions{WeightType::fp32});
        std::mt19937 rng(5);
        std::uniform_int_distribution<std::int32_t> id(3, static_cast<std::int32_t>(fp32.config().vocab_size) - 1);
        minibert::Batch batch;
        for (std::size_t length : {5, 17, 100}) {
            std::vector<std::int32_t> ids(length);
            for (auto& v : ids) v = id(rng);
            batch.add(ids);
        }
        const Result ref = run(fp32, batch);
        const std::size_t width = ref.logits.empty() ? 1 : ref.logits.size() / (fp32.config().head == minibert::HeadKind::sequence_classification ? ref.seqs : ref.tokens);
        auto logits_cosine = [&](const Result& r) { return ref.logits.empty() || width < 2 ? 1.0 : worst(ref.logits, r.logits, width); };

        const Result h = run(minibert::Model::load(dir, LoadOptions{WeightType::fp16, EmbeddingStorage::fp16}), batch);
        const Similarity sh = compare(ref, h);
        MESSAGE(name << " fp16: worst token " << sh.token << ", pooled " << sh.pooled << ", logits " << logits_cosine(h));
        CHECK(sh.token >= 0.99999);
        CHECK(sh.pooled >= 0.99999);
        CHECK(logits_cosine(h) >= 0.99999);

        const Result q = run(minibert::Model::load(dir, LoadOptions{WeightType::int8_dynamic, EmbeddingStorage::int8}), batch);
        const Similarity sq = compare(ref, q);
        MESSAGE(name << " int8 dynamic + int8 embeddings: worst token " << sq.token << ", pooled " << sq.pooled
                     << ", logits " << logits_cosine(q));
        CHECK(sq.token >= 0.998);
        CHECK(sq.pooled >= 0.998);
        CHECK(logits_cosine(q) >= 0.998);
        for (std::size_t i = 0; i < ref.logits.size() && width == 1; ++i)  // one label: the raw score itself
            CHECK(std::abs(q.logits[i] - ref.logits[i]) <= 0.05 * (1.0f + std::abs(ref.logits[i])));

        const std::string out = scratch_root() + "/" + name + "-int8";
        std::filesystem::create_directories(out);
        REQUIRE(convert(dir, out, "--embeddings int8") == 0);
        const Result c = run(minibert::Model::load(out), batch);
        CHECK(same_bits(c.hidden, q.hidden));
        CHECK(same_bits(c.logits, q.logits));
    }
}
TEST_CASE("pruned models (fewer heads, narrower FFN per layer) load as fp16 and int8, at load time and converted") {
    // fp32 parity with the reference is test_reference_parity's; here the narrowed types against
    // fp32, with the thresholds above. Tiny models: ids below their vocabulary of 100.
    minibert::Batch batch;
    for (std::size_t length : {3, 17, 40}) {
        std::vector<std::int32_t> ids(length);
        for (std::size_t i = 0; i < length; ++i) ids[i] = static_cast<std::int32_t>((i * 37 + length) % 100);
        batch.add(ids);
    }
    for (const std::string name : {"tiny-bert-pruned", "tiny-distilbert-pruned"}) {
        CAPTURE(name);
        const std::string src = test_support::model_path(name);
        const minibert::Model fp32 = minibert::Model::load(src, LoadOptions{WeightType::fp32});
        CHECK(fp32.config().pruned_heads != std::vector<std::size_t>(fp32.config().num_layers, 0));
        const Result ref = run(fp32, batch);
        const Similarity h = compare(ref, run(minibert::Model::load(src, LoadOptions{WeightType::fp16}), batch));
        CHECK(h.token >= 0.99999);
        const minibert::Model int8 = minibert::Model::load(src, LoadOptions{WeightType::int8_dynamic});
        const Result q = run(int8, batch);
        const Similarity d = compare(ref, q);
        MESSAGE(name << " fp16 worst token cosine " << h.token << "; int8 dynamic " << d.token << ", pooled " << d.pooled);
        CHECK(d.token >= 0.998);
        CHECK(d.pooled >= 0.998);
        CHECK(same_bits(run(int8, batch, 3).hidden, q.hidden));  // per-layer widths split across threads alike

        // scripts/convert_weights.py keeps pruned_heads / intermediate_sizes and the cut shapes.
        const std::string out = scratch_root() + "/" + name + "-int8";
        std::filesystem::create_directories(out);
        REQUIRE(convert(src, out, "--embeddings int8") == 0);
        const minibert::Model converted = minibert::Model::load(out);
        CHECK(converted.weight_type() == WeightType::int8_dynamic);
        const minibert::Model at_load = minibert::Model::load(src, LoadOptions{WeightType::int8_dynamic, EmbeddingStorage::int8});
        CHECK(same_bits(run(converted, batch).hidden, run(at_load, batch).hidden));
    }
}
}  // namespace minibert_test_quantized_models
