// What every GEMM kernel level shares: the epilogue description, the tile's output record, the
// view of packed panels a per-ISA kernel receives, and the ISA-independent scalar helpers.
//
// Nothing here is compiled per ISA; per-ISA kernels (x86/*.hpp) take these plain structs by
// pointer or reference across the dispatch boundary (kernels/dispatch.hpp), never SIMD values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "activations.hpp"

namespace minibert::kernels {

/// What happens to each output element once its dot product is complete, in this order:
/// + bias[j], activation, + residual[i * ldr + j]. Null pointers skip a step.
struct Epilogue {
    const float* bias = nullptr;                // [N] or null
    Activation activation = Activation::none;   // applied after the bias
    const float* residual = nullptr;            // [M x ldr] added after the activation, or null
    std::size_t ldr = 0;                        // row stride of residual, in floats
};

namespace detail {

constexpr std::size_t round_up(std::size_t x, std::size_t to) { return (x + to - 1) / to * to; }

// Blocking shared by every fp32/fp16 level (see gemm_f32.hpp): MC rows of A per block, KC inputs
// per block (256 for 8-float vectors, 128 for 16: the W micro-panel stays ~24 KiB), ~768 columns
// per column block, 4 panels at once for one row.
constexpr std::size_t kTileRows = 4;       // MR
constexpr std::size_t kBlockRows = 128;    // MC
constexpr std::size_t kMaxBlockK = 256;    // the largest KC of any level: sizes the scratch
constexpr std::size_t kGemvPanels = 4;
// Below this many multiply-adds per task, waking another thread costs more than it saves.
constexpr std::size_t kMinMacsPerTask = std::size_t(1) << 19;

/// Where a register tile's results go, and what to do with them.
struct TileOutput {
    float* c;                 // tile's top-left element of C
    std::size_t ldc;
    std::size_t cols;         // valid columns from c on (the rest is panel padding)
    bool first;               // first K block: start from zero, else resume from C
    bool last;                // last K block: apply the epilogue and store the final value
    const float* bias;        // at the tile's first column, or null
    Activation activation;
    const float* residual;    // at the tile's top-left element, or null
    std::size_t ldr;
};

/// The epilogue pointers for the tile starting at row i, column j.
inline TileOutput tile_output(float* c, std::size_t ldc, std::size_t n, std::size_t i, std::size_t j, bool first,
                              bool last, const Epilogue& ep) {
    TileOutput out;
    out.c = c + i * ldc + j;
    out.ldc = ldc;
    out.cols = n - j;
    out.first = first;
    out.last = last;
    out.bias = ep.bias ? ep.bias + j : nullptr;
    out.activation = ep.activation;
    out.residual = ep.residual ? ep.residual + i * ep.ldr + j : nullptr;
    out.ldr = ep.ldr;
    return out;
}

/// Packed fp32 or fp16 weights as a per-ISA kernel sees them (PackedPanels' storage).
struct PanelsRef {
    const void* data;          // panel 0, 64-byte aligned; float or uint16_t (fp16 bits)
    std::size_t rows;          // N
    std::size_t cols;          // K
    std::size_t panel_width;   // NR
    std::size_t panel_stride;  // elements between panels (K * NR)
};

/// Copies rows [0, rows) x k in [0, kc) of A into micro-panels of kTileRows rows, each k-major
/// (dst[k * tile_rows + r]); a last micro-panel of fewer rows uses its own row count as stride.
inline void pack_a_block(const float* a, std::size_t lda, std::size_t rows, std::size_t kc, float* dst) {
    for (std::size_t i = 0; i < rows; i += kTileRows) {
        const std::size_t tile_rows = std::min(kTileRows, rows - i);
        float* panel = dst + i * kc;
        if (tile_rows == kTileRows) {
            const float* r0 = a + i * lda;
            const float* r1 = r0 + lda;
            const float* r2 = r1 + lda;
            const float* r3 = r2 + lda;
            for (std::size_t k = 0; k < kc; ++k) {
                panel[4 * k + 0] = r0[k];
                panel[4 * k + 1] = r1[k];
                panel[4 * k + 2] = r2[k];
                panel[4 * k + 3] = r3[k];
            }
        } else {
            for (std::size_t r = 0; r < tile_rows; ++r)
                for (std::size_t k = 0; k < kc; ++k) panel[k * tile_rows + r] = a[(i + r) * lda + k];
        }
    }
}

/// The activation step of a per-ISA tile's epilogue: the portable apply_activation (xsimd at the
/// build's baseline width), kept out of line so that it is the very same code (and rounding)
/// whichever kernel level calls it, and whether fused or applied afterwards.
#if defined(__GNUC__)
__attribute__((noinline))
#endif
inline void apply_activation_baseline(float* x, std::size_t n, Activation act) {
    apply_activation(x, n, act);
}

/// Adds the residual after the activation (tile epilogue; exact order: act first, then +).
inline void add_rows(float* c, std::size_t ldc, const float* residual, std::size_t ldr, std::size_t rows,
                     std::size_t cols) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < cols; ++j) c[r * ldc + j] += residual[r * ldr + j];
}

// ---- int8 -------------------------------------------------------------------------------

/// Whether the build's baseline (the portable level's xsimd code) adds the int8 epilogue's bias by
/// one FMA: evaluated here, outside every target region (a region redefines __FMA__), so the
/// dispatched epilogues (x86/i8_epilogue_body.inl) round exactly as the portable one does.
#if defined(__FMA__) || defined(__aarch64__)
constexpr bool kBaselineFusedBias = true;
#else
constexpr bool kBaselineFusedBias = false;
#endif

constexpr std::size_t kI8PanelWidth = 16;  // columns per panel: 64 bytes per group of 4 k
constexpr std::size_t kI8Group = 4;        // k per 32-bit lane
// Rows per block (KernelTable::i8_block_rows): the block's codes (64 x K x 2 bytes, 384 KiB at
// K = 3072) stay in L2 while every panel streams past them; a panel (K x 16 bytes, 12 KiB at
// K = 768) stays in L1.
constexpr std::size_t kI8BlockRows = 64;
/// int8 weights above this many bytes are split between threads by panels when they outnumber
/// the rows (gemm_i8_quantized): about a core's L2 on the hosts measured (1-2 MiB).
constexpr std::size_t kI8StreamedWeightBytes = std::size_t(1) << 20;
constexpr std::size_t kI8TileRows = 4;     // rows per tile call on the vector levels (KernelTable::i8_tile_rows)
constexpr std::size_t kI8TileStride = 64;  // int32 between rows of a tile's output (4 panels)
/// The most any level asks for, which the shared buffers are sized by: rows per tile call (AMX:
/// 32, two 16-row tiles) and the multiple K is padded to (AMX: 64 k per tile row; the vector
/// levels: kI8Group).
constexpr std::size_t kI8MaxTileRows = 32;
constexpr std::size_t kI8MaxKAlign = 64;
/// Largest K whose int32 sums cannot overflow: K * 127 * 127 < 2^31.
constexpr std::size_t kI8MaxK = 2147483647u / (127u * 127u);

/// Portable int8 tile: rows x (panels * 16) exact int32 dot products of the signed codes `a`
/// (row stride lda) and the panels at b (panel_stride bytes apart), groups of 4 k:
/// out[r * kI8TileStride + 16 p + j] = sum_k a[r][k] * w[16 p + j][k]. Every level computes these
/// same integers (exact arithmetic has one answer); `aux` and `init` are the per-ISA operands.
inline void i8_tile_portable(std::size_t rows, std::size_t panels, const std::int8_t* a, const std::uint8_t* /*aux*/,
                             std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                             const std::int32_t* /*init*/, std::int32_t* out) {
    for (std::size_t r = 0; r < rows; ++r) {
        const std::int8_t* row = a + r * lda;
        for (std::size_t p = 0; p < panels; ++p) {
            std::int32_t acc[kI8PanelWidth] = {};
            const std::int8_t* w = b + p * panel_stride;
            for (std::size_t g = 0; g < groups; ++g)
                for (std::size_t j = 0; j < kI8PanelWidth; ++j)
                    for (std::size_t t = 0; t < kI8Group; ++t)
                        acc[j] += std::int32_t(row[4 * g + t]) * std::int32_t(w[64 * g + 4 * j + t]);
            std::copy(acc, acc + kI8PanelWidth, out + r * kI8TileStride + p * kI8PanelWidth);
        }
    }
}

}  // namespace detail
}  // namespace minibert::kernels
