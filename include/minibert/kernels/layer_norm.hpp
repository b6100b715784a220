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
    // residual add can have a mean far from zero, where the one-pass form loses digits. Each pass
    // keeps four independent accumulators so the adds overlap instead of waiting on one chain
    // (the reduction order is fixed, so results stay deterministic on every level).
    constexpr std::size_t step = 4 * float_lanes;
    FloatBatch s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
    std::size_t i = 0;
    for (; i + step <= n; i += step) {
        s0 += FloatBatch::load_unaligned(x + i);
        s1 += FloatBatch::load_unaligned(x + i + float_lanes);
        s2 += FloatBatch::load_unaligned(x + i + 2 * float_lanes);
        s3 += FloatBatch::load_unaligned(x + i + 3 * float_lanes);
    }
    for (; i + float_lanes <= n; i += float_lanes) s0 += FloatBatch::load_unaligned(x + i);
    float sum = xsimd::hadd((s0 + s1) + (s2 + s3));
    for (; i < n; ++i) sum += x[i];
    const float mean = sum / static_cast<float>(n);

    const FloatBatch vmean(mean);
    FloatBatch q0(0.0f), q1(0.0f), q2(0.0f), q3(0.0f);
    for (i = 0; i + step <= n; i += step) {
        const FloatBatch d0 = FloatBatch::load_unaligned(x + i) - vmean;
        const FloatBatch d1 = FloatBatch::load_unaligned(x + i + float_lanes) - vmean;
        const FloatBatch d2 = FloatBatch::load_unaligned(x + i + 2 * float_lanes) - vmean;
        const FloatBatch d3 = FloatBatch::load_unaligned(x + i + 3 * float_lanes) - vmean;
        q0 = fmadd(d0, d0, q0);
        q1 = fmadd(d1, d1, q1);
        q2 = fmadd(d2, d2, q2);
        q3 = fmadd(d3, d3, q3);
    }
    for (; i + float_lanes <= n; i += float_lanes) {
        const FloatBatch d = FloatBatch::load_unaligned(x + i) - vmean;
        q0 = fmadd(d, d, q0);
    }
    float sq = xsimd::hadd((q0 + q1) + (q2 + q3));
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
