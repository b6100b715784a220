// The fp16-weight GEMM against the fp32 GEMM on the encoder's shapes, in one process.
// fp16 halves the bytes per weight: at M = 1 ("cold": weights streamed from memory on every call)
// it should approach 2x the fp32 GEMM; at M >= 16 it should match it (the vcvtph2ps run beside the
// FMAs). Counters: GOPS (2 M N K per CPU-second of all threads: the machine is shared, so CPU
// time, not wall time) and vs_f32 (over the fp32 GEMM on the same shape, measured just before).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "bench_common.hpp"
#include "minibert/kernels/gemm_f16.hpp"
#include "minibert/kernels/gemm_f32.hpp"
#include "minibert/numeric/aligned_buffer.hpp"

namespace mk = minibert::kernels;
using namespace minibert_bench;

namespace {

std::map<std::tuple<long, long, long, long>, double> g_f32_gops;

// Args: M, K, N, cold (rotate through > 96 MiB of weight copies so each call streams from memory).
template <bool Half>
void BM_Gemm(benchmark::State& state) {
    const std::size_t m = state.range(0), k = state.range(1), n = state.range(2);
    const bool cold = state.range(3) != 0;
    const auto w = random_vector(n * k, 1), a = random_vector(m * k, 2), bias = random_vector(n, 3);
    std::vector<minibert::half> wh(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) wh[i] = minibert::half::from_float(w[i]);
    const std::size_t bytes = n * k * (Half ? 2 : 4);
    const std::size_t copies = cold ? std::max<std::size_t>(2, (std::size_t(96) << 20) / bytes + 1) : 1;
    std::vector<mk::PackedWeightsF32> p32;
    std::vector<mk::PackedWeightsF16> p16;
    for (std::size_t i = 0; i < copies; ++i) {
        if (Half) p16.emplace_back(wh.data(), n, k);
        else p32.emplace_back(w.data(), n, k);
    }
    minibert::AlignedBuffer<float> c(m * n), scratch(mk::gemm_f32_scratch_floats(m, k, 1));
    mk::Epilogue ep;
    ep.bias = bias.data();
    std::size_t next = 0;
    LoopTimer timer;
    for (auto _ : state) {
        if (Half) mk::gemm_f16(a.data(), k, m, p16[next], c.data(), n, ep, scratch.data(), nullptr);
        else mk::gemm_f32(a.data(), k, m, p32[next], c.data(), n, ep, scratch.data(), nullptr);
        benchmark::ClobberMemory();
        if (++next == copies) next = 0;
    }
    const double gops = 2.0 * double(m * n * k) * double(state.iterations()) / timer.process_cpu_seconds() * 1e-9;
    state.counters["GOPS"] = gops;
    const auto key = std::make_tuple(state.range(0), state.range(1), state.range(2), state.range(3));
    if (!Half) g_f32_gops[key] = gops;
    else if (g_f32_gops.count(key)) state.counters["vs_f32"] = gops / g_f32_gops[key];
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "K", "N", "cold"});
    for (long m : {1, 16, 128}) {
        b->Args({m, 768, 768, 0});
        b->Args({m, 768, 3072, 0});
        if (m == 1) b->Args({m, 768, 3072, 1});
    }
}

void BM_GemmF32(benchmark::State& s) { BM_Gemm<false>(s); }
void BM_GemmF16(benchmark::State& s) { BM_Gemm<true>(s); }

}  // namespace

BENCHMARK(BM_GemmF32)->Apply(shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmF16)->Apply(shapes)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
