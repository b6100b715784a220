// exp, erfc and the activations of one kernel level, written once on the level's thin vector
// vocabulary and included inside its target region and namespace (x86/avx2_gemm.hpp,
// x86/avx512_gemm.hpp), like gemm_f32_body.inl. No include guard: on purpose.
//
// The algorithms are xsimd 8.1's (Boost.SIMD / Cephes: the same erfc polynomials and split at
// |x| = 2/3, Cephes expf's reduction and polynomial), so the accuracy is theirs (the activation
// tests hold every level to the same bounds); every multiply-add is fused, and lanes are
// independent, so the AVX2 and AVX-512 levels give the same value for the same input, bit for
// bit (the portable level, xsimd at the baseline flags, may differ by FMA rounding).
// Needs, besides the GEMM's vocabulary: vm (a lane mask), vsub, vmul, vdiv, vmax, vmin, vabs,
// vlt, vgt, veq, vsel(mask, if_true, if_false), vround (to nearest even), vpow2i (2^n for
// integral n in [-126, 127]).

/// exp(x): +inf above 88.3, 0 below -87.3 (Cephes expf's range; expf(88.3..88.72) is finite, but
/// no caller can tell: GELU-tanh adds 1 to it and divides).
inline vf vexp(vf x) noexcept {
    const vf hi = vset1(88.3f), lo = vset1(-87.3f);
    const vf xc = vmin(vmax(x, lo), hi);
    const vf n = vround(vmul(xc, vset1(1.44269504088896341f)));
    vf r = vfmadd(n, vset1(-0.693359375f), xc);
    r = vfmadd(n, vset1(2.12194440e-4f), r);
    vf p = vset1(1.9875691500e-4f);
    p = vfmadd(p, r, vset1(1.3981999507e-3f));
    p = vfmadd(p, r, vset1(8.3334519073e-3f));
    p = vfmadd(p, r, vset1(4.1665795894e-2f));
    p = vfmadd(p, r, vset1(1.6666665459e-1f));
    p = vfmadd(p, r, vset1(5.0000001201e-1f));
    const vf y = vadd(vfmadd(vmul(p, r), r, r), vset1(1.0f));
    vf e = vmul(y, vpow2i(n));
    e = vsel(vgt(x, hi), vset1(__builtin_inff()), e);
    return vsel(vlt(x, lo), vzero(), e);
}

/// erfc(x), xsimd's float algorithm.
inline vf verfc(vf a) noexcept {
    const vf one = vset1(1.0f);
    const vf x = vabs(a);
    const vf z = vdiv(x, vadd(one, x));
    // |x| < 2/3: (1 - z) * P(z)
    vf p = vset1(2.1319498e+01f);
    p = vfmadd(p, z, vset1(2.4271545e+00f));
    p = vfmadd(p, z, vset1(-2.2632651e+00f));
    p = vfmadd(p, z, vset1(6.7576951e-01f));
    p = vfmadd(p, z, vset1(-2.3560498e+00f));
    p = vfmadd(p, z, vset1(-1.9732213e+00f));
    p = vfmadd(p, z, vset1(-1.2585020e+00f));
    p = vfmadd(p, z, vset1(-1.2834737e-01f));
    p = vfmadd(p, z, vset1(9.9999988e-01f));
    const vf r1 = vmul(vsub(one, z), p);
    // |x| >= 2/3: exp(-x^2) * Q(z - 0.4)
    const vf z2 = vsub(z, vset1(0.4f));
    vf q = vset1(-2.628299919293280e+00f);
    q = vfmadd(q, z2, vset1(6.702908785399893e+00f));
    q = vfmadd(q, z2, vset1(-6.409487379234005e+00f));
    q = vfmadd(q, z2, vset1(3.260765682222576e+00f));
    q = vfmadd(q, z2, vset1(-1.364514006347145e+00f));
    q = vfmadd(q, z2, vset1(1.562764709849380e-01f));
    q = vfmadd(q, z2, vset1(1.420508523645926e-01f));
    q = vfmadd(q, z2, vset1(3.843569094305250e-01f));
    q = vfmadd(q, z2, vset1(1.603704761054187e-01f));
    q = vfmadd(q, z2, vset1(-1.137035586823118e+00f));
    q = vfmadd(q, z2, vset1(5.392844046572836e-01f));
    const vf r2 = vmul(vexp(vsub(vzero(), vmul(x, x))), q);
    vf r = vsel(vlt(x, vset1(2.0f / 3.0f)), r1, r2);
    r = vsel(veq(x, vset1(__builtin_inff())), vzero(), r);
    return vsel(vlt(a, vzero()), vsub(vset1(2.0f), r), r);
}

/// One vector of an activation (activations.hpp's formulas, rearranged the same way).
inline vf vactivate(vf x, Activation act) noexcept {
    switch (act) {
        case Activation::gelu_erf: return vmul(vmul(vset1(0.5f), x), verfc(vmul(x, vset1(-0.70710678118654752f))));
        case Activation::gelu_tanh: {
            const vf x2 = vmul(x, x);
            const vf u2 = vmul(vset1(-1.5957691216057308f), vfmadd(vmul(vset1(0.044715f), x2), x, x));
            return vdiv(x, vadd(vset1(1.0f), vexp(u2)));
        }
        case Activation::relu: return vmax(x, vzero());
        default: return x;
    }
}

/// Dispatch entry: applies `act` in place to x[0, n); a tail goes through the same vector code
/// (masked), so a value's result never depends on where it sits. tanh (the pooler's, on one row
/// per sequence) stays on the baseline code.
inline void activation(float* x, std::size_t n, Activation act) {
    if (act == Activation::none) return;
    if (act == Activation::tanh) {
        detail::apply_activation_baseline(x, n, act);
        return;
    }
    std::size_t i = 0;
    for (; i + kW <= n; i += kW) vstore_partial(x + i, vactivate(vload_partial(x + i, kW), act), kW);
    if (i < n) vstore_partial(x + i, vactivate(vload_partial(x + i, n - i), act), n - i);
}
