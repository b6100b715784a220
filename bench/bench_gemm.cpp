// The packed fp32 GEMM against this machine's own limits, measured in the same process:
//   - one core's FMA peak (independent FMA chains on xsimd batches, no loads);
//   - one core's streaming read bandwidth from memory (a buffer well beyond the L3).
// Every GEMM reports GFLOPS and peak_frac (GFLOPS / (peak x threads)); M = 1 also reports the
// weight traffic in GB/s and bw_frac (GB/s / measured bandwidth). "cold" M = 1 runs rotate
// through enough copies of the weights (> 96 MiB) that every call streams them from memory;
// "hot" ones reuse one copy, which then lives in L2/L3.
//
//   bench_gemm --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "minibert/kernels/gemm_f32.hpp"
#include "minibert/numeric/aligned_buffer.hpp"
#include "minibert/parallel/thread_pool.hpp"

namespace mk = minibert::kernels;
using namespace minibert_bench;

namespace {

double g_peak_gflops = 0.0;    // one core, fp32 FMA
double g_read_gbytes_s = 0.0;  // one core, streaming reads from memory

// Measures both and names them in the output's context.
void measure_machine_limits() {
    g_peak_gflops = measure_fma_peak(Clock::wall);
    minibert::AlignedBuffer<float> big(std::size_t(256) << 20 >> 2);  // 256 MiB
    for (std::size_t i = 0; i < big.size(); i += 1024) big[i] = 1.0f;  // touch every page
    g_read_gbytes_s = best_rate(4, double(big.bytes()), Clock::wall, [&] { return read_stream(big.data(), big.size()); });
    add_peak_context(g_peak_gflops);
    benchmark::AddCustomContext("read_bandwidth_gbytes_s_1core", std::to_string(g_read_gbytes_s));
}

void BM_FmaPeak(benchmark::State& state) {
    state.counters["GFLOPS"] = chains_rate(state, Clock::wall, kFmaFlopsPerStep, fma_chains);
}

void BM_MemoryRead(benchmark::State& state) {
    minibert::AlignedBuffer<float> big(std::size_t(256) << 20 >> 2);
    for (std::size_t i = 0; i < big.size(); i += 1024) big[i] = 1.0f;
    LoopTimer timer;
    for (auto _ : state) benchmark::DoNotOptimize(read_stream(big.data(), big.size()));
    state.counters["GBps"] = double(big.bytes()) * double(state.iterations()) / timer.seconds() * 1e-9;
}

// Args: M, K, N, threads, cold (M = 1 only: stream the weights from memory on every call).
void BM_Gemm(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = std::size_t(state.range(1)),
                      n = std::size_t(state.range(2)), threads = std::size_t(state.range(3));
    const bool cold = state.range(4) != 0;

    const auto w = random_vector(n * k, 1);
    const auto a = random_vector(m * k, 2);
    const auto bias = random_vector(n, 3);
    std::vector<mk::PackedWeightsF32> copies;
    const std::size_t weight_bytes = n * k * sizeof(float);
    const std::size_t copy_count = cold ? std::max<std::size_t>(2, (std::size_t(96) << 20) / weight_bytes + 1) : 1;
    for (std::size_t i = 0; i < copy_count; ++i) copies.emplace_back(w.data(), n, k);

    minibert::ThreadPool pool(threads);
    minibert::AlignedBuffer<float> c(m * n);
    minibert::AlignedBuffer<float> scratch(mk::gemm_f32_scratch_floats(m, k, threads));
    mk::Epilogue ep;
    ep.bias = bias.data();  // the bias is always there in BERT; activations are benchmarked apart

    std::size_t next = 0;
    LoopTimer timer;
    for (auto _ : state) {
        mk::gemm_f32(a.data(), k, m, copies[next], c.data(), n, ep, scratch.data(), &pool);
        benchmark::ClobberMemory();
        if (++next == copy_count) next = 0;
    }

    const double calls_per_second = double(state.iterations()) / timer.seconds();
    const double gflops = 2.0 * double(m) * double(n) * double(k) * calls_per_second * 1e-9;
    state.counters["GFLOPS"] = gflops;
    state.counters["peak_frac"] = gflops / (g_peak_gflops * double(threads));
    if (m == 1) {
        const double gbytes_s = double(copies[0].bytes()) * calls_per_second * 1e-9;
        state.counters["GBps"] = gbytes_s;
        state.counters["bw_frac"] = gbytes_s / g_read_gbytes_s;
    }
}

// Cost of the fused epilogue on the FFN's first linear layer: bias + exact GELU.
void BM_GemmGelu(benchmark::State& state) {
    const std::size_t m = std::size_t(state.range(0)), k = 768, n = 3072;
    const auto w = random_vector(n * k, 1);
    const auto a = random_vector(m * k, 2);
    const auto bias = random_vector(n, 3);
    const mk::PackedWeightsF32 packed(w.data(), n, k);
    minibert::AlignedBuffer<float> c(m * n);
    minibert::AlignedBuffer<float> scratch(mk::gemm_f32_scratch_floats(m, k, 1));
    mk::Epilogue ep;
    ep.bias = bias.data();
    ep.activation = mk::Activation::gelu_erf;
    LoopTimer timer;
    for (auto _ : state) {
        mk::gemm_f32(a.data(), k, m, packed, c.data(), n, ep, scratch.data(), nullptr);
        benchmark::ClobberMemory();
    }
    const double gflops = 2.0 * double(m) * double(n) * double(k) * double(state.iterations()) / timer.seconds() * 1e-9;
    state.counters["GFLOPS"] = gflops;
    state.counters["peak_frac"] = gflops / g_peak_gflops;
}

void gemm_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "K", "N", "threads", "cold"});
    const long shapes[][2] = {{768, 768}, {768, 3072}, {3072, 768}};
    for (long threads : {1, 2})
        for (long m : {1, 16, 128})
            for (const auto& kn : shapes) {
                b->Args({m, kn[0], kn[1], threads, 0});
                if (m == 1) b->Args({m, kn[0], kn[1], threads, 1});
            }
}

}  // namespace

BENCHMARK(BM_FmaPeak)->UseRealTime();
BENCHMARK(BM_MemoryRead)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gemm)->Apply(gemm_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmGelu)->Arg(16)->Arg(128)->UseRealTime()->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
    return run_benchmarks(argc, argv, [] {
        measure_machine_limits();
        benchmark::AddCustomContext("gemm_tile", std::to_string(mk::detail::kTileRows) + "x" +
                                                     std::to_string(mk::kernel_table(minibert::select_isa()).f32_panel_width ? mk::kernel_table(minibert::select_isa()).f32_panel_width : mk::detail::kPanelWidth));
        benchmark::AddCustomContext("kernel_isa", minibert::to_string(mk::kernel_table(minibert::select_isa()).isa));
    });
}
