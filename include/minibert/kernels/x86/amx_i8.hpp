// AMX int8 tiles (level amx): TDPBSSD multiplies a 16 x 64 tile of signed activation codes by a
// 16 x 64-byte tile of signed weight codes into a 16 x 16 tile of int32 sums, 16,384
// multiply-adds per instruction (a zmm vpdpbusd does 64). Like VNNI it has no int16 stage, and
// with signed x signed operands no +128 shift either: the tile starts at zero and the sums are
// the exact ones every level returns (int32 wraps modulo 2^32 and the true result fits).
//
// The packed weight panel (kernels/gemm_i8.hpp) is already AMX's B layout: a panel's group g is
// 64 bytes, 4 consecutive k for each of its 16 columns, which is one row of a B tile (K/4 rows x
// N*4 bytes). So 16 groups of a panel, 1 KiB contiguous with stride 64, are one B tile, and the
// only layout change the level asks for is K padded to a multiple of 64 (KernelTable::i8_k_align)
// so no tile straddles the end. A tile is 16 activation rows of 64 k (stride: the quantised rows'
// pitch); the scratch holds whole 32-row calls (gemm_i8_scratch_bytes), so the rows past m that a
// last partial tile loads are the scratch's own bytes, multiplied and never stored.
//
// Registers (palette 1, 8 tiles of 16 rows x 64 bytes; each thread checks the configuration once
// per GEMM and loads it if needed: another library in the process may load its own, as MLAS does).
// One call covers up to 32 rows (two row tiles) x 4 panels:
//   more than 16 rows (tile32, panels in pairs): C tmm0..3 = 2 row tiles x 2 panels, A tmm4/tmm5,
//     B tmm6/tmm7; per 64 k 2 A + 2 B loads feed 4 TDPBSSD, each weight byte loaded serves 32 rows;
//   16 rows or fewer (tile): C tmm0..3 = 4 panels, A tmm4, B alternating in tmm6/tmm7;
//     per 64 k 1 A + 4 B loads feed 4 TDPBSSD.
// The C tiles are stored once at the end into the caller's tile buffer (row stride kI8TileStride
// int32), then the level's epilogue (AVX-512, x86/i8_epilogue_body.inl) dequantises them as on
// the avx512vnni level.
//
// Linux hands a process the tile-data state only on request (cpu/cpu_info.hpp asks once; without
// the grant the level is not offered and a forced MINIBERT_ISA=amx is refused).
#pragma once

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm_common.hpp"
#include "../target_region.hpp"

MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AMX)

namespace minibert::kernels::isa_amx {

constexpr std::size_t kTileRows = 16;      // activation rows per tile
constexpr std::size_t kCallRows = 32;      // rows per i8_tile call: two tiles
// Rows per block (KernelTable::i8_block_rows): 256 rows of codes (192 KiB at K = 768, 768 KiB at
// K = 3072) sit in L2 while every panel passes once. bench_gemm_i8's BM_GemmI8AmxBlocking compares
// 64, 128 and 256 on BERT-base's shapes (docs/kernels.md): 64, the vector levels' choice, loses
// up to 1.4x at M = 1024, N = 3072, where the weights (2.4 MB) no longer fit L2 and stream once
// per block.
constexpr std::size_t kBlockRows = 256;
constexpr std::size_t kKStep = 64;         // k per tile row (bytes)
constexpr std::size_t kMaxPanels = 4;      // C tiles
constexpr std::size_t kGroupsPerStep = kKStep / detail::kI8Group;

/// LDTILECFG's 64-byte operand (Intel SDM, "TILECFG").
struct alignas(64) TileConfig {
    std::uint8_t palette_id;
    std::uint8_t start_row;
    std::uint8_t reserved[14];
    std::uint16_t colsb[16];
    std::uint8_t rows[16];
};
static_assert(sizeof(TileConfig) == 64, "LDTILECFG reads 64 bytes");

inline TileConfig wanted_config() noexcept {
    TileConfig c{};
    c.palette_id = 1;
    for (int t = 0; t < 8; ++t) {
        c.colsb[t] = 64;
        c.rows[t] = 16;
    }
    return c;
}

/// Loads this file's tile configuration unless the thread already has it (KernelTable::i8_begin:
/// once per thread per GEMM, not per tile; a store and compare cost ~5% of a 128 x 768 x 768
/// GEMM when done per tile). (Own asm, not
/// _tile_loadconfig / _tile_storeconfig: GCC 12's declare an 8-byte memory operand, so the
/// compiler would not know all 64 bytes are read or written.)
inline void ensure_config() noexcept {
    static const TileConfig wanted = wanted_config();
    TileConfig now;
    __asm__ volatile("sttilecfg %0" : "=m"(now));
    if (std::memcmp(&now, &wanted, sizeof now) != 0) __asm__ volatile("ldtilecfg %0" : : "m"(wanted));
}

/// 16 rows x Panels panels over `steps` x 64 k: out[r * kI8TileStride + 16 p + j].
template <std::size_t Panels>
inline void tile(const std::int8_t* a, std::size_t lda, const std::int8_t* b, std::size_t panel_stride,
                 std::size_t steps, std::int32_t* out) noexcept {
    constexpr std::size_t b_stride = detail::kI8PanelWidth * detail::kI8Group;  // 64 bytes per group
    constexpr std::size_t b_step = kGroupsPerStep * b_stride;                    // 1 KiB per 64 k
    _tile_zero(0);
    if constexpr (Panels > 1) _tile_zero(1);
    if constexpr (Panels > 2) _tile_zero(2);
    if constexpr (Panels > 3) _tile_zero(3);
    for (std::size_t s = 0; s < steps; ++s) {
        const std::int8_t* w = b + s * b_step;
        _tile_loadd(4, a + s * kKStep, lda);
        _tile_loadd(6, w, b_stride);
        _tile_dpbssd(0, 4, 6);
        if constexpr (Panels > 1) {
            _tile_loadd(7, w + panel_stride, b_stride);
            _tile_dpbssd(1, 4, 7);
        }
        if constexpr (Panels > 2) {
            _tile_loadd(6, w + 2 * panel_stride, b_stride);
            _tile_dpbssd(2, 4, 6);
        }
        if constexpr (Panels > 3) {
            _tile_loadd(7, w + 3 * panel_stride, b_stride);
            _tile_dpbssd(3, 4, 7);
        }
    }
    constexpr std::size_t out_stride = detail::kI8TileStride * sizeof(std::int32_t);
    _tile_stored(0, out, out_stride);
    if constexpr (Panels > 1) _tile_stored(1, out + 16, out_stride);
    if constexpr (Panels > 2) _tile_stored(2, out + 32, out_stride);
    if constexpr (Panels > 3) _tile_stored(3, out + 48, out_stride);
}

/// 32 rows x Panels (1 or 2) panels: C tmm0/tmm1 rows 0-15, tmm2/tmm3 rows 16-31; per 64 k two
/// A tiles and one B tile per panel feed 2 x Panels products, so each weight byte loaded serves
/// 32 rows (the weights stream from L2; a 32-row block of activations stays in L1).
template <std::size_t Panels>
inline void tile32(const std::int8_t* a, std::size_t lda, const std::int8_t* b, std::size_t panel_stride,
                   std::size_t steps, std::int32_t* out) noexcept {
    constexpr std::size_t b_stride = detail::kI8PanelWidth * detail::kI8Group;
    constexpr std::size_t b_step = kGroupsPerStep * b_stride;
    const std::int8_t* a1 = a + kTileRows * lda;
    _tile_zero(0);
    _tile_zero(2);
    if constexpr (Panels > 1) {
        _tile_zero(1);
        _tile_zero(3);
    }
    for (std::size_t s = 0; s < steps; ++s) {
        const std::int8_t* w = b + s * b_step;
        _tile_loadd(4, a + s * kKStep, lda);
        _tile_loadd(6, w, b_stride);
        _tile_loadd(5, a1 + s * kKStep, lda);
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(2, 5, 6);
        if constexpr (Panels > 1) {
            _tile_loadd(7, w + panel_stride, b_stride);
            _tile_dpbssd(1, 4, 7);
            _tile_dpbssd(3, 5, 7);
        }
    }
    constexpr std::size_t out_stride = detail::kI8TileStride * sizeof(std::int32_t);
    std::int32_t* out1 = out + kTileRows * detail::kI8TileStride;
    _tile_stored(0, out, out_stride);
    _tile_stored(2, out1, out_stride);
    if constexpr (Panels > 1) {
        _tile_stored(1, out + 16, out_stride);
        _tile_stored(3, out1 + 16, out_stride);
    }
}

/// Dispatch entry: up to 32 rows (i8_tile_rows) x 4 panels (i8_max_panels) of the signed codes
/// `a`; groups is a multiple of 16 (packing pads K to i8_k_align = 64); `aux` and `init` (the
/// u8 x s8 form's operands) are not needed. The thread's tile configuration is loaded
/// (ensure_config, through KernelTable::i8_begin) before the first call of a GEMM.
inline void i8_tile(std::size_t rows, std::size_t panels, const std::int8_t* a, const std::uint8_t* /*aux*/,
                    std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                    const std::int32_t* /*init*/, std::int32_t* out) {
    const std::size_t steps = groups / kGroupsPerStep;
    if (rows > kTileRows) {  // two row tiles: panels in pairs
        for (std::size_t p = 0; p < panels; p += 2) {
            const std::int8_t* w = b + p * panel_stride;
            if (panels - p >= 2) tile32<2>(a, lda, w, panel_stride, steps, out + p * detail::kI8PanelWidth);
            else tile32<1>(a, lda, w, panel_stride, steps, out + p * detail::kI8PanelWidth);
        }
        return;
    }
    switch (panels) {
        case 4: tile<4>(a, lda, b, panel_stride, steps, out); break;
        case 3: tile<3>(a, lda, b, panel_stride, steps, out); break;
        case 2: tile<2>(a, lda, b, panel_stride, steps, out); break;
        default: tile<1>(a, lda, b, panel_stride, steps, out); break;
    }
}

}  // namespace minibert::kernels::isa_amx

MINIBERT_TARGET_END

#endif  // x86-64
