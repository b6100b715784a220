// AVX2 + FMA + F16C kernels (levels avx2 and avxvnni): the fp32/fp16 GEMM on 8-float vectors
// (x86/gemm_f32_body.inl, 4 x 24 tile), compiled for that target inside this file's region
// whatever the build's flags, in namespace kernels::isa_avx2 (one symbol per level: ODR-safe).
#pragma once

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../gemm_common.hpp"
#include "../target_region.hpp"

MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AVX2)

namespace minibert::kernels::isa_avx2 {

using vf = __m256;
constexpr std::size_t kW = 8;

inline vf vzero() noexcept { return _mm256_setzero_ps(); }
inline vf vset1(float x) noexcept { return _mm256_set1_ps(x); }
inline vf vadd(vf a, vf b) noexcept { return _mm256_add_ps(a, b); }
inline vf vfmadd(vf a, vf b, vf c) noexcept { return _mm256_fmadd_ps(a, b, c); }
inline vf vload_w(const float* p) noexcept { return _mm256_load_ps(p); }
inline vf vcvt_i32(const std::int32_t* p) noexcept {  // 8 int32 at p as floats (exact below 2^24)
    return _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline vf vload_w(const std::uint16_t* p) noexcept {
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));  // exact widening
}
inline __m256i lane_mask(std::size_t n) noexcept {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/// The first n floats at p (zeros beyond); never touches p[n..].
inline vf vload_partial(const float* p, std::size_t n) noexcept {
    return n >= kW ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lane_mask(n));
}
inline void vstore_partial(float* p, vf v, std::size_t n) noexcept {
    if (n >= kW) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, lane_mask(n), v);
}
/// See gemm_f32.hpp's in_register: keeps GCC from re-reading each weight vector per FMA.
inline vf in_reg(vf v) noexcept {
    __asm__("" : "+v"(v));
    return v;
}

using vm = __m256;
inline vf vsub(vf a, vf b) noexcept { return _mm256_sub_ps(a, b); }
inline vf vmul(vf a, vf b) noexcept { return _mm256_mul_ps(a, b); }
inline vf vdiv(vf a, vf b) noexcept { return _mm256_div_ps(a, b); }
inline vf vmax(vf a, vf b) noexcept { return _mm256_max_ps(a, b); }
inline vf vmin(vf a, vf b) noexcept { return _mm256_min_ps(a, b); }
inline vf vabs(vf a) noexcept { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
inline vm vlt(vf a, vf b) noexcept { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline vm vgt(vf a, vf b) noexcept { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline vm veq(vf a, vf b) noexcept { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline vf vsel(vm m, vf t, vf f) noexcept { return _mm256_blendv_ps(f, t, m); }
inline vf vround(vf a) noexcept { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vf vpow2i(vf n) noexcept {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
}

#include "vector_math.inl"
#include "i8_epilogue_body.inl"
#include "gemm_f32_body.inl"
#include "attention_body.inl"

}  // namespace minibert::kernels::isa_avx2

MINIBERT_TARGET_END

#endif  // x86-64
