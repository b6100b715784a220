// Thread safety: one Model, one Tokenizer shared by 8 threads, each thread with its own Session
// (1 to 3 pool threads each) or its own pipeline, running mixed work for a bounded while. Every
// output must be bit-identical to a single-thread run computed beforehand. scripts/tsan.sh runs
// this under ThreadSanitizer, which must report no race.
//
// MINIBERT_STRESS_SECONDS (default 1) sets how long each part runs; every thread also does a
// minimum number of iterations, so a slow (sanitized) build still covers every path.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_thread_safety {

namespace {

constexpr std::size_t kThreads = 8;
constexpr std::size_t kMinIterations = 3;

double stress_seconds() {
    const char* s = std::getenv("MINIBERT_STRESS_SECONDS");
    return s ? std::atof(s) : 1.0;
}

/// Runs body(thread_index, rng) on kThreads threads, each until the time is up and it has done
/// kMinIterations; all start together.
template <class Body>
void hammer(Body&& body) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(stress_seconds());
    std::atomic<std::size_t> ready{0};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(100 + t));
            ready.fetch_add(1);
            while (ready.load() < kThreads) std::this_thread::yield();
            for (std::size_t i = 0; i < kMinIterations || std::chrono::steady_clock::now() < deadline; ++i) body(t, rng);
        });
    for (auto& th : threads) th.join();
}

bool same_bits(const float* a, const float* b, std::size_t n) { return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0; }

minibert::Tokenizer uncased() {
    return minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/bert-base-uncased");
}
minibert::Tokenizer cased() {
    return minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/bert-base-cased");
}

const std::vector<std::string>& texts() {
    static const std::vector<std::string> all = {
        "a gorgeous, witty, seductive movie.",
        "dull and overlong",
        "Naïve café owners in Zürich don't like unaffable crème brûlée!",
        "北京欢迎你 and 東京 too",
        "[CLS] tokens [SEP] in the [MASK] text [PAD]",
        "",
        "   ",
        "emoji 😀🎉 and zero\u200bwidth spaces",
        "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. "
        "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.",
        "ÅÄÖ åäö ØÆ øæ ß ẞ İı",
        "x",
        "e-mail: someone@example.com, url: https://example.com/a?b=c&d=e",
        "Ελληνικά και русский текст",
        "tabs\tand\nnewlines\r\nmixed",
        "numbers 3.14159 2,718 1e10 -42",
    };
    return all;
}

struct EncodingBits {
    std::vector<std::int32_t> ids, type_ids, word_ids;
    std::vector<std::pair<std::size_t, std::size_t>> offsets;
    std::vector<std::string> tokens;
    std::string decoded;
    bool operator==(const EncodingBits& o) const {
        return ids == o.ids && type_ids == o.type_ids && word_ids == o.word_ids && offsets == o.offsets &&
               tokens == o.tokens && decoded == o.decoded;
    }
};

EncodingBits bits(const minibert::Tokenizer& tok, const minibert::Encoding& e) {
    return {e.ids, e.type_ids, e.word_ids, e.offsets, e.tokens, tok.decode(e.ids)};
}

/// What the tokenizer task number `k` computes: a single text or a truncated pair.
EncodingBits tokenizer_task(const minibert::Tokenizer& tok, std::size_t k) {
    const auto& all = texts();
    const std::string& a = all[k % all.size()];
    if (k < all.size()) return bits(tok, tok.encode(a));
    minibert::EncodeOptions options;
    options.max_length = 8 + k % 17;
    options.truncation = static_cast<minibert::TruncationStrategy>(k % 2);  // longest_first, only_first
    const std::string& b = all[(k * 7 + 3) % all.size()];
    try {
        return bits(tok, tok.encode_pair(a, b, options));
    } catch (const minibert::Error&) {
        return EncodingBits{{-1}, {}, {}, {}, {}, {}};  // only_first that cannot fit: an error, deterministically
    }
}

}  // namespace

TEST_CASE("one Model shared by 8 threads, each with its own Session: outputs equal a single-thread run") {
    for (const char* name : {"tinybert-4l-312", "tiny-distilbert-tokcls"}) {
        CAPTURE(std::string(name));
        const minibert::Model model = minibert::Model::load(test_support::model_path(name));
        const auto& cfg = model.config();
        const std::size_t H = cfg.hidden_size;

        // Sequences of mixed lengths, and the reference: each alone, one thread.
        std::mt19937 rng(5);
        std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(cfg.vocab_size) - 1);
        std::vector<std::vector<std::int32_t>> seqs;
        for (std::size_t length : {1, 3, 5, 8, 13, 21, 34, 40, 2, 17, 9, 27}) {
            std::vector<std::int32_t> s(length);
            for (auto& v : s) v = id(rng);
            seqs.push_back(s);
        }
        std::vector<std::vector<float>> ref_hidden, ref_logits;
        {
            minibert::Session session(model);
            for (const auto& s : seqs) {
                minibert::Batch one;
                one.add(s);
                const minibert::Outputs out = session.run(one);
                ref_hidden.emplace_back(out.last_hidden_state.data(), out.last_hidden_state.data() + s.size() * H);
                ref_logits.emplace_back(out.logits.data(), out.logits.data() + out.logits.rows() * out.logits.cols());
            }
        }

        std::atomic<std::size_t> runs{0}, mismatches{0};
        std::vector<minibert::Session> sessions;
        for (std::size_t t = 0; t < kThreads; ++t) {
            minibert::SessionOptions o;
            o.threads = 1 + t % 3;
            o.max_batch = 4;
            o.max_tokens = 4 * 40;
            o.max_sequence = 64;
            sessions.emplace_back(model, o);  // built here, used by exactly one thread below
        }
        hammer([&](std::size_t t, std::mt19937& r) {
            minibert::Session& session = sessions[t];
            std::vector<std::size_t> picked(1 + r() % 4);
            for (auto& p : picked) p = r() % seqs.size();
            minibert::Batch batch;
            for (std::size_t p : picked) batch.add(seqs[p]);
            const minibert::Outputs out = session.run(batch);
            for (std::size_t b = 0; b < picked.size(); ++b) {
                const std::size_t p = picked[b];
                bool ok = same_bits(out.hidden_states(b).data(), ref_hidden[p].data(), ref_hidden[p].size());
                if (cfg.head == minibert::HeadKind::token_classification)
                    ok = ok && same_bits(out.logits.row(out.offsets[b]), ref_logits[p].data(), ref_logits[p].size());
                if (!ok) mismatches.fetch_add(1);
            }
            runs.fetch_add(1);
        });
        CHECK(runs.load() >= kThreads * kMinIterations);
        CHECK(mismatches.load() == 0);
    }
}

TEST_CASE("one Tokenizer shared by 8 threads (and a second one interleaved): encodings equal a single-thread run") {
    const minibert::Tokenizer tok = uncased();
    const minibert::Tokenizer other = cased();
    const std::size_t tasks = 4 * texts().size();
    std::vector<EncodingBits> expected, expected_other;
    for (std::size_t k = 0; k < tasks; ++k) {
        expected.push_back(tokenizer_task(tok, k));
        expected_other.push_back(tokenizer_task(other, k));
    }
    std::atomic<std::size_t> runs{0}, mismatches{0};
    hammer([&](std::size_t t, std::mt19937& r) {
        // Alternate between the two tokenizers on one thread: their encode() calls share the
        // thread's scratch buffers (thread_local), which must carry nothing from call to call.
        for (int i = 0; i < 8; ++i) {
            const std::size_t k = r() % tasks;
            const bool use_other = (t + i) % 2 == 1;
            if (!(tokenizer_task(use_other ? other : tok, k) == (use_other ? expected_other : expected)[k]))
                mismatches.fetch_add(1);
            runs.fetch_add(1);
        }
    });
    CHECK(runs.load() >= kThreads * kMinIterations * 8);
    CHECK(mismatches.load() == 0);
}

TEST_CASE("pipelines built per thread from a shared Model and Tokenizer equal a single-thread run") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tinybert-4l-312"));
    const minibert::Tokenizer tok = uncased();
    const std::vector<std::string>& all = texts();
    std::vector<minibert::Classification> expected_classes;
    std::vector<std::vector<float>> expected_embeddings;
    {
        minibert::PipelineOptions options;
        options.max_length = 48;
        minibert::Classifier classifier(model, tok, options);
        minibert::Embedder embedder(model, tok, minibert::PoolingConfig{}, options);
        for (const std::string& text : all) {
            expected_classes.push_back(classifier.classify(text));
            expected_embeddings.push_back(embedder.embed(text));
        }
    }
    std::vector<std::unique_ptr<minibert::Classifier>> classifiers;
    std::vector<std::unique_ptr<minibert::Embedder>> embedders;
    for (std::size_t t = 0; t < kThreads; ++t) {
        minibert::PipelineOptions options;
        options.threads = 1 + t % 3;
        options.max_batch = 1 + t % 4;  // different batch compositions, same numbers
        options.max_length = 48;
        classifiers.push_back(std::make_unique<minibert::Classifier>(model, tok, options));
        embedders.push_back(std::make_unique<minibert::Embedder>(model, tok, minibert::PoolingConfig{}, options));
    }
    std::atomic<std::size_t> runs{0}, mismatches{0};
    hammer([&](std::size_t t, std::mt19937& r) {
        std::vector<std::size_t> picked(1 + r() % 5);
        std::vector<std::string_view> batch;
        for (auto& p : picked) {
            p = r() % all.size();
            batch.push_back(all[p]);
        }
        const auto classes = classifiers[t]->classify(batch);
        const auto embeddings = embedders[t]->embed(batch);
        for (std::size_t i = 0; i < picked.size(); ++i) {
            const auto& want = expected_classes[picked[i]];
            const bool ok = classes[i].label == want.label && classes[i].logits.size() == want.logits.size() &&
                            same_bits(classes[i].logits.data(), want.logits.data(), want.logits.size()) &&
                            same_bits(classes[i].probabilities.data(), want.probabilities.data(), want.probabilities.size()) &&
                            embeddings[i].size() == expected_embeddings[picked[i]].size() &&
                            same_bits(embeddings[i].data(), expected_embeddings[picked[i]].data(), embeddings[i].size());
            if (!ok) mismatches.fetch_add(1);
        }
        runs.fetch_add(1);
    });
    CHECK(runs.load() >= kThreads * kMinIterations);
    CHECK(mismatches.load() == 0);
}
}  // namespace minibert_test_thread_safety
