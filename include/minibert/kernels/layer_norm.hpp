// LayerNorm over one row, as torch.nn.LayerNorm computes it: biased variance, eps inside the
// square root, then gamma * x_hat + beta. Stays fp32 whatever the weight type (quantizing it is
// what collapses int8 accuracy).
#pragma once

#include <cmath>
#include <cstddef>

#include "simd.hpp"

namespace minibert::kernels {

/// out = (x - mean) / sqrt(var + eps) * gamma + beta over n values. out may alias x.
inline void layer_norm_row(const float* x, const float* gamma, const float* beta, float eps, float* out,
                           std::size_t n) noexcept {
    // Two passes (mean, then centred squares) instead of E[x^2] - E[x]^2: hidden states after a
    // residual add can have a mean far from zero, where the one-pass form loses digits.
    FloatBatch vsum(0.0f);
    std::size_t i = 0;
    for (; i + float_lanes <= n; i += float_lanes) vsum += FloatBatch::load_unaligned(x + i);
    float sum = xsimd::hadd(vsum);
    for (; i < n; ++i) sum += x[i];
    const float mean = sum / static_cast<float>(n);

    const FloatBatch vmean(mean);
    FloatBatch vsq(0.0f);
    for (i = 0; i + float_lanes <= n; i += float_lanes) {
        const FloatBatch d = FloatBatch::load_unaligned(x + i) - vmean;
        vsq = fmadd(d, d, vsq);
    }
    float sq = xsimd::hadd(vsq);
    for (; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
    const float inv_std = 1.0f / std::sqrt(sq / static_cast<float>(n) + eps);

    const FloatBatch vinv(inv_std);
    for (i = 0; i + float_lanes <= n; i += float_lanes) {
        const FloatBatch normed = (FloatBatch::load_unaligned(x + i) - vmean) * vinv;
        fmadd(normed, FloatBatch::load_unaligned(gamma + i), FloatBatch::load_unaligned(beta + i)).store_unaligned(out + i);
    }
    for (; i < n; ++i) out[i] = (x[i] - mean) * inv_std * gamma[i] + beta[i];
}

}  // namespace minibert::kernels
