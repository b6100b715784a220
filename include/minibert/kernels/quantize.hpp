// Run-time quantisation of a linear layer's fp32 input rows into the int8 GEMM's A layout.
//
//   dynamic (static_scale == 0): each row (token) gets its own scale max|row| / 127, so a row's
//            codes depend on that row alone: batch composition and padding cannot change them.
//   static  (static_scale > 0):  every row uses the calibrated scale of this linear input;
//            values beyond 127 * scale clip to +-127.
// Codes follow minibert::quantize_symmetric (numeric/qint8.hpp): x * (1 / scale) rounded to
// nearest even and clamped to [-127, 127]. The GEMM wants each row twice: the signed codes and
// an operand for the level's tile: |q| (the u8 operand of the AVX2 sign scheme) or q + 128 as u8
// (u8_form: the VNNI levels, see x86/vnni_i8.hpp); K padded with zero codes to a multiple of 4.
// This is the portable version; kernels/dispatch.hpp picks x86/avx2_i8.hpp's on AVX2 hosts
// (the same codes: both round half to even and clamp in float).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../numeric/qint8.hpp"

namespace minibert::kernels {

/// One quantised row for the int8 GEMM: codes q[0, kp) and aux[0, kp) (|q|, or q + 128 when
/// u8_form), padding beyond k; returns the row's scale (static_scale when that is > 0).
inline float quantize_row_for_gemm(const float* x, std::size_t k, std::size_t kp, float static_scale, std::int8_t* q,
                                   std::uint8_t* aux, bool u8_form = false) noexcept {
    float scale, inv;
    if (static_scale > 0.0f) {
        scale = static_scale;
        inv = 1.0f / static_scale;
    } else {
        const float m = max_abs(x, k);
        scale = symmetric_scale(m);
        inv = symmetric_inverse_scale(m);
    }
    for (std::size_t i = 0; i < k; ++i) {
        q[i] = quantize_symmetric(x[i], inv);
        aux[i] = u8_form ? static_cast<std::uint8_t>(q[i] + 128) : static_cast<std::uint8_t>(q[i] < 0 ? -q[i] : q[i]);
    }
    if (kp > k) {
        std::memset(q + k, 0, kp - k);
        std::memset(aux + k, u8_form ? 0x80 : 0, kp - k);
    }
    return scale;
}

}  // namespace minibert::kernels
