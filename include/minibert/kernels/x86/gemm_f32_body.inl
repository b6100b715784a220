// The fp32/fp16 GEMM of one kernel level, written once on a thin vector vocabulary and included
// inside each level's target region and namespace (x86/avx2_gemm.hpp, x86/avx512_gemm.hpp), the
// way Highway's foreach_target re-includes code per target. No include guard: on purpose.
//
// The including file defines, in its namespace: vf (the float vector), kW (its lanes), vzero,
// vset1, vadd, vfmadd (always fused), vector_math.inl's activation(), vload_w(const float*) / vload_w(const std::uint16_t*)
// (aligned panel loads, fp16 widened exactly), vload_partial, vstore_partial, in_reg.
//
// The arithmetic is gemm_f32.hpp's, chain for chain: every output is acc = fma(a[k], w[k], acc)
// for k = 0..K-1 from 0, then + bias, activation (this level's, x86/vector_math.inl, applied to
// the stored row segment: the same function as the table's standalone `activation`), + residual.
// So each level is deterministic across threads and batch shapes, and the AVX2 and AVX-512
// levels give the same fp32 results bit for bit (same chains, same activation code); the
// portable level differs where its FMA or activation rounds differently (SSE2 has no FMA).

constexpr std::size_t kNR = 3 * kW;                       // panel width
constexpr std::size_t kKC = kW > 8 ? 128 : 256;           // W micro-panel ~24 KiB
constexpr std::size_t kBlockPanels = 768 / kNR;           // ~768 columns per column block

template <std::size_t Rows, std::size_t Panels, class E>
inline void tile(std::size_t kc, const float* a, const E* b, std::size_t panel_stride, const detail::TileOutput& out) {
    constexpr std::size_t Vecs = Panels * 3;
    static_assert(Rows * Vecs <= 12, "the tile must leave registers for loads and broadcasts");
    std::size_t valid[Vecs];
    for (std::size_t v = 0; v < Vecs; ++v) valid[v] = out.cols > v * kW ? std::min(kW, out.cols - v * kW) : 0;
    vf acc[Rows][Vecs];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r)
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v)
            acc[r][v] = out.first ? vzero() : vload_partial(out.c + r * out.ldc + v * kW, valid[v]);
    for (std::size_t k = 0; k < kc; ++k) {
        vf w[Vecs];
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            const vf loaded = vload_w(b + (v / 3) * panel_stride + k * kNR + (v % 3) * kW);
            w[v] = Rows > 1 ? in_reg(loaded) : loaded;
        }
#pragma GCC unroll 16
        for (std::size_t r = 0; r < Rows; ++r) {
            const vf x = vset1(a[k * Rows + r]);
#pragma GCC unroll 16
            for (std::size_t v = 0; v < Vecs; ++v) acc[r][v] = vfmadd(x, w[v], acc[r][v]);
        }
    }
    const bool plain = !out.last || out.activation == Activation::none;
#pragma GCC unroll 16
    for (std::size_t r = 0; r < Rows; ++r) {
#pragma GCC unroll 16
        for (std::size_t v = 0; v < Vecs; ++v) {
            if (valid[v] == 0) continue;
            vf y = acc[r][v];
            if (out.last) {
                if (out.bias) y = vadd(y, vload_partial(out.bias + v * kW, valid[v]));
                if (plain && out.residual) y = vadd(y, vload_partial(out.residual + r * out.ldr + v * kW, valid[v]));
            }
            vstore_partial(out.c + r * out.ldc + v * kW, y, valid[v]);
        }
    }
    if (!plain) {  // activation on the stored (bias-added) values, then the residual
        const std::size_t cols = std::min(out.cols, Panels * kNR);
        for (std::size_t r = 0; r < Rows; ++r) activation(out.c + r * out.ldc, cols, out.activation);
        if (out.residual) detail::add_rows(out.c, out.ldc, out.residual, out.ldr, Rows, cols);
    }
}

template <class E>
inline void tile_rows(std::size_t rows, std::size_t kc, const float* a, const E* b, const detail::TileOutput& out) {
    switch (rows) {
        case 4: tile<4, 1>(kc, a, b, 0, out); break;
        case 3: tile<3, 1>(kc, a, b, 0, out); break;
        case 2: tile<2, 1>(kc, a, b, 0, out); break;
        default: tile<1, 1>(kc, a, b, 0, out); break;
    }
}

/// Rows [row_begin, row_end) x panels [panel_begin, panel_end), cache-blocked (gemm_f32.hpp).
template <class E>
inline void blocked(const float* a, std::size_t lda, std::size_t row_begin, std::size_t row_end,
                    const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                    std::size_t ldc, const Epilogue& ep, float* scratch) {
    const E* data = static_cast<const E*>(w.data);
    const std::size_t k_total = w.cols;
    for (std::size_t i0 = row_begin; i0 < row_end; i0 += detail::kBlockRows) {
        const std::size_t rows = std::min(detail::kBlockRows, row_end - i0);
        for (std::size_t p0 = panel_begin; p0 < panel_end; p0 += kBlockPanels) {
            const std::size_t p1 = std::min(panel_end, p0 + kBlockPanels);
            std::size_t k0 = 0;
            do {
                const std::size_t kc = std::min(kKC, k_total - k0);
                const bool first = k0 == 0;
                const bool last = k0 + kc == k_total;
                detail::pack_a_block(a + i0 * lda + k0, lda, rows, kc, scratch);
                for (std::size_t p = p0; p < p1; ++p) {
                    const E* b = data + p * w.panel_stride + k0 * kNR;
                    for (std::size_t i = 0; i < rows; i += detail::kTileRows) {
                        const detail::TileOutput out = detail::tile_output(c, ldc, w.rows, i0 + i, p * kNR, first, last, ep);
                        tile_rows(std::min(detail::kTileRows, rows - i), kc, scratch + i * kc, b, out);
                    }
                }
                k0 += kc;
            } while (k0 < k_total);
        }
    }
}

/// One row of A against panels [panel_begin, panel_end), four at a time, A not packed.
template <class E>
inline void gemv(const float* a, const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                 const Epilogue& ep) {
    const E* data = static_cast<const E*>(w.data);
    const std::size_t k = w.cols, stride = w.panel_stride;
    std::size_t p = panel_begin;
    for (; p + detail::kGemvPanels <= panel_end; p += detail::kGemvPanels)
        tile<1, detail::kGemvPanels>(k, a, data + p * stride, stride, detail::tile_output(c, 0, w.rows, 0, p * kNR, true, true, ep));
    const detail::TileOutput out = detail::tile_output(c, 0, w.rows, 0, p * kNR, true, true, ep);
    switch (panel_end - p) {
        case 3: tile<1, 3>(k, a, data + p * stride, stride, out); break;
        case 2: tile<1, 2>(k, a, data + p * stride, stride, out); break;
        case 1: tile<1, 1>(k, a, data + p * stride, stride, out); break;
        default: break;
    }
}

// The dispatch entry points (kernels/dispatch.hpp): plain functions taking pointers and sizes.
inline void gemm_f32_block(const float* a, std::size_t lda, std::size_t row_begin, std::size_t row_end,
                           const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                           std::size_t ldc, const Epilogue& ep, float* scratch) {
    blocked<float>(a, lda, row_begin, row_end, w, panel_begin, panel_end, c, ldc, ep, scratch);
}
inline void gemm_f16_block(const float* a, std::size_t lda, std::size_t row_begin, std::size_t row_end,
                           const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                           std::size_t ldc, const Epilogue& ep, float* scratch) {
    blocked<std::uint16_t>(a, lda, row_begin, row_end, w, panel_begin, panel_end, c, ldc, ep, scratch);
}
inline void gemv_f32(const float* a, const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                     const Epilogue& ep) {
    gemv<float>(a, w, panel_begin, panel_end, c, ep);
}
inline void gemv_f16(const float* a, const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                     const Epilogue& ep) {
    gemv<std::uint16_t>(a, w, panel_begin, panel_end, c, ep);
}
