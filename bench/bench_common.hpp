// What the GEMM and kernel benchmarks share: this core's FMA peak and read bandwidth, measured in
// the same process as the kernels they are compared with; the clocks and loop timer behind every
// rate counter; and the deterministic inputs.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "minibert/kernels/activations.hpp"
#include "minibert/kernels/dispatch.hpp"

namespace minibert_bench {

using Batch = xsimd::batch<float, minibert::kernels::KernelArch>;  // the kernels' own SIMD width

// ---- clocks -------------------------------------------------------------------------------------

// wall: elapsed time. thread_cpu: the calling thread's CPU time. process_cpu: all threads' CPU
// time. The machine is shared, so wall time also measures the neighbours; CPU time measures what
// the cores we got did (the pool's workers sleep when idle, so their CPU time is work).
enum class Clock { wall, thread_cpu, process_cpu };

inline double now(Clock clock) {
    if (clock == Clock::wall)
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    timespec ts{};
    clock_gettime(clock == Clock::thread_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Seconds on each clock since construction. Rate counters in plain units (GFLOP/s, GB/s,
// fractions) come from our own timing of the whole measured loop: the pool's workers do not show
// up in the main thread's CPU time that Google Benchmark reports.
class LoopTimer {
public:
    LoopTimer() : wall_(now(Clock::wall)), thread_(now(Clock::thread_cpu)), process_(now(Clock::process_cpu)) {}
    double seconds() const { return now(Clock::wall) - wall_; }
    double cpu_seconds() const { return now(Clock::thread_cpu) - thread_; }
    double process_cpu_seconds() const { return now(Clock::process_cpu) - process_; }
    double seconds(Clock clock) const {
        return clock == Clock::wall ? seconds() : clock == Clock::thread_cpu ? cpu_seconds() : process_cpu_seconds();
    }

private:
    double wall_, thread_, process_;
};

// ---- machine limits -----------------------------------------------------------------------------

// 10 independent FMA chains cover the FMA latency x throughput product (4 cycles x 2 per cycle
// for 256-bit FMAs) with room to spare; the chains converge, so values stay finite.
constexpr int kPeakChains = 10;
constexpr double kFmaFlopsPerStep = 2.0 * kPeakChains * Batch::size;

inline float fma_chains(std::size_t steps) {
    Batch acc[kPeakChains];
    for (int i = 0; i < kPeakChains; ++i) acc[i] = Batch(0.001f * float(i + 1));
    const Batch scale(0.999999f), shift(1e-6f);
    for (std::size_t s = 0; s < steps; ++s)
        for (int i = 0; i < kPeakChains; ++i) acc[i] = xsimd::fma(acc[i], scale, shift);
    Batch sum(0.0f);
    for (int i = 0; i < kPeakChains; ++i) sum += acc[i];
    return xsimd::hadd(sum);
}

// Sums n floats (64-byte aligned) with four independent chains of SIMD loads.
inline float read_stream(const float* p, std::size_t n) {
    constexpr std::size_t w = Batch::size;
    Batch s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
    for (std::size_t i = 0; i + 4 * w <= n; i += 4 * w) {
        s0 += Batch::load_aligned(p + i);
        s1 += Batch::load_aligned(p + i + w);
        s2 += Batch::load_aligned(p + i + 2 * w);
        s3 += Batch::load_aligned(p + i + 3 * w);
    }
    return xsimd::hadd((s0 + s1) + (s2 + s3));
}

// The best rate (1e9 units per second) of `runs` calls of fn, each doing `units` units of work
// (flops, ops, bytes). The machine is shared, so the maximum is the closest estimate of what the
// core can do.
template <class Fn>
double best_rate(int runs, double units, Clock clock, Fn&& fn) {
    double best = 0.0;
    for (int r = 0; r < runs; ++r) {
        const double t0 = now(clock);
        benchmark::DoNotOptimize(fn());
        best = std::max(best, units / (now(clock) - t0) * 1e-9);
    }
    return best;
}

#if defined(__x86_64__)
#include <immintrin.h>

// The FMA chains at the width of the kernel level the GEMMs dispatch to (kernels/dispatch.hpp):
// 256-bit on avx2/avxvnni, 512-bit on avx512 and up, whatever the build's flags.
__attribute__((target("avx2,fma"))) inline float fma_chains_ymm(std::size_t steps) {
    __m256 acc[kPeakChains];
    for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm256_set1_ps(0.001f * float(i + 1));
    const __m256 scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-6f);
    for (std::size_t s = 0; s < steps; ++s)
        for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
    alignas(32) float lanes[8];
    __m256 sum = acc[0];
    for (int i = 1; i < kPeakChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
    _mm256_store_ps(lanes, sum);
    return lanes[0] + lanes[7];
}
__attribute__((target("avx512f"))) inline float fma_chains_zmm(std::size_t steps) {
    __m512 acc[kPeakChains];
    for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_set1_ps(0.001f * float(i + 1));
    const __m512 scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-6f);
    for (std::size_t s = 0; s < steps; ++s)
        for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
    alignas(64) float lanes[16];
    __m512 sum = acc[0];
    for (int i = 1; i < kPeakChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
    _mm512_store_ps(lanes, sum);
    return lanes[0] + lanes[15];
}
#endif

// One core's fp32 FMA peak in GFLOP/s at the selected kernel level's width (MINIBERT_ISA caps
// it): the best of 7 runs of 2,000,000 steps of independent FMA chains.
inline double measure_fma_peak(Clock clock) {
    const std::size_t steps = 2'000'000;
#if defined(__x86_64__)
    const std::size_t nr = minibert::kernels::kernel_table(minibert::select_isa()).f32_panel_width;
    if (nr == 48)
        return best_rate(7, 2.0 * kPeakChains * 16 * double(steps), clock, [&] { return fma_chains_zmm(steps); });
    if (nr == 24)
        return best_rate(7, 2.0 * kPeakChains * 8 * double(steps), clock, [&] { return fma_chains_ymm(steps); });
#endif
    return best_rate(7, kFmaFlopsPerStep * double(steps), clock, [&] { return fma_chains(steps); });
}

// The context lines of the programs that compare with the FMA peak: the SIMD target and the peak.
inline void add_peak_context(double peak_gflops) {
    benchmark::AddCustomContext("simd_arch", minibert::kernels::KernelArch::name());
    benchmark::AddCustomContext("fma_peak_gflops_1core", std::to_string(peak_gflops));
}

// The body of a peak benchmark (BM_FmaPeak, ...): chains(1'000'000) per iteration, each step doing
// ops_per_step operations; returns the rate in 1e9 operations per second of `clock`.
template <class Chains>
double chains_rate(benchmark::State& state, Clock clock, double ops_per_step, Chains&& chains) {
    std::size_t steps = 1'000'000;
    LoopTimer timer;
    for (auto _ : state) {
        benchmark::DoNotOptimize(steps);  // keeps the call inside the loop
        benchmark::DoNotOptimize(chains(steps));
    }
    return ops_per_step * double(steps) * double(state.iterations()) / timer.seconds(clock) * 1e-9;
}

// ---- inputs -------------------------------------------------------------------------------------

// n uniform values in [-amplitude, amplitude), the same on every machine.
inline std::vector<float> random_vector(std::size_t n, std::uint32_t seed, float amplitude = 0.5f) {
    std::vector<float> v(n);
    std::uint32_t s = seed * 2654435761u + 1;
    for (auto& x : v) {
        s = s * 1664525u + 1013904223u;
        x = (float(s >> 8) / 16777216.0f - 0.5f) * 2.0f * amplitude;
    }
    return v;
}

// ---- main ---------------------------------------------------------------------------------------

// main() of a benchmark program: Google Benchmark's flags, then setup() (measure the machine,
// add context lines), then the benchmarks.
template <class Setup>
int run_benchmarks(int argc, char** argv, Setup&& setup) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    setup();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace minibert_bench
