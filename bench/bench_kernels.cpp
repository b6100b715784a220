// The small kernels around the GEMM, against this machine's own limits measured in-process:
//   - one core's FMA peak (independent FMA chains on xsimd batches, no loads), as bench_gemm;
//   - one core's read bandwidth from L2 (a 256 KiB buffer read over and over).
// Attention reports GFLOPS (4 s^2 d flops per head: Q K^T and P V) and peak_frac; the row-wise
// kernel it replaced runs beside it (BM_AttentionRowwise) so the speed-up is measured in one run.
// Softmax, LayerNorm and GELU report GBps (bytes read + written) and bw_frac (against L2 reads)
// and ns per element. One-thread rates use the thread's CPU time (see LoopTimer). BM_PoolDispatch is the thread pool's cost per parallel_for.
//
//   bench_kernels --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "minibert/kernels/activations.hpp"
#include "minibert/kernels/attention.hpp"
#include "minibert/kernels/layer_norm.hpp"
#include "minibert/kernels/softmax.hpp"
#include "minibert/numeric/aligned_buffer.hpp"
#include "minibert/parallel/thread_pool.hpp"

namespace mk = minibert::kernels;
using namespace minibert_bench;

namespace {

double g_peak_gflops = 0.0;  // one core, fp32 FMA
double g_l2_gbytes_s = 0.0;  // one core, reads from L2

// Measures both and names them in the output's context.
void measure_machine_limits() {
    g_peak_gflops = measure_fma_peak(Clock::wall);
    minibert::AlignedBuffer<float> l2(std::size_t(256) << 10 >> 2);  // 256 KiB: L2, not L1
    for (std::size_t i = 0; i < l2.size(); ++i) l2[i] = 1.0f;
    g_l2_gbytes_s = best_rate(7, 200.0 * double(l2.bytes()), Clock::wall, [&] {
        float sink = 0;
        for (int rep = 0; rep < 200; ++rep) sink += read_stream(l2.data(), l2.size());
        return sink;
    });
    add_peak_context(g_peak_gflops);
    benchmark::AddCustomContext("l2_read_gbytes_s_1core", std::to_string(g_l2_gbytes_s));
    benchmark::AddCustomContext("kernel_isa", minibert::to_string(mk::kernel_table(minibert::select_isa()).isa));
}

// On this shared 2-vCPU VM a one-thread kernel often gets well under a whole core, so one-thread
// rates below use the thread's CPU time (LoopTimer::cpu_seconds: the work actually done per
// second on the core), multi-thread ones the wall time.

// The kernel this file's blocked attention replaced (minibert before issue 4): per query row, a
// dot product per key, softmax, then an axpy per key. Kept here only as the baseline.
void attention_head_rowwise(const float* q, const float* k, const float* v, std::size_t ld, std::size_t s,
                            std::size_t d, float scale_factor, float* out, std::size_t ldo, float* scores) {
    for (std::size_t i = 0; i < s; ++i) {
        const float* qi = q + i * ld;
        for (std::size_t j = 0; j < s; ++j) scores[j] = mk::dot(qi, k + j * ld, d) * scale_factor;
        mk::softmax_inplace(scores, s);
        float* oi = out + i * ldo;
        for (std::size_t c = 0; c < d; ++c) oi[c] = 0.0f;
        for (std::size_t j = 0; j < s; ++j) mk::axpy(scores[j], v + j * ld, oi, d);
    }
}

// Args: s, d, heads, threads, blocked (1) or row-wise (0). All heads of one sequence laid out as
// the fused QKV matrix ([s x 3*heads*d]); heads are spread over the pool as the layer does. The
// blocked kernel runs at the level models get here (select_isa(): MINIBERT_ISA caps it), the
// row-wise baseline at the build's flags.
void BM_Attention(benchmark::State& state) {
    const std::size_t s = std::size_t(state.range(0)), d = std::size_t(state.range(1)),
                      heads = std::size_t(state.range(2)), threads = std::size_t(state.range(3));
    const bool blocked = state.range(4) != 0;
    const std::size_t hidden = heads * d, ld = 3 * hidden;
    const auto qkv = random_vector(s * ld, 1, 2.0f);
    std::vector<float> context(s * hidden);
    const std::size_t scratch_floats = blocked ? mk::attention_scratch_floats(s, d) : s;
    std::vector<float> scratch(threads * scratch_floats);
    minibert::ThreadPool pool(threads);
    const float scale = 1.0f / std::sqrt(float(d));
    const mk::KernelTable& kt = mk::kernel_table(minibert::select_isa());
    auto one_head = [&](std::size_t head, float* buf) {
        const float* q = qkv.data() + head * d;
        if (blocked) mk::attention_head(kt, q, q + hidden, q + 2 * hidden, ld, s, d, scale, context.data() + head * d, hidden, buf);
        else attention_head_rowwise(q, q + hidden, q + 2 * hidden, ld, s, d, scale, context.data() + head * d, hidden, buf);
    };
    LoopTimer timer;
    for (auto _ : state) {
        pool.parallel_for(threads, [&](std::size_t t) {
            for (std::size_t h = heads * t / threads; h < heads * (t + 1) / threads; ++h) one_head(h, scratch.data() + t * scratch_floats);
        });
        benchmark::ClobberMemory();
    }
    const double flops = 4.0 * double(s) * double(s) * double(d) * double(heads) * double(state.iterations());
    const double gflops = flops / timer.seconds() * 1e-9;
    state.counters["GFLOPS"] = gflops;
    if (threads == 1) state.counters["cpu_GFLOPS"] = flops / timer.cpu_seconds() * 1e-9;
    state.counters["peak_frac"] = threads == 1 ? flops / timer.cpu_seconds() * 1e-9 / g_peak_gflops : gflops / (g_peak_gflops * double(threads));
}

void attention_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"s", "d", "heads", "threads", "blocked"});
    for (long blocked : {0, 1})
        for (long s : {16, 128, 512}) {
            b->Args({s, 64, 12, 1, blocked});
            b->Args({s, 26, 12, 1, blocked});  // TinyBERT-4L-312
        }
    for (long s : {16, 128}) b->Args({s, 64, 12, 2, 1});
}

// Args: rows, n. One softmax per row, as the old attention ran it (and the pipelines' heads).
void BM_Softmax(benchmark::State& state) {
    const std::size_t rows = std::size_t(state.range(0)), n = std::size_t(state.range(1));
    const auto source = random_vector(rows * n, 2, 8.0f);
    std::vector<float> x(source);
    LoopTimer timer;
    for (auto _ : state) {
        for (std::size_t r = 0; r < rows; ++r) mk::softmax_inplace(x.data() + r * n, n);
        benchmark::ClobberMemory();
    }
    const double elements_per_s = double(rows * n) * double(state.iterations()) / timer.cpu_seconds();
    state.counters["ns_per_elem"] = 1e9 / elements_per_s;
    state.counters["GBps"] = 8.0 * elements_per_s * 1e-9;  // read + write once (the passes hit L1)
    state.counters["bw_frac"] = 8.0 * elements_per_s * 1e-9 / g_l2_gbytes_s;
}

// Args: rows, n. LayerNorm of every row in place, as after each residual add.
void BM_LayerNorm(benchmark::State& state) {
    const std::size_t rows = std::size_t(state.range(0)), n = std::size_t(state.range(1));
    const auto source = random_vector(rows * n, 3, 4.0f);
    const auto gamma = random_vector(n, 4, 1.0f), beta = random_vector(n, 5, 1.0f);
    std::vector<float> x(source);
    LoopTimer timer;
    for (auto _ : state) {
        for (std::size_t r = 0; r < rows; ++r) mk::layer_norm_row(x.data() + r * n, gamma.data(), beta.data(), 1e-12f, x.data() + r * n, n);
        benchmark::ClobberMemory();
    }
    const double elements_per_s = double(rows * n) * double(state.iterations()) / timer.cpu_seconds();
    state.counters["ns_per_elem"] = 1e9 / elements_per_s;
    state.counters["GBps"] = 8.0 * elements_per_s * 1e-9;
    state.counters["bw_frac"] = 8.0 * elements_per_s * 1e-9 / g_l2_gbytes_s;
}

// Args: elements, activation. What the FFN's GEMM epilogue spends per element on the activation,
// at the level models get here (the same lane code the epilogues run in register).
void BM_Activation(benchmark::State& state) {
    const mk::KernelTable& kt = mk::kernel_table(minibert::select_isa());
    const std::size_t n = std::size_t(state.range(0));
    const auto act = static_cast<mk::Activation>(state.range(1));
    const auto source = random_vector(n, 6, 4.0f);
    std::vector<float> x(n);
    LoopTimer timer;
    for (auto _ : state) {
        std::copy(source.begin(), source.end(), x.begin());  // keep the inputs in range
        kt.activation(x.data(), n, act);
        benchmark::ClobberMemory();
    }
    const double elements_per_s = double(n) * double(state.iterations()) / timer.cpu_seconds();
    state.counters["ns_per_elem"] = 1e9 / elements_per_s;
    state.counters["GBps"] = 8.0 * elements_per_s * 1e-9;
}

// Args: threads, tasks. One parallel_for with trivial tasks: the fixed cost of waking the pool,
// paid by every GEMM, attention and LayerNorm call on more than one thread.
void BM_PoolDispatch(benchmark::State& state) {
    minibert::ThreadPool pool(std::size_t(state.range(0)));
    const std::size_t tasks = std::size_t(state.range(1));
    std::vector<std::uint64_t> sink(64 * tasks);
    for (auto _ : state) {
        pool.parallel_for(tasks, [&](std::size_t t) { sink[64 * t] += t; });
        benchmark::ClobberMemory();
    }
    // The Time column is the cost per call (wall); CPU is the caller's share of it.
}

}  // namespace

BENCHMARK(BM_Attention)->Apply(attention_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Softmax)->ArgNames({"rows", "n"})->Args({128, 128})->Args({32, 512})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LayerNorm)->ArgNames({"rows", "n"})->Args({16, 768})->Args({128, 768})->Args({128, 312})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Activation)
    ->ArgNames({"n", "act"})
    ->Args({128 * 3072, int(mk::Activation::gelu_erf)})
    ->Args({128 * 3072, int(mk::Activation::gelu_tanh)})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PoolDispatch)->ArgNames({"threads", "tasks"})->Args({1, 1})->Args({2, 2})->UseRealTime();

int main(int argc, char** argv) { return run_benchmarks(argc, argv, measure_machine_limits); }
