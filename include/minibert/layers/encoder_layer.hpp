// One post-LayerNorm transformer encoder layer (BERT and DistilBERT alike):
//   h = LayerNorm(h + SelfAttention(h));  h = LayerNorm(h + FeedForward(h))
#pragma once

#include <cstddef>

#include "feed_forward.hpp"
#include "layer_norm.hpp"
#include "self_attention.hpp"

namespace minibert {

/// Scratch one layer needs; owned by the session's workspace, sized once.
struct LayerBuffers {
    float* qkv = nullptr;           ///< [tokens x 3*hidden]
    float* context = nullptr;       ///< [tokens x hidden]
    float* sum = nullptr;           ///< [tokens x hidden], residual sums before LayerNorm
    float* intermediate = nullptr;  ///< [tokens x intermediate]
    float* scores = nullptr;        ///< [threads x scores_stride], per-thread attention scratch
    std::size_t scores_stride = 0;  ///< >= kernels::attention_scratch_floats(longest sequence, head_dim)
    float* gemm_scratch = nullptr;
    const RelativePositionBias* position_bias = nullptr;  ///< MPNet's, shared by all layers; else null
};

template <class W>
struct EncoderLayer {
    SelfAttention<W> attention;
    LayerNorm attention_norm;  ///< BERT: attention.output.LayerNorm; DistilBERT: sa_layer_norm
    FeedForward<W> ffn;
    LayerNorm output_norm;     ///< BERT: output.LayerNorm; DistilBERT: output_layer_norm

    std::size_t resident_bytes() const noexcept {
        return attention.resident_bytes() + attention_norm.resident_bytes() + ffn.resident_bytes() +
               output_norm.resident_bytes();
    }

    /// Updates h [tokens x hidden] in place.
    void forward(float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                 const LayerBuffers& buf, ThreadPool* pool) const {
        const std::size_t hidden = attention.output.out_features();
        attention.forward(h, tokens, seq_offsets, num_seqs, buf.qkv, buf.context, buf.sum, buf.scores,
                          buf.scores_stride, buf.gemm_scratch, pool, buf.position_bias);
        attention_norm.apply(buf.sum, hidden, tokens, h, hidden, pool);
        ffn.forward(h, tokens, buf.intermediate, buf.sum, buf.gemm_scratch, pool);
        output_norm.apply(buf.sum, hidden, tokens, h, hidden, pool);
    }
};

}  // namespace minibert
