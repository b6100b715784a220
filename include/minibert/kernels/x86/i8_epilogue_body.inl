// The int8 GEMM's epilogue at the level's width (kernels/gemm_i8.hpp, step 3), written once on the
// level's vector vocabulary and included in isa_avx2 and isa_avx512 after vector_math.inl, like
// gemm_f32_body.inl. No include guard: on purpose.
//
// Per output, in the shared xsimd epilogue's order and roundings (detail::i8_tile_epilogue, which
// the portable level keeps): the exact int32 sum converted to float, times (row scale * column
// scale), + bias as one FMA only where the build's baseline fuses it (kBaselineFusedBias; the
// flagless x86-64 baseline is SSE2: multiply, round, add), then the level's activation while the
// value is still in a register (the same vactivate the separate pass used), then + residual. So
// int8 outputs stay bit-identical to the portable level without an activation and across the SIMD
// levels with one (test_dispatch), while the tile's sums go to C in one pass at full width.

/// rows x cols outputs of one int8 tile: acc (row stride acc_stride int32, whole vectors readable
/// up to round_up(cols, kW)) into c; row_scales at the tile's first row, col_scales / bias at its
/// first column (col_scales zero-padded to whole panels), residual at its top-left (or null).
inline void i8_epilogue(const std::int32_t* acc, std::size_t acc_stride, std::size_t rows, std::size_t cols,
                        const float* row_scales, const float* col_scales, const float* bias, Activation act,
                        const float* residual, std::size_t ldr, float* c, std::size_t ldc) {
    // tanh (the pooler's) stays on the baseline code, as the level's activation() does.
    const bool in_register_act = act != Activation::none && act != Activation::tanh;
    for (std::size_t r = 0; r < rows; ++r) {
        const vf row_scale = vset1(row_scales[r]);
        const float* res = residual ? residual + r * ldr : nullptr;
        float* out = c + r * ldc;
        for (std::size_t j = 0; j < cols; j += kW) {
            const std::size_t n = std::min(kW, cols - j);
            const vf scale = vmul(row_scale, vload_partial(col_scales + j, n));
            const vf sums = vcvt_i32(acc + r * acc_stride + j);
            vf y;
            if (bias) {
                const vf b = vload_partial(bias + j, n);
                y = detail::kBaselineFusedBias ? vfmadd(sums, scale, b) : vadd(in_reg(vmul(sums, scale)), b);
            } else {
                y = vmul(sums, scale);
            }
            if (in_register_act) y = vactivate(y, act);
            if (res && act != Activation::tanh) y = vadd(in_reg(y), vload_partial(res + j, n));
            vstore_partial(out + j, y, n);
        }
        if (act == Activation::tanh) {
            detail::apply_activation_baseline(out, cols, act);
            if (res) detail::add_rows(out, ldc, res, ldr, 1, cols);
        }
    }
}
