// The int8 GEMM: exact integer sums that cannot saturate, the fused dequantising epilogue, and
// run-time activation quantisation.
//
// References are exact: every int32 sum is compared with an int64 dot product (no tolerance: an
// int16 saturation anywhere would show as a wrong integer), and the dequantised outputs with a
// scalar replay of the epilogue's documented float steps (fma(acc, row_scale * col_scale, bias),
// activation, + residual), bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "minibert/kernels/activations.hpp"
#include "minibert/kernels/gemm_i8.hpp"
#include "minibert/kernels/quantize.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_gemm_i8 {

namespace mk = minibert::kernels;

namespace {

// The activation of the kernel level under test (MINIBERT_ISA; ctest runs this file per level):
// what the GEMM epilogues apply, and the standalone entry of KernelTable.
void level_activation(float* x, std::size_t n, mk::Activation act) {
    mk::kernel_table(minibert::select_isa()).activation(x, n, act);
}

struct Lcg {
    std::uint64_t state;
    explicit Lcg(std::uint64_t seed) : state(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
    std::uint32_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::uint32_t>(state >> 33);
    }
    float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(next() >> 7) / 16777216.0f; }
    std::int8_t code() { return static_cast<std::int8_t>(static_cast<int>(next() % 255) - 127); }
};

std::vector<std::int8_t> random_codes(std::size_t n, std::uint64_t seed) {
    Lcg rng(seed);
    std::vector<std::int8_t> v(n);
    for (auto& x : v) x = rng.code();
    return v;
}

std::vector<float> random_floats(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Lcg rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

std::vector<std::int32_t> run_int32(const std::vector<std::int8_t>& a, std::size_t m, const mk::PackedWeightsI8& w,
                                    std::size_t threads) {
    minibert::ThreadPool pool(threads);
    std::vector<std::uint8_t> scratch(mk::gemm_i8_scratch_bytes(m, w.cols()));
    std::vector<std::int32_t> c(m * w.rows(), -1);
    mk::gemm_i8_int32(a.data(), w.cols(), m, w, c.data(), w.rows(), scratch.data(), &pool);
    return c;
}

std::vector<std::int32_t> reference_int32(const std::vector<std::int8_t>& a, const std::vector<std::int8_t>& w,
                                          std::size_t m, std::size_t n, std::size_t k) {
    std::vector<std::int32_t> c(m * n);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            std::int64_t s = 0;
            for (std::size_t kk = 0; kk < k; ++kk) s += std::int64_t(a[i * k + kk]) * std::int64_t(w[j * k + kk]);
            c[i * n + j] = static_cast<std::int32_t>(s);
        }
    return c;
}

std::size_t mismatches(const std::vector<std::int32_t>& got, const std::vector<std::int32_t>& want) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < want.size(); ++i) bad += got[i] != want[i];
    return bad;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<float> run_gemm(const std::vector<float>& a, std::size_t m, std::size_t k, const mk::PackedWeightsI8& w,
                            float static_scale, const mk::Epilogue& ep, std::size_t threads) {
    minibert::ThreadPool pool(threads);
    std::vector<std::uint8_t> scratch(mk::gemm_i8_scratch_bytes(m, k) + 3);
    std::vector<float> c(m * w.rows(), -7.0f);
    // an odd offset: the kernel must not rely on the caller's alignment of the scratch
    mk::gemm_i8(a.data(), k, m, w, static_scale, c.data(), w.rows(), ep, scratch.data() + 3, &pool);
    return c;
}

}  // namespace

TEST_CASE("adversarial +-127 codes at K = 3072 match the exact int32 sums bit for bit") {
    // Every pair of products is +-2 * 127 * 127 = +-32258, the largest a vpmaddubsw pair can be
    // once both operands stay in [-127, 127]; the full sums reach +-49.5 million, far outside
    // int16. Signs: all equal (sums at the extreme), all opposite (negative extreme), alternating
    // per k and per pair (the cases a sign-on-the-wrong-operand bug would get wrong), and random.
    const std::size_t m = 7, n = 37, k = 3072;
    std::vector<std::int8_t> a(m * k), w(n * k);
    Lcg rng(11);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t kk = 0; kk < k; ++kk) {
            std::int8_t v = 127;
            switch (i) {
                case 0: v = 127; break;
                case 1: v = -127; break;
                case 2: v = kk % 2 ? 127 : -127; break;
                case 3: v = (kk / 2) % 2 ? -127 : 127; break;
                case 4: v = rng.next() % 2 ? 127 : -127; break;
                case 5: v = kk % 3 == 0 ? 0 : -127; break;
                default: v = rng.code(); break;
            }
            a[i * k + kk] = v;
        }
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t kk = 0; kk < k; ++kk) {
            std::int8_t v;
            switch (j % 5) {
                case 0: v = 127; break;
                case 1: v = -127; break;
                case 2: v = kk % 2 ? -127 : 127; break;
                case 3: v = rng.next() % 2 ? 127 : -127; break;
                default: v = rng.code(); break;
            }
            w[j * k + kk] = v;
        }
    const std::vector<float> scales(n, 1.0f);
    const mk::PackedWeightsI8 packed(w.data(), scales.data(), n, k);
    const auto want = reference_int32(a, w, m, n, k);
    CHECK(want[0] == 3072 * 127 * 127);  // the test data really reaches the extreme
    CHECK(want[1 * n + 0] == -3072 * 127 * 127);
    for (std::size_t threads : {1, 2, 3}) {
        CAPTURE(threads);
        CHECK(mismatches(run_int32(a, m, packed, threads), want) == 0);
    }
}

TEST_CASE("int32 sums are exact for every remainder of rows, columns and K") {
    for (std::size_t k : {1, 2, 3, 4, 5, 7, 64, 129, 768}) {
        for (std::size_t n : {1, 15, 16, 17, 33}) {
            for (std::size_t m : {1, 2, 3, 4, 5, 9, 67}) {
                CAPTURE(k);
                CAPTURE(n);
                CAPTURE(m);
                const auto a = random_codes(m * k, k * 1000 + m);
                const auto w = random_codes(n * k, k * 7 + n);
                const std::vector<float> scales(n, 1.0f);
                const mk::PackedWeightsI8 packed(w.data(), scales.data(), n, k);
                CHECK(mismatches(run_int32(a, m, packed, 1), reference_int32(a, w, m, n, k)) == 0);
            }
        }
    }
}

// The row quantiser of the level under test (MINIBERT_ISA), in the sign-scheme form (aux = |q|).
static float quantize_row_for_gemm(const float* x, std::size_t k, std::size_t kp, float s, std::int8_t* q, std::uint8_t* aux) {
    return mk::kernel_table(minibert::select_isa()).quantize_row(x, k, kp, s, q, aux, false);
}

TEST_CASE("activation quantisation: the u8 form is the codes + 128, padding 128") {
    const std::size_t k = 77;
    auto x = random_floats(k, 5, -3.0f, 3.0f);
    x[3] = 1e30f;  // beyond any static range: clips to +127 (the sign survives)
    x[4] = -1e30f;
    std::vector<std::int8_t> q(80), q2(80);
    std::vector<std::uint8_t> aux(80), u8(80);
    for (float s : {0.0f, 0.01f}) {
        const auto& kt = mk::kernel_table(minibert::select_isa());
        kt.quantize_row(x.data(), k, 80, s, q.data(), aux.data(), false);
        kt.quantize_row(x.data(), k, 80, s, q2.data(), u8.data(), true);
        const float inv = s > 0.0f ? 1.0f / s : 127.0f / 1e30f;
        for (std::size_t i = 0; i < 80; ++i) {
            CAPTURE(i);
            CHECK(q[i] == q2[i]);
            CHECK(int(u8[i]) == int(q[i]) + 128);
            if (i < k) CHECK(int(q[i]) == int(minibert::quantize_symmetric(x[i], inv)));
        }
        CHECK(int(q[3]) == 127);
        CHECK(int(q[4]) == -127);
    }
}

TEST_CASE("activation quantisation: per-row codes and scales as the scalar rule gives them") {
    const std::size_t k = 77;
    auto x = random_floats(k, 3, -3.0f, 3.0f);
    x[5] = 0.0f;
    x[6] = -3.5f;  // the row's max: maps to -127
    std::vector<std::int8_t> q(80);
    std::vector<std::uint8_t> q_abs(80);
    const float scale = quantize_row_for_gemm(x.data(), k, 80, 0.0f, q.data(), q_abs.data());
    CHECK(scale == 3.5f / 127.0f);
    const float inv = 127.0f / 3.5f;
    for (std::size_t i = 0; i < k; ++i) {
        CAPTURE(i);
        CHECK(int(q[i]) == int(minibert::quantize_symmetric(x[i], inv)));
        CHECK(int(q_abs[i]) == std::abs(int(q[i])));
    }
    CHECK(int(q[6]) == -127);
    for (std::size_t i = k; i < 80; ++i) CHECK((q[i] == 0 && q_abs[i] == 0));

    // Ties round to even, as vcvtps2dq does: with scale 1, 2.5 -> 2 and 3.5 -> 4, -0.5 -> 0.
    std::vector<float> ties = {2.5f, 3.5f, -0.5f, -1.5f, 200.0f, -200.0f, 126.5f, 0.49999997f};
    ties.resize(40, 1.0f);
    quantize_row_for_gemm(ties.data(), ties.size(), 40, 1.0f, q.data(), q_abs.data());
    CHECK(int(q[0]) == 2);
    CHECK(int(q[1]) == 4);
    CHECK(int(q[2]) == 0);
    CHECK(int(q[3]) == -2);
    CHECK(int(q[4]) == 127);   // static scale: clipped
    CHECK(int(q[5]) == -127);  // never -128
    CHECK(int(q[6]) == 126);
    CHECK(int(q[7]) == 0);

    // An all-zero row: scale 0, codes 0, no division by zero.
    std::vector<float> zeros(40, 0.0f);
    CHECK(quantize_row_for_gemm(zeros.data(), 40, 40, 0.0f, q.data(), q_abs.data()) == 0.0f);
    CHECK(q[0] == 0);
}

TEST_CASE("the dequantising epilogue is the documented float steps, bit for bit") {
    const std::size_t m = 13, n = 41, k = 100;
    const auto a = random_floats(m * k, 5);
    const auto wf = random_floats(n * k, 6, -0.2f, 0.2f);
    const auto bias = random_floats(n, 7);
    const auto residual = random_floats(m * n, 8);
    const auto packed = mk::PackedWeightsI8::quantize(wf.data(), n, k);
    std::vector<std::int8_t> wq(n * k);
    std::vector<float> wscale(n);
    minibert::quantize_rows_symmetric(wf.data(), n, k, wq.data(), wscale.data());

    for (float static_scale : {0.0f, 0.006f}) {
        for (auto act : {mk::Activation::none, mk::Activation::gelu_erf, mk::Activation::relu}) {
            CAPTURE(static_scale);
            mk::Epilogue ep;
            ep.bias = bias.data();
            ep.activation = act;
            ep.residual = residual.data();
            ep.ldr = n;
            const auto got = run_gemm(a, m, k, packed, static_scale, ep, 1);

            std::vector<float> want(m * n);
            for (std::size_t i = 0; i < m; ++i) {
                std::vector<std::int8_t> qa(k);
                std::vector<std::uint8_t> qabs(k);
                const float rs = quantize_row_for_gemm(a.data() + i * k, k, k, static_scale, qa.data(), qabs.data());
                for (std::size_t j = 0; j < n; ++j) {
                    std::int32_t acc = 0;
                    for (std::size_t kk = 0; kk < k; ++kk) acc += std::int32_t(qa[kk]) * wq[j * k + kk];
                    // One FMA where the ISA has one (xsimd::fma); SSE2 has none, xsimd multiplies then adds.
#if defined(__FMA__) || defined(__aarch64__)
                    float y = std::fma(static_cast<float>(acc), rs * wscale[j], bias[j]);
#else
                    volatile float product = static_cast<float>(acc) * (rs * wscale[j]);
                    float y = product + bias[j];
#endif
                    level_activation(&y, 1, act);
                    want[i * n + j] = y + residual[i * n + j];
                }
            }
            CHECK(same_bits(got, want));
        }
    }
}

TEST_CASE("results are bit-identical across thread counts and batch compositions") {
    const std::size_t k = 768, n = 200, m = 70;
    const auto a = random_floats(m * k, 9, -4.0f, 4.0f);
    const auto wf = random_floats(n * k, 10, -0.1f, 0.1f);
    const auto packed = mk::PackedWeightsI8::quantize(wf.data(), n, k);
    mk::Epilogue ep;
    const auto one = run_gemm(a, m, k, packed, 0.0f, ep, 1);
    CHECK(same_bits(run_gemm(a, m, k, packed, 0.0f, ep, 2), one));
    CHECK(same_bits(run_gemm(a, m, k, packed, 0.0f, ep, 3), one));
    // Dynamic scales are per row: row 37 alone, and rows 30..44 as their own batch, give the
    // same bits as inside the batch of 70 (a per-tensor scale would fail this).
    const std::vector<float> row(a.begin() + 37 * k, a.begin() + 38 * k);
    const auto alone = run_gemm(row, 1, k, packed, 0.0f, ep, 1);
    CHECK(std::memcmp(alone.data(), one.data() + 37 * n, n * sizeof(float)) == 0);
    const std::vector<float> middle(a.begin() + 30 * k, a.begin() + 45 * k);
    const auto part = run_gemm(middle, 15, k, packed, 0.0f, ep, 2);
    CHECK(std::memcmp(part.data(), one.data() + 30 * n, 15 * n * sizeof(float)) == 0);
}

TEST_CASE("int8 products stay close to the fp32 ones") {
    // Error model: per-row and per-channel rounding of both operands to 1/254 of their range;
    // for these uniform inputs the relative error of a 768-term dot product is ~1%.
    const std::size_t m = 16, n = 64, k = 768;
    const auto a = random_floats(m * k, 12);
    const auto wf = random_floats(n * k, 13, -0.05f, 0.05f);
    const auto packed = mk::PackedWeightsI8::quantize(wf.data(), n, k);
    const auto got = run_gemm(a, m, k, packed, 0.0f, mk::Epilogue{}, 1);
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::size_t kk = 0; kk < k; ++kk) s += double(a[i * k + kk]) * wf[j * k + kk];
            err += (got[i * n + j] - s) * (got[i * n + j] - s);
            norm += s * s;
        }
    CHECK(std::sqrt(err / norm) < 0.02);
}
}  // namespace minibert_test_gemm_i8
