// AVX2 int8 kernels (levels avx2 and avx512; avxvnni and avx512vnni reuse the row quantiser):
// the exact sign-moving u8 x s8 tile and the row quantiser, in namespace kernels::isa_avx2,
// compiled for AVX2 inside this file's region whatever the build's flags.
//
// Why the tile cannot saturate. vpmaddubsw multiplies unsigned bytes by signed bytes and adds
// adjacent pairs into a *saturating* int16. Both operands are codes in [-127, 127]; the activation
// goes in as |a| (u8, <= 127) and its sign moves onto the weight with vpsignb (sign(w, a) is
// w, -w or 0, still in [-127, 127]). A pair is then at most 2 * 127 * 127 = 32258 < 32767, so the
// int16 never clips, and vpmaddwd with ones widens it to int32 at once. (The "+128 into u8" form
// the VNNI levels use would let a pair reach 2 * 255 * 127 = 64770 and saturate here.)
// The int32 sums are exact while K * 127 * 127 < 2^31 (K < 133,000), checked at packing.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm_common.hpp"
#include "../quantize.hpp"
#include "../target_region.hpp"

MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AVX2)

namespace minibert::kernels::isa_avx2 {

inline __m256i broadcast_4_bytes(const void* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);  // the rows of A are byte arrays: no alignment or type to rely on
    return _mm256_set1_epi32(v);
}

/// Rows x 16 exact int32 sums of one panel: a = signed codes, a_abs = |a| (row stride lda),
/// b = the panel (64 bytes per group of 4 k). 8 accumulators + 2 weights + |a|, a, ones and a
/// temporary fit the 16 ymm registers.
template <std::size_t Rows>
inline void sign_tile(const std::int8_t* a, const std::uint8_t* a_abs, std::size_t lda, const std::int8_t* b,
                      std::size_t groups, std::int32_t* out) noexcept {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[Rows][2];
#pragma GCC unroll 4
    for (std::size_t r = 0; r < Rows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (std::size_t g = 0; g < groups; ++g) {
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 64 * g));
        const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 64 * g + 32));
#pragma GCC unroll 4
        for (std::size_t r = 0; r < Rows; ++r) {
            const __m256i s = broadcast_4_bytes(a + r * lda + 4 * g);
            const __m256i u = broadcast_4_bytes(a_abs + r * lda + 4 * g);
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(w0, s)), ones));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(w1, s)), ones));
        }
    }
#pragma GCC unroll 4
    for (std::size_t r = 0; r < Rows; ++r) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * detail::kI8TileStride), acc[r][0]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * detail::kI8TileStride + 8), acc[r][1]);
    }
}

/// Dispatch entry (detail::i8_tile_portable's contract): one panel at a time (i8_max_panels 1).
inline void i8_tile_sign(std::size_t rows, std::size_t panels, const std::int8_t* a, const std::uint8_t* aux,
                         std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                         const std::int32_t* /*init*/, std::int32_t* out) {
    for (std::size_t p = 0; p < panels; ++p) {
        const std::int8_t* w = b + p * panel_stride;
        std::int32_t* o = out + p * detail::kI8PanelWidth;
        switch (rows) {
            case 4: sign_tile<4>(a, aux, lda, w, groups, o); break;
            case 3: sign_tile<3>(a, aux, lda, w, groups, o); break;
            case 2: sign_tile<2>(a, aux, lda, w, groups, o); break;
            default: sign_tile<1>(a, aux, lda, w, groups, o); break;
        }
    }
}

/// Largest |x[i]| over n floats (as max_abs; NaN ignored).
inline float max_abs_row(const float* x, std::size_t n) noexcept {
    // Four independent max chains (a max is exact in any order, so this is the same value as one
    // chain); NaN is dropped because maxps returns its second operand when the first is NaN.
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        m0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m0);
        m1 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 8)), m1);
        m2 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 16)), m2);
        m3 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 24)), m3);
    }
    for (; i + 8 <= n; i += 8) m0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m0);
    const std::size_t full = i;
    const __m256 m = _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    return detail::max_abs_finish(lanes, 8, x, full, n);
}

/// One row for the int8 tiles (quantize.hpp's contract): codes q = clamp(round_half_even(x * inv),
/// -127, 127) (the clamp in float first, so huge values keep their sign, as the scalar rule does),
/// and aux = |q| (sign scheme) or q + 128 as u8 (u8_form, the VNNI levels); padding to kp: q = 0,
/// aux = 0 or 128. Returns the row's scale.
inline float quantize_row(const float* x, std::size_t k, std::size_t kp, float static_scale, std::int8_t* q,
                          std::uint8_t* aux, bool u8_form) noexcept {
    float inv;
    const float scale = detail::row_scale(static_scale, static_scale > 0.0f ? 0.0f : max_abs_row(x, k), inv);
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    const std::size_t full = k / 32 * 32;
    for (std::size_t i = 0; i < full; i += 32) {
        __m256i v[4];
        for (int j = 0; j < 4; ++j) {
            const __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), vinv);
            const __m256i ordered = _mm256_castps_si256(_mm256_cmp_ps(t, t, _CMP_ORD_Q));
            // NaN -> 0, as the scalar rule (quantize_symmetric) gives it on the portable level
            v[j] = _mm256_and_si256(_mm256_cvtps_epi32(_mm256_min_ps(hi, _mm256_max_ps(t, lo))), ordered);
        }
        // packs work per 128-bit lane; the permute puts the 32 codes back in order.
        const __m256i b = _mm256_permutevar8x32_epi32(
            _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3])), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), b);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(aux + i), u8_form ? _mm256_xor_si256(b, flip) : _mm256_abs_epi8(b));
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

}  // namespace minibert::kernels::isa_avx2

MINIBERT_TARGET_END

#endif  // x86-64
