// The blocked attention kernel (kernels/attention.hpp) against a double-precision reference,
// softmax(q k^T / sqrt(d)) v, for odd sequence lengths (whole and partial key panels, query
// blocks and register tiles) and the head dimensions of real models (26: TinyBERT-312, whose V
// is copied into padded rows; 32; 64), plus the determinism promise: any split of the query
// rows gives the same bits.
#include <doctest/doctest.h>

#include <minibert/kernels/attention.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_attention {

namespace {

namespace mk = minibert::kernels;

// The kernel level under test: MINIBERT_ISA (ctest runs this file once per level the host has).
const mk::KernelTable& level() { return mk::kernel_table(minibert::select_isa()); }

/// Q | K | V rows of `heads` heads, as the fused QKV projection lays them out: [s x 3*heads*d].
std::vector<float> random_qkv(std::size_t s, std::size_t d, std::size_t heads, float spread, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, spread);
    std::vector<float> qkv(s * 3 * heads * d);
    for (auto& x : qkv) x = dist(rng);
    return qkv;
}

std::vector<double> reference_attention(const float* q, const float* k, const float* v, std::size_t ld, std::size_t s,
                                        std::size_t d) {
    std::vector<double> out(s * d, 0.0), p(s);
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    for (std::size_t i = 0; i < s; ++i) {
        double max_score = -INFINITY;
        for (std::size_t j = 0; j < s; ++j) {
            double dot = 0.0;
            for (std::size_t c = 0; c < d; ++c) dot += static_cast<double>(q[i * ld + c]) * k[j * ld + c];
            p[j] = dot * scale;
            max_score = std::max(max_score, p[j]);
        }
        double sum = 0.0;
        for (std::size_t j = 0; j < s; ++j) sum += (p[j] = std::exp(p[j] - max_score));
        for (std::size_t j = 0; j < s; ++j)
            for (std::size_t c = 0; c < d; ++c) out[i * d + c] += p[j] / sum * v[j * ld + c];
    }
    return out;
}

void check_against_reference(std::size_t s, std::size_t d, float spread) {
    CAPTURE(s);
    CAPTURE(d);
    CAPTURE(spread);
    const std::size_t heads = 2, hidden = heads * d, ld = 3 * hidden;
    const auto qkv = random_qkv(s, d, heads, spread, static_cast<unsigned>(s * 131 + d));
    std::vector<float> scratch(mk::attention_scratch_floats(s, d));
    // Output rows strided like the context matrix, with a sentinel in the other head's columns.
    std::vector<float> out(s * hidden, 12345.0f);
    for (std::size_t head = 0; head < heads; ++head) {
        const float* q = qkv.data() + head * d;
        mk::attention_head(level(), q, q + hidden, q + 2 * hidden, ld, s, d, 1.0f / std::sqrt(static_cast<float>(d)),
                           out.data() + head * d, hidden, scratch.data());
        const auto want = reference_attention(q, q + hidden, q + 2 * hidden, ld, s, d);
        double worst = 0.0;
        for (std::size_t i = 0; i < s; ++i)
            for (std::size_t c = 0; c < d; ++c)
                worst = std::max(worst, std::abs(out[i * hidden + head * d + c] - want[i * d + c]));
        // fp32 scores have an absolute error of ~sqrt(d) * 2^-24 * |q||k| (|q||k| ~ spread^2 d);
        // after the 1/sqrt(d) scale that is ~6e-5 in the exponent at spread 4, d = 64, which moves
        // probabilities by that relative amount and outputs (|v| ~ spread) by up to ~1e-5..6e-5 *
        // spread. Measured worst: 2.04e-5 * spread (s = 129, d = 64, spread = 4, AVX-512 level,
        // whose chains are those of the old AVX2 build; the inputs themselves move by an ulp with
        // the build's flags, so the worst case moves between 1.0e-5 and 2.04e-5 * spread).
        CHECK(worst <= 3e-5 * spread);
    }
}

}  // namespace

TEST_CASE("attention matches a double-precision reference for odd lengths and real head sizes") {
    for (std::size_t d : {26u, 32u, 64u})
        for (std::size_t s : {1u, 2u, 3u, 17u, 24u, 25u, 33u, 128u, 513u}) check_against_reference(s, d, 1.0f);
}

TEST_CASE("attention stays accurate with peaked softmax rows (large scores)") {
    for (std::size_t s : {5u, 129u}) check_against_reference(s, 64, 4.0f);
}

TEST_CASE("attention rows do not depend on how the query rows are split") {
    const std::size_t s = 77, d = 64, heads = 1, hidden = d, ld = 3 * hidden;
    const auto qkv = random_qkv(s, d, heads, 1.0f, 99);
    const float* q = qkv.data();
    const float scale = 0.125f;
    std::vector<float> scratch(mk::attention_scratch_floats(s + 100, d));
    std::vector<float> whole(s * d), pieces(s * d);
    mk::attention_head(level(), q, q + hidden, q + 2 * hidden, ld, s, d, scale, whole.data(), d, scratch.data());
    mk::attention_pack_head(level(), q + hidden, q + 2 * hidden, ld, s, d, scratch.data());
    // Splits that cut through register tiles and query blocks: 1, 3, 5, 31, 37 rows.
    const std::size_t cuts[] = {0, 1, 4, 9, 40, 77};
    for (std::size_t c = 0; c + 1 < std::size(cuts); ++c)
        mk::attention_query_rows(level(), q, q + 2 * hidden, ld, s, d, scale, cuts[c], cuts[c + 1], pieces.data(), d,
                                 scratch.data());
    CHECK(std::memcmp(whole.data(), pieces.data(), whole.size() * sizeof(float)) == 0);
}

TEST_CASE("attention over one key returns that key's value (to float rounding)") {
    const std::size_t d = 26;
    const auto qkv = random_qkv(1, d, 1, 3.0f, 5);
    std::vector<float> scratch(mk::attention_scratch_floats(1, d)), out(d);
    mk::attention_head(level(), qkv.data(), qkv.data() + d, qkv.data() + 2 * d, 3 * d, 1, d, 0.2f, out.data(), d, scratch.data());
    // e * v * (1 / e): two roundings, whatever exp(0) rounds to.
    for (std::size_t c = 0; c < d; ++c) CHECK(std::abs(out[c] - qkv[2 * d + c]) <= 2.5e-7f * std::abs(qkv[2 * d + c]));
}
}  // namespace minibert_test_attention
