// Padding-free batches: a padded batch, the same sequences packed, and each sequence alone give
// the same numbers, bit for bit (the kernels accumulate in a fixed order whatever the batch),
// and so do 1, 2 and 3 threads.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_batching {

namespace {

std::vector<std::vector<std::int32_t>> random_sequences(std::size_t vocab, std::initializer_list<std::size_t> lengths) {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
    std::vector<std::vector<std::int32_t>> out;
    for (auto len : lengths) {
        std::vector<std::int32_t> s(len);
        for (auto& v : s) v = id(rng);
        out.push_back(s);
    }
    return out;
}

bool same_bits(const float* a, const float* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

void check_batch_invariance(const std::string& name, std::size_t threads) {
    const minibert::Model model = minibert::Model::load(test_support::model_path(name));
    const auto& cfg = model.config();
    minibert::SessionOptions options;
    options.threads = threads;
    options.max_batch = 8;
    options.max_tokens = 2048;
    minibert::Session batched(model, options);
    options.threads = 1;
    minibert::Session single(model, options);

    const auto seqs = random_sequences(cfg.vocab_size, {17, 1, 128, 2, 64});
    // Padded input, as a user holding [batch x 128] tensors would pass it.
    const std::size_t L = 128, B = seqs.size();
    std::vector<std::int32_t> ids(B * L, 0), mask(B * L, 0), types(B * L, 0);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t t = 0; t < seqs[b].size(); ++t) {
            ids[b * L + t] = seqs[b][t];
            mask[b * L + t] = 1;
            types[b * L + t] = cfg.type_vocab_size > 1 && t > seqs[b].size() / 2 ? 1 : 0;
        }
    const auto batch = minibert::Batch::from_padded({ids.data(), ids.size()}, {mask.data(), mask.size()},
                                                    {types.data(), types.size()}, B, L);
    const minibert::Outputs all = batched.run(batch);
    const std::size_t H = cfg.hidden_size;
    // Copy what the padded run produced: the next run() reuses the workspace.
    std::vector<float> hidden(all.last_hidden_state.data(), all.last_hidden_state.data() + batch.tokens() * H);
    std::vector<float> pooled(all.mean_pooled.data(), all.mean_pooled.data() + B * H);
    std::vector<float> logits(all.logits.data(), all.logits.data() + all.logits.rows() * all.logits.cols());
    std::vector<std::size_t> offsets(all.offsets.begin(), all.offsets.end());

    for (std::size_t b = 0; b < B; ++b) {
        CAPTURE(b);
        minibert::Batch one;
        one.add({ids.data() + b * L, seqs[b].size()}, {types.data() + b * L, seqs[b].size()});
        const minibert::Outputs alone = single.run(one);
        CHECK(same_bits(alone.last_hidden_state.data(), hidden.data() + offsets[b] * H, seqs[b].size() * H));
        CHECK(same_bits(alone.mean_pooled.data(), pooled.data() + b * H, H));
        if (cfg.head == minibert::HeadKind::sequence_classification)
            CHECK(same_bits(alone.logits.data(), logits.data() + b * alone.logits.cols(), alone.logits.cols()));
        if (cfg.head == minibert::HeadKind::token_classification)
            CHECK(same_bits(alone.logits.data(), logits.data() + offsets[b] * alone.logits.cols(),
                            seqs[b].size() * alone.logits.cols()));
    }
}

}  // namespace

TEST_CASE("padded batch == sequences one by one, bit for bit (BERT, 1 thread)") { check_batch_invariance("tiny-bert-seqcls", 1); }
TEST_CASE("padded batch on 2 threads == one by one on 1 thread (BERT)") { check_batch_invariance("tiny-bert-tokcls", 2); }
TEST_CASE("padded batch on 3 threads == one by one on 1 thread (DistilBERT)") { check_batch_invariance("tiny-distilbert-seqcls", 3); }
TEST_CASE("TinyBERT-4L-312 shape: batch and thread invariance") { check_batch_invariance("tinybert-4l-312", 2); }

TEST_CASE("any length from 1 to max_position_embeddings runs") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tiny-distilbert-qa"));
    minibert::Session session(model);
    for (std::size_t len : {1u, 2u, 3u, 255u, 511u, 512u}) {
        minibert::Batch batch;
        batch.add(std::vector<std::int32_t>(len, 7));
        const auto out = session.run(batch);
        CHECK(out.start_logits.size() == len);
        for (float v : out.start_logits) CHECK(std::isfinite(v));
    }
}

TEST_CASE("workspace_bytes is what the session holds, and grows with the limits") {
    const minibert::Model model = minibert::Model::load(test_support::model_path("tiny-bert"));
    minibert::SessionOptions small, large;
    small.max_tokens = 128;
    large.max_tokens = 1024;
    CHECK(minibert::Session::workspace_bytes(model, small) < minibert::Session::workspace_bytes(model, large));
    minibert::Session session(model, small);
    CHECK(session.workspace_bytes() == minibert::Session::workspace_bytes(model, small));
}
}  // namespace minibert_test_batching
