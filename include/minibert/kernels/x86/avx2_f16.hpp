// F16C widening of fp16 weights for the fp16 GEMM (kernels/gemm_f16.hpp).
//
// xsimd 8.1 has no fp16 <-> fp32 conversion, so vcvtph2ps is called directly here, selected by
// overloading on xsimd's architecture tag; gemm_f16.hpp holds the portable scalar version.
// vcvtph2ps is exact (every binary16 value is an fp32 value), so both give the same floats.
#pragma once

#if defined(__AVX2__) && defined(__F16C__)

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace minibert::kernels::detail {

/// 8 fp16 values at p (16-byte aligned) widened to fp32.
template <class Arch, std::enable_if_t<xsimd::batch<float, Arch>::size == 8, int> = 0>
inline xsimd::batch<float, Arch> load_half_widened(const std::uint16_t* p, xsimd::kernel::requires_arch<xsimd::avx2>) noexcept {
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
}

#if defined(__AVX512F__)
/// 16 fp16 values at p (32-byte aligned) widened to fp32, for AVX-512 kernels (MINIBERT_USE_AVX512).
template <class Arch, std::enable_if_t<xsimd::batch<float, Arch>::size == 16, int> = 0>
inline xsimd::batch<float, Arch> load_half_widened(const std::uint16_t* p, xsimd::kernel::requires_arch<xsimd::avx512f>) noexcept {
    return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
}
#endif

}  // namespace minibert::kernels::detail

#endif
