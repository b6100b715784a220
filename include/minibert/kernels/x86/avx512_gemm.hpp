// AVX-512 kernels (levels avx512 and up): the fp32/fp16 GEMM on 16-float zmm vectors
// (x86/gemm_f32_body.inl, 4 x 48 tile, masked tails), compiled for that target inside this
// file's region whatever the build's flags, in namespace kernels::isa_avx512. vfmadd is always
// fused here, so xsimd 8.1's unfused AVX-512 fma (activations.hpp) never reaches these kernels.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "../gemm_common.hpp"
#include "../target_region.hpp"

MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AVX512)

namespace minibert::kernels::isa_avx512 {

using vf = __m512;
constexpr std::size_t kW = 16;

inline vf vzero() noexcept { return _mm512_setzero_ps(); }
inline vf vset1(float x) noexcept { return _mm512_set1_ps(x); }
inline vf vadd(vf a, vf b) noexcept { return _mm512_add_ps(a, b); }
inline vf vfmadd(vf a, vf b, vf c) noexcept { return _mm512_fmadd_ps(a, b, c); }
inline vf vload_w(const float* p) noexcept { return _mm512_load_ps(p); }
inline vf vcvt_i32(const std::int32_t* p) noexcept { return _mm512_cvtepi32_ps(_mm512_loadu_si512(p)); }
inline vf vload_w(const std::uint16_t* p) noexcept {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));  // exact widening
}
inline __mmask16 lane_mask(std::size_t n) noexcept {
    return n >= kW ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}
/// The first n floats at p (zeros beyond); masked lanes are never read. A whole vector (n >= 16,
/// the common case) takes the plain load/store: masked zmm stores are microcoded-slow on AMD Zen
/// (measured on Zen 5: int8 BERT-base s128 -4%, TinyBERT 8x128 -7.5% CPU time), and a plain load
/// lets the compiler fold it into the FMA.
inline vf vload_partial(const float* p, std::size_t n) noexcept {
    return n >= kW ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(lane_mask(n), p);
}
inline void vstore_partial(float* p, vf v, std::size_t n) noexcept {
    if (n >= kW)
        _mm512_storeu_ps(p, v);
    else
        _mm512_mask_storeu_ps(p, lane_mask(n), v);
}
inline vf in_reg(vf v) noexcept {
    __asm__("" : "+v"(v));
    return v;
}

using vm = __mmask16;
inline vf vsub(vf a, vf b) noexcept { return _mm512_sub_ps(a, b); }
inline vf vmul(vf a, vf b) noexcept { return _mm512_mul_ps(a, b); }
inline vf vdiv(vf a, vf b) noexcept { return _mm512_div_ps(a, b); }
inline vf vmax(vf a, vf b) noexcept { return _mm512_max_ps(a, b); }
inline vf vmin(vf a, vf b) noexcept { return _mm512_min_ps(a, b); }
inline vf vabs(vf a) noexcept { return _mm512_abs_ps(a); }
inline vm vlt(vf a, vf b) noexcept { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline vm vgt(vf a, vf b) noexcept { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline vm veq(vf a, vf b) noexcept { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline vf vsel(vm m, vf t, vf f) noexcept { return _mm512_mask_blend_ps(m, f, t); }
inline vf vround(vf a) noexcept { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vf vpow2i(vf n) noexcept {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
}

#include "vector_math.inl"
#include "i8_epilogue_body.inl"
#include "gemm_f32_body.inl"
#include "attention_body.inl"

}  // namespace minibert::kernels::isa_avx512

MINIBERT_TARGET_END

#endif  // x86-64
