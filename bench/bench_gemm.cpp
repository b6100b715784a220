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
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "minibert/kernels/gemm_f32.hpp"
#include "minibert/numeric/aligned_buffer.hpp"
#include "minibert/parallel/thread_pool.hpp"

namespace mk = minibert::kernels;
using Batch = xsimd::batch<float, mk::KernelArch>;  // the GEMM's own SIMD width

namespace {

double g_peak_gflops = 0.0;    // one core, fp32 FMA
double g_read_gbytes_s = 0.0;  // one core, streaming reads from memory

// 10 independent FMA chains cover the FMA latency x throughput product (4 cycles x 2 per cycle
// for 256-bit FMAs) with room to spare; the chains converge, so values stay finite.
constexpr int kPeakChains = 10;

float fma_chains(std::size_t steps) {
    Batch acc[kPeakChains];
    for (int i = 0; i < kPeakChains; ++i) acc[i] = Batch(0.001f * float(i + 1));
    const Batch scale(0.999999f), shift(1e-6f);
    for (std::size_t s = 0; s < steps; ++s)
        for (int i = 0; i < kPeakChains; ++i) acc[i] = xsimd::fma(acc[i], scale, shift);
    Batch sum(0.0f);
    for (int i = 0; i < kPeakChains; ++i) sum += acc[i];
    return xsimd::hadd(sum);
}

double fma_flops_per_step() { return 2.0 * kPeakChains * Batch::size; }

float read_stream(const float* p, std::size_t n) {
    constexpr std::size_t w = Batch::size;
    Batch s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
    for (std::size_t i = 0; i + 4 * w <= n; i += 4 * w) {
        s0 += xsimd::batch<float, mk::KernelArch>::load_aligned(p + i);
        s1 += xsimd::batch<float, mk::KernelArch>::load_aligned(p + i + w);
        s2 += xsimd::batch<float, mk::KernelArch>::load_aligned(p + i + 2 * w);
        s3 += xsimd::batch<float, mk::KernelArch>::load_aligned(p + i + 3 * w);
    }
    return xsimd::hadd((s0 + s1) + (s2 + s3));
}

template <class Fn>
double seconds_of(Fn&& fn) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The best of several short runs: the machine is shared, so the maximum is the closest
// estimate of what the core can do.
void measure_machine_limits() {
    const std::size_t steps = 2'000'000;
    for (int r = 0; r < 7; ++r) {
        float sink = 0;
        const double s = seconds_of([&] { sink = fma_chains(steps); });
        benchmark::DoNotOptimize(sink);
        g_peak_gflops = std::max(g_peak_gflops, fma_flops_per_step() * double(steps) / s * 1e-9);
    }
    minibert::AlignedBuffer<float> big(std::size_t(256) << 20 >> 2);  // 256 MiB
    for (std::size_t i = 0; i < big.size(); i += 1024) big[i] = 1.0f;  // touch every page
    for (int r = 0; r < 4; ++r) {
        float sink = 0;
        const double s = seconds_of([&] { sink = read_stream(big.data(), big.size()); });
        benchmark::DoNotOptimize(sink);
        g_read_gbytes_s = std::max(g_read_gbytes_s, double(big.bytes()) / s * 1e-9);
    }
}

std::vector<float> random_vector(std::size_t n, std::uint32_t seed) {
    std::vector<float> v(n);
    std::uint32_t s = seed * 2654435761u + 1;
    for (auto& x : v) {
        s = s * 1664525u + 1013904223u;
        x = float(s >> 8) / 16777216.0f - 0.5f;
    }
    return v;
}

// Counters in plain units (GFLOP/s, GB/s, fractions), from our own wall-clock timing of the
// whole measured loop (the pool's workers do not show up in the main thread's CPU time).
class LoopTimer {
public:
    LoopTimer() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

private:
    std::chrono::steady_clock::time_point start_;
};

void BM_FmaPeak(benchmark::State& state) {
    std::size_t steps = 1'000'000;
    LoopTimer timer;
    for (auto _ : state) {
        benchmark::DoNotOptimize(steps);  // keeps the call inside the loop
        benchmark::DoNotOptimize(fma_chains(steps));
    }
    state.counters["GFLOPS"] = fma_flops_per_step() * double(steps) * double(state.iterations()) / timer.seconds() * 1e-9;
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
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    measure_machine_limits();
    benchmark::AddCustomContext("simd_arch", mk::KernelArch::name());
    benchmark::AddCustomContext("fma_peak_gflops_1core", std::to_string(g_peak_gflops));
    benchmark::AddCustomContext("read_bandwidth_gbytes_s_1core", std::to_string(g_read_gbytes_s));
    benchmark::AddCustomContext("gemm_tile", std::to_string(mk::detail::kTileRows) + "x" +
                                                 std::to_string(mk::PackedWeightsF32::panel_width));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
