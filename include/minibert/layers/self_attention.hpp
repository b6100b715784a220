// Multi-head self-attention over a packed batch.
//
// Q, K and V are one fused projection (weights stacked into [3*hidden x hidden]) so the three
// GEMMs become one over all tokens of all sequences. Attention itself runs per (sequence, head)
// on slices of that fused matrix; the output projection adds the residual in its epilogue.
#pragma once

#include <cmath>
#include <cstddef>

#include "../kernels/attention.hpp"
#include "linear.hpp"

namespace minibert {

template <class W>
struct SelfAttention {
    Linear<W> qkv;     ///< hidden -> 3*hidden: [Q | K | V] per token row
    Linear<W> output;  ///< hidden -> hidden
    std::size_t heads = 1;

    std::size_t resident_bytes() const noexcept { return qkv.resident_bytes() + output.resident_bytes(); }

    /// out[T x H] = Attention(h) W_o^T + b_o + h.
    /// seq_offsets: num_seqs + 1 token offsets of the packed sequences.
    /// qkv_buf [T x 3H], context [T x H]; scores: pool-size x (longest sequence) floats.
    void forward(const float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                 float* qkv_buf, float* context, float* out, float* scores, std::size_t scores_stride,
                 float* gemm_scratch, ThreadPool* pool) const {
        const std::size_t hidden = output.out_features();
        const std::size_t head_dim = hidden / heads;
        qkv.forward(h, hidden, tokens, qkv_buf, 3 * hidden, kernels::Activation::none, nullptr, 0, gemm_scratch, pool);

        // HF divides scores by sqrt(head_dim); multiplying by the reciprocal differs by <= 1 ulp.
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        const std::size_t units = num_seqs * heads;
        auto run = [&](std::size_t task, std::size_t tasks) {
            float* task_scores = scores + task * scores_stride;
            for (std::size_t u = units * task / tasks; u < units * (task + 1) / tasks; ++u) {
                const std::size_t seq = u / heads, head = u % heads;
                const std::size_t begin = seq_offsets[seq], length = seq_offsets[seq + 1] - begin;
                const float* q = qkv_buf + begin * 3 * hidden + head * head_dim;
                kernels::attention_head(q, q + hidden, q + 2 * hidden, 3 * hidden, length, head_dim, scale,
                                        context + begin * hidden + head * head_dim, hidden, task_scores);
            }
        };
        const std::size_t tasks = pool ? pool->size() : 1;
        if (tasks == 1) run(0, 1);
        else pool->parallel_for(tasks, [&](std::size_t t) { run(t, tasks); });

        output.forward(context, hidden, tokens, out, hidden, kernels::Activation::none, h, hidden, gemm_scratch, pool);
    }
};

}  // namespace minibert
