// Embeddings: word + position (+ token type for BERT), then LayerNorm.
//
// DistilBERT has no token-type table; its sum is word + position. Positions restart at 0 for
// every sequence of a packed batch, which is what makes packed and padded runs agree.
//
// The word table is a fifth of BERT-base's weights, so it may be stored fp16 or int8 (one scale
// per row, i.e. per token); a looked-up row is widened to fp32 before the sum, which stays fp32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../numeric/half.hpp"
#include "../numeric/matrix_view.hpp"
#include "../parallel/thread_pool.hpp"
#include "layer_norm.hpp"

namespace minibert {

/// How the word-embedding table is held in memory.
enum class WordEmbeddingStorage { fp32, fp16, int8 };

struct Embeddings {
    std::size_t hidden = 0;
    WordEmbeddingStorage storage = WordEmbeddingStorage::fp32;
    std::vector<float> word;      ///< [vocab x hidden] (storage fp32)
    std::vector<half> word_f16;   ///< [vocab x hidden] (storage fp16)
    std::vector<std::int8_t> word_i8;  ///< [vocab x hidden] codes (storage int8)
    std::vector<float> word_scales;    ///< [vocab] per-row scales (storage int8)
    std::vector<float> position;  ///< [max_positions x hidden]
    std::vector<float> token_type;  ///< [type_vocab x hidden], empty for DistilBERT
    LayerNorm norm;

    std::size_t resident_bytes() const noexcept {
        return (word.size() + word_scales.size() + position.size() + token_type.size()) * sizeof(float) +
               word_f16.size() * sizeof(half) + word_i8.size() + norm.resident_bytes();
    }

    /// out[t] = LayerNorm(word[ids[t]] + position[positions[t]] + type[type_ids[t]]) for t < tokens.
    /// Ids were range-checked at the API edge.
    void forward(const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* positions,
                 std::size_t tokens, float* out, ThreadPool* pool) const {
        auto run = [&](std::size_t task, std::size_t tasks) {
            for (std::size_t t = tokens * task / tasks; t < tokens * (task + 1) / tasks; ++t) {
                float* row = out + t * hidden;
                const std::size_t id = static_cast<std::size_t>(ids[t]);
                const float* w = row;
                if (storage == WordEmbeddingStorage::fp32) {
                    w = word.data() + id * hidden;
                } else {  // widen the row in place first
                    if (storage == WordEmbeddingStorage::fp16)
                        for (std::size_t c = 0; c < hidden; ++c) row[c] = word_f16[id * hidden + c].to_float();
                    else
                        for (std::size_t c = 0; c < hidden; ++c) row[c] = float(word_i8[id * hidden + c]) * word_scales[id];
                }
                const float* p = position.data() + static_cast<std::size_t>(positions[t]) * hidden;
                if (token_type.empty()) {
                    for (std::size_t c = 0; c < hidden; ++c) row[c] = w[c] + p[c];
                } else {
                    const float* y = token_type.data() + static_cast<std::size_t>(type_ids[t]) * hidden;
                    // (w + y) + p: the order torch uses (inputs + token_type, then + position)
                    for (std::size_t c = 0; c < hidden; ++c) row[c] = (w[c] + y[c]) + p[c];
                }
                kernels::layer_norm_row(row, norm.gamma.data(), norm.beta.data(), norm.eps, row, hidden);
            }
        };
        const std::size_t tasks = pool ? pool->size() : 1;
        if (tasks == 1) return run(0, 1);
        pool->parallel_for(tasks, [&](std::size_t t) { run(t, tasks); });
    }
};

}  // namespace minibert
