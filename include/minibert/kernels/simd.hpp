// The SIMD vocabulary shared by minibert's small kernels (softmax, LayerNorm, attention).
//
// Everything is written on xsimd::batch<float, Arch> with Arch = KernelArch (activations.hpp):
// the best instruction set the compile flags allow (AVX2+FMA with the default flags, SSE2 on a
// plain x86-64 build, NEON on ARM), except AVX-512 under xsimd 8, which lacks a real fma there.
// No intrinsics here: per-ISA code lives in per-ISA files.
#pragma once

#include <algorithm>
#include <cstddef>
#include <xsimd/xsimd.hpp>

#include "activations.hpp"

namespace minibert::kernels {

using Arch = KernelArch;
using FloatBatch = xsimd::batch<float, Arch>;
constexpr std::size_t float_lanes = FloatBatch::size;

/// The largest lane of v (xsimd 8 has no reduce_max).
inline float reduce_max(const FloatBatch& v) noexcept {
    alignas(64) float lanes[float_lanes];
    v.store_aligned(lanes);
    return *std::max_element(lanes, lanes + float_lanes);
}

/// Sum of a[i] * b[i]. The lane-then-tail order is fixed, so the result is reproducible.
inline float dot(const float* a, const float* b, std::size_t n) noexcept {
    FloatBatch acc0(0.0f), acc1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * float_lanes <= n; i += 2 * float_lanes) {
        acc0 = fmadd(FloatBatch::load_unaligned(a + i), FloatBatch::load_unaligned(b + i), acc0);
        acc1 = fmadd(FloatBatch::load_unaligned(a + i + float_lanes), FloatBatch::load_unaligned(b + i + float_lanes), acc1);
    }
    for (; i + float_lanes <= n; i += float_lanes)
        acc0 = fmadd(FloatBatch::load_unaligned(a + i), FloatBatch::load_unaligned(b + i), acc0);
    float sum = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

/// y[i] += alpha * x[i]
inline void axpy(float alpha, const float* x, float* y, std::size_t n) noexcept {
    const FloatBatch va(alpha);
    std::size_t i = 0;
    for (; i + float_lanes <= n; i += float_lanes)
        fmadd(va, FloatBatch::load_unaligned(x + i), FloatBatch::load_unaligned(y + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] += alpha * x[i];
}

/// y[i] = alpha * y[i]
inline void scale(float alpha, float* y, std::size_t n) noexcept {
    const FloatBatch va(alpha);
    std::size_t i = 0;
    for (; i + float_lanes <= n; i += float_lanes) (va * FloatBatch::load_unaligned(y + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] *= alpha;
}

}  // namespace minibert::kernels
