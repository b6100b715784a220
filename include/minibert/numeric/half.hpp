// minibert::half (IEEE binary16) and bfloat16 storage types with exact scalar conversions.
//
// Storage only: all math is fp32. The scalar conversions here are portable bit manipulation and
// serve loading and reference code; kernels widen whole vectors with F16C where the CPU has it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace minibert {

/// IEEE 754 binary16 bits. Convert with to_float / half::from_float.
struct half {
    std::uint16_t bits = 0;

    static half from_bits(std::uint16_t b) noexcept { return half{b}; }
    static half from_float(float f) noexcept;
    float to_float() const noexcept;
};

/// bfloat16 bits (the upper half of an fp32).
struct bfloat16 {
    std::uint16_t bits = 0;
    float to_float() const noexcept {
        const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
        float f;
        std::memcpy(&f, &u, sizeof f);
        return f;
    }
};

namespace detail {
inline float bits_to_float(std::uint32_t u) noexcept {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}
inline std::uint32_t float_to_bits(float f) noexcept {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}
}  // namespace detail

inline float half::to_float() const noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1fu;
    std::uint32_t mantissa = bits & 0x3ffu;
    if (exponent == 0x1f) return detail::bits_to_float(sign | 0x7f800000u | (mantissa << 13));  // inf/nan
    if (exponent != 0) return detail::bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0) return detail::bits_to_float(sign);  // +-0
    // Subnormal half: value = mantissa * 2^-24, exact in fp32.
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
    return sign ? -magnitude : magnitude;
}

inline half half::from_float(float f) noexcept {
    // Round to nearest even, as F16C's vcvtps2ph with rounding mode 0 does.
    const std::uint32_t u = detail::float_to_bits(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
    const std::uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u)  // inf or nan (keep nan quiet)
        return half{static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u))};
    if (abs >= 0x477ff000u) return half{static_cast<std::uint16_t>(sign | 0x7c00u)};  // overflow -> inf
    if (abs < 0x38800000u) {  // result is subnormal or zero: scale into the 2^-24 grid
        const float magnitude = detail::bits_to_float(abs) * 16777216.0f;  // exact: times 2^24
        // nearbyint rounds half to even under the default rounding mode, like vcvtps2ph.
        return half{static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(std::nearbyint(magnitude)))};
    }
    const std::uint32_t lsb = (abs >> 13) & 1u;
    const std::uint32_t rounded = abs + 0xfffu + lsb;
    return half{static_cast<std::uint16_t>(sign | (((rounded >> 13) - (112u << 10)) & 0x7fffu))};
}

}  // namespace minibert
