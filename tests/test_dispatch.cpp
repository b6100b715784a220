// Run-time kernel selection (cpu/cpu_info.hpp, kernels/dispatch.hpp): detection, the MINIBERT_ISA /
// LoadOptions::isa cap and its errors, and that every level the host can run gives the same int8
// int32 sums bit for bit and fp32 results within the parity tolerance. Levels the host lacks are
// named as skipped in the output.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "minibert/cpu/cpu_info.hpp"
#include "minibert/kernels/dispatch.hpp"
#include "minibert/kernels/gemm_f16.hpp"
#include "minibert/kernels/gemm_f32.hpp"
#include "minibert/kernels/gemm_i8.hpp"
#include "minibert/model.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_dispatch {

namespace mk = minibert::kernels;
using minibert::Isa;

namespace {

const Isa kLevels[] = {Isa::portable, Isa::dotprod, Isa::avx2, Isa::avxvnni, Isa::avx512, Isa::avx512vnni, Isa::amx};

/// The levels this host runs; the others are reported once as skipped.
std::vector<Isa> host_levels() {
    std::vector<Isa> out;
    std::string skipped;
    for (Isa isa : kLevels) {
        if (minibert::cpu_info().has(isa)) out.push_back(isa);
        else skipped += std::string(skipped.empty() ? "" : ", ") + minibert::to_string(isa);
    }
    static bool said = false;
    if (!said) {
        MESSAGE("host features: " << minibert::cpu_info().features());
        MESSAGE("levels run: " << minibert::cpu_info().levels() << "; skipped (host lacks them): "
                               << (skipped.empty() ? "none" : skipped));
        said = true;
    }
    return out;
}

struct EnvIsa {  // sets MINIBERT_ISA for one scope
    explicit EnvIsa(const char* value) {
        if (const char* old = std::getenv("MINIBERT_ISA")) saved = old, had = true;
        if (value) setenv("MINIBERT_ISA", value, 1);
        else unsetenv("MINIBERT_ISA");
    }
    ~EnvIsa() {
        if (had) setenv("MINIBERT_ISA", saved.c_str(), 1);
        else unsetenv("MINIBERT_ISA");
    }
    std::string saved;
    bool had = false;
};

std::uint32_t lcg(std::uint64_t& s) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(s >> 33);
}

}  // namespace

TEST_CASE("detection is consistent and the selected level is the best the host has") {
    const auto& cpu = minibert::cpu_info();
    for (Isa isa : host_levels()) CHECK(cpu.has(isa));
    CHECK(cpu.has(Isa::portable));
    CHECK(cpu.has(cpu.best()));
    if (cpu.has(Isa::avx512vnni)) CHECK(cpu.has(Isa::avx512));
    if (cpu.has(Isa::avx512)) CHECK(cpu.has(Isa::avx2));
    CHECK(!(cpu.has(Isa::dotprod) && cpu.has(Isa::avx2)));  // one family per host
    CHECK(minibert::parse_isa("dotprod") == Isa::dotprod);
    // The aarch64 CI stage runs this under two emulated CPUs and says which levels each must show.
    if (const char* want = std::getenv("MINIBERT_TEST_EXPECT_LEVELS")) CHECK(cpu.levels() == std::string(want));
    EnvIsa none(nullptr);
    CHECK(minibert::select_isa() == cpu.best());
    // The table of the best level runs the best kernels.
    CHECK(mk::kernel_table(cpu.best()).isa == cpu.best());
}

TEST_CASE("a cap only lowers, and names what the host has when it cannot be met") {
    EnvIsa none(nullptr);
    for (Isa isa : host_levels()) {
        CAPTURE(minibert::to_string(isa));
        CHECK(minibert::select_isa(isa) == isa);
        EnvIsa env(minibert::to_string(isa));
        CHECK(minibert::select_isa() == isa);
        CHECK(minibert::select_isa(Isa::portable) == Isa::portable);  // the lower of the two
    }
    for (Isa isa : kLevels) {
        if (minibert::cpu_info().has(isa)) continue;
        CAPTURE(minibert::to_string(isa));
        try {
            minibert::select_isa(isa);
            FAIL("a level the host lacks was accepted");
        } catch (const minibert::Error& e) {
            const std::string what = e.what();
            CHECK(what.find(minibert::to_string(isa)) != std::string::npos);
            CHECK(what.find("lacks") != std::string::npos);
            CHECK(what.find("portable") != std::string::npos);  // the levels it has
        }
        EnvIsa env(minibert::to_string(isa));
        CHECK_THROWS_AS(minibert::select_isa(), minibert::Error);
    }
    {
        EnvIsa env("avx9000");
        try {
            minibert::select_isa();
            FAIL("an unknown level name was accepted");
        } catch (const minibert::Error& e) {
            CHECK(std::string(e.what()).find("avx9000") != std::string::npos);
            CHECK(e.kind() == minibert::ErrorKind::config);
        }
    }
    CHECK_THROWS_AS(minibert::parse_isa("AVX2"), minibert::Error);
    CHECK(minibert::parse_isa("avx512vnni") == Isa::avx512vnni);
}

TEST_CASE("int8: every level gives the same exact int32 sums (+-127 adversarial, K = 3072, odd shapes)") {
    struct Shape { std::size_t m, n, k; };
    for (const Shape s : {Shape{5, 67, 3072}, Shape{1, 16, 4}, Shape{7, 33, 3}, Shape{17, 70, 771}, Shape{4, 80, 768},
                         Shape{33, 70, 3072}, Shape{16, 64, 64}, Shape{130, 50, 300}}) {
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        std::uint64_t seed = s.m * 1000 + s.n + s.k;
        std::vector<std::int8_t> a(s.m * s.k), w(s.n * s.k);
        // Half the rows/columns all +-127 with aligned or opposed signs (the int16 worst case),
        // the rest random in [-127, 127].
        for (std::size_t i = 0; i < a.size(); ++i)
            a[i] = (i / s.k) % 2 ? static_cast<std::int8_t>(int(lcg(seed) % 255) - 127) : (i % 3 ? 127 : -127);
        for (std::size_t i = 0; i < w.size(); ++i)
            w[i] = (i / s.k) % 2 ? static_cast<std::int8_t>(int(lcg(seed) % 255) - 127) : ((i / s.k) % 4 ? 127 : -127);
        std::vector<std::int32_t> want(s.m * s.n);
        for (std::size_t i = 0; i < s.m; ++i)
            for (std::size_t j = 0; j < s.n; ++j) {
                std::int64_t t = 0;
                for (std::size_t kk = 0; kk < s.k; ++kk) t += std::int64_t(a[i * s.k + kk]) * w[j * s.k + kk];
                want[i * s.n + j] = static_cast<std::int32_t>(t);
            }
        const std::vector<float> scales(s.n, 1.0f);
        for (Isa isa : host_levels()) {
            CAPTURE(minibert::to_string(isa));
            const mk::PackedWeightsI8 packed(w.data(), scales.data(), s.n, s.k, mk::kernel_table(isa));
            std::vector<std::uint8_t> scratch(mk::gemm_i8_scratch_bytes(s.m, s.k));
            std::vector<std::int32_t> got(s.m * s.n, -1);
            mk::gemm_i8_int32(a.data(), s.k, s.m, packed, got.data(), s.n, scratch.data(), nullptr);
            CHECK(got == want);
        }
    }
}

TEST_CASE("outputs across levels: int8 identical, fp32 within 1e-4 (identical across the SIMD levels)") {
    const std::size_t m = 9, n = 100, k = 768;
    std::uint64_t seed = 7;
    std::vector<float> a(m * k), w(n * k), bias(n), residual(m * n);
    for (auto& x : a) x = float(int(lcg(seed) % 2001) - 1000) / 500.0f;
    for (auto& x : w) x = float(int(lcg(seed) % 2001) - 1000) / 20000.0f;
    for (auto& x : bias) x = float(int(lcg(seed) % 201) - 100) / 100.0f;
    for (auto& x : residual) x = float(int(lcg(seed) % 201) - 100) / 100.0f;
    std::vector<minibert::half> wh(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) wh[i] = minibert::half::from_float(w[i]);
    for (mk::Activation act : {mk::Activation::none, mk::Activation::gelu_erf, mk::Activation::gelu_tanh}) {
        mk::Epilogue ep;
        ep.bias = bias.data();
        ep.activation = act;
        ep.residual = residual.data();
        ep.ldr = n;
        std::vector<float> i8_first, f32_first, i8_simd, f32_simd;
        for (Isa isa : host_levels()) {
            CAPTURE(minibert::to_string(isa));
            const auto& kt = mk::kernel_table(isa);
            const auto packed_i8 = mk::PackedWeightsI8::quantize(w.data(), n, k, kt);
            std::vector<std::uint8_t> scratch_i8(mk::gemm_i8_scratch_bytes(m, k));
            std::vector<float> c_i8(m * n);
            mk::gemm_i8(a.data(), k, m, packed_i8, 0.0f, c_i8.data(), n, ep, scratch_i8.data(), nullptr);
            // Bit for bit: across every level without an activation; with one, across the SIMD
            // levels (the same lane code), the portable one within rounding of its activation.
            if (i8_first.empty()) i8_first = c_i8;
            if (act == mk::Activation::none) CHECK(c_i8 == i8_first);
            if (isa != Isa::portable) {
                if (i8_simd.empty()) i8_simd = c_i8;
                CHECK(c_i8 == i8_simd);
            }
            for (std::size_t i = 0; i < c_i8.size(); ++i) CHECK(std::fabs(c_i8[i] - i8_first[i]) <= 1e-5f * (1 + std::fabs(c_i8[i])));

            const mk::PackedWeightsF32 packed(w.data(), n, k, kt);
            CHECK(packed.kernels().isa == kt.isa);
            std::vector<float> scratch(mk::gemm_f32_scratch_floats(m, k, 1)), c(m * n), c16(m * n), c1(n);
            mk::gemm_f32(a.data(), k, m, packed, c.data(), n, ep, scratch.data(), nullptr);
            mk::gemm_f32(a.data(), k, 1, packed, c1.data(), n, ep, scratch.data(), nullptr);  // the gemv path
            for (std::size_t j = 0; j < n; ++j) CHECK(c1[j] == c[j]);
            if (f32_first.empty()) f32_first = c;
            double worst = 0;
            for (std::size_t i = 0; i < c.size(); ++i) worst = std::max(worst, double(std::fabs(c[i] - f32_first[i])));
            CHECK(worst <= 1e-4);
            if (isa != Isa::portable) {  // the AVX2 and AVX-512 levels: same chains, same activation
                if (f32_simd.empty()) f32_simd = c;
                CHECK(c == f32_simd);
            }
            const mk::PackedWeightsF16 packed16(wh.data(), n, k, kt);
            mk::gemm_f16(a.data(), k, m, packed16, c16.data(), n, ep, scratch.data(), nullptr);
            std::vector<float> widened(w.size());
            for (std::size_t i = 0; i < w.size(); ++i) widened[i] = wh[i].to_float();
            const mk::PackedWeightsF32 packed_w(widened.data(), n, k, kt);
            mk::gemm_f32(a.data(), k, m, packed_w, c.data(), n, ep, scratch.data(), nullptr);
            CHECK(c16 == c);  // fp16 == fp32 on the widened weights, on every level
        }
    }
}

TEST_CASE("a model reports the level it packed for, and LoadOptions::isa caps it") {
    const std::string dir = std::string(MINIBERT_TEST_MODELS_DIR) + "/tiny-bert";
    EnvIsa none(nullptr);
    const auto best = minibert::Model::load(dir);
    CHECK(best.kernel_isa() == mk::kernel_table(minibert::cpu_info().best()).isa);
    minibert::LoadOptions options;
    options.isa = Isa::portable;
    CHECK(minibert::Model::load(dir, options).kernel_isa() == Isa::portable);
    for (Isa isa : kLevels) {
        if (minibert::cpu_info().has(isa)) continue;
        options.isa = isa;
        CHECK_THROWS_AS(minibert::Model::load(dir, options), minibert::Error);
    }
}

TEST_CASE("int8 row quantisers: every level gives the same codes and scale (ties, NaN, clipping, tails)") {
    for (const std::size_t k : {std::size_t(1000), std::size_t(77), std::size_t(3)}) {
        CAPTURE(k);
        std::uint64_t seed = k;
        std::vector<float> x(k);
        for (auto& v : x) v = float(int(lcg(seed) % 20001) - 10000) / 1000.0f;
        x[0] = 2.5f;  // ties at scale 1 (static) round to even
        if (k > 2) x[2] = std::nanf("");
        const std::size_t kp = (k + 3) / 4 * 4;
        for (const float static_scale : {0.0f, 1.0f, 0.01f}) {
            for (const bool u8 : {false, true}) {
                std::vector<std::int8_t> q0(kp);
                std::vector<std::uint8_t> a0(kp);
                float s0 = -1;
                bool first = true;
                for (Isa isa : host_levels()) {
                    CAPTURE(minibert::to_string(isa));
                    std::vector<std::int8_t> q(kp, 99);
                    std::vector<std::uint8_t> a(kp, 99);
                    const float s = mk::kernel_table(isa).quantize_row(x.data(), k, kp, static_scale, q.data(), a.data(), u8);
                    if (first) q0 = q, a0 = a, s0 = s, first = false;
                    CHECK(s == s0);
                    CHECK(q == q0);
                    CHECK(a == a0);
                }
            }
        }
    }
}
}  // namespace minibert_test_dispatch
