// VNNI int8 tiles in the u8 x s8 form (levels avxvnni, avx512vnni): vpdpbusd multiplies the
// activation as an unsigned byte by the signed weight and adds each group of 4 products into an
// int32 lane, with no int16 stage, so it cannot saturate. The activation goes in shifted,
// u = q + 128 in [1, 255], and the accumulators start at init[j] = -128 * sum_k w[j][k] (computed
// once at packing, PackedWeightsI8::column_init), so
//     init[j] + sum_k (q[k] + 128) w[j][k] = sum_k q[k] w[j][k]
// bit for bit: int32 arithmetic wraps modulo 2^32 and the true result fits, so the sum is exact
// even where an intermediate would not. No vpsignb and one broadcast per row per group of 4 k.
//
//   isa_avxvnni     256-bit VEX vpdpbusd (AVX-VNNI: Alder Lake and later cores; not Zen 4),
//                   4 rows x 1 panel: 8 accumulators + 2 weights + 1 broadcast of 16 ymm.
//   isa_avx512vnni  512-bit EVEX vpdpbusd, one zmm = one group of a 16-column panel,
//                   4 rows x up to 4 panels: 16 accumulators + 4 weights + 1 broadcast of 32 zmm;
//                   per group 4 weight loads + 4 broadcasts feed 16 vpdpbusd.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../gemm_common.hpp"
#include "../target_region.hpp"

// ---- AVX-VNNI (ymm) ----
MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AVXVNNI)

namespace minibert::kernels::isa_avxvnni {

template <std::size_t Rows>
inline void tile(const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::size_t groups,
                 const std::int32_t* init, std::int32_t* out) noexcept {
    const __m256i init0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init));
    const __m256i init1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init + 8));
    __m256i acc[Rows][2];
#pragma GCC unroll 4
    for (std::size_t r = 0; r < Rows; ++r) {
        acc[r][0] = init0;
        acc[r][1] = init1;
    }
    for (std::size_t g = 0; g < groups; ++g) {
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 64 * g));
        const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 64 * g + 32));
#pragma GCC unroll 4
        for (std::size_t r = 0; r < Rows; ++r) {
            std::int32_t bytes;
            std::memcpy(&bytes, a + r * lda + 4 * g, 4);
            const __m256i u = _mm256_set1_epi32(bytes);
            acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], u, w0);
            acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], u, w1);
        }
    }
#pragma GCC unroll 4
    for (std::size_t r = 0; r < Rows; ++r) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * detail::kI8TileStride), acc[r][0]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * detail::kI8TileStride + 8), acc[r][1]);
    }
}

/// Dispatch entry: `aux` holds the u8 (q + 128) rows; init the panels' column corrections.
inline void i8_tile(std::size_t rows, std::size_t panels, const std::int8_t* /*a*/, const std::uint8_t* aux,
                    std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                    const std::int32_t* init, std::int32_t* out) {
    for (std::size_t p = 0; p < panels; ++p) {
        const std::int8_t* w = b + p * panel_stride;
        const std::int32_t* in = init + p * detail::kI8PanelWidth;
        std::int32_t* o = out + p * detail::kI8PanelWidth;
        switch (rows) {
            case 4: tile<4>(aux, lda, w, groups, in, o); break;
            case 3: tile<3>(aux, lda, w, groups, in, o); break;
            case 2: tile<2>(aux, lda, w, groups, in, o); break;
            default: tile<1>(aux, lda, w, groups, in, o); break;
        }
    }
}

}  // namespace minibert::kernels::isa_avxvnni

MINIBERT_TARGET_END

// ---- AVX-512 VNNI (zmm) ----
MINIBERT_TARGET_BEGIN(MINIBERT_TARGETS_AVX512VNNI)

namespace minibert::kernels::isa_avx512vnni {

template <std::size_t Rows, std::size_t Panels>
inline void tile(const std::uint8_t* a, std::size_t lda, const std::int8_t* b, std::size_t panel_stride,
                 std::size_t groups, const std::int32_t* init, std::int32_t* out) noexcept {
    __m512i acc[Rows][Panels];
#pragma GCC unroll 4
    for (std::size_t p = 0; p < Panels; ++p) {
        const __m512i in = _mm512_loadu_si512(init + 16 * p);
#pragma GCC unroll 4
        for (std::size_t r = 0; r < Rows; ++r) acc[r][p] = in;
    }
    for (std::size_t g = 0; g < groups; ++g) {
        __m512i w[Panels];
#pragma GCC unroll 4
        for (std::size_t p = 0; p < Panels; ++p) w[p] = _mm512_load_si512(b + p * panel_stride + 64 * g);
#pragma GCC unroll 4
        for (std::size_t r = 0; r < Rows; ++r) {
            std::int32_t bytes;
            std::memcpy(&bytes, a + r * lda + 4 * g, 4);
            const __m512i u = _mm512_set1_epi32(bytes);
#pragma GCC unroll 4
            for (std::size_t p = 0; p < Panels; ++p) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], u, w[p]);
        }
    }
#pragma GCC unroll 4
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 4
        for (std::size_t p = 0; p < Panels; ++p) _mm512_storeu_si512(out + r * detail::kI8TileStride + 16 * p, acc[r][p]);
}

template <std::size_t Rows>
inline void tile_rows(std::size_t panels, const std::uint8_t* a, std::size_t lda, const std::int8_t* b,
                      std::size_t panel_stride, std::size_t groups, const std::int32_t* init, std::int32_t* out) {
    switch (panels) {
        case 4: tile<Rows, 4>(a, lda, b, panel_stride, groups, init, out); break;
        case 3: tile<Rows, 3>(a, lda, b, panel_stride, groups, init, out); break;
        case 2: tile<Rows, 2>(a, lda, b, panel_stride, groups, init, out); break;
        default: tile<Rows, 1>(a, lda, b, panel_stride, groups, init, out); break;
    }
}

/// Dispatch entry: up to 4 panels per call (i8_max_panels 4); `aux` holds the u8 rows.
inline void i8_tile(std::size_t rows, std::size_t panels, const std::int8_t* /*a*/, const std::uint8_t* aux,
                    std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                    const std::int32_t* init, std::int32_t* out) {
    switch (rows) {
        case 4: tile_rows<4>(panels, aux, lda, b, panel_stride, groups, init, out); break;
        case 3: tile_rows<3>(panels, aux, lda, b, panel_stride, groups, init, out); break;
        case 2: tile_rows<2>(panels, aux, lda, b, panel_stride, groups, init, out); break;
        default: tile_rows<1>(panels, aux, lda, b, panel_stride, groups, init, out); break;
    }
}

}  // namespace minibert::kernels::isa_avx512vnni

MINIBERT_TARGET_END

#endif  // x86-64
