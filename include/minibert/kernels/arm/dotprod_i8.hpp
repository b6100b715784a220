// aarch64 int8 tile on the Armv8.2 dot product (level dotprod; cpu/cpu_info.hpp detects it from
// HWCAP_ASIMDDP). SDOT multiplies signed bytes by signed bytes and adds each group of 4 products
// into an int32 lane with no narrower stage, so the codes go in as they are: no sign moving, no
// +128 shift, no column correction (i8_u8_form stays false), and the int32 sums are the exact
// ones every other level computes (kernels/gemm_common.hpp's contract).
//
// The packed panel layout is the common one (kernels/gemm_i8.hpp): a group is 64 bytes, 16 columns
// x 4 k, so one 16-byte load holds 4 columns x 4 k = one SDOT's weight operand. The by-element
// form (SDOT v.4s, v.16b, v.4b[lane]) takes the row's 4 codes of group g straight from a 16-byte
// load of 4 groups, so there is no broadcast in the loop.
//
// Register tile: 4 rows x 16 columns = 16 accumulators + 4 weights + 4 rows of codes (of 32 v
// registers); per 4 groups: 16 weight loads, 4 code loads, 64 SDOT.
// The function-level target (armv8.2-a+dotprod, target_region.hpp): a plain armv8-a build has this
// kernel, and the dispatch table calls it only where the CPU reports dotprod.
#pragma once

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm_common.hpp"
#include "../target_region.hpp"

MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_DOTPROD)
namespace minibert::kernels::isa_dotprod {

/// R rows (1..4) x one 16-column panel.
template <int R>
inline void i8_tile_panel(const std::int8_t* a, std::size_t lda, const std::int8_t* b, std::size_t groups,
                          std::int32_t* out) {
    int32x4_t acc[R][4];
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] = vdupq_n_s32(0);
    std::size_t g = 0;
    for (; g + 4 <= groups; g += 4) {
        int8x16_t rows[R];
        for (int r = 0; r < R; ++r) rows[r] = vld1q_s8(a + r * lda + 4 * g);
        // Lane t of a row's load is its group g + t: one weight group (64 bytes) per lane.
#define MINIBERT_DOTPROD_GROUP(t)                                                             \
    {                                                                                         \
        const std::int8_t* w = b + (g + t) * 64;                                              \
        const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32),       \
                        w3 = vld1q_s8(w + 48);                                                \
        for (int r = 0; r < R; ++r) {                                                         \
            acc[r][0] = vdotq_laneq_s32(acc[r][0], w0, rows[r], t);                           \
            acc[r][1] = vdotq_laneq_s32(acc[r][1], w1, rows[r], t);                           \
            acc[r][2] = vdotq_laneq_s32(acc[r][2], w2, rows[r], t);                           \
            acc[r][3] = vdotq_laneq_s32(acc[r][3], w3, rows[r], t);                           \
        }                                                                                     \
    }
        MINIBERT_DOTPROD_GROUP(0)
        MINIBERT_DOTPROD_GROUP(1)
        MINIBERT_DOTPROD_GROUP(2)
        MINIBERT_DOTPROD_GROUP(3)
#undef MINIBERT_DOTPROD_GROUP
    }
    for (; g < groups; ++g) {  // the last 1-3 groups: one broadcast 4-byte group per row
        const std::int8_t* w = b + g * 64;
        const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
        for (int r = 0; r < R; ++r) {
            std::int32_t four;
            std::memcpy(&four, a + r * lda + 4 * g, 4);
            const int8x16_t x = vreinterpretq_s8_s32(vdupq_n_s32(four));
            acc[r][0] = vdotq_s32(acc[r][0], w0, x);
            acc[r][1] = vdotq_s32(acc[r][1], w1, x);
            acc[r][2] = vdotq_s32(acc[r][2], w2, x);
            acc[r][3] = vdotq_s32(acc[r][3], w3, x);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < 4; ++c) vst1q_s32(out + r * detail::kI8TileStride + 4 * c, acc[r][c]);
}

/// The level's I8TileFn (kernels/dispatch.hpp): rows (<= 4) x panels, signed codes as they are.
inline void i8_tile(std::size_t rows, std::size_t panels, const std::int8_t* a, const std::uint8_t* /*aux*/,
                    std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                    const std::int32_t* /*init*/, std::int32_t* out) {
    for (std::size_t p = 0; p < panels; ++p) {
        const std::int8_t* w = b + p * panel_stride;
        std::int32_t* o = out + p * detail::kI8PanelWidth;
        switch (rows) {
            case 4: i8_tile_panel<4>(a, lda, w, groups, o); break;
            case 3: i8_tile_panel<3>(a, lda, w, groups, o); break;
            case 2: i8_tile_panel<2>(a, lda, w, groups, o); break;
            default: i8_tile_panel<1>(a, lda, w, groups, o); break;
        }
    }
}

}  // namespace minibert::kernels::isa_dotprod
MINIBERT_TARGET_END

#endif  // __aarch64__
