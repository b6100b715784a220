// The position-wise feed-forward block: out = act(h W1^T + b1) W2^T + b2 + h.
// The activation is fused into the first GEMM's epilogue and the residual into the second's.
#pragma once

#include <cstddef>

#include "linear.hpp"

namespace minibert {

template <class W>
struct FeedForward {
    Linear<W> up;    ///< hidden -> intermediate (BERT: intermediate.dense; DistilBERT: ffn.lin1)
    Linear<W> down;  ///< intermediate -> hidden (BERT: output.dense; DistilBERT: ffn.lin2)
    kernels::Activation activation = kernels::Activation::gelu_erf;

    std::size_t resident_bytes() const noexcept { return up.resident_bytes() + down.resident_bytes(); }

    /// out[T x H] = act(h W1^T + b1) W2^T + b2 + h, using intermediate [T x I].
    void forward(const float* h, std::size_t tokens, float* intermediate, float* out, float* gemm_scratch,
                 ThreadPool* pool) const {
        const std::size_t hidden = up.in_features(), inner = up.out_features();
        up.forward(h, hidden, tokens, intermediate, inner, activation, nullptr, 0, gemm_scratch, pool);
        down.forward(intermediate, inner, tokens, out, hidden, kernels::Activation::none, h, hidden, gemm_scratch, pool);
    }
};

}  // namespace minibert
