// int8 GEMM for linear layers: C = epilogue(dequant(quant(A) * Wq^T)), W in PyTorch's [out x in].
//
//   1. A's rows are quantised (kernels/quantize.hpp: per row at run time, or one static scale)
//      into int8 codes and their magnitudes, K padded to a multiple of 4 (scratch, once per call).
//   2. Every output is an exact int32 dot product of codes: acc[i][j] = sum_k qa[i][k] * qw[j][k].
//   3. Epilogue, per tile row: y = acc * (row_scale[i] * col_scale[j]) (+ bias[j] as one FMA,
//      where the build's baseline has FMA; SSE2 multiplies then adds), then the level's
//      activation, + residual[i][j]; the same steps as gemm_f32's epilogue. The x86 SIMD levels
//      run it at their width with the activation in register (KernelTable::i8_epilogue,
//      x86/i8_epilogue_body.inl); the portable level stores the row segment, then applies
//      KernelTable::activation to it (detail::i8_tile_epilogue). Same roundings either way.
//
// Packed weight layout (the same on every ISA, so a folder packs identically everywhere): the N
// outputs are cut into panels of 16 columns (the last zero-padded); a panel holds Kp / 4 groups
// of 64 bytes, group g = for each column j, its codes k = 4g .. 4g+3:
//     panel[g * 64 + 4 * j + t] = Wq[p * 16 + j][4 g + t]
// so one 32-byte load gives 8 columns x 4 k, the shape vpmaddubsw + vpmaddwd reduce into 8 int32
// lanes, and 16 consecutive groups are one AMX B tile (x86/amx_i8.hpp). Kp is K rounded up to 4,
// or to 64 on the amx level (KernelTable::i8_k_align); the padding codes are zero, so the sums
// are the same. Resident bytes: ceil(N / 16) * 16 * (Kp + 8), weights plus scales and the
// u8 x s8 column corrections.
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
#include "dispatch.hpp"
#include "gemm_common.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace minibert::kernels {

/// int8 weights of one linear layer with one fp32 scale per output channel, packed once into
/// 16-column panels (see the file comment).
class PackedWeightsI8 {
public:
    static constexpr std::size_t panel_width = detail::kI8PanelWidth;

    PackedWeightsI8() = default;

    /// Packs codes q [n x k] (row-major, each in [-127, 127]) with scales [n]. K must be below
    /// kI8MaxK (the caller checks both at the API edge; asserted here).
    PackedWeightsI8(const std::int8_t* q, const float* scales, std::size_t n, std::size_t k,
                    const KernelTable& table = packing_kernels())
        : rows_(n), cols_(k), padded_cols_(detail::round_up(k, table.i8_k_align)), kernels_(&table),
          data_(detail::round_up(n, panel_width) * padded_cols_), scales_(detail::round_up(n, panel_width)),
          column_init_(detail::round_up(n, panel_width)) {
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
        for (std::size_t j = 0; j < n; ++j) scales_.data()[j] = scales[j];  // (std::copy: a GCC 12 false -Wstringop-overflow)
        // The u8 x s8 (VNNI) tiles' starting sums: -128 * sum_k w[j][k], in wrapping int32 (see
        // x86/vnni_i8.hpp). Computed for every level (4 bytes per output), so the layout is one.
        for (std::size_t j = 0; j < column_init_.size(); ++j) {
            std::uint32_t sum = 0;
            if (j < n)
                for (std::size_t kk = 0; kk < k; ++kk) sum += static_cast<std::uint32_t>(static_cast<std::int32_t>(q[j * k + kk]));
            column_init_.data()[j] = static_cast<std::int32_t>(0u - sum * 128u);
        }
    }

    /// Quantises fp32 weights w [n x k] per output channel (max|row| / 127) and packs them.
    static PackedWeightsI8 quantize(const float* w, std::size_t n, std::size_t k,
                                    const KernelTable& table = packing_kernels()) {
        std::vector<std::int8_t> q(n * k);
        std::vector<float> scales(n);
        // The level's row quantiser (dynamic scale max|row| / 127): the same codes as
        // quantize_rows_symmetric for finite weights, but vectorised in a flagless build, where
        // the scalar rule's std::nearbyint is a libm call per weight (load time).
        std::vector<std::uint8_t> aux(k);
        for (std::size_t r = 0; r < n; ++r)
            scales[r] = table.quantize_row(w + r * k, k, k, 0.0f, q.data() + r * k, aux.data(), false);
        return PackedWeightsI8(q.data(), scales.data(), n, k, table);
    }

    std::size_t rows() const noexcept { return rows_; }
    std::size_t cols() const noexcept { return cols_; }
    /// K rounded up to the level's multiple (KernelTable::i8_k_align: 4, or 64 for AMX).
    std::size_t padded_cols() const noexcept { return padded_cols_; }
    std::size_t groups() const noexcept { return padded_cols_ / detail::kI8Group; }
    std::size_t panels() const noexcept { return (rows_ + panel_width - 1) / panel_width; }
    std::size_t panel_stride() const noexcept { return padded_cols_ * panel_width; }
    const std::int8_t* panel(std::size_t p) const noexcept { return data_.data() + p * panel_stride(); }
    /// Per-output scales, zero-padded to whole panels.
    const float* scales() const noexcept { return scales_.data(); }
    /// -128 * sum_k Wq[j][k] per output (wrapping int32), zero-padded to whole panels: where the
    /// u8 x s8 tiles start their sums.
    const std::int32_t* column_init() const noexcept { return column_init_.data(); }
    /// The kernels these weights were packed for.
    const KernelTable& kernels() const noexcept { return kernels_ ? *kernels_ : kernel_table(Isa::portable); }
    std::size_t bytes() const noexcept { return data_.bytes() + scales_.bytes() + column_init_.bytes(); }

private:
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t padded_cols_ = 0;
    const KernelTable* kernels_ = nullptr;
    AlignedBuffer<std::int8_t> data_;
    AlignedBuffer<float> scales_;
    AlignedBuffer<std::int32_t> column_init_;
};

namespace detail {

/// A's codes as the tiles read them.
struct QuantizedRows {
    const std::int8_t* q;
    const std::uint8_t* aux;   // |q| (sign scheme) or q + 128 (u8 form), as the level wants
    std::size_t ld;            // bytes between rows (padded K)
    const float* row_scales;   // [m]
};

/// Where results go: raw int32 sums (tests, benchmarks) or the dequantising epilogue into C.
struct I8Output {
    std::int32_t* raw = nullptr;  // if set: raw[i * ldc + j] = acc, no epilogue
    float* c = nullptr;
    std::size_t ldc = 0;
    Epilogue ep;
    ActivationFn activation = detail::apply_activation_baseline;  // the level's (KernelTable)
};

/// Stores one panel's sums: acc [rows x 16] (row stride kI8TileStride) for rows from i, columns
/// from j (valid: cols).
inline void i8_tile_epilogue(const std::int32_t* acc, std::size_t rows, std::size_t i, std::size_t j, std::size_t cols,
                             const QuantizedRows& a, const float* col_scales, const I8Output& out) {
    using B = xsimd::batch<float, KernelArch>;
    using I = xsimd::batch<std::int32_t, KernelArch>;
    constexpr std::size_t W = B::size;
    static_assert(kI8PanelWidth % W == 0, "a panel is whole SIMD vectors");
    for (std::size_t r = 0; r < rows; ++r) {
        if (out.raw) {
            std::memcpy(out.raw + (i + r) * out.ldc + j, acc + r * kI8TileStride, cols * sizeof(std::int32_t));
            continue;
        }
        const B row_scale(a.row_scales[i + r]);
        for (std::size_t v = 0; v * W < cols; ++v) {
            const std::size_t valid = std::min(W, cols - v * W);
            const B sums = xsimd::to_float(I::load_unaligned(acc + r * kI8TileStride + v * W));
            const B scale = row_scale * B::load_unaligned(col_scales + j + v * W);
            B y = out.ep.bias ? fmadd(sums, scale, load_partial<KernelArch>(out.ep.bias + j + v * W, valid))
                              : sums * scale;
            // in_register: keep GCC from contracting the scaling multiply with the residual add
            // (the residual is added to the rounded value; see gemm_f32's epilogue).
            if (out.ep.residual && out.ep.activation == Activation::none)
                y = in_register(y) + load_partial<KernelArch>(out.ep.residual + (i + r) * out.ep.ldr + j + v * W, valid);
            store_partial<KernelArch>(out.c + (i + r) * out.ldc + j + v * W, y, valid);
        }
        if (out.ep.activation != Activation::none) {  // the level's activation, then the residual
            float* row = out.c + (i + r) * out.ldc + j;
            out.activation(row, cols, out.ep.activation);
            if (out.ep.residual) detail::add_rows(row, out.ldc, out.ep.residual + (i + r) * out.ep.ldr + j, out.ep.ldr, 1, cols);
        }
    }
}

/// Rows [row_begin, row_end) x panels [panel_begin, panel_end): the level's tile (up to 4 rows x
/// i8_max_panels panels per call), then the shared epilogue per panel.
inline void gemm_i8_block(const QuantizedRows& a, std::size_t row_begin, std::size_t row_end, const PackedWeightsI8& w,
                          std::size_t panel_begin, std::size_t panel_end, const I8Output& out) {
    const KernelTable& kt = w.kernels();
    const std::size_t tile_rows = kt.i8_tile_rows;
    if (kt.i8_begin) kt.i8_begin();
    alignas(64) std::int32_t acc[kI8MaxTileRows * kI8TileStride];
    for (std::size_t i0 = row_begin; i0 < row_end; i0 += kt.i8_block_rows) {
        const std::size_t i1 = std::min(row_end, i0 + kt.i8_block_rows);
        for (std::size_t p = panel_begin; p < panel_end; p += kt.i8_max_panels) {
            const std::size_t np = std::min(kt.i8_max_panels, panel_end - p);
            for (std::size_t i = i0; i < i1; i += tile_rows) {
                const std::size_t rows = std::min(tile_rows, i1 - i);
                kt.i8_tile(rows, np, a.q + i * a.ld, a.aux + i * a.ld, a.ld, w.panel(p), w.panel_stride(), w.groups(),
                           w.column_init() + p * kI8PanelWidth, acc);
                if (kt.i8_epilogue && !out.raw) {  // the level's epilogue: all np panels at once
                    const std::size_t j = p * kI8PanelWidth, cols = std::min(np * kI8PanelWidth, w.rows() - j);
                    const Epilogue& ep = out.ep;
                    kt.i8_epilogue(acc, kI8TileStride, rows, cols, a.row_scales + i, w.scales() + j,
                                   ep.bias ? ep.bias + j : nullptr, ep.activation,
                                   ep.residual ? ep.residual + i * ep.ldr + j : nullptr, ep.ldr,
                                   out.c + i * out.ldc + j, out.ldc);
                    continue;
                }
                for (std::size_t pp = 0; pp < np; ++pp) {
                    const std::size_t j = (p + pp) * kI8PanelWidth;
                    i8_tile_epilogue(acc + pp * kI8PanelWidth, rows, i, j, std::min(kI8PanelWidth, w.rows() - j), a,
                                     w.scales(), out);
                }
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
    const std::size_t tile_rows = w.kernels().i8_tile_rows;
    const std::size_t row_tiles = (m + tile_rows - 1) / tile_rows;
    // A band of rows per thread streams every weight panel through each core; a range of panels
    // per thread streams every row's codes. Rows, when there are enough of them, unless the
    // weights are the larger operand (n > m) and too big to stay in a core's L2: then each core
    // streams only its share of them (BERT-base at s128: the QKV and FFN matrices; docs/kernels.md,
    // "2 threads"). Small weights keep the row split: whole 4-panel tile calls, balanced.
    // Rows split in whole tile calls (AMX: 32 rows), so only the last call of m is partial.
    const bool weights_stream = n > m && n * w.padded_cols() > kI8StreamedWeightBytes;
    const bool split_rows = !weights_stream && row_tiles * tile_rows >= 8 * kI8TileRows * max_tasks;
    const std::size_t tasks = std::min(max_tasks, split_rows ? row_tiles : panels);
    auto run = [&](std::size_t t) {
        if (split_rows) {
            const std::size_t r0 = row_tiles * t / tasks * tile_rows;
            const std::size_t r1 = std::min(m, row_tiles * (t + 1) / tasks * tile_rows);
            gemm_i8_block(a, r0, r1, w, 0, panels, out);
        } else {
            gemm_i8_block(a, 0, m, w, panels * t / tasks, panels * (t + 1) / tasks, out);
        }
    };
    if (pool && tasks > 1) pool->parallel_for(tasks, run); else run(0);
}

/// Bytes of one carved code array: m rows of width kp, rows rounded up to whole tiles of the
/// largest tile call (kI8MaxTileRows): an AMX call on the last rows loads all 32 from here.
inline std::size_t quantized_rows_bytes(std::size_t m, std::size_t kp) {
    return round_up(round_up(m, kI8MaxTileRows) * kp, 64);
}

/// Carves the scratch for m quantised rows of padded width kp.
inline QuantizedRows carve_quantized_rows(void* scratch, std::size_t m, std::size_t kp, float*& row_scales,
                                          std::int8_t*& q, std::uint8_t*& aux) {
    auto* base = reinterpret_cast<std::uint8_t*>(round_up(reinterpret_cast<std::uintptr_t>(scratch), 64));
    q = reinterpret_cast<std::int8_t*>(base);
    aux = base + quantized_rows_bytes(m, kp);
    row_scales = reinterpret_cast<float*>(base + 2 * quantized_rows_bytes(m, kp));
    return QuantizedRows{q, aux, kp, row_scales};
}

}  // namespace detail

/// Bytes of scratch gemm_i8 / gemm_i8_int32 need for m rows of K inputs (any thread count, any
/// level): the rows' codes and magnitudes (K padded as the most demanding level pads it, rows to
/// whole tiles), their scales, and alignment slack.
inline std::size_t gemm_i8_scratch_bytes(std::size_t m, std::size_t k) {
    const std::size_t kp = detail::round_up(k, detail::kI8MaxKAlign);
    return 2 * detail::quantized_rows_bytes(m, kp) + detail::round_up(m * sizeof(float), 64) + 64;
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
    std::uint8_t* aux;
    const QuantizedRows rows = carve_quantized_rows(scratch, m, kp, row_scales, q, aux);
    const KernelTable& kt = w.kernels();
    auto quantize = [&](std::size_t t, std::size_t tasks) {
        for (std::size_t i = m * t / tasks; i < m * (t + 1) / tasks; ++i)
            row_scales[i] = kt.quantize_row(a + i * lda, k, kp, static_scale, q + i * kp, aux + i * kp, kt.i8_u8_form);
    };
    const std::size_t threads = pool ? pool->size() : 1;
    // A thread pays from 32,768 inputs (about 10 us of quantising against a ~1 us hand-off), so
    // an s128 row block of width 768 is split between 2 threads.
    const std::size_t qtasks = std::min(threads, std::max<std::size_t>(1, m * k / 32768));
    if (pool && qtasks > 1) pool->parallel_for(qtasks, [&](std::size_t t) { quantize(t, qtasks); });
    else quantize(0, 1);
    I8Output out;
    out.c = c;
    out.ldc = ldc;
    out.ep = ep;
    out.activation = kt.activation;
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
    std::uint8_t* aux;
    const QuantizedRows rows = carve_quantized_rows(scratch, m, kp, row_scales, q, aux);
    const bool u8_form = w.kernels().i8_u8_form;
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t kk = 0; kk < kp; ++kk) {
            const std::int8_t v = kk < k ? a[i * lda + kk] : std::int8_t(0);
            q[i * kp + kk] = v;
            aux[i * kp + kk] = u8_form ? static_cast<std::uint8_t>(v + 128) : static_cast<std::uint8_t>(v < 0 ? -v : v);
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
