// Multi-head self-attention over a packed batch.
//
// Q, K and V are one fused projection (weights stacked into [3*hidden x hidden]) so the three
// GEMMs become one over all tokens of all sequences. Attention itself runs per (sequence, head)
// on slices of that fused matrix; the output projection adds the residual in its epilogue.
// A pruned layer (HF prune_heads) has fewer heads of the same size: its attention width
// heads * head_dim is below the hidden size, so Q|K|V are [3*width x hidden] and the output
// projection [hidden x width]; both widths are read from the layers, not from the config.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>

#include "../kernels/attention.hpp"
#include "linear.hpp"
#include "relative_position.hpp"

namespace minibert {

template <class W>
struct SelfAttention {
    Linear<W> qkv;     ///< hidden -> 3*width: [Q | K | V] per token row (width = heads * head_dim)
    Linear<W> output;  ///< width -> hidden
    std::size_t heads = 1;  ///< heads this layer keeps (fewer than the config's when pruned)

    std::size_t resident_bytes() const noexcept { return qkv.resident_bytes() + output.resident_bytes(); }

    /// out[T x H] = Attention(h) W_o^T + b_o + h; position_bias (MPNet) is added to the scaled scores.
    /// seq_offsets: num_seqs + 1 token offsets of the packed sequences.
    /// qkv_buf [T x 3W] and context [T x W] (W = width <= H: buffers sized for H serve); scores: pool-size x scores_stride floats of attention
    /// scratch, scores_stride >= kernels::attention_scratch_floats(longest sequence, head_dim).
    void forward(const float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                 float* qkv_buf, float* context, float* out, float* scores, std::size_t scores_stride,
                 float* gemm_scratch, ThreadPool* pool, const RelativePositionBias* position_bias = nullptr) const {
        const std::size_t hidden = output.out_features(), width = output.in_features();
        const std::size_t head_dim = width / heads;
        qkv.forward(h, hidden, tokens, qkv_buf, 3 * width, kernels::Activation::none, nullptr, 0, gemm_scratch, pool);

        // HF divides scores by sqrt(head_dim); multiplying by the reciprocal differs by <= 1 ulp.
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        // Work items: (sequence, head, block of query rows), sequence-major, so that a thread's
        // contiguous share revisits one (sequence, head) for consecutive blocks and packs its K
        // (and V) once. A row's arithmetic never depends on the split (see kernels/attention.hpp).
        constexpr std::size_t block = kernels::kAttentionQueryBlock;
        const kernels::KernelTable& kt = qkv.kernels();  // the level the model was loaded for
        std::size_t items = 0;
        for (std::size_t b = 0; b < num_seqs; ++b) items += heads * ((seq_offsets[b + 1] - seq_offsets[b] + block - 1) / block);
        const std::size_t tasks = pool ? std::max<std::size_t>(1, std::min(pool->size(), items)) : 1;
        auto run = [&](std::size_t task) {
            float* scratch = scores + task * scores_stride;
            const std::size_t first = items * task / tasks, last = items * (task + 1) / tasks;
            std::size_t item = 0;
            for (std::size_t b = 0; b < num_seqs && item < last; ++b) {
                const std::size_t begin = seq_offsets[b], length = seq_offsets[b + 1] - begin;
                const std::size_t blocks = (length + block - 1) / block;
                if (item + heads * blocks <= first) {
                    item += heads * blocks;
                    continue;
                }
                assert(kernels::attention_scratch_floats(length, head_dim) <= scores_stride);
                for (std::size_t head = 0; head < heads && item < last; ++head) {
                    if (item + blocks <= first) {
                        item += blocks;
                        continue;
                    }
                    const float* q = qkv_buf + begin * 3 * width + head * head_dim;
                    const float* v = q + 2 * width;
                    kernels::attention_pack_head(kt, q + width, v, 3 * width, length, head_dim, scratch);
                    assert(!position_bias || length <= position_bias->max_length);
                    const float* bias = position_bias ? position_bias->center(head) : nullptr;  // MPNet
                    for (std::size_t i = 0; i < blocks; ++i, ++item) {
                        if (item < first || item >= last) continue;
                        kernels::attention_query_rows(kt, q, v, 3 * width, length, head_dim, scale, i * block,
                                                      std::min(length, (i + 1) * block),
                                                      context + begin * width + head * head_dim, width, scratch, bias);
                    }
                }
            }
        };
        if (tasks <= 1) run(0);
        else pool->parallel_for(tasks, run);

        output.forward(context, width, tokens, out, hidden, kernels::Activation::none, h, hidden, gemm_scratch, pool);
    }
};

}  // namespace minibert
