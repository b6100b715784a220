// The int8 row quantiser at AVX-512 width (levels avx512 and avx512vnni; the AVX2 one in
// x86/avx2_i8.hpp serves avx2 and avxvnni): the same contract and the same codes bit for bit
// (quantize.hpp: the same multiply by 127 / max|x|, clamp in float, NaN -> 0, round half to
// even by the default MXCSR): blocks of 64 floats narrowed by two saturating packs and one
// permute, then 16 at a time by vpmovdb (the values are already in [-127, 127], so both
// narrowings are exact).
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
    // Four independent max chains (exact in any order; NaN dropped: maxps returns its second
    // operand when the first is NaN).
    __m512 m0 = _mm512_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
        m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 16)), m1);
        m2 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 32)), m2);
        m3 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 48)), m3);
    }
    for (; i + 16 <= n; i += 16) m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
    const std::size_t full = i;
    const __m512 m = _mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3));
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
    const __m512i flip64 = _mm512_set1_epi8(static_cast<char>(0x80));
    // packs work per 128-bit lane: after two of them dword 4l + j holds codes 16j + 4l .. +3 of
    // the four vectors; this permute puts dword 4j + l back in place.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    std::size_t i = 0;
    for (; i + 64 <= k; i += 64) {  // 64 codes per step: one 512-bit store each for q and aux
        __m512i v[4];
        for (int j = 0; j < 4; ++j) {
            const __m512 t = _mm512_mul_ps(_mm512_loadu_ps(x + i + 16 * j), vinv);
            const __mmask16 ordered = _mm512_cmp_ps_mask(t, t, _CMP_ORD_Q);  // NaN -> 0, as the scalar rule
            v[j] = _mm512_maskz_mov_epi32(ordered, _mm512_cvtps_epi32(_mm512_min_ps(hi, _mm512_max_ps(t, lo))));
        }
        // the values are in [-127, 127]: the saturating packs are exact
        const __m512i b = _mm512_permutexvar_epi32(
            order, _mm512_packs_epi16(_mm512_packs_epi32(v[0], v[1]), _mm512_packs_epi32(v[2], v[3])));
        _mm512_storeu_si512(q + i, b);
        _mm512_storeu_si512(aux + i, u8_form ? _mm512_xor_si512(b, flip64) : _mm512_abs_epi8(b));
    }
    for (; i + 16 <= k; i += 16) {
        const __m512 t = _mm512_mul_ps(_mm512_loadu_ps(x + i), vinv);
        const __mmask16 ordered = _mm512_cmp_ps_mask(t, t, _CMP_ORD_Q);  // NaN -> 0, as the scalar rule
        const __m128i b = _mm512_cvtepi32_epi8(
            _mm512_maskz_mov_epi32(ordered, _mm512_cvtps_epi32(_mm512_min_ps(hi, _mm512_max_ps(t, lo)))));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), b);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(aux + i), u8_form ? _mm_xor_si128(b, flip) : _mm_abs_epi8(b));
    }
    const std::size_t full = i;
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
