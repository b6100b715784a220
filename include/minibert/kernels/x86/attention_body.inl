// Scaled dot-product attention of one kernel level: kernels/attention.hpp's algorithm (read its
// file comment: packed key panels of 3 vector widths, register tiles of rows x vectors, exp of the scaled
// scores, normalisation at the store), written once on the level's vector vocabulary and
// included in its target region and namespace after vector_math.inl. No include guard.
// Same fixed summation orders as the portable kernel, so each level is deterministic across
// threads, query splits and batch compositions; its exp is vexp (x86/vector_math.inl).

constexpr std::size_t kAttnKeyPanel = 3 * kW;
/// Accumulators a register tile may hold: 12 of AVX2's 16 ymm registers, 24 of AVX-512's 32 zmm
/// (the rest hold the tile's B vectors and a broadcast). Rows per tile follow from it, so the
/// AVX-512 level runs Q K^T as 8 rows x 3 vectors and E V (d = 64) as 6 rows x 4 vectors in one
/// pass: more FMAs per load than the 4-row tiles the portable kernel shares with AVX2. A tile's
/// shape never changes an output's FMA chain (one per element, over k in order), so the results
/// are the same bits whatever the tile.
constexpr std::size_t kAttnAccumulators = kW == 16 ? 24 : 12;
/// Most vectors of output columns per E V pass.
constexpr std::size_t kAttnMaxVecs = kW == 16 ? 4 : 3;
constexpr std::size_t attn_tile_rows(std::size_t vecs) noexcept { return std::min<std::size_t>(kAttnAccumulators / vecs, 8); }
inline std::size_t attn_score_stride(std::size_t s) noexcept { return detail::round_up(s, kAttnKeyPanel); }
inline std::size_t attn_value_stride(std::size_t d) noexcept { return d % kW == 0 ? 0 : detail::round_up(d, kW); }

template <std::size_t Rows, std::size_t Vecs>
inline void attn_tile(std::size_t kdim, const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c,
                      std::size_t ldc, const float* row_scale, std::size_t last_valid) {
    vf acc[Rows][Vecs];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = vzero();
    for (std::size_t k = 0; k < kdim; ++k) {
        vf w[Vecs];
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            const vf loaded = vload_partial(b + k * ldb + v * kW, kW);
            w[v] = Rows > 1 ? in_reg(loaded) : loaded;
        }
#pragma GCC unroll 16
        for (std::size_t r = 0; r < Rows; ++r) {
            const vf x = vset1(a[r * lda + k]);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = vfmadd(x, w[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
        const vf factor = vset1(row_scale ? row_scale[r] : 1.0f);
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            const vf y = row_scale ? vmul(acc[r][v], factor) : acc[r][v];
            vstore_partial(c + r * ldc + v * kW, y, v + 1 < Vecs ? kW : last_valid);
        }
    }
}

/// rows x Vecs*kW outputs over kdim steps: tiles of attn_tile_rows(Vecs) rows, then at most one
/// tile of 4 and one of 1-3 rows for the remainder.
template <std::size_t Vecs>
inline void attn_rows(std::size_t rows, std::size_t kdim, const float* a, std::size_t lda, const float* b,
                      std::size_t ldb, float* c, std::size_t ldc, const float* row_scale, std::size_t last_valid) {
    constexpr std::size_t R = attn_tile_rows(Vecs);
    std::size_t r = 0;
    for (; r + R <= rows; r += R)
        attn_tile<R, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, row_scale ? row_scale + r : nullptr,
                           last_valid);
    if constexpr (R > 4) {
        if (r + 4 <= rows) {
            attn_tile<4, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, row_scale ? row_scale + r : nullptr,
                               last_valid);
            r += 4;
        }
    }
    const float* rs = row_scale ? row_scale + r : nullptr;
    switch (rows - r) {
        case 3: attn_tile<3, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, rs, last_valid); break;
        case 2: attn_tile<2, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, rs, last_valid); break;
        case 1: attn_tile<1, Vecs>(kdim, a + r * lda, lda, b, ldb, c + r * ldc, ldc, rs, last_valid); break;
        default: break;
    }
}

/// e_j = exp(x_j * scale - max * scale) in place over whole vectors (lanes past n set to -inf
/// give exactly 0); returns the sum, reduced lane-wise in increasing j, then across lanes.
inline float attn_exponentiate(float* x, std::size_t n, float scale) {
    const std::size_t padded = detail::round_up(n, kW);
    for (std::size_t j = n; j < padded; ++j) x[j] = -__builtin_inff();
    vf vmx = vload_partial(x, kW);
    for (std::size_t j = kW; j < padded; j += kW) vmx = vmax(vmx, vload_partial(x + j, kW));
    alignas(64) float lanes[kW];
    vstore_partial(lanes, vmx, kW);
    float mx = lanes[0];
    for (std::size_t l = 1; l < kW; ++l) mx = lanes[l] > mx ? lanes[l] : mx;
    // x * scale - max * scale as one fused step (one rounding, as the AVX2 build's contracted
    // xsimd code computed it).
    const vf vshift = vset1(-(mx * scale)), vscale = vset1(scale);
    vf vsum = vzero();
    for (std::size_t j = 0; j < padded; j += kW) {
        const vf e = vexp(vfmadd(vload_partial(x + j, kW), vscale, vshift));
        vstore_partial(x + j, e, kW);
        vsum = vadd(vsum, e);
    }
    vstore_partial(lanes, vsum, kW);
    float sum = 0.0f;
    for (std::size_t l = 0; l < kW; ++l) sum += lanes[l];
    return sum;
}

/// Dispatch entry (kernels::attention_pack_head's contract, this level's panel width).
inline void attention_pack_head(const float* k, const float* v, std::size_t ld, std::size_t s, std::size_t d,
                                float* scratch) {
    constexpr std::size_t NR = kAttnKeyPanel;
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
    const std::size_t vstride = attn_value_stride(d);
    if (vstride != 0) {
        float* padded_v = packed_k + attn_score_stride(s) * d;
        for (std::size_t j = 0; j < s; ++j) {
            for (std::size_t c = 0; c < d; ++c) padded_v[j * vstride + c] = v[j * ld + c];
            for (std::size_t c = d; c < vstride; ++c) padded_v[j * vstride + c] = 0.0f;
        }
    }
}

/// Dispatch entry (kernels::attention_query_rows's contract).
inline void attention_query_rows(const float* q, const float* v, std::size_t ld, std::size_t s, std::size_t d,
                                 float scale, std::size_t row_begin, std::size_t row_end, float* out, std::size_t ldo,
                                 float* scratch, const float* bias) {
    constexpr std::size_t NR = kAttnKeyPanel;
    constexpr std::size_t block = 32;  // kernels::kAttentionQueryBlock
    const std::size_t stride = attn_score_stride(s);
    const float* packed_k = scratch;
    const std::size_t vstride = attn_value_stride(d);
    const float* values = vstride ? packed_k + stride * d : v;
    const std::size_t ldv = vstride ? vstride : ld;
    float* scores = scratch + stride * d + s * vstride;
    float inv_sum[block];
    for (std::size_t i0 = row_begin; i0 < row_end; i0 += block) {
        const std::size_t rows = std::min(block, row_end - i0);
        const float* q_block = q + i0 * ld;
        for (std::size_t j0 = 0; j0 < s; j0 += NR)
            attn_rows<3>(rows, d, q_block, ld, packed_k + j0 * d, NR, scores + j0, stride, nullptr, kW);
        for (std::size_t r = 0; r < rows; ++r) {
            float* x = scores + r * stride;
            if (bias) {  // relative position bias, after the scaling (kernels/attention.hpp)
                const float* b = bias - (i0 + r);
                for (std::size_t j = 0; j < s; ++j) x[j] = x[j] * scale + b[j];
            }
            inv_sum[r] = 1.0f / attn_exponentiate(x, s, bias ? 1.0f : scale);
        }
        float* out_block = out + i0 * ldo;
        const std::size_t total_vecs = (d + kW - 1) / kW;
        for (std::size_t c0 = 0; c0 < d;) {
            // All that is left in one pass if it fits, else the widest pass, except that one more
            // than fits goes in two near-halves (AVX2, d = 32: 2 + 2, not 3 + 1, whose 1-vector
            // tile has too few FMA chains to keep both pipes busy).
            const std::size_t left = total_vecs - c0 / kW;
            const std::size_t vecs = left <= kAttnMaxVecs ? left : left == kAttnMaxVecs + 1 ? (left + 1) / 2 : kAttnMaxVecs;
            const std::size_t cols = std::min(vecs * kW, d - c0);
            const std::size_t last_valid = cols - (vecs - 1) * kW;
            switch (vecs) {
                case 4: attn_rows<4>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
                case 3: attn_rows<3>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
                case 2: attn_rows<2>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
                default: attn_rows<1>(rows, s, scores, stride, values + c0, ldv, out_block + c0, ldo, inv_sum, last_valid); break;
            }
            c0 += cols;
        }
    }
}
