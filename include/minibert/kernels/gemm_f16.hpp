// Packed GEMM with fp16 weights: C = epilogue(A * W^T), A and C fp32, W stored as IEEE binary16.
//
// The same algorithm as gemm_f32.hpp (read that file first): the same NR-wide k-major panels,
// blocking, 4 x 24 register tile, thread split and fused epilogue; only the panel elements are
// 2 bytes, widened to fp32 with F16C (vcvtph2ps, x86/avx2_f16.hpp) as the tile loads them. The
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
#include "x86/avx2_f16.hpp"

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

}  // namespace detail

/// fp16 weights of one linear layer in gemm_f32's panel layout (NR columns, k-major, last panel
/// zero-padded). Resident bytes: ceil(N / NR) * NR * K * 2.
class PackedWeightsF16 {
public:
    static constexpr std::size_t panel_width = detail::kPanelWidth;

    PackedWeightsF16() = default;

    /// Packs w, [n x k] row-major fp16 bits (PyTorch Linear: out x in).
    PackedWeightsF16(const half* w, std::size_t n, std::size_t k)
        : rows_(n), cols_(k), data_(detail::round_up(n, panel_width) * k) {
        for (std::size_t p = 0; p < panels(); ++p) {
            std::uint16_t* dst = data_.data() + p * panel_stride();
            const std::size_t valid = std::min(panel_width, n - p * panel_width);
            for (std::size_t j = 0; j < valid; ++j) {
                const half* src = w + (p * panel_width + j) * k;
                for (std::size_t kk = 0; kk < k; ++kk) dst[kk * panel_width + j] = src[kk].bits;
            }
        }
    }

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    std::size_t bytes() const noexcept { return data_.bytes(); }
    std::size_t panels() const noexcept { return (rows_ + panel_width - 1) / panel_width; }
    /// Elements between the starts of consecutive panels (K * NR).
    std::size_t panel_stride() const noexcept { return cols_ * panel_width; }
    const std::uint16_t* panel(std::size_t p) const noexcept { return data_.data() + p * panel_stride(); }

private:
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    AlignedBuffer<std::uint16_t> data_;
};

namespace detail {

/// gemm_f32's register tile with fp16 panels (see gemm_tile in gemm_f32.hpp for the register
/// budget and the in_register trick).
template <std::size_t Rows, std::size_t Panels>
inline void gemm_tile_f16(std::size_t kc, const float* a, const std::uint16_t* b, std::size_t panel_stride,
                          const TileOutput& out) {
    using B = GemmBatch;
    constexpr std::size_t W = kSimdWidth;
    constexpr std::size_t Vecs = Panels * kPanelVectors;
    static_assert(Rows * Vecs <= 12, "the tile must leave registers for loads and broadcasts");

    std::size_t valid[Vecs];
    for (std::size_t v = 0; v < Vecs; ++v) valid[v] = out.cols > v * W ? std::min(W, out.cols - v * W) : 0;

    B acc[Rows][Vecs];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v)
            acc[r][v] = out.first ? B(0.0f) : load_partial<GemmArch>(out.c + r * out.ldc + v * W, valid[v]);

    for (std::size_t k = 0; k < kc; ++k) {
        B w[Vecs];
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            const B loaded = load_half_widened<GemmArch>(
                b + (v / kPanelVectors) * panel_stride + k * kPanelWidth + (v % kPanelVectors) * W, GemmArch{});
            w[v] = Rows > 1 ? in_register(loaded) : loaded;
        }
#pragma GCC unroll 16
        for (std::size_t r = 0; r < Rows; ++r) {
            const B x(a[k * Rows + r]);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = xsimd::fma(x, w[v], acc[r][v]);
        }
    }

#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
        float* c_row = out.c + r * out.ldc;
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            if (valid[v] == 0) continue;
            B y = acc[r][v];
            if (out.last) {
                if (out.bias) y += load_partial<GemmArch>(out.bias + v * W, valid[v]);
                y = in_register(activate(y, out.activation));
                if (out.residual) y += load_partial<GemmArch>(out.residual + r * out.ldr + v * W, valid[v]);
            }
            store_partial<GemmArch>(c_row + v * W, y, valid[v]);
        }
    }
}

inline void gemm_tile_rows_f16(std::size_t rows, std::size_t kc, const float* a, const std::uint16_t* b,
                               const TileOutput& out) {
    switch (rows) {
        case 4: gemm_tile_f16<4, 1>(kc, a, b, 0, out); break;
        case 3: gemm_tile_f16<3, 1>(kc, a, b, 0, out); break;
        case 2: gemm_tile_f16<2, 1>(kc, a, b, 0, out); break;
        default: gemm_tile_f16<1, 1>(kc, a, b, 0, out); break;
    }
}

/// gemm_blocked of gemm_f32.hpp with fp16 panels: the same blocks in the same order.
inline void gemm_blocked_f16(const float* a, std::size_t lda, std::size_t row_begin, std::size_t row_end,
                             const PackedWeightsF16& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                             std::size_t ldc, const Epilogue& ep, float* scratch) {
    const std::size_t k_total = w.cols();
    for (std::size_t i0 = row_begin; i0 < row_end; i0 += kBlockRows) {
        const std::size_t rows = std::min(kBlockRows, row_end - i0);
        for (std::size_t p0 = panel_begin; p0 < panel_end; p0 += kBlockPanels) {
            const std::size_t p1 = std::min(panel_end, p0 + kBlockPanels);
            std::size_t k0 = 0;
            do {
                const std::size_t kc = std::min(kBlockK, k_total - k0);
                const bool first = k0 == 0;
                const bool last = k0 + kc == k_total;
                pack_a_block(a + i0 * lda + k0, lda, rows, kc, scratch);
                for (std::size_t p = p0; p < p1; ++p) {
                    const std::uint16_t* b = w.panel(p) + k0 * kPanelWidth;
                    for (std::size_t i = 0; i < rows; i += kTileRows) {
                        const TileOutput out = tile_output(c, ldc, w.rows(), i0 + i, p * kPanelWidth, first, last, ep);
                        gemm_tile_rows_f16(std::min(kTileRows, rows - i), kc, scratch + i * kc, b, out);
                    }
                }
                k0 += kc;
            } while (k0 < k_total);
        }
    }
}

inline void gemv_panels_f16(const float* a, const PackedWeightsF16& w, std::size_t panel_begin, std::size_t panel_end,
                            float* c, const Epilogue& ep) {
    const std::size_t k = w.cols();
    const std::size_t stride = w.panel_stride();
    std::size_t p = panel_begin;
    for (; p + kGemvPanels <= panel_end; p += kGemvPanels)
        gemm_tile_f16<1, kGemvPanels>(k, a, w.panel(p), stride, tile_output(c, 0, w.rows(), 0, p * kPanelWidth, true, true, ep));
    const TileOutput out = tile_output(c, 0, w.rows(), 0, p * kPanelWidth, true, true, ep);
    switch (panel_end - p) {
        case 3: gemm_tile_f16<1, 3>(k, a, w.panel(p), stride, out); break;
        case 2: gemm_tile_f16<1, 2>(k, a, w.panel(p), stride, out); break;
        case 1: gemm_tile_f16<1, 1>(k, a, w.panel(p), stride, out); break;
        default: break;
    }
}

}  // namespace detail

/// C[m x N] = epilogue(A[m x K] * W^T) with fp16 W; everything else as gemm_f32 (same scratch
/// size: gemm_f32_scratch_floats(m, K, threads); same determinism; C must not overlap A or the
/// residual).
inline void gemm_f16(const float* a, std::size_t lda, std::size_t m, const PackedWeightsF16& w, float* c,
                     std::size_t ldc, const Epilogue& ep, float* scratch, ThreadPool* pool) {
    using namespace detail;
    const std::size_t n = w.rows();
    const std::size_t k = w.cols();
    if (m == 0 || n == 0) return;
    assert(lda >= k && ldc >= n && (ep.residual == nullptr || ep.ldr >= n));
    const std::size_t panels = w.panels();
    const std::size_t threads = pool ? pool->size() : 1;
    const std::size_t worth = std::max<std::size_t>(1, m * n * std::max<std::size_t>(k, 1) / kMinMacsPerTask);
    const std::size_t max_tasks = std::min(threads, worth);

    if (m == 1) {
        const std::size_t tasks = std::min(max_tasks, panels);
        auto run = [&](std::size_t t) { gemv_panels_f16(a, w, panels * t / tasks, panels * (t + 1) / tasks, c, ep); };
        if (pool && tasks > 1) pool->parallel_for(tasks, run); else run(0);
        return;
    }

    float* aligned = reinterpret_cast<float*>(round_up(reinterpret_cast<std::uintptr_t>(scratch), 64));
    const std::size_t per_task = round_up(std::min(m, kBlockRows) * std::max<std::size_t>(1, std::min(k, kBlockK)), 16);
    const std::size_t row_tiles = (m + kTileRows - 1) / kTileRows;
    const bool split_rows = row_tiles >= 8 * max_tasks;
    const std::size_t tasks = std::min(max_tasks, split_rows ? row_tiles : panels);
    auto run = [&](std::size_t t) {
        float* buf = aligned + t * per_task;
        if (split_rows) {
            const std::size_t r0 = row_tiles * t / tasks * kTileRows;
            const std::size_t r1 = std::min(m, row_tiles * (t + 1) / tasks * kTileRows);
            gemm_blocked_f16(a, lda, r0, r1, w, 0, panels, c, ldc, ep, buf);
        } else {
            gemm_blocked_f16(a, lda, 0, m, w, panels * t / tasks, panels * (t + 1) / tasks, c, ldc, ep, buf);
        }
    };
    if (pool && tasks > 1) pool->parallel_for(tasks, run); else run(0);
}

}  // namespace minibert::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
