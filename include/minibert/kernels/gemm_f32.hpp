// Packed fp32 GEMM for linear layers: C = epilogue(A * W^T), W in PyTorch's [out x in] layout.
//
// Shape of the computation (BLIS-style, with the weights pre-packed at load):
//
//   for each block of MC rows of A                      (one thread's rows, or all of them)
//     for each block of KC inputs (in increasing k)      A block (MC x KC, ~128 KiB) -> L2
//       pack A[rows, k block] into micro-panels of MR rows, k-major
//       for each weight panel of NR outputs              W micro-panel (KC x NR, 24 KiB) -> L1
//         for each MR-row micro-panel: the register tile (MR x NR accumulators)
//
// Packed weight layout: the N outputs are cut into panels of NR = 3 SIMD widths of the kernel
// level packed for (24 on AVX2, 48 on AVX-512, 12 on the SSE2/NEON portable level).
// Panel p holds W[p*NR .. p*NR+NR)[0 .. K) transposed, k-major: panel[k*NR + j] = W[p*NR + j][k],
// so the tile reads NR consecutive floats per k. The last panel is zero-padded to NR columns
// (those columns are computed and never stored), so no column remainder ever takes a scalar
// path. Resident memory: ceil(N / NR) * NR * K * 4 bytes (bytes()), at most (NR-1)*K*4 above
// the raw weights; the mmapped source is not needed after packing.
//
// Register tile: MR x NR = 4 x 24 on AVX2/FMA: 12 accumulators + 3 weight vectors + 1 broadcast
// = all 16 ymm registers; each k step issues 12 FMAs for 7 loads (Zen 3/4 do 2 FMAs and up to
// 3 loads per cycle, and 12 independent chains cover the 4-cycle FMA latency twice). 4 rows
// rather than 6x16 because batches of 16, 128, ... tokens then split into whole tiles.
// Row remainders (1..3 rows) use smaller instantiations of the same tile. The same 4 x 3-vector
// shape is used for every SIMD width (4 x 12 on SSE/NEON, 4 x 48 on AVX-512 with xsimd >= 9).
//
// Fixed summation order (the determinism promise): every output C[i][j] is the single FMA
// chain acc = fma(A[i][k], W[j][k], acc) for k = 0, 1, ..., K-1 starting from acc = 0, then
// + bias[j], then activation, then + residual[i][j]. Between K blocks the running sum is parked
// in C as an fp32 (exactly the register value), so blocking does not change it. Which tile
// shape, thread, or batch a row lands in never changes its arithmetic: results are bit-identical
// for any thread count and any M (a row alone or inside a batch of 17), and the matrix-vector
// path (M = 1) computes the same chains. Threads split rows or output panels, never K.
//
// Preconditions: C must not overlap A or the residual (partial sums are parked in C).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "minibert/kernels/activations.hpp"
#include "minibert/kernels/dispatch.hpp"
#include "minibert/kernels/gemm_common.hpp"
#include "minibert/numeric/aligned_buffer.hpp"
#include "minibert/parallel/thread_pool.hpp"

#if defined(__GNUC__) && !defined(__clang__)  // see activations.hpp: GCC PR 105593
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace minibert::kernels {

namespace detail {

// The portable level's code (kernels/dispatch.hpp): xsimd at the build's flags (KernelArch). The
// AVX2 and AVX-512 levels run the same algorithm from x86/gemm_f32_body.inl with their own panel
// width; gemm_packed below calls them through the table the weights were packed for.
using GemmArch = KernelArch;
using GemmBatch = xsimd::batch<float, GemmArch>;

constexpr std::size_t kSimdWidth = GemmBatch::size;
constexpr std::size_t kPanelVectors = 3;                        // SIMD vectors per panel row
constexpr std::size_t kPanelWidth = kPanelVectors * kSimdWidth;  // NR of the portable level
// KC: the W micro-panel (KC x NR) is 24 KiB on AVX2 (stays in L1d next to a 4 KiB A micro-panel);
// with AVX-512 (MINIBERT_USE_AVX512) NR doubles, so KC halves to keep it at 24 KiB.
constexpr std::size_t kBlockK = kSimdWidth > 8 ? 128 : 256;
static_assert(kBlockK <= kMaxBlockK, "the scratch is sized for the largest KC");
// NC: panels per column block, ~768 columns, so the C block that is re-read once per K block
// (MC x NC = 384 KiB) stays in L2 (BERT's hidden width is one block; its FFN width is four).
constexpr std::size_t kBlockPanels = std::max<std::size_t>(1, 768 / kPanelWidth);

/// Returns v, forced into a register. Without it GCC 12's register allocator turns each weight
/// register back into a memory operand of every FMA that uses it (16 loads per 12 FMAs instead
/// of 7), which saturates Zen's load ports at ~72% of the FMA peak (measured: 83 vs 117 GFLOP/s
/// for the 4x24 AVX2 tile on L1-resident data). The empty asm emits no instruction; it only
/// hides the value's origin from the allocator. A plain copy on other compilers and targets.
template <class Arch>
inline xsimd::batch<float, Arch> in_register(xsimd::batch<float, Arch> v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__("" : "+v"(v.data));
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__("" : "+w"(v.data));
#endif
    return v;
}

/// N x K weights packed once into NR-wide k-major panels of Element (see the file comment): the
/// storage of PackedWeightsF32 below and PackedWeightsF16 (gemm_f16.hpp). NR follows the kernel
/// level the weights are packed for (24 on AVX2, 48 on AVX-512, 3 xsimd widths on the portable
/// level), and the panels remember that level's kernels: packing follows the kernels.
template <class Element>
class PackedPanels {
public:
    PackedPanels() = default;

    /// Packs w, an [n x k] row-major matrix (PyTorch Linear: out x in), as to_element(w[...]), for
    /// the kernels of `table`.
    template <class Source, class ToElement>
    PackedPanels(const Source* w, std::size_t n, std::size_t k, ToElement to_element, const KernelTable& table)
        : rows_(n), cols_(k), panel_width_(table.f32_panel_width ? table.f32_panel_width : kPanelWidth),
          kernels_(&table), data_(round_up(n, panel_width_) * k) {
        for (std::size_t p = 0; p < panels(); ++p) {
            Element* dst = data_.data() + p * panel_stride();
            const std::size_t valid = std::min(panel_width_, n - p * panel_width_);
            for (std::size_t j = 0; j < valid; ++j) {
                const Source* src = w + (p * panel_width_ + j) * k;
                for (std::size_t kk = 0; kk < k; ++kk) dst[kk * panel_width_ + j] = to_element(src[kk]);
            }
        }
    }

    /// Outputs N.
    std::size_t rows() const noexcept { return rows_; }
    /// Inputs K.
    std::size_t cols() const noexcept { return cols_; }
    /// Columns per panel (NR) of the level packed for.
    std::size_t panel_width() const noexcept { return panel_width_; }
    /// The kernels these panels were packed for (never null once packed).
    const KernelTable& kernels() const noexcept { return kernels_ ? *kernels_ : kernel_table(Isa::portable); }
    /// Resident bytes of the packed copy (including the zero padding of the last panel).
    std::size_t bytes() const noexcept { return data_.bytes(); }
    /// Number of NR-wide panels, ceil(N / NR).
    std::size_t panels() const noexcept { return (rows_ + panel_width_ - 1) / panel_width_; }
    /// Elements between the starts of consecutive panels (K * NR).
    std::size_t panel_stride() const noexcept { return cols_ * panel_width_; }
    /// Panel p: K rows of NR elements, 64-byte aligned.
    const Element* panel(std::size_t p) const noexcept { return data_.data() + p * panel_stride(); }
    /// What a per-ISA kernel receives.
    PanelsRef ref() const noexcept { return PanelsRef{data_.data(), rows_, cols_, panel_width_, panel_stride()}; }

private:
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t panel_width_ = kPanelWidth;
    const KernelTable* kernels_ = nullptr;
    AlignedBuffer<Element> data_;
};

}  // namespace detail

/// Weights of one linear layer, packed once into NR-wide k-major panels of floats (see the file
/// comment and detail::PackedPanels for the accessors).
class PackedWeightsF32 : public detail::PackedPanels<float> {
public:
    PackedWeightsF32() = default;

    /// Copies and packs w, an [n x k] row-major matrix (PyTorch Linear: out x in), for the kernels
    /// of `table` (default: the host's best under MINIBERT_ISA, or the loading Model's level).
    PackedWeightsF32(const float* w, std::size_t n, std::size_t k, const KernelTable& table = packing_kernels())
        : PackedPanels(w, n, k, [](float x) { return x; }, table) {}
};

namespace detail {

/// How the tile reads kSimdWidth panel elements (64-byte aligned) as fp32 weights: one
/// specialisation per packed element type, float here and fp16 bits in gemm_f16.hpp. Everything
/// else below (tile, blocking, threads) is shared by all of them and instantiated per type, so
/// each gets its own fully inlined tile. (A class template rather than an overload: a later
/// specialisation is still found when the tile is instantiated; an overload on uint16_t* is not.)
template <class Element>
struct PanelLoad;

template <>
struct PanelLoad<float> {
    static GemmBatch load(const float* p) noexcept { return GemmBatch::load_aligned(p); }
};

/// The register tile: Rows rows x Panels panels of NR columns. `a` holds kc k-steps of Rows
/// floats (a packed micro-panel, or simply the A row when Rows == 1); `b` is the first panel at
/// the current k, later panels follow at `panel_stride` (in elements). Rows * Panels * 3
/// accumulators <= 12.
template <std::size_t Rows, std::size_t Panels, class Element>
inline void gemm_tile(std::size_t kc, const float* a, const Element* b, std::size_t panel_stride,
                      const TileOutput& out) {
    using B = GemmBatch;
    constexpr std::size_t W = kSimdWidth;
    constexpr std::size_t Vecs = Panels * kPanelVectors;  // vectors per tile row
    static_assert(Rows * Vecs <= 12, "the tile must leave registers for loads and broadcasts");

    std::size_t valid[Vecs];  // lanes of each column vector that land in C
    for (std::size_t v = 0; v < Vecs; ++v) valid[v] = out.cols > v * W ? std::min(W, out.cols - v * W) : 0;

    // The loops over Rows and Vecs must unroll completely so that acc[][] and w[] live in
    // registers (hence the pragmas; GCC's default unroll limits give up at 4 x 12).
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
            const B loaded = PanelLoad<Element>::load(b + (v / kPanelVectors) * panel_stride + k * kPanelWidth +
                                                      (v % kPanelVectors) * W);
            w[v] = Rows > 1 ? in_register(loaded) : loaded;  // each weight vector feeds Rows FMAs
        }
#pragma GCC unroll 16
        for (std::size_t r = 0; r < Rows; ++r) {
            const B x(a[k * Rows + r]);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = fmadd(x, w[v], acc[r][v]);
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
                // in_register: GCC contracts a GELU's final multiply with the residual add into an
                // FMA in some inlining contexts and not in others; the residual must be added to
                // the rounded activation, as apply_activation() + an add would do.
                y = in_register(activate(y, out.activation));
                if (out.residual) y += load_partial<GemmArch>(out.residual + r * out.ldr + v * W, valid[v]);
            }
            store_partial<GemmArch>(c_row + v * W, y, valid[v]);
        }
    }
}

/// One micro-panel of 1..kTileRows rows against one panel.
template <class Element>
inline void gemm_tile_rows(std::size_t rows, std::size_t kc, const float* a, const Element* b, const TileOutput& out) {
    static_assert(kTileRows == 4, "the dispatch below covers 1..4 rows");
    switch (rows) {
        case 4: gemm_tile<4, 1>(kc, a, b, 0, out); break;
        case 3: gemm_tile<3, 1>(kc, a, b, 0, out); break;
        case 2: gemm_tile<2, 1>(kc, a, b, 0, out); break;
        default: gemm_tile<1, 1>(kc, a, b, 0, out); break;
    }
}

/// Rows [row_begin, row_end) x panels [panel_begin, panel_end) of C, blocked for the caches.
/// `scratch` holds min(MC, rows) * min(KC, K) floats, 64-byte aligned. Packed: PackedWeightsF32
/// or any type with the same panel layout and accessors (PackedWeightsF16).
template <class Packed>
inline void gemm_blocked(const float* a, std::size_t lda, std::size_t row_begin, std::size_t row_end,
                         const Packed& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                         std::size_t ldc, const Epilogue& ep, float* scratch) {
    const std::size_t k_total = w.cols();
    for (std::size_t i0 = row_begin; i0 < row_end; i0 += kBlockRows) {
        const std::size_t rows = std::min(kBlockRows, row_end - i0);
        for (std::size_t p0 = panel_begin; p0 < panel_end; p0 += kBlockPanels) {
            const std::size_t p1 = std::min(panel_end, p0 + kBlockPanels);
            // K blocks in increasing k, always at multiples of KC: the fixed summation order.
            // K = 0 still runs one (empty) block so that the epilogue writes C.
            std::size_t k0 = 0;
            do {
                const std::size_t kc = std::min(kBlockK, k_total - k0);
                const bool first = k0 == 0;
                const bool last = k0 + kc == k_total;
                pack_a_block(a + i0 * lda + k0, lda, rows, kc, scratch);
                for (std::size_t p = p0; p < p1; ++p) {
                    const auto* b = w.panel(p) + k0 * kPanelWidth;
                    for (std::size_t i = 0; i < rows; i += kTileRows) {
                        const TileOutput out =
                            tile_output(c, ldc, w.rows(), i0 + i, p * kPanelWidth, first, last, ep);
                        gemm_tile_rows(std::min(kTileRows, rows - i), kc, scratch + i * kc, b, out);
                    }
                }
                k0 += kc;
            } while (k0 < k_total);
        }
    }
}

/// Matrix-vector product for one row of A: streams panels [panel_begin, panel_end) once, four at
/// a time (12 independent FMA chains, four sequential read streams), no packing of A.
template <class Packed>
inline void gemv_panels(const float* a, const Packed& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                        const Epilogue& ep) {
    const std::size_t k = w.cols();
    const std::size_t stride = w.panel_stride();
    std::size_t p = panel_begin;
    for (; p + kGemvPanels <= panel_end; p += kGemvPanels)
        gemm_tile<1, kGemvPanels>(k, a, w.panel(p), stride, tile_output(c, 0, w.rows(), 0, p * kPanelWidth, true, true, ep));
    const TileOutput out = tile_output(c, 0, w.rows(), 0, p * kPanelWidth, true, true, ep);
    switch (panel_end - p) {
        case 3: gemm_tile<1, 3>(k, a, w.panel(p), stride, out); break;
        case 2: gemm_tile<1, 2>(k, a, w.panel(p), stride, out); break;
        case 1: gemm_tile<1, 1>(k, a, w.panel(p), stride, out); break;
        default: break;
    }
}

/// The whole GEMM (thread split, cache blocking, register tiles) for any packed weight type with
/// this file's panel layout and a PanelLoad for its element: gemm_f32 below, gemm_f16 in
/// gemm_f16.hpp. Instantiated per type, so each has its own inlined tiles (no indirect calls).
/// The level's own kernels (block_fn / gemv_fn, from the table the weights were packed for) take
/// the place of the portable templates when they are set.
template <class Packed>
inline void gemm_packed(const float* a, std::size_t lda, std::size_t m, const Packed& w, float* c, std::size_t ldc,
                        const Epilogue& ep, float* scratch, ThreadPool* pool, GemmBlockFn block_fn, GemvFn gemv_fn) {
    const std::size_t n = w.rows();
    const std::size_t k = w.cols();
    if (m == 0 || n == 0) return;
    assert(lda >= k && ldc >= n && (ep.residual == nullptr || ep.ldr >= n));
    const std::size_t panels = w.panels();
    // Tasks: at most one per thread, and only as many as the work pays for. How the work is split
    // never changes any output's arithmetic, so this choice cannot change the results.
    const std::size_t threads = pool ? pool->size() : 1;
    const std::size_t worth = std::max<std::size_t>(1, m * n * std::max<std::size_t>(k, 1) / kMinMacsPerTask);
    const std::size_t max_tasks = std::min(threads, worth);

    if (m == 1) {  // memory bound: split the weight stream between threads, never pack A
        const std::size_t tasks = std::min(max_tasks, panels);
        const PanelsRef ref = w.ref();
        auto run = [&](std::size_t t) {
            if (gemv_fn) gemv_fn(a, ref, panels * t / tasks, panels * (t + 1) / tasks, c, ep);
            else gemv_panels(a, w, panels * t / tasks, panels * (t + 1) / tasks, c, ep);
        };
        if (pool && tasks > 1) pool->parallel_for(tasks, run); else run(0);
        return;
    }

    float* aligned = reinterpret_cast<float*>(round_up(reinterpret_cast<std::uintptr_t>(scratch), 64));
    const std::size_t per_task = round_up(std::min(m, kBlockRows) * std::max<std::size_t>(1, std::min(k, kMaxBlockK)), 16);
    const PanelsRef ref = w.ref();

    // Many rows: each thread takes a band of whole row tiles and all panels (its A block stays in
    // its own L2). Few rows: each thread takes a range of panels and all rows, so each streams
    // only its share of the weights.
    const std::size_t row_tiles = (m + kTileRows - 1) / kTileRows;
    const bool split_rows = row_tiles >= 8 * max_tasks;
    const std::size_t tasks = std::min(max_tasks, split_rows ? row_tiles : panels);
    auto run = [&](std::size_t t) {
        float* buf = aligned + t * per_task;
        if (split_rows) {
            const std::size_t r0 = row_tiles * t / tasks * kTileRows;
            const std::size_t r1 = std::min(m, row_tiles * (t + 1) / tasks * kTileRows);
            if (block_fn) block_fn(a, lda, r0, r1, ref, 0, panels, c, ldc, ep, buf);
            else gemm_blocked(a, lda, r0, r1, w, 0, panels, c, ldc, ep, buf);
        } else {
            const std::size_t p0 = panels * t / tasks, p1 = panels * (t + 1) / tasks;
            if (block_fn) block_fn(a, lda, 0, m, ref, p0, p1, c, ldc, ep, buf);
            else gemm_blocked(a, lda, 0, m, w, p0, p1, c, ldc, ep, buf);
        }
    };
    if (pool && tasks > 1) pool->parallel_for(tasks, run); else run(0);
}

}  // namespace detail

/// Floats of scratch gemm_f32 needs for an [m x k] A on `threads` threads (the pool's size, or 1
/// without a pool): one MC x KC packing block per thread, plus slack for 64-byte alignment.
inline std::size_t gemm_f32_scratch_floats(std::size_t m, std::size_t k, std::size_t threads) {
    const std::size_t per_thread =
        detail::round_up(std::min(m, detail::kBlockRows) * std::max<std::size_t>(1, std::min(k, detail::kMaxBlockK)), 16);
    return std::max<std::size_t>(1, threads) * per_thread + 16;
}

/// C[m x N] = epilogue(A[m x K] * W^T), with N = w.rows(), K = w.cols(); A and C row-major with
/// row strides lda >= K and ldc >= N (floats). `scratch` holds gemm_f32_scratch_floats(m, K,
/// threads) floats (any alignment). `pool` may be null (one thread). Results do not depend on
/// the thread count or on m (see the file comment). C must not overlap A or ep.residual.
inline void gemm_f32(const float* a, std::size_t lda, std::size_t m, const PackedWeightsF32& w, float* c,
                     std::size_t ldc, const Epilogue& ep, float* scratch, ThreadPool* pool) {
    const KernelTable& kt = w.kernels();
    detail::gemm_packed(a, lda, m, w, c, ldc, ep, scratch, pool, kt.gemm_f32_block, kt.gemv_f32);
}

}  // namespace minibert::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
