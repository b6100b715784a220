// The packed fp32 GEMM and the activations it fuses.
//
// Two kinds of reference:
//  - exact: gemm_f32 promises one fixed FMA chain per output (k = 0..K-1 from zero, then bias,
//    activation, residual), so a scalar std::fma loop in the same order must match bit for bit.
//    This catches indexing bugs that a tolerance could hide, and pins the determinism promise.
//  - double: a naive double-precision dot product, to check the math itself with a tolerance
//    derived from the rounding-error bound of recursive summation (see gemm_tolerance).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "minibert/kernels/activations.hpp"
#include "minibert/kernels/gemm_f32.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_gemm_f32 {

namespace mk = minibert::kernels;

namespace {

// The activation of the kernel level under test (MINIBERT_ISA; ctest runs this file per level):
// what the GEMM epilogues apply, and the standalone entry of KernelTable.
void level_activation(float* x, std::size_t n, mk::Activation act) {
    mk::kernel_table(minibert::select_isa()).activation(x, n, act);
}

// A portable generator (std distributions differ between standard libraries).
struct Lcg {
    std::uint64_t state;
    explicit Lcg(std::uint64_t seed) : state(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
    float uniform(float lo, float hi) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const float unit = static_cast<float>(state >> 40) / 16777216.0f;  // 24 bits -> [0, 1)
        return lo + (hi - lo) * unit;
    }
};

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Lcg rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

const mk::Activation kAllActivations[] = {mk::Activation::none, mk::Activation::gelu_erf, mk::Activation::gelu_tanh,
                                          mk::Activation::relu, mk::Activation::tanh};

// The kernel's multiply-add on one lane: always fused on the AVX2 / AVX-512 levels (their own
// kernels, kernels/dispatch.hpp); on the portable level xsimd::fma, fused where the build's target
// has FMA, two roundings where xsimd has to emulate it (e.g. a plain SSE2 build). The level is the
// one MINIBERT_ISA selects (ctest runs this file once per level the host has).
float fused_multiply_add(float x, float y, float z) {
#if defined(__FMA__) || defined(__aarch64__) || defined(__AVX512F__)
    const bool portable_fused = true;
#else
    const bool portable_fused = false;
#endif
    static const bool fused = portable_fused || mk::kernel_table(minibert::select_isa()).f32_panel_width != 0;
    if (fused) return std::fma(x, y, z);
    const float product = x * y;
    return product + z;
}

bool bit_equal(float x, float y) { return std::memcmp(&x, &y, sizeof(float)) == 0; }

struct Problem {
    std::size_t m, n, k, lda, ldc;
    std::vector<float> a, w, bias, residual;
    mk::PackedWeightsF32 packed;

    Problem(std::size_t m_, std::size_t n_, std::size_t k_, std::size_t lda_pad = 0, std::size_t ldc_pad = 0)
        : m(m_), n(n_), k(k_), lda(k_ + lda_pad), ldc(n_ + ldc_pad) {
        a = random_vector(m * lda, 1000 + m * 31 + k);
        w = random_vector(n * k, 2000 + n * 17 + k);
        bias = random_vector(n, 3000 + n, -2.0f, 2.0f);
        residual = random_vector(m * ldc, 4000 + m + n);
        packed = mk::PackedWeightsF32(w.data(), n, k);
    }

    mk::Epilogue epilogue(bool with_bias, mk::Activation act, bool with_residual) const {
        mk::Epilogue ep;
        ep.bias = with_bias ? bias.data() : nullptr;
        ep.activation = act;
        ep.residual = with_residual ? residual.data() : nullptr;
        ep.ldr = ldc;
        return ep;
    }

    // C filled with a sentinel so that writes outside [m x n] (into the ldc padding) show.
    std::vector<float> run(const mk::Epilogue& ep, minibert::ThreadPool* pool, std::size_t rows_from = 0,
                           std::size_t rows = std::size_t(-1)) const {
        if (rows == std::size_t(-1)) rows = m;
        const std::size_t threads = pool ? pool->size() : 1;
        std::vector<float> scratch(mk::gemm_f32_scratch_floats(rows, k, threads));
        std::vector<float> c(m * ldc, 12345.0f);
        mk::Epilogue shifted = ep;
        if (ep.residual) shifted.residual = ep.residual + rows_from * ep.ldr;
        mk::gemm_f32(a.data() + rows_from * lda, lda, rows, packed, c.data() + rows_from * ldc, ldc, shifted,
                     scratch.data(), pool);
        return c;
    }

    // The promised arithmetic, one output at a time, in scalar code.
    float exact(std::size_t i, std::size_t j, const mk::Epilogue& ep) const {
        float acc = 0.0f;
        for (std::size_t kk = 0; kk < k; ++kk) acc = fused_multiply_add(a[i * lda + kk], w[j * k + kk], acc);
        if (ep.bias) acc += ep.bias[j];
        level_activation(&acc, 1, ep.activation);
        if (ep.residual) acc += ep.residual[i * ep.ldr + j];
        return acc;
    }

    // Double-precision value and the bound on |fp32 result - value|. An FMA chain over K terms
    // errs by at most K*u*sum|a_k w_k| (u = 2^-24, one rounding per step, Higham's gamma_K);
    // the bias add, the activation (slope <= 1.13 for GELU, 1 for the others, so it carries the
    // input error over at most 1.13x) and the residual add each add a few ulps of their result,
    // and the activation's own error is a few ulps (see the activation tests). We allow 2x the
    // dot-product bound and 16 ulps of the magnitudes involved.
    std::pair<double, double> reference(std::size_t i, std::size_t j, const mk::Epilogue& ep) const {
        const double u = std::ldexp(1.0, -24);
        double dot = 0.0, mag = 0.0;
        for (std::size_t kk = 0; kk < k; ++kk) {
            const double t = double(a[i * lda + kk]) * double(w[j * k + kk]);
            dot += t;
            mag += std::fabs(t);
        }
        double z = dot + (ep.bias ? double(ep.bias[j]) : 0.0);
        double y = z;
        switch (ep.activation) {
            case mk::Activation::gelu_erf: y = 0.5 * z * std::erfc(-z / std::sqrt(2.0)); break;
            case mk::Activation::gelu_tanh: {
                const double s = std::sqrt(2.0 / 3.14159265358979323846) * (z + 0.044715 * z * z * z);
                y = z / (1.0 + std::exp(-2.0 * s));  // == 0.5 z (1 + tanh(s)) without cancellation
                break;
            }
            case mk::Activation::relu: y = z > 0 ? z : 0; break;
            case mk::Activation::tanh: y = std::tanh(z); break;
            case mk::Activation::none: break;
        }
        const double res = ep.residual ? double(ep.residual[i * ep.ldr + j]) : 0.0;
        const double bound = 2.0 * double(k) * u * mag + 16.0 * u * (std::fabs(y) + std::fabs(z) + std::fabs(res));
        return {y + res, bound};
    }
};

// Checks every element against both references and the ldc padding against the sentinel.
void check_against_references(const Problem& p, const mk::Epilogue& ep, const std::vector<float>& c) {
    std::size_t exact_mismatches = 0, tolerance_failures = 0, padding_writes = 0;
    for (std::size_t i = 0; i < p.m; ++i) {
        for (std::size_t j = 0; j < p.ldc; ++j) {
            const float got = c[i * p.ldc + j];
            if (j >= p.n) {
                padding_writes += got != 12345.0f;
                continue;
            }
            if (!bit_equal(got, p.exact(i, j, ep)) && exact_mismatches++ == 0)
                MESSAGE("first inexact at (" << i << ", " << j << "): got " << got << " want " << p.exact(i, j, ep));
            const auto [want, bound] = p.reference(i, j, ep);
            if (!(std::fabs(double(got) - want) <= bound)) {
                if (tolerance_failures == 0)
                    MESSAGE("first failure at (" << i << ", " << j << "): got " << got << " want " << want << " bound "
                                                 << bound);
                ++tolerance_failures;
            }
        }
    }
    CHECK(exact_mismatches == 0);
    CHECK(tolerance_failures == 0);
    CHECK(padding_writes == 0);
}

}  // namespace

// Tolerance of each activation against its double-precision reference, relative to |result|.
// relu is exact; tanh is within 2 ulps (u = 2^-24), we allow 4. The GELUs are ill-conditioned in
// their negative tail, so rounding the argument alone (x/sqrt2, or the cubic u) costs
// cond(x) ulps, cond being the relative condition number of the final exp/erfc step:
// ~ 1 + x^2/2 for erfc(-x/sqrt2), ~ 1 + |2u| for x / (1 + exp(-2u)). Measured error is <= 5.7
// cond ulps (erf) and <= 2.7 cond ulps (tanh) over [-15, 15]; we allow 8. (The textbook
// 0.5x(1+erf) form would instead be 100% off in relative terms for x < -6.)
double activation_tolerance(mk::Activation act, float x) {
    const double u = std::ldexp(1.0, -24), xd = x;
    switch (act) {
        case mk::Activation::gelu_erf: return 8 * u * (1 + xd * xd / 2);
        case mk::Activation::gelu_tanh: return 8 * u * (1 + 1.6 * std::fabs(xd + 0.044715 * xd * xd * xd));
        case mk::Activation::tanh: return 4 * u;
        case mk::Activation::relu:
        case mk::Activation::none: break;
    }
    return 0.0;
}

TEST_CASE("activations match double-precision references") {
    std::vector<float> xs;
    for (int i = -300000; i <= 300000; ++i) xs.push_back(float(i) * 5e-5f);  // [-15, 15]
    for (float x : {-80.0f, -30.0f, -20.0f, 20.0f, 30.0f, 80.0f, 1e-20f, -1e-20f, 0.0f, 1e30f, -1e30f})
        xs.push_back(x);

    for (mk::Activation act : kAllActivations) {
        CAPTURE(int(act));
        std::vector<float> ys = xs;
        level_activation(ys.data(), ys.size(), act);
        double worst = 0.0;
        float worst_x = 0.0f;
        std::size_t failures = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double want = double(mk::activation_reference(xs[i], act));
            const double err = std::fabs(double(ys[i]) - want);
            // Results below the normal range (GELU far in its negative tail) only need to be tiny.
            if (std::fabs(want) < 1e-37 && std::fabs(ys[i]) < 1e-37) continue;
            if (err / std::fabs(want) > worst) {
                worst = err / std::fabs(want);
                worst_x = xs[i];
            }
            if (!(err <= activation_tolerance(act, xs[i]) * std::fabs(want))) ++failures;
        }
        MESSAGE("activation " << int(act) << ": worst relative error " << worst << " at x = " << worst_x);
        CHECK(failures == 0);
    }
}

TEST_CASE("apply_activation treats tails like full batches") {
    const auto x = random_vector(37, 7, -6.0f, 6.0f);
    for (mk::Activation act : kAllActivations) {
        std::vector<float> whole = x;
        level_activation(whole.data(), whole.size(), act);
        for (std::size_t i = 0; i < x.size(); ++i) {
            float one = x[i];
            level_activation(&one, 1, act);
            CHECK(bit_equal(one, whole[i]));
        }
    }
}

TEST_CASE("gemm_f32 matches the references over many shapes") {
    const std::size_t ms[] = {1, 2, 3, 5, 7, 16, 17, 128, 130};
    const std::size_t ns[] = {1, 3, 8, 15, 17, 24, 33, 49};
    const std::size_t ks[] = {1, 3, 17, 64, 255, 256, 257, 768};
    for (std::size_t m : ms)
        for (std::size_t n : ns)
            for (std::size_t k : ks) {
                CAPTURE(m);
                CAPTURE(n);
                CAPTURE(k);
                Problem p(m, n, k);
                const auto ep = p.epilogue(true, mk::Activation::gelu_erf, true);
                check_against_references(p, ep, p.run(ep, nullptr));
            }
}

TEST_CASE("gemm_f32 at BERT widths") {
    const std::size_t shapes[][3] = {{1, 768, 768}, {5, 768, 257}, {17, 768, 768}, {130, 768, 64}, {3, 3072, 255},
                                     {16, 769, 768}, {2, 100, 3072}};
    for (const auto& s : shapes) {
        CAPTURE(s[0]);
        CAPTURE(s[1]);
        CAPTURE(s[2]);
        Problem p(s[0], s[1], s[2]);
        const auto ep = p.epilogue(true, mk::Activation::gelu_tanh, false);
        check_against_references(p, ep, p.run(ep, nullptr));
    }
}

TEST_CASE("each epilogue piece, alone and together") {
    for (std::size_t m : {1, 6, 33}) {
        Problem p(m, 41, 300);
        for (bool bias : {false, true})
            for (bool residual : {false, true})
                for (mk::Activation act : kAllActivations) {
                    CAPTURE(m);
                    CAPTURE(bias);
                    CAPTURE(residual);
                    CAPTURE(int(act));
                    const auto ep = p.epilogue(bias, act, residual);
                    check_against_references(p, ep, p.run(ep, nullptr));
                }
    }
}

TEST_CASE("row strides larger than K and N") {
    for (std::size_t m : {1, 4, 9, 130}) {
        CAPTURE(m);
        Problem p(m, 37, 260, /*lda_pad=*/5, /*ldc_pad=*/3);
        const auto ep = p.epilogue(true, mk::Activation::relu, true);
        check_against_references(p, ep, p.run(ep, nullptr));
    }
}

TEST_CASE("K = 0 gives the epilogue of zero") {
    Problem p(3, 10, 0);
    const auto ep = p.epilogue(true, mk::Activation::tanh, true);
    check_against_references(p, ep, p.run(ep, nullptr));
}

TEST_CASE("results are bit-identical for 1, 2 and 3 threads") {
    minibert::ThreadPool pool2(2), pool3(3);
    // Small M splits by panels, large M by rows; both must agree with one thread. The shapes
    // have >= 1.5M multiply-adds so that gemm_f32 really uses 2 and 3 tasks (it keeps small
    // products on one thread), with uneven panel and row shares.
    const std::size_t shapes[][3] = {{1, 2000, 800}, {1, 4001, 777}, {7, 700, 513}, {17, 768, 300}, {40, 330, 260},
                                     {130, 97, 257}, {128, 768, 768}, {257, 50, 400}};
    for (const auto& s : shapes) {
        CAPTURE(s[0]);
        CAPTURE(s[1]);
        CAPTURE(s[2]);
        Problem p(s[0], s[1], s[2]);
        const auto ep = p.epilogue(true, mk::Activation::gelu_erf, true);
        const auto one = p.run(ep, nullptr);
        const auto two = p.run(ep, &pool2);
        const auto three = p.run(ep, &pool3);
        CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("a row's result does not depend on the rest of the batch") {
    // Each row of an M = 17 batch (tiles of 4 rows + a 1-row tail, blocked over K) must equal the
    // same row computed alone (the M = 1 matrix-vector path) and inside a batch of 3 (3-row tile).
    for (std::size_t k : {37, 256, 700}) {
        Problem p(17, 75, k);
        const auto ep = p.epilogue(true, mk::Activation::gelu_erf, true);
        const auto batch = p.run(ep, nullptr);
        for (std::size_t i = 0; i < p.m; ++i) {
            CAPTURE(k);
            CAPTURE(i);
            const auto alone = p.run(ep, nullptr, i, 1);
            CHECK(std::memcmp(alone.data() + i * p.ldc, batch.data() + i * p.ldc, p.n * sizeof(float)) == 0);
            if (i + 3 <= p.m) {
                const auto three = p.run(ep, nullptr, i, 3);
                CHECK(std::memcmp(three.data() + i * p.ldc, batch.data() + i * p.ldc, p.n * sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("fused activation equals a separate apply_activation pass") {
    Problem p(9, 50, 129);
    for (mk::Activation act : kAllActivations) {
        const auto fused = p.run(p.epilogue(true, act, false), nullptr);
        auto separate = p.run(p.epilogue(true, mk::Activation::none, false), nullptr);
        for (std::size_t i = 0; i < p.m; ++i) level_activation(separate.data() + i * p.ldc, p.n, act);
        CHECK(std::memcmp(fused.data(), separate.data(), fused.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("packed weights report their shape and memory") {
    const auto w = random_vector(50 * 30, 9);
    mk::PackedWeightsF32 packed(w.data(), 50, 30);
    CHECK(packed.rows() == 50);
    CHECK(packed.cols() == 30);
    const std::size_t nr = packed.panel_width();
    CHECK(packed.panels() == (50 + nr - 1) / nr);
    CHECK(packed.bytes() == packed.panels() * nr * 30 * sizeof(float));
    CHECK(reinterpret_cast<std::uintptr_t>(packed.panel(0)) % 64 == 0);
}
}  // namespace minibert_test_gemm_f32
