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

namespace detail {
/// A row's scale, and in `inv` the multiplier before rounding: the calibrated static_scale when it
/// is > 0, else max|row| / 127 (0 for an all-zero row). Every level's quantiser uses this one rule;
/// callers pass `max_abs_of_row` only when static_scale is 0 (it is ignored otherwise).
inline float row_scale(float static_scale, float max_abs_of_row, float& inv) noexcept {
    if (static_scale > 0.0f) {
        inv = 1.0f / static_scale;
        return static_scale;
    }
    inv = symmetric_inverse_scale(max_abs_of_row);
    return symmetric_scale(max_abs_of_row);
}

/// The end of a vector max|x| loop: the largest of the vector's `count` lanes (stored to memory)
/// and of |x[i]| for the scalar tail i in [begin, end). NaN lanes and elements never win.
inline float max_abs_finish(const float* lanes, std::size_t count, const float* x, std::size_t begin,
                            std::size_t end) noexcept {
    float best = 0.0f;
    for (std::size_t i = 0; i < count; ++i) best = lanes[i] > best ? lanes[i] : best;
    for (std::size_t i = begin; i < end; ++i) {
        const float v = x[i] < 0 ? -x[i] : x[i];
        best = v > best ? v : best;
    }
    return best;
}
}  // namespace detail

/// One quantised row for the int8 GEMM: codes q[0, kp) and aux[0, kp) (|q|, or q + 128 when
/// u8_form), padding beyond k; returns the row's scale (static_scale when that is > 0).
inline float quantize_row_for_gemm(const float* x, std::size_t k, std::size_t kp, float static_scale, std::int8_t* q,
                                   std::uint8_t* aux, bool u8_form = false) noexcept {
    float inv;
    const float scale = detail::row_scale(static_scale, static_scale > 0.0f ? 0.0f : max_abs(x, k), inv);
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
