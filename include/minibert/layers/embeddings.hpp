// Embeddings: word + position (+ token type for BERT), then LayerNorm.
//
// DistilBERT has no token-type table; its sum is word + position. Positions restart at 0 for
// every sequence of a packed batch, which is what makes packed and padded runs agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../numeric/matrix_view.hpp"
#include "../parallel/thread_pool.hpp"
#include "layer_norm.hpp"

namespace minibert {

struct Embeddings {
    std::size_t hidden = 0;
    std::vector<float> word;      ///< [vocab x hidden]
    std::vector<float> position;  ///< [max_positions x hidden]
    std::vector<float> token_type;  ///< [type_vocab x hidden], empty for DistilBERT
    LayerNorm norm;

    std::size_t resident_bytes() const noexcept {
        return (word.size() + position.size() + token_type.size()) * sizeof(float) + norm.resident_bytes();
    }

    /// out[t] = LayerNorm(word[ids[t]] + position[positions[t]] + type[type_ids[t]]) for t < tokens.
    /// Ids were range-checked at the API edge.
    void forward(const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* positions,
                 std::size_t tokens, float* out, ThreadPool* pool) const {
        auto run = [&](std::size_t task, std::size_t tasks) {
            for (std::size_t t = tokens * task / tasks; t < tokens * (task + 1) / tasks; ++t) {
                float* row = out + t * hidden;
                const float* w = word.data() + static_cast<std::size_t>(ids[t]) * hidden;
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
