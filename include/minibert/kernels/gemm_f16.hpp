// Packed GEMM with fp16 weights: C = epilogue(A * W^T), A and C fp32, W stored as IEEE binary16.
//
// The same code as gemm_f32.hpp (read that file first): its NR-wide k-major panels, blocking,
// 4 x 24 register tile, thread split and fused epilogue (detail::gemm_packed, instantiated for
// PackedWeightsF16); only the panel elements are 2 bytes, widened to fp32 with F16C (vcvtph2ps,
// x86/avx2_f16.hpp) as the tile loads them (detail::PanelLoad<std::uint16_t> below). The
// widening is exact, so every output is the very FMA chain gemm_f32 computes on the widened
// weights: gemm_f16(W) == gemm_f32(float(W)) bit for bit, for any thread count and any M.
//
// Why widen in the inner loop rather than at packing: the point of fp16 is half the resident
// memory and half the bytes streamed per token at small batches; the conversion runs on ports the
// FMAs leave idle (3 vcvtph2ps per 12 FMAs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "../numeric/aligned_buffer.hpp"
#include "../numeric/half.hpp"
#include "gemm_f32.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace minibert::kernels {

namespace detail {

/// Portable widening: one SIMD width of fp16 values, converted one by one (exact).
template <class Arch>
inline xsimd::batch<float, Arch> load_half_widened(const std::uint16_t* p, xsimd::kernel::requires_arch<xsimd::generic>) noexcept {
    constexpr std::size_t width = xsimd::batch<float, Arch>::size;
    alignas(64) float lanes[width];
    for (std::size_t i = 0; i < width; ++i) lanes[i] = half::from_bits(p[i]).to_float();
    return xsimd::batch<float, Arch>::load_aligned(lanes);
}

/// fp16 panels in the portable level's tile: widened one by one as the tile loads them (the
/// AVX2 / AVX-512 levels widen with vcvtph2ps in x86/avx2_gemm.hpp / avx512_gemm.hpp).
template <>
struct PanelLoad<std::uint16_t> {
    static GemmBatch load(const std::uint16_t* p) noexcept { return load_half_widened<GemmArch>(p, GemmArch{}); }
};

}  // namespace detail

/// fp16 weights of one linear layer in gemm_f32's panel layout (NR columns, k-major, last panel
/// zero-padded), stored as their IEEE binary16 bits. Resident bytes: ceil(N / NR) * NR * K * 2.
class PackedWeightsF16 : public detail::PackedPanels<std::uint16_t> {
public:
    PackedWeightsF16() = default;

    /// Packs w, [n x k] row-major fp16 (PyTorch Linear: out x in).
    PackedWeightsF16(const half* w, std::size_t n, std::size_t k, const KernelTable& table = packing_kernels())
        : PackedPanels(w, n, k, [](half x) { return x.bits; }, table) {}
};

/// C[m x N] = epilogue(A[m x K] * W^T) with fp16 W; everything else as gemm_f32 (same scratch
/// size: gemm_f32_scratch_floats(m, K, threads); same determinism; C must not overlap A or the
/// residual).
inline void gemm_f16(const float* a, std::size_t lda, std::size_t m, const PackedWeightsF16& w, float* c,
                     std::size_t ldc, const Epilogue& ep, float* scratch, ThreadPool* pool) {
    const KernelTable& kt = w.kernels();
    detail::gemm_packed(a, lda, m, w, c, ldc, ep, scratch, pool, kt.gemm_f16_block, kt.gemv_f16);
}

}  // namespace minibert::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
