// A fused multiply-add for AVX-512 float batches (kernels/activations.hpp's fmadd).
//
// xsimd 8.1 implements fma for AVX-512 as x * y + z (its generic fallback), which is one rounding
// or two depending on whether the compiler contracts it; minibert's kernels want one, always. So
// vfmadd is called directly here, selected by overloading on xsimd's architecture tag; the
// generic overload (activations.hpp) is xsimd::fma, a real FMA on every other ISA.
#pragma once

#if defined(__AVX512F__)

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

namespace minibert::kernels::detail {

template <class Arch>
inline xsimd::batch<float, Arch> fused_multiply_add(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& y,
                                                    const xsimd::batch<float, Arch>& z,
                                                    xsimd::kernel::requires_arch<xsimd::avx512f>) noexcept {
    return _mm512_fmadd_ps(x, y, z);
}

}  // namespace minibert::kernels::detail

#endif  // __AVX512F__
