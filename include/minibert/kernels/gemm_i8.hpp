// int8 GEMM for linear layers: C = epilogue(dequant(quant(A) * Wq^T)), W in PyTorch's [out x in].
//
//   1. A's rows are quantised (kernels/quantize.hpp: per row at run time, or one static scale)
//      into int8 codes and their magnitudes, K padded to a multiple of 4 (scratch, once per call).
//   2. Every output is an exact int32 dot product of codes: acc[i][j] = sum_k qa[i][k] * qw[j][k].
//   3. Epilogue, fused per output: y = acc * (row_scale[i] * col_scale[j]) (+ bias[j] as one FMA,
//      where the ISA has FMA; SSE2 multiplies then adds),
//      activation, + residual[i][j]; the same steps as gemm_f32's epilogue.
//
// Packed weight layout (the same on every ISA, so a folder packs identically everywhere): the N
// outputs are cut into panels of 16 columns (the last zero-padded); a panel holds ceil(K / 4)
// groups of 64 bytes, group g = for each column j, its codes k = 4g .. 4g+3:
//     panel[g * 64 + 4 * j + t] = Wq[p * 16 + j][4 g + t]
// so one 32-byte load gives 8 columns x 4 k, the shape vpmaddubsw + vpmaddwd reduce into 8 int32
// lanes. Resident bytes: ceil(N / 16) * 16 * (ceil(K / 4) * 4 + 4), weights plus scales.
//
// Saturation: none, by construction; see x86/avx2_i8.hpp. Exactness: int32 sums are exact for
// K < 133,000 (checked at packing), so every acc is the mathematically exact dot product and the
// result cannot depend on the order of k, the thread count, the tile a row lands in, or the other
// rows of the batch (dynamic scales are per row). Bit-identical across runs and thread counts.
//
// Register tile (AVX2): 4 rows x 16 columns = 8 ymm accumulators; per group of 4 k it issues
// 8 x (vpsignb, vpmaddubsw, vpmaddwd, vpaddd) for 2 weight loads and 8 broadcasts.
// Threads split rows (many rows) or panels (few rows), never K, as gemm_f32 does.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "../numeric/aligned_buffer.hpp"
#include "../numeric/qint8.hpp"
#include "../parallel/thread_pool.hpp"
#include "activations.hpp"
#include "gemm_f32.hpp"
#include "quantize.hpp"
#include "x86/avx2_i8.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace minibert::kernels {

namespace detail {

constexpr std::size_t kI8PanelWidth = 16;  // columns per panel: two vectors of 8 int32 lanes
constexpr std::size_t kI8Group = 4;        // k per 32-bit lane
constexpr std::size_t kI8TileRows = 4;
// Rows per block: the block's codes (64 x K x 2 bytes, 384 KiB at K = 3072) stay in L2 while
// every panel streams past them; a panel (K x 16 bytes, 12 KiB at K = 768) stays in L1.
constexpr std::size_t kI8BlockRows = 64;
/// Largest K whose int32 sums cannot overflow: K * 127 * 127 < 2^31.
constexpr std::size_t kI8MaxK = 2147483647u / (127u * 127u);

/// Portable dot tile: the same int32 sums as the AVX2 one (exact arithmetic has one answer).
template <std::size_t Rows>
inline void i8_dot_tile(const std::int8_t* a, const std::uint8_t* /*a_abs*/, std::size_t lda, const std::int8_t* b,
                        std::size_t groups, std::int32_t* out, xsimd::kernel::requires_arch<xsimd::generic>) noexcept {
    for (std::size_t r = 0; r < Rows; ++r) {
        std::int32_t acc[kI8PanelWidth] = {};
        const std::int8_t* row = a + r * lda;
        for (std::size_t g = 0; g < groups; ++g)
            for (std::size_t j = 0; j < kI8PanelWidth; ++j)
                for (std::size_t t = 0; t < kI8Group; ++t)
                    acc[j] += std::int32_t(row[4 * g + t]) * std::int32_t(b[64 * g + 4 * j + t]);
        std::memcpy(out + r * kI8PanelWidth, acc, sizeof acc);
    }
}

}  // namespace detail

/// int8 weights of one linear layer with one fp32 scale per output channel, packed once into
/// 16-column panels (see the file comment).
class PackedWeightsI8 {
public:
    static constexpr std::size_t panel_width = detail::kI8PanelWidth;

    PackedWeightsI8() = default;

    /// Packs codes q [n x k] (row-major, each in [-127, 127]) with scales [n]. K must be below
    /// kI8MaxK (the caller checks both at the API edge; asserted here).
    PackedWeightsI8(const std::int8_t* q, const float* scales, std::size_t n, std::size_t k)
        : rows_(n), cols_(k), padded_cols_(detail::round_up(k, detail::kI8Group)),
          data_(detail::round_up(n, panel_width) * padded_cols_), scales_(detail::round_up(n, panel_width)) {
        assert(k < detail::kI8MaxK);
        assert(std::find(q, q + n * k, std::int8_t(-128)) == q + n * k);
        // Each column's codes move 4 at a time (one group = one 32-bit lane of the panel); the
        // buffer starts zeroed, so a last partial group and absent columns are zero padding.
        const std::size_t whole = k / detail::kI8Group, tail = k % detail::kI8Group;
        for (std::size_t p = 0; p < panels(); ++p) {
            std::int8_t* dst = data_.data() + p * panel_stride();
            const std::size_t valid = std::min(panel_width, n - p * panel_width);
            for (std::size_t j = 0; j < valid; ++j) {
                const std::int8_t* src = q + (p * panel_width + j) * k;
                std::int8_t* col = dst + 4 * j;
                for (std::size_t g = 0; g < whole; ++g) std::memcpy(col + g * 64, src + 4 * g, 4);
                if (tail) std::memcpy(col + whole * 64, src + 4 * whole, tail);
            }
        }
        std::copy(scales, scales + n, scales_.data());
    }

    /// Quantises fp32 weights w [n x k] per output channel (max|row| / 127) and packs them.
    static PackedWeightsI8 quantize(const float* w, std::size_t n, std::size_t k) {
        std::vector<std::int8_t> q(n * k);
        std::vector<float> scales(n);
        quantize_rows_symmetric(w, n, k, q.data(), scales.data());
        return PackedWeightsI8(q.data(), scales.data(), n, k);
    }

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    /// K rounded up to a multiple of 4.
    std::size_t padded_cols() const noexcept { return padded_cols_; }
    std::size_t groups() const noexcept { return padded_cols_ / detail::kI8Group; }
    std::size_t panels() const noexcept { return (rows_ + panel_width - 1) / panel_width; }
    std::size_t panel_stride() const noexcept { return padded_cols_ * panel_width; }
    const std::int8_t* panel(std::size_t p) const noexcept { return data_.data() + p * panel_stride(); }
    /// Per-output scales, zero-padded to whole panels.
    const float* scales() const noexcept { return scales_.data(); }
    std::size_t bytes() const noexcept { return data_.bytes() + scales_.bytes(); }

private:
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t padded_cols_ = 0;
    AlignedBuffer<std::int8_t> data_;
    AlignedBuffer<float> scales_;
};

namespace detail {

/// A's codes as the tiles read them.
struct QuantizedRows {
    const std::int8_t* q;
    const std::uint8_t* q_abs;
    std::size_t ld;            // bytes between rows (padded K)
    const float* row_scales;   // [m]
};

/// Where results go: raw int32 sums (tests, benchmarks) or the dequantising epilogue into C.
struct I8Output {
    std::int32_t* raw = nullptr;  // if set: raw[i * ldc + j] = acc, no epilogue
    float* c = nullptr;
    std::size_t ldc = 0;
    Epilogue ep;
};

/// Stores one tile's sums: acc [rows x 16] for rows from i, columns from j (valid: cols).
inline void i8_tile_epilogue(const std::int32_t* acc, std::size_t rows, std::size_t i, std::size_t j, std::size_t cols,
                             const QuantizedRows& a, const float* col_scales, const I8Output& out) {
    using B = xsimd::batch<float, KernelArch>;
    using I = xsimd::batch<std::int32_t, KernelArch>;
    constexpr std::size_t W = B::size;
    static_assert(kI8PanelWidth % W == 0, "a panel is whole SIMD vectors");
    for (std::size_t r = 0; r < rows; ++r) {
        if (out.raw) {
            std::memcpy(out.raw + (i + r) * out.ldc + j, acc + r * kI8PanelWidth, cols * sizeof(std::int32_t));
            continue;
        }
        const B row_scale(a.row_scales[i + r]);
        for (std::size_t v = 0; v * W < cols; ++v) {
            const std::size_t valid = std::min(W, cols - v * W);
            const B sums = xsimd::to_float(I::load_unaligned(acc + r * kI8PanelWidth + v * W));
            const B scale = row_scale * B::load_unaligned(col_scales + j + v * W);
            B y = out.ep.bias ? fmadd(sums, scale, load_partial<KernelArch>(out.ep.bias + j + v * W, valid))
                              : sums * scale;
            // in_register: keep GCC from contracting the activation's last multiply with the
            // residual add (see gemm_f32's epilogue); the residual is added to the rounded value.
            y = in_register(activate(y, out.ep.activation));
            if (out.ep.residual)
                y += load_partial<KernelArch>(out.ep.residual + (i + r) * out.ep.ldr + j + v * W, valid);
            store_partial<KernelArch>(out.c + (i + r) * out.ldc + j + v * W, y, valid);
        }
    }
}

template <std::size_t Rows>
inline void i8_tile(const QuantizedRows& a, std::size_t i, const PackedWeightsI8& w, std::size_t p, const I8Output& out) {
    alignas(64) std::int32_t acc[Rows * kI8PanelWidth];
    i8_dot_tile<Rows>(a.q + i * a.ld, a.q_abs + i * a.ld, a.ld, w.panel(p), w.groups(), acc, IntrinsicsArch{});
    const std::size_t j = p * kI8PanelWidth;
    i8_tile_epilogue(acc, Rows, i, j, std::min(kI8PanelWidth, w.rows() - j), a, w.scales(), out);
}

/// Rows [row_begin, row_end) x panels [panel_begin, panel_end).
inline void gemm_i8_block(const QuantizedRows& a, std::size_t row_begin, std::size_t row_end, const PackedWeightsI8& w,
                          std::size_t panel_begin, std::size_t panel_end, const I8Output& out) {
    for (std::size_t i0 = row_begin; i0 < row_end; i0 += kI8BlockRows) {
        const std::size_t i1 = std::min(row_end, i0 + kI8BlockRows);
        for (std::size_t p = panel_begin; p < panel_end; ++p) {
            std::size_t i = i0;
            for (; i + kI8TileRows <= i1; i += kI8TileRows) i8_tile<4>(a, i, w, p, out);
            switch (i1 - i) {
                case 3: i8_tile<3>(a, i, w, p, out); break;
                case 2: i8_tile<2>(a, i, w, p, out); break;
                case 1: i8_tile<1>(a, i, w, p, out); break;
                default: break;
            }
        }
    }
}

/// Splits the product of already-quantised rows between the pool's threads.
inline void gemm_i8_quantized(const QuantizedRows& a, std::size_t m, const PackedWeightsI8& w, const I8Output& out,
                              ThreadPool* pool) {
    const std::size_t n = w.rows(), k = w.cols();
    if (m == 0 || n == 0) return;
    const std::size_t panels = w.panels();
    const std::size_t threads = pool ? pool->size() : 1;
    // int8 does ~2x the work per cycle of fp32, so a task needs twice the multiply-adds to pay.
    const std::size_t worth = std::max<std::size_t>(1, m * n * std::max<std::size_t>(k, 1) / (2 * kMinMacsPerTask));
    const std::size_t max_tasks = std::min(threads, worth);
    const std::size_t row_tiles = (m + kI8TileRows - 1) / kI8TileRows;
    const bool split_rows = row_tiles >= 8 * max_tasks;
    const std::size_t tasks = std::min(max_tasks, split_rows ? row_tiles : panels);
    auto run = [&](std::size_t t) {
        if (split_rows) {
            const std::size_t r0 = row_tiles * t / tasks * kI8TileRows;
            const std::size_t r1 = std::min(m, row_tiles * (t + 1) / tasks * kI8TileRows);
            gemm_i8_block(a, r0, r1, w, 0, panels, out);
        } else {
            gemm_i8_block(a, 0, m, w, panels * t / tasks, panels * (t + 1) / tasks, out);
        }
    };
    if (pool && tasks > 1) pool->parallel_for(tasks, run); else run(0);
}

/// Carves the scratch for m quantised rows of padded width kp.
inline QuantizedRows carve_quantized_rows(void* scratch, std::size_t m, std::size_t kp, float*& row_scales,
                                          std::int8_t*& q, std::uint8_t*& q_abs) {
    auto* base = reinterpret_cast<std::uint8_t*>(round_up(reinterpret_cast<std::uintptr_t>(scratch), 64));
    q = reinterpret_cast<std::int8_t*>(base);
    q_abs = base + round_up(m * kp, 64);
    row_scales = reinterpret_cast<float*>(base + 2 * round_up(m * kp, 64));
    return QuantizedRows{q, q_abs, kp, row_scales};
}

}  // namespace detail

/// Bytes of scratch gemm_i8 / gemm_i8_int32 need for m rows of K inputs (any thread count):
/// the rows' codes and magnitudes, their scales, and alignment slack.
inline std::size_t gemm_i8_scratch_bytes(std::size_t m, std::size_t k) {
    const std::size_t kp = detail::round_up(k, detail::kI8Group);
    return 2 * detail::round_up(m * kp, 64) + detail::round_up(m * sizeof(float), 64) + 64;
}

/// C[m x N] = epilogue(dequant(quant(A) Wq^T)): A [m x K] fp32 (row stride lda), quantised per
/// row when static_scale == 0 (dynamic) or with static_scale (> 0); N = w.rows(), K = w.cols().
/// `scratch` holds gemm_i8_scratch_bytes(m, K) bytes; `pool` may be null. Results are
/// bit-identical for any thread count, and a row's result depends only on that row.
inline void gemm_i8(const float* a, std::size_t lda, std::size_t m, const PackedWeightsI8& w, float static_scale, float* c,
                    std::size_t ldc, const Epilogue& ep, void* scratch, ThreadPool* pool) {
    using namespace detail;
    if (m == 0 || w.rows() == 0) return;
    assert(lda >= w.cols() && ldc >= w.rows() && (ep.residual == nullptr || ep.ldr >= w.rows()));
    const std::size_t k = w.cols(), kp = w.padded_cols();
    float* row_scales;
    std::int8_t* q;
    std::uint8_t* q_abs;
    const QuantizedRows rows = carve_quantized_rows(scratch, m, kp, row_scales, q, q_abs);
    auto quantize = [&](std::size_t t, std::size_t tasks) {
        for (std::size_t i = m * t / tasks; i < m * (t + 1) / tasks; ++i)
            row_scales[i] = quantize_row_for_gemm(a + i * lda, k, kp, static_scale, q + i * kp, q_abs + i * kp);
    };
    const std::size_t threads = pool ? pool->size() : 1;
    const std::size_t qtasks = std::min(threads, std::max<std::size_t>(1, m * k / 65536));
    if (qtasks > 1) pool->parallel_for(qtasks, [&](std::size_t t) { quantize(t, qtasks); });
    else quantize(0, 1);
    I8Output out;
    out.c = c;
    out.ldc = ldc;
    out.ep = ep;
    gemm_i8_quantized(rows, m, w, out, pool);
}

/// Exact integer product for tests and benchmarks: c[i * ldc + j] = sum_k a[i][k] * Wq[j][k]
/// with a [m x K] codes in [-127, 127] (row stride lda bytes); no scales, no epilogue.
/// `scratch` holds gemm_i8_scratch_bytes(m, K) bytes.
inline void gemm_i8_int32(const std::int8_t* a, std::size_t lda, std::size_t m, const PackedWeightsI8& w,
                          std::int32_t* c, std::size_t ldc, void* scratch, ThreadPool* pool) {
    using namespace detail;
    const std::size_t k = w.cols(), kp = w.padded_cols();
    float* row_scales;
    std::int8_t* q;
    std::uint8_t* q_abs;
    const QuantizedRows rows = carve_quantized_rows(scratch, m, kp, row_scales, q, q_abs);
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t kk = 0; kk < kp; ++kk) {
            const std::int8_t v = kk < k ? a[i * lda + kk] : std::int8_t(0);
            q[i * kp + kk] = v;
            q_abs[i * kp + kk] = static_cast<std::uint8_t>(v < 0 ? -v : v);
        }
        row_scales[i] = 1.0f;
    }
    I8Output out;
    out.raw = c;
    out.ldc = ldc;
    gemm_i8_quantized(rows, m, w, out, pool);
}

}  // namespace minibert::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
