// LayerNorm parameters and the row-parallel application used after every residual add.
#pragma once

#include <cstddef>
#include <vector>

#include "../kernels/layer_norm.hpp"
#include "../parallel/thread_pool.hpp"

namespace minibert {

struct LayerNorm {
    std::vector<float> gamma;  ///< [hidden]
    std::vector<float> beta;   ///< [hidden]
    float eps = 1e-12f;

    std::size_t resident_bytes() const noexcept { return (gamma.size() + beta.size()) * sizeof(float); }

    /// out row r = LayerNorm(in row r) for r < rows; out may alias in.
    void apply(const float* in, std::size_t ld_in, std::size_t rows, float* out, std::size_t ld_out,
               ThreadPool* pool) const {
        const std::size_t n = gamma.size();
        auto rows_of_task = [&](std::size_t task, std::size_t tasks) {
            for (std::size_t r = rows * task / tasks; r < rows * (task + 1) / tasks; ++r)
                kernels::layer_norm_row(in + r * ld_in, gamma.data(), beta.data(), eps, out + r * ld_out, n);
        };
        const std::size_t tasks = pool ? pool->size() : 1;
        if (tasks == 1) return rows_of_task(0, 1);
        pool->parallel_for(tasks, [&](std::size_t t) { rows_of_task(t, tasks); });
    }
};

}  // namespace minibert
