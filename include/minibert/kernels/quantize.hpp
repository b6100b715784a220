// Run-time quantisation of a linear layer's fp32 input rows into the int8 GEMM's A layout.
//
//   dynamic (static_scale == 0): each row (token) gets its own scale max|row| / 127, so a row's
//            codes depend on that row alone: batch composition and padding cannot change them.
//   static  (static_scale > 0):  every row uses the calibrated scale of this linear input;
//            values beyond 127 * scale clip to +-127.
// Codes follow minibert::quantize_symmetric (numeric/qint8.hpp): x * (1 / scale) rounded to
// nearest even and clamped to [-127, 127]. The GEMM wants each row twice: the signed codes and
// their magnitudes (the u8 operand of vpmaddubsw), K padded with zeros to a multiple of 4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <xsimd/xsimd.hpp>

#include "../numeric/qint8.hpp"
#include "activations.hpp"
#include "x86/avx2_i8.hpp"

namespace minibert::kernels {

namespace detail {

inline float max_abs_row(const float* x, std::size_t n, xsimd::kernel::requires_arch<xsimd::generic>) noexcept {
    return max_abs(x, n);
}

inline void quantize_row_codes(const float* x, std::size_t n, float inv, std::int8_t* q, std::uint8_t* q_abs,
                               xsimd::kernel::requires_arch<xsimd::generic>) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        q[i] = quantize_symmetric(x[i], inv);
        q_abs[i] = static_cast<std::uint8_t>(q[i] < 0 ? -q[i] : q[i]);
    }
}

}  // namespace detail

/// One quantised row for the int8 GEMM: codes q[0, kp) and |q| (zeros beyond k); returns the
/// row's scale (the value of one code step), static_scale when that is > 0.
inline float quantize_row_for_gemm(const float* x, std::size_t k, std::size_t kp, float static_scale, std::int8_t* q,
                                   std::uint8_t* q_abs) noexcept {
    float scale, inv;
    if (static_scale > 0.0f) {
        scale = static_scale;
        inv = 1.0f / static_scale;
    } else {
        const float m = detail::max_abs_row(x, k, IntrinsicsArch{});
        scale = symmetric_scale(m);
        inv = symmetric_inverse_scale(m);
    }
    detail::quantize_row_codes(x, k, inv, q, q_abs, IntrinsicsArch{});
    if (kp > k) {
        std::memset(q + k, 0, kp - k);
        std::memset(q_abs + k, 0, kp - k);
    }
    return scale;
}

}  // namespace minibert::kernels
