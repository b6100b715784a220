// Scaled dot-product attention for one sequence and one head:
//   out_i = sum_j softmax_j(q_i . k_j * scale [+ bias_{j-i}]) v_j
// The optional bias is a function of the relative position j - i (MPNet's relative position
// bias, layers/relative_position.hpp): `bias` points at relative distance 0 and bias[j - i] is
// read for every score, added after the scaling as transformers adds it.
//
// Padding never reaches this kernel: batches are packed, so every key is a real token and the
// attention mask is implied by the sequence length. No [s x s] tensor is formed (let alone
// [heads x s x s]): queries go in blocks of kAttentionQueryBlock rows against all keys, so the
// scratch is one block of score rows plus the head's packed keys (attention_scratch_floats()).
//
// Per (sequence, head) on one thread:
//   1. pack K once: panels of NR = 3 SIMD widths (24 on AVX2) keys, d-major
//      (panel[c * NR + j] = k_j[c]), zero-padded to whole panels, so Q K^T is a small GEMM whose
//      inner loop reads NR contiguous floats per step, exactly like gemm_f32's weight panels.
//      V is used in place (its rows are contiguous in d) unless d is not a multiple of the SIMD
//      width (TinyBERT-312: d = 26), then it is copied once into rows padded with zeros.
//   2. per block of query rows: S = Q K^T with a register tile of 4 rows x 24 keys (12
//      accumulators, all 16 ymm registers, as the GEMM's), then per row: max, e = exp(s * scale
//      - max * scale), sum (vectorised, padded keys masked with -inf so they give exactly 0),
//      then O = E V with a 4 rows x 24 columns tile, each output scaled by 1 / sum at the store.
//
// Fixed summation order (the determinism promise): every score is the FMA chain over c = 0..d-1,
// every output the FMA chain over j = 0..s-1, both from zero; the row max and the sum of
// exponentials are reduced lane-wise over the row in increasing j, then across lanes. None of it
// depends on which block, tile, thread or batch a row lands in, so results are bit-identical for
// any thread count and batch composition.
//
// Numerics against the reference (softmax(q k^T / sqrt(d)) v): the scale is a multiplication by
// 1/sqrt(d) (exact for d = 64, <= 1 ulp otherwise) and the normalisation is applied to the output
// rather than to the probabilities (one rounding moved); both are ~1e-7 relative.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>

#include "dispatch.hpp"
#include "gemm_f32.hpp"  // detail::in_register
#include "simd.hpp"

#if defined(__GNUC__) && !defined(__clang__)  // see activations.hpp: GCC PR 105593
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace minibert::kernels {

/// Keys per packed K panel (NR): 3 SIMD widths, the width of the score tile.
constexpr std::size_t kAttentionKeyPanel = 3 * float_lanes;
/// Query rows per block: the block's scores (32 x s floats: 18 KiB at s = 128) and Q rows stay
/// in L1/L2 while K and V stream past them.
constexpr std::size_t kAttentionQueryBlock = 32;

namespace attention_detail {

constexpr std::size_t round_up(std::size_t x, std::size_t to) { return (x + to - 1) / to * to; }

/// Floats between score rows: whole key panels, so the score tile never needs a partial store.
constexpr std::size_t score_stride(std::size_t s) { return round_up(s, kAttentionKeyPanel); }

/// Floats between rows of V as the kernel reads them when V has to be copied (d not a multiple of
/// the SIMD width); 0 when V is read in place.
constexpr std::size_t padded_value_stride(std::size_t d) { return d % float_lanes == 0 ? 0 : round_up(d, float_lanes); }

/// The register tile of both products: C[r][v*W ..] = sum_k A[r][k] * B[k][v*W ..], k in [0, kdim),
/// as one FMA chain per element. A is read by broadcast (row r at a + r*lda), B as Vecs full
/// vectors per k (at b + k*ldb). Rows x Vecs <= 12 accumulators. The results are multiplied by
/// row_scale[r] (if not null) and stored, the last vector only to `last_valid` lanes.
template <std::size_t Rows, std::size_t Vecs>
inline void attention_tile(std::size_t kdim, const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c,
                           std::size_t ldc, const float* row_scale, std::size_t last_valid) {
    using B = FloatBatch;
    constexpr std::size_t W = float_lanes;
    static_assert(Rows * Vecs <= 12, "the tile must leave registers for loads and broadcasts");
    B acc[Rows][Vecs];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = B(0.0f);
    for (std::size_t k = 0; k < kdim; ++k) {
        B w[Vecs];
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            const B loaded = B::load_unaligned(b + k * ldb + v * W);
            w[v] = Rows > 1 ? detail::in_register(loaded) : loaded;  // see gemm_f32.hpp
        }
#pragma GCC unroll 16
        for (std::size_t r = 0; r < Rows; ++r) {
            const B x(a[r * lda + k]);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = fmadd(x, w[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
        const B factor(row_scale ? row_scale[r] : 1.0f);
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            const B y = row_scale ? acc[r][v] * factor : acc[r][v];
            if (v + 1 < Vecs) y.store_unaligned(c + r * ldc + v * W);
            else kernels::detail::store_partial<Arch>(c + r * ldc + v * W, y, last_valid);
        }
    }
}

/// C[rows x vecs*W] over kdim steps for any rows (in tiles of 4) and vecs in 1..3.
template <std::size_t Vecs>
inline void attention_rows(std::size_t rows, std::size_t kdim, const float* a, std::size_t lda, const float* b,
                           std::size_t ldb, float* c, std::size_t ldc, const float* row_scale, std::size_t last_valid) {
    std::size_t r = 0;
    for (; r + 4 <= rows; r += 4)
        attention_tile<4, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, row_scale ? row_scale + r : nullptr,
                                last_valid);
    const float* rs = row_scale ? row_scale + r : nullptr;
    switch (rows - r) {
        case 3: attention_tile<3, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, rs, last_valid); break;
        case 2: attention_tile<2, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, rs, last_valid); break;
        case 1: attention_tile<1, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, rs, last_valid); break;
        default: break;
    }
}

/// Turns raw scores x[0..n) into e_j = exp(x_j * scale - max * scale) in place and returns their
/// sum. x must have room for round_up(n, W) floats; the lanes past n are overwritten with -inf
/// so that whole vectors can be used and those lanes contribute exactly 0.
inline float exponentiate_scores(float* x, std::size_t n, float scale) noexcept {
    const std::size_t padded = round_up(n, float_lanes);
    for (std::size_t j = n; j < padded; ++j) x[j] = -std::numeric_limits<float>::infinity();
    FloatBatch vmax = FloatBatch::load_unaligned(x);
    for (std::size_t j = float_lanes; j < padded; j += float_lanes) vmax = xsimd::max(vmax, FloatBatch::load_unaligned(x + j));
    // scale > 0, so max(x * scale) == max(x) * scale, rounded the same way.
    const FloatBatch vshift(reduce_max(vmax) * scale);
    const FloatBatch vscale(scale);
    FloatBatch vsum(0.0f);
    for (std::size_t j = 0; j < padded; j += float_lanes) {
        const FloatBatch e = xsimd::exp(FloatBatch::load_unaligned(x + j) * vscale - vshift);
        e.store_unaligned(x + j);
        vsum += e;
    }
    return xsimd::hadd(vsum);
}

}  // namespace attention_detail

/// Floats of scratch one thread needs to run attention on sequences of up to `max_length`
/// tokens with head dimension `head_dim`: the packed keys, the padded copy of V (only when
/// head_dim is not a multiple of the SIMD width), and one block of score rows.
/// Sized for the widest kernel level (the AVX2 / AVX-512 levels, x86/attention_body.inl, pack
/// with their own vector width), so one Session serves a model of any level.
inline std::size_t attention_scratch_floats(std::size_t max_length, std::size_t head_dim) noexcept {
    using namespace attention_detail;
    const std::size_t s = std::max<std::size_t>(max_length, 1);
    std::size_t most = 0;
    for (std::size_t w : {float_lanes, std::size_t(8), std::size_t(16)}) {
        const std::size_t stride = round_up(s, 3 * w), vstride = head_dim % w == 0 ? 0 : round_up(head_dim, w);
        most = std::max(most, stride * head_dim + s * vstride + kAttentionQueryBlock * stride + w);
    }
    return most;
}

/// Prepares one (sequence, head) for attention_query_rows(): packs K into key panels and, when
/// head_dim is not a multiple of the SIMD width, copies V into zero-padded rows.
/// k, v: row j at k + j*ld (head slices of the fused QKV matrix); s keys of d floats.
/// scratch: attention_scratch_floats(>= s, d) floats (any alignment).
inline void attention_pack_head(const float* k, const float* v, std::size_t ld, std::size_t s, std::size_t d,
                                float* scratch) noexcept {
    using namespace attention_detail;
    constexpr std::size_t NR = kAttentionKeyPanel;
    float* packed_k = scratch;
    for (std::size_t j0 = 0; j0 < s; j0 += NR) {
        float* panel = packed_k + j0 * d;
        const std::size_t keys = std::min(NR, s - j0);
        for (std::size_t j = 0; j < keys; ++j) {
            const float* kj = k + (j0 + j) * ld;
            for (std::size_t c = 0; c < d; ++c) panel[c * NR + j] = kj[c];
        }
        for (std::size_t j = keys; j < NR; ++j)
            for (std::size_t c = 0; c < d; ++c) panel[c * NR + j] = 0.0f;
    }
    const std::size_t vstride = padded_value_stride(d);
    if (vstride != 0) {
        float* padded_v = packed_k + score_stride(s) * d;
        for (std::size_t j = 0; j < s; ++j) {
            std::copy(v + j * ld, v + j * ld + d, padded_v + j * vstride);
            std::fill(padded_v + j * vstride + d, padded_v + (j + 1) * vstride, 0.0f);
        }
    }
}

/// Attention output rows [row_begin, row_end) of one (sequence, head) prepared by
/// attention_pack_head() with the same scratch, s, d and ld. q: row i at q + i*ld; v as given
/// to attention_pack_head(); out: row i at out + i*ldo (d floats).
inline void attention_query_rows(const float* q, const float* v, std::size_t ld, std::size_t s, std::size_t d,
                                 float scale, std::size_t row_begin, std::size_t row_end, float* out, std::size_t ldo,
                                 float* scratch, const float* bias = nullptr) noexcept {
    using namespace attention_detail;
    constexpr std::size_t W = float_lanes;
    constexpr std::size_t NR = kAttentionKeyPanel;
    const std::size_t stride = score_stride(s);
    const float* packed_k = scratch;
    const std::size_t vstride = padded_value_stride(d);
    const float* values = vstride ? packed_k + stride * d : v;
    const std::size_t ldv = vstride ? vstride : ld;
    float* scores = scratch + stride * d + s * vstride;
    float inv_sum[kAttentionQueryBlock];

    for (std::size_t i0 = row_begin; i0 < row_end; i0 += kAttentionQueryBlock) {
        const std::size_t rows = std::min(kAttentionQueryBlock, row_end - i0);
        const float* q_block = q + i0 * ld;
        // S = Q K^T, one key panel at a time (the panel stays in L1 across the block's rows).
        for (std::size_t j0 = 0; j0 < s; j0 += NR)
            attention_rows<3>(rows, d, q_block, ld, packed_k + j0 * d, NR, scores + j0, stride, nullptr, W);
        for (std::size_t r = 0; r < rows; ++r) {
            float* x = scores + r * stride;
            if (bias) {  // x * scale + bias, then softmax of that (scale 1: exact)
                const float* b = bias - (i0 + r);
                for (std::size_t j = 0; j < s; ++j) x[j] = x[j] * scale + b[j];
            }
            inv_sum[r] = 1.0f / exponentiate_scores(x, s, bias ? 1.0f : scale);
        }
        // O = E V / sum, in column chunks of 3 vectors, and 2 + 2 rather than 3 + 1 for a remainder
        // of 4 (d = 26 or 32 pads to 4 vectors): a 4 x 1 tile has only 4 FMA chains, half what
        // keeps both FMA pipes busy. The last vector may be partial.
        float* out_block = out + i0 * ldo;
        const std::size_t total_vecs = (d + W - 1) / W;
        for (std::size_t c0 = 0; c0 < d;) {
            const std::size_t left = total_vecs - c0 / W;
            const std::size_t vecs = left == 4 || left == 2 ? 2 : std::min<std::size_t>(3, left);
            const std::size_t cols = std::min(vecs * W, d - c0);
            const std::size_t last_valid = cols - (vecs - 1) * W;
            switch (vecs) {
                case 3: attention_rows<3>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
                case 2: attention_rows<2>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
                default: attention_rows<1>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
            }
            c0 += cols;
        }
    }
}

/// attention_pack_head() with the kernels of level `kt` (its own, or the portable one above).
inline void attention_pack_head(const KernelTable& kt, const float* k, const float* v, std::size_t ld, std::size_t s,
                                std::size_t d, float* scratch) {
    if (kt.attention_pack_head) kt.attention_pack_head(k, v, ld, s, d, scratch);
    else attention_pack_head(k, v, ld, s, d, scratch);
}

/// attention_query_rows() with the kernels of level `kt`; pack with the same level.
inline void attention_query_rows(const KernelTable& kt, const float* q, const float* v, std::size_t ld, std::size_t s,
                                 std::size_t d, float scale, std::size_t row_begin, std::size_t row_end, float* out,
                                 std::size_t ldo, float* scratch, const float* bias = nullptr) {
    if (kt.attention_query_rows) kt.attention_query_rows(q, v, ld, s, d, scale, row_begin, row_end, out, ldo, scratch, bias);
    else attention_query_rows(q, v, ld, s, d, scale, row_begin, row_end, out, ldo, scratch, bias);
}

/// The whole of one (sequence, head) on the calling thread: out_i = softmax(q_i K^T * scale) V.
/// q, k, v: row i at q + i*ld (head slices of the fused QKV matrix), head_dim d; out: row i at
/// out + i*ldo, d floats. scratch: attention_scratch_floats(>= s, d) floats.
inline void attention_head(const float* q, const float* k, const float* v, std::size_t ld, std::size_t s,
                           std::size_t d, float scale, float* out, std::size_t ldo, float* scratch) noexcept {
    if (s == 0) return;
    attention_pack_head(k, v, ld, s, d, scratch);
    attention_query_rows(q, v, ld, s, d, scale, 0, s, out, ldo, scratch);
}

/// attention_head() with the kernels of level `kt`.
inline void attention_head(const KernelTable& kt, const float* q, const float* k, const float* v, std::size_t ld,
                           std::size_t s, std::size_t d, float scale, float* out, std::size_t ldo, float* scratch) {
    if (s == 0) return;
    attention_pack_head(kt, k, v, ld, s, d, scratch);
    attention_query_rows(kt, q, v, ld, s, d, scale, 0, s, out, ldo, scratch);
}

}  // namespace minibert::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
