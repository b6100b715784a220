// The int8 row quantiser at AVX-512 width (levels avx512 and avx512vnni; the AVX2 one in
// x86/avx2_i8.hpp serves avx2 and avxvnni): the same contract and the same codes bit for bit
// (quantize.hpp: the same multiply by 127 / max|x|, clamp in float, NaN -> 0, round half to
// even by the default MXCSR), 64 floats per step, narrowed by vpmovdb (the values are already in
// [-127, 127], so its truncation is exact).
#pragma once

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../quantize.hpp"
#include "../target_region.hpp"

MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AVX512)

namespace minibert::kernels::isa_avx512 {

/// Largest |x[i]| over n floats (NaN ignored, as the AVX2 and scalar ones).
inline float max_abs_row(const float* x, std::size_t n) noexcept {
    __m512 m = _mm512_setzero_ps();
    const std::size_t full = n / 16 * 16;
    for (std::size_t i = 0; i < full; i += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, m);
    return detail::max_abs_finish(lanes, 16, x, full, n);
}

/// quantize.hpp's QuantizeRowFn contract (see isa_avx2::quantize_row).
inline float quantize_row(const float* x, std::size_t k, std::size_t kp, float static_scale, std::int8_t* q,
                          std::uint8_t* aux, bool u8_form) noexcept {
    float inv;
    const float scale = detail::row_scale(static_scale, static_scale > 0.0f ? 0.0f : max_abs_row(x, k), inv);
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
    const std::size_t full = k / 16 * 16;
    for (std::size_t i = 0; i < full; i += 16) {
        const __m512 t = _mm512_mul_ps(_mm512_loadu_ps(x + i), vinv);
        const __mmask16 ordered = _mm512_cmp_ps_mask(t, t, _CMP_ORD_Q);  // NaN -> 0, as the scalar rule
        const __m128i b = _mm512_cvtepi32_epi8(
            _mm512_maskz_mov_epi32(ordered, _mm512_cvtps_epi32(_mm512_min_ps(hi, _mm512_max_ps(t, lo)))));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), b);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(aux + i), u8_form ? _mm_xor_si128(b, flip) : _mm_abs_epi8(b));
    }
    for (std::size_t i = full; i < k; ++i) {
        float t = x[i] * inv;
        const bool nan = !(t == t);  // NaN -> 0, as the vector loop and the scalar rule
        t = t > -127.0f ? t : -127.0f;
        t = t < 127.0f ? t : 127.0f;
        const int c = nan ? 0 : _mm_cvtss_si32(_mm_set_ss(t));
        q[i] = static_cast<std::int8_t>(c);
        aux[i] = u8_form ? static_cast<std::uint8_t>(c + 128) : static_cast<std::uint8_t>(c < 0 ? -c : c);
    }
    if (kp > k) {
        std::memset(q + k, 0, kp - k);
        std::memset(aux + k, u8_form ? 0x80 : 0, kp - k);
    }
    return scale;
}

}  // namespace minibert::kernels::isa_avx512

MINIBERT_TARGET_END

#endif  // x86-64
