// Element-wise activations of BERT-family encoders, in fp32, written once on xsimd batches.
//
// Each activation has a scalar reference (`*_reference`, double internally: what tests compare
// against) and a batch version (what the kernels run). The GEMM epilogue and apply_activation()
// call the same batch function, so an activation fused into a linear layer and one applied
// afterwards give bit-identical numbers; tails shorter than a batch go through the same batch
// code on a zero-padded copy, so a value's result never depends on where it sits in the array.
//
// Formulas, and why they are rearranged:
//   gelu_erf  0.5 x (1 + erf(x / sqrt2))  is computed as  0.5 x erfc(-x / sqrt2). The two are equal,
//             but 1 + erf(..) cancels catastrophically for x < -3 (erf ~ -1), losing all relative
//             accuracy in the negative tail; erfc keeps it (HF's "gelu", BERT's default).
//   gelu_tanh 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)  is computed as
//             x / (1 + exp(-2u)): the same identity 1 + tanh(u) = 2 / (1 + exp(-2u)) avoids the
//             same cancellation ("gelu_new" / "gelu_pytorch_tanh").
//   relu      max(x, 0);   tanh  tanh(x) (the BERT pooler).
#pragma once

#include <cmath>
#include <cstddef>
#include <xsimd/xsimd.hpp>

#include "activation_kind.hpp"
#include "x86/avx512_fma.hpp"

// GCC 12's AVX-512 headers trip a false -W(maybe-)uninitialized (GCC PR 105593, the `__Y = __Y`
// idiom of _mm512_undefined_*) once xsimd's AVX-512 code is inlined here; silence only those.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace minibert::kernels {

/// The SIMD architecture of minibert's fp32 kernels: xsimd's default (what -march selects), except
/// where that is AVX-512 and xsimd is older than 9, unless MINIBERT_USE_AVX512 is defined. xsimd
/// 8.1 has no AVX-512 fma kernel: its fma is x * y + z, one rounding or two depending on whether
/// the compiler contracts it. minibert's own kernels call fmadd() below, which is a real FMA there,
/// but xsimd's exp/erfc/tanh inside the activations still use xsimd's; so AVX-512 is opt-in
/// (-DMINIBERT_USE_AVX512 with AVX-512 flags: twice the FMA width where the core has two 512-bit
/// FMA units, e.g. Xeons since Skylake-SP; no gain on Zen 4, which splits them), and AVX2+FMA,
/// exact and portable, is what an AVX-512 build runs otherwise.
#if XSIMD_VERSION_MAJOR < 9 && XSIMD_WITH_AVX512F && XSIMD_WITH_FMA3_AVX2 && !defined(MINIBERT_USE_AVX512)
using KernelArch = xsimd::fma3<xsimd::avx2>;
#else
using KernelArch = xsimd::default_arch;
#endif

namespace detail {
template <class Arch>
inline xsimd::batch<float, Arch> fused_multiply_add(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& y,
                                                    const xsimd::batch<float, Arch>& z,
                                                    xsimd::kernel::requires_arch<xsimd::generic>) noexcept {
    return xsimd::fma(x, y, z);
}
}  // namespace detail

/// x * y + z with one rounding on every ISA: xsimd::fma, except for AVX-512 batches, where
/// xsimd 8.1's is not fused (see KernelArch) and x86/avx512_fma.hpp calls vfmadd directly.
template <class Arch>
inline xsimd::batch<float, Arch> fmadd(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& y,
                                       const xsimd::batch<float, Arch>& z) noexcept {
    return detail::fused_multiply_add(x, y, z, Arch{});
}

/// The activations a linear layer can fuse into its epilogue.
// enum class Activation: activation_kind.hpp

// ---- scalar references (double inside; for tests and for documentation of the math) -------

inline float gelu_erf_reference(float x) {
    const double xd = x;
    return static_cast<float>(0.5 * xd * std::erfc(-xd / std::sqrt(2.0)));
}

inline float gelu_tanh_reference(float x) {
    const double xd = x;
    const double u = std::sqrt(2.0 / 3.14159265358979323846) * (xd + 0.044715 * xd * xd * xd);
    return static_cast<float>(xd / (1.0 + std::exp(-2.0 * u)));  // == 0.5 x (1 + tanh u), see above
}

inline float relu_reference(float x) { return x > 0.0f ? x : 0.0f; }

inline float tanh_reference(float x) { return static_cast<float>(std::tanh(static_cast<double>(x))); }

inline float activation_reference(float x, Activation act) {
    switch (act) {
        case Activation::gelu_erf: return gelu_erf_reference(x);
        case Activation::gelu_tanh: return gelu_tanh_reference(x);
        case Activation::relu: return relu_reference(x);
        case Activation::tanh: return tanh_reference(x);
        case Activation::none: break;
    }
    return x;
}

// ---- batch versions ---------------------------------------------------------------------

template <class Arch>
inline xsimd::batch<float, Arch> gelu_erf(const xsimd::batch<float, Arch>& x) {
    using B = xsimd::batch<float, Arch>;
    return B(0.5f) * x * xsimd::erfc(x * B(-0.70710678118654752f));
}

template <class Arch>
inline xsimd::batch<float, Arch> gelu_tanh(const xsimd::batch<float, Arch>& x) {
    using B = xsimd::batch<float, Arch>;
    // -2 * sqrt(2/pi), folded so that exp's argument is one fma away from x.
    const B minus_two_c(-1.5957691216057308f);
    const B x2 = x * x;
    const B u2 = minus_two_c * fmadd(B(0.044715f) * x2, x, x);
    return x / (B(1.0f) + xsimd::exp(u2));
}

template <class Arch>
inline xsimd::batch<float, Arch> relu(const xsimd::batch<float, Arch>& x) {
    return xsimd::max(x, xsimd::batch<float, Arch>(0.0f));
}

/// Applies `act` to one batch. The switch is on a run-time value but is taken once per batch
/// of outputs, next to K multiply-adds each, so it costs nothing measurable.
template <class Arch>
inline xsimd::batch<float, Arch> activate(const xsimd::batch<float, Arch>& x, Activation act) {
    switch (act) {
        case Activation::gelu_erf: return gelu_erf(x);
        case Activation::gelu_tanh: return gelu_tanh(x);
        case Activation::relu: return relu(x);
        case Activation::tanh: return xsimd::tanh(x);
        case Activation::none: break;
    }
    return x;
}

namespace detail {

/// Loads the first `n` (< batch size allowed) floats at p, zeros beyond; never reads past p[n-1].
template <class Arch>
inline xsimd::batch<float, Arch> load_partial(const float* p, std::size_t n) {
    constexpr std::size_t width = xsimd::batch<float, Arch>::size;
    if (n >= width) return xsimd::batch<float, Arch>::load_unaligned(p);
    alignas(64) float lanes[width] = {};
    for (std::size_t i = 0; i < n; ++i) lanes[i] = p[i];
    return xsimd::batch<float, Arch>::load_aligned(lanes);
}

/// Stores the first `n` lanes of v to p; never writes past p[n-1].
template <class Arch>
inline void store_partial(float* p, const xsimd::batch<float, Arch>& v, std::size_t n) {
    constexpr std::size_t width = xsimd::batch<float, Arch>::size;
    if (n >= width) {
        v.store_unaligned(p);
        return;
    }
    alignas(64) float lanes[width];
    v.store_aligned(lanes);
    for (std::size_t i = 0; i < n; ++i) p[i] = lanes[i];
}

}  // namespace detail

/// Applies `act` in place to x[0..n). Same arithmetic per element as the fused GEMM epilogue.
template <class Arch = KernelArch>
inline void apply_activation(float* x, std::size_t n, Activation act) {
    if (act == Activation::none) return;
    using B = xsimd::batch<float, Arch>;
    std::size_t i = 0;
    for (; i + B::size <= n; i += B::size) activate(xsimd::batch<float, Arch>::load_unaligned(x + i), act).store_unaligned(x + i);
    if (i < n) detail::store_partial<Arch>(x + i, activate(detail::load_partial<Arch>(x + i, n - i), act), n - i);
}

}  // namespace minibert::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
