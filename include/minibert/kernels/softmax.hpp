// Numerically safe softmax over one row: subtract the row max, exponentiate, normalise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "simd.hpp"

namespace minibert::kernels {

/// In place: x[i] = exp(x[i] - max) / sum_j exp(x[j] - max), for n >= 1.
inline void softmax_inplace(float* x, std::size_t n) noexcept {
    float max_value = x[0];
    std::size_t i = 0;
    if (n >= float_lanes) {
        FloatBatch vmax = FloatBatch::load_unaligned(x);
        for (i = float_lanes; i + float_lanes <= n; i += float_lanes) vmax = xsimd::max(vmax, FloatBatch::load_unaligned(x + i));
        alignas(64) float lanes[float_lanes];
        vmax.store_aligned(lanes);
        max_value = *std::max_element(lanes, lanes + float_lanes);
    }
    for (; i < n; ++i) max_value = std::max(max_value, x[i]);

    // exp through xsimd (a Cephes-style polynomial, ~1 ulp) for the bulk, std::exp for the tail;
    // both are within float rounding of the true value, far inside the parity tolerance.
    const FloatBatch vmax(max_value);
    FloatBatch vsum(0.0f);
    for (i = 0; i + float_lanes <= n; i += float_lanes) {
        const FloatBatch e = xsimd::exp(FloatBatch::load_unaligned(x + i) - vmax);
        e.store_unaligned(x + i);
        vsum += e;
    }
    float sum = xsimd::hadd(vsum);
    for (; i < n; ++i) {
        x[i] = std::exp(x[i] - max_value);
        sum += x[i];
    }
    scale(1.0f / sum, x, n);
}

}  // namespace minibert::kernels
