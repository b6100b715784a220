// The fp16-weight GEMM: widening is exact, so it must equal gemm_f32 on the widened weights bit
// for bit (same FMA chains), for every shape remainder, epilogue and thread count.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "minibert/kernels/gemm_f16.hpp"
#include "minibert/kernels/gemm_f32.hpp"
#include "minibert/numeric/half.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_gemm_f16 {

namespace mk = minibert::kernels;
using minibert::half;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    std::vector<float> v(n);
    for (auto& x : v) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x = lo + (hi - lo) * static_cast<float>(s >> 40) / 16777216.0f;
    }
    return v;
}

struct Case {
    std::size_t m, k, n;
};

}  // namespace

TEST_CASE("gemm_f16 equals gemm_f32 on the widened weights, bit for bit") {
    const Case cases[] = {{1, 1, 1}, {1, 768, 100}, {3, 17, 23}, {4, 256, 24}, {5, 257, 25}, {16, 768, 768},
                          {33, 300, 97}, {130, 513, 50}};
    for (const Case& c : cases) {
        CAPTURE(c.m);
        CAPTURE(c.k);
        CAPTURE(c.n);
        const auto wf = random_vector(c.n * c.k, c.k + c.n, -0.3f, 0.3f);
        std::vector<half> wh(wf.size());
        std::vector<float> widened(wf.size());
        for (std::size_t i = 0; i < wf.size(); ++i) {
            wh[i] = half::from_float(wf[i]);
            widened[i] = wh[i].to_float();
        }
        const auto a = random_vector(c.m * c.k, 3);
        const auto bias = random_vector(c.n, 4);
        const auto residual = random_vector(c.m * c.n, 5);
        const mk::PackedWeightsF32 p32(widened.data(), c.n, c.k);
        const mk::PackedWeightsF16 p16(wh.data(), c.n, c.k);
        CHECK(p16.bytes() * 2 == p32.bytes());
        for (auto act : {mk::Activation::none, mk::Activation::gelu_erf}) {
            mk::Epilogue ep;
            ep.bias = bias.data();
            ep.activation = act;
            ep.residual = residual.data();
            ep.ldr = c.n;
            std::vector<float> want(c.m * c.n), got(c.m * c.n);
            std::vector<float> scratch(mk::gemm_f32_scratch_floats(c.m, c.k, 3));
            mk::gemm_f32(a.data(), c.k, c.m, p32, want.data(), c.n, ep, scratch.data(), nullptr);
            for (std::size_t threads : {1, 3}) {
                minibert::ThreadPool pool(threads);
                std::fill(got.begin(), got.end(), -1.0f);
                mk::gemm_f16(a.data(), c.k, c.m, p16, got.data(), c.n, ep, scratch.data(), &pool);
                CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("half conversions round to nearest even and widen exactly") {
    CHECK(half::from_float(1.0f).bits == 0x3c00);
    CHECK(half::from_float(65504.0f).bits == 0x7bff);
    CHECK(half::from_float(1.0f + 1.0f / 2048.0f).bits == 0x3c00);  // tie -> even
    CHECK(half::from_float(1.0f + 3.0f / 2048.0f).bits == 0x3c02);  // tie -> even (up)
    for (std::uint32_t b = 0; b < 0x7c00; b += 7) {
        const half h = half::from_bits(static_cast<std::uint16_t>(b));
        CHECK(half::from_float(h.to_float()).bits == h.bits);
    }
}
}  // namespace minibert_test_gemm_f16
