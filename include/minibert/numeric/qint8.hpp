// minibert::qint8: symmetric int8 storage with an fp32 scale, and the scalar quantisation rules.
//
// A value x is stored as q = clamp(round(x / scale), -127, 127) and read back as q * scale.
// -128 is never produced: keeping every operand in [-127, 127] is what lets the AVX2 int8 GEMM
// add two u8 x s8 products into an int16 without saturating (kernels/gemm_i8.hpp). Rounding is
// to nearest, ties to even (what vcvtps2dq and std::nearbyint do under the default mode), and
// the division is a multiplication by the reciprocal 127 / max|x|, so the vector and scalar
// paths give the same codes bit for bit.
//
// Weights: one scale per output channel (row of PyTorch's [out x in] weight), max|w_row| / 127.
// Activations: per row (token) at run time ("dynamic"), or one calibrated scale per linear
// input ("static"); see kernels/quantize.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace minibert {

/// The int8 weight type of Linear<qint8>: a tag naming "int8, symmetric, fp32 scale per output
/// channel". The codes themselves are plain std::int8_t arrays.
struct qint8 {
    std::int8_t value = 0;
};

/// Largest code magnitude: 127, never 128 (see the file comment).
constexpr int qint8_max = 127;

/// The scale that maps max_abs onto 127; 0 for an all-zero input (every code is then 0).
inline float symmetric_scale(float max_abs) noexcept { return max_abs > 0.0f ? max_abs / 127.0f : 0.0f; }

/// The multiplier applied before rounding: 127 / max_abs, or 0 for an all-zero input.
inline float symmetric_inverse_scale(float max_abs) noexcept { return max_abs > 0.0f ? 127.0f / max_abs : 0.0f; }

/// q = clamp(round_half_even(x * inverse_scale), -127, 127). NaN maps to 0.
inline std::int8_t quantize_symmetric(float x, float inverse_scale) noexcept {
    const float r = std::nearbyint(x * inverse_scale);
    if (!(r == r)) return 0;
    return static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, r)));
}

/// Largest |x| over n floats (NaN ignored).
inline float max_abs(const float* x, std::size_t n) noexcept {
    float m = 0.0f;
    for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
    return m;
}

/// Quantises each row of w [rows x cols] with its own scale: q [rows x cols], scales [rows].
inline void quantize_rows_symmetric(const float* w, std::size_t rows, std::size_t cols, std::int8_t* q,
                                    float* scales) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
        const float* row = w + r * cols;
        const float m = max_abs(row, cols);
        scales[r] = symmetric_scale(m);
        const float inv = symmetric_inverse_scale(m);
        for (std::size_t c = 0; c < cols; ++c) q[r * cols + c] = quantize_symmetric(row[c], inv);
    }
}

}  // namespace minibert
