// AVX2 kernels of the int8 GEMM: the u8 x s8 register tile and activation quantisation.
//
// xsimd 8.1 has no u8 x s8 dot product, so these few are intrinsics, selected by overloading on
// xsimd's architecture tag (requires_arch<avx2>); kernels/gemm_i8.hpp holds the portable versions
// with the same signatures and the same results.
//
// Why the tile cannot saturate. vpmaddubsw multiplies unsigned bytes by signed bytes and adds
// adjacent pairs into a *saturating* int16. Both operands are codes in [-127, 127]; the activation
// goes in as |a| (u8, <= 127) and its sign moves onto the weight with vpsignb (sign(w, a) is
// w, -w or 0, still in [-127, 127]). A pair is then at most 2 * 127 * 127 = 32258 < 32767, so the
// int16 never clips, and vpmaddwd with ones widens it to int32 at once: int16 sums are never
// carried across k. (The "add 128 to make a unsigned" trick of VNNI-era code would let a pair
// reach 2 * 255 * 127 = 64770 and saturate; on this path it would be wrong, not fast.)
// The int32 sums are exact while K * 127 * 127 < 2^31 (K < 133,000), checked at packing.
//
// Where the build targets VNNI (AVX-VNNI, or AVX-512 VNNI with VL: -march=native on Ice Lake and
// later, Zen 4; not the project's default AVX2 target), vpdpbusd does the multiply, the pair and
// quad sums and the int32 accumulate in one instruction with no int16 stage at all, so the same
// |a| / sign-moved operands give the same exact sums in half the instructions.
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <xsimd/xsimd.hpp>

namespace minibert::kernels::detail {

#if defined(__AVXVNNI__)
#define MINIBERT_I8_VNNI 1
/// acc + sum over each 4-byte group of u[i] * s[i] (u unsigned, s signed), exact in int32.
inline __m256i dot_u8s8_add(__m256i acc, __m256i u, __m256i s, __m256i) noexcept { return _mm256_dpbusd_avx_epi32(acc, u, s); }
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define MINIBERT_I8_VNNI 1
inline __m256i dot_u8s8_add(__m256i acc, __m256i u, __m256i s, __m256i) noexcept { return _mm256_dpbusd_epi32(acc, u, s); }
#else
/// acc + sum over each 4-byte group of u[i] * s[i]: pairs into int16 (cannot clip: |.| <= 32258,
/// see above), widened to int32 at once by vpmaddwd with ones.
inline __m256i dot_u8s8_add(__m256i acc, __m256i u, __m256i s, __m256i ones) noexcept {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones));
}
#endif

inline __m256i broadcast_4_bytes(const void* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);  // the rows of A are byte arrays: no alignment or type to rely on
    return _mm256_set1_epi32(v);
}

/// Rows x 16 int32 dot products over `groups` groups of 4 k (see gemm_i8.hpp for the layouts):
/// out[r * 16 + j] = sum_k a[r][k] * w[j][k]. `a`/`a_abs` are the signed codes and their
/// magnitudes, row stride lda bytes; `b` is the panel at the first group (64 bytes per group:
/// column j's 4 codes at 4 j). 4 x 2 vectors of accumulators + 2 weights + |a|, a, ones and a
/// temporary fit the 16 ymm registers.
template <std::size_t Rows>
inline void i8_dot_tile(const std::int8_t* a, const std::uint8_t* a_abs, std::size_t lda, const std::int8_t* b,
                        std::size_t groups, std::int32_t* out, xsimd::kernel::requires_arch<xsimd::avx2>) noexcept {
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
            acc[r][0] = dot_u8s8_add(acc[r][0], u, _mm256_sign_epi8(w0, s), ones);
            acc[r][1] = dot_u8s8_add(acc[r][1], u, _mm256_sign_epi8(w1, s), ones);
        }
    }
#pragma GCC unroll 4
    for (std::size_t r = 0; r < Rows; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(out + r * 16), acc[r][0]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(out + r * 16 + 8), acc[r][1]);
    }
}

/// Largest |x[i]| over n floats (NaN ignored, as std::max with the NaN second would).
inline float max_abs_row(const float* x, std::size_t n, xsimd::kernel::requires_arch<xsimd::avx2>) noexcept {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    const std::size_t full = n / 8 * 8;
    for (std::size_t i = 0; i < full; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, m);
    float best = 0.0f;
    for (float v : lanes) best = v > best ? v : best;
    for (std::size_t i = full; i < n; ++i) {
        const float v = x[i] < 0 ? -x[i] : x[i];
        best = v > best ? v : best;
    }
    return best;
}

/// q[i] = clamp(round_half_even(x[i] * inv), -127, 127), q_abs[i] = |q[i]|, for i < n.
/// Same codes as minibert::quantize_symmetric (vcvtps2dq rounds to nearest even; NaN becomes
/// INT_MIN there and is clamped to -127 here, where the scalar path gives 0: NaN inputs are
/// garbage either way).
inline void quantize_row_codes(const float* x, std::size_t n, float inv, std::int8_t* q, std::uint8_t* q_abs,
                               xsimd::kernel::requires_arch<xsimd::avx2>) noexcept {
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const std::size_t full = n / 32 * 32;
    for (std::size_t i = 0; i < full; i += 32) {
        __m256i v[4];
        for (int j = 0; j < 4; ++j)
            v[j] = _mm256_min_epi32(hi, _mm256_max_epi32(lo, _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), vinv))));
        // packs work per 128-bit lane; the permute puts the 32 codes back in order.
        const __m256i w01 = _mm256_packs_epi32(v[0], v[1]);
        const __m256i w23 = _mm256_packs_epi32(v[2], v[3]);
        const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w01, w23), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), b);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q_abs + i), _mm256_abs_epi8(b));
    }
    for (std::size_t i = full; i < n; ++i) {
        const int c = _mm_cvtss_si32(_mm_set_ss(x[i] * inv));
        const int clamped = c < -127 ? -127 : (c > 127 ? 127 : c);
        q[i] = static_cast<std::int8_t>(clamped);
        q_abs[i] = static_cast<std::uint8_t>(clamped < 0 ? -clamped : clamped);
    }
}

}  // namespace minibert::kernels::detail

#endif  // __AVX2__
