// The int8 GEMM against the fp32 GEMM and against this core's exact-int8 peak, in one process.
//
//   - BM_FmaPeak:  fp32 FMA peak of one core (independent FMA chains, no loads), GFLOP/s;
//   - BM_Int8Peak: the exact-int8 peak of one core for the selected kernel level (context
//                  kernel_isa, int8_peak): 4 independent TDPBSSD tiles on amx, independent
//                  chains of 512-bit vpdpbusd on avx512vnni,
//                  else of the AVX2 tile's sequence per 8 x 4 products (vpsignb, vpmaddubsw,
//                  vpmaddwd, vpaddd), no loads, GOP/s;
//   - BM_GemmF32 / BM_GemmI8 on the encoder's shapes (M tokens, K inputs, N outputs, bias fused;
//     int8 includes the per-row dynamic quantisation of A, as a layer pays it).
// Counters: GOPS (2 M N K per CPU-second, all threads' CPU time), peak_frac (vs the matching
// one-core peak above), and for int8 vs_f32 (its
// GOPS over the fp32 GEMM's on the same shape and thread count, measured earlier in this run).
//
//   bench_gemm_i8 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "bench_common.hpp"
#include "minibert/kernels/gemm_f32.hpp"
#include "minibert/kernels/gemm_i8.hpp"
#include "minibert/kernels/x86/amx_i8.hpp"  // isa_amx::ensure_config, called directly below
#include "minibert/numeric/aligned_buffer.hpp"
#include "minibert/parallel/thread_pool.hpp"

namespace mk = minibert::kernels;
using namespace minibert_bench;

namespace {

double g_fma_peak = 0.0;   // GFLOP/s, one core
double g_int8_peak = 0.0;  // GOP/s, one core
std::map<std::tuple<long, long, long, long>, double> g_f32_gops;  // (M, K, N, threads) -> GOPS

#if defined(__x86_64__)
constexpr int kInt8Chains = 8;
// Each step: per chain the AVX2 tile's 4-instruction sequence on 8 columns x 4 k = 32 multiply-
// adds, with the tile's operand pattern (2 weight vectors x 4 signed broadcasts, one |a|): 8
// distinct products, so nothing can be shared between chains. The empty asm makes the operands
// look new each step (it emits no instruction), so nothing is hoisted out of the loop either.
__attribute__((target("avx2"))) std::int32_t int8_chains_avx2(std::size_t steps) {
    __m256i acc[kInt8Chains];
    for (int i = 0; i < kInt8Chains; ++i) acc[i] = _mm256_set1_epi32(i);
    __m256i w0 = _mm256_set1_epi8(-127), w1 = _mm256_set1_epi8(101);
    __m256i s0 = _mm256_set1_epi32(0x7f81017f), s1 = _mm256_set1_epi32(0x0181017f), s2 = _mm256_set1_epi32(0x7f01817f),
            s3 = _mm256_set1_epi32(0x7f7f7f81), u = _mm256_set1_epi32(0x7f7f017f);
    const __m256i ones = _mm256_set1_epi16(1);
    for (std::size_t step = 0; step < steps; ++step) {
        __asm__("" : "+x"(w0), "+x"(w1), "+x"(s0), "+x"(s1), "+x"(s2), "+x"(s3), "+x"(u));
        const __m256i s[4] = {s0, s1, s2, s3};
        for (int i = 0; i < kInt8Chains; ++i)
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(i % 2 ? w1 : w0, s[i / 2])), ones));
    }
    __m256i sum = acc[0];
    for (int i = 1; i < kInt8Chains; ++i) sum = _mm256_add_epi32(sum, acc[i]);
    return _mm256_extract_epi32(sum, 0);
}
constexpr double int8_ops_per_step_avx2 = 2.0 * 32 * kInt8Chains;

// The avx512vnni level's instruction: 16 independent chains of 512-bit vpdpbusd (64 multiply-
// adds each), operands from registers: the level's int8 peak.
constexpr int kVnniChains = 16;
__attribute__((target("avx512f,avx512vnni"))) std::int32_t int8_chains_vnni512(std::size_t steps) {
    __m512i acc[kVnniChains];
    for (int i = 0; i < kVnniChains; ++i) acc[i] = _mm512_set1_epi32(i);
    __m512i w0 = _mm512_set1_epi8(-127), w1 = _mm512_set1_epi8(101), u0 = _mm512_set1_epi32(0x7f7f017f),
            u1 = _mm512_set1_epi32(0x01fe7f80);
    for (std::size_t step = 0; step < steps; ++step) {
        __asm__("" : "+v"(w0), "+v"(w1), "+v"(u0), "+v"(u1));
        for (int i = 0; i < kVnniChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], i % 2 ? u1 : u0, i / 2 % 2 ? w1 : w0);
    }
    __m512i sum = acc[0];
    for (int i = 1; i < kVnniChains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
    alignas(64) std::int32_t lanes[16];
    _mm512_store_si512(lanes, sum);
    return lanes[0] + lanes[15];
}
constexpr double int8_ops_per_step_vnni512 = 2.0 * 64 * kVnniChains;

// The amx level's instruction: 4 independent C tiles, each TDPBSSD 16 x 16 x 64 = 16,384
// multiply-adds from tile registers (no loads in the loop): the level's int8 peak.
__attribute__((target(MINIBERT_TARGETS_AMX))) std::int32_t int8_chains_amx(std::size_t steps) {
    mk::isa_amx::ensure_config();
    alignas(64) std::int8_t ones[16 * 64];
    std::fill(ones, ones + sizeof ones, std::int8_t(1));
    _tile_loadd(4, ones, 64);
    _tile_loadd(5, ones, 64);
    _tile_loadd(6, ones, 64);
    _tile_loadd(7, ones, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (std::size_t step = 0; step < steps; ++step) {
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 5, 7);
        _tile_dpbssd(2, 4, 7);
        _tile_dpbssd(3, 5, 6);
    }
    alignas(64) std::int32_t out[16 * 16];
    _tile_stored(0, out, 64);
    return out[0];
}
constexpr double int8_ops_per_step_amx = 2.0 * 16 * 16 * 64 * 4;

bool use_amx() { return mk::kernel_table(minibert::select_isa()).isa == minibert::Isa::amx; }
bool use_vnni512() { return mk::kernel_table(minibert::select_isa()).i8_u8_form && minibert::cpu_info().has(minibert::Isa::avx512vnni); }
#endif

// Rates below are per CPU-second of all threads (Clock::process_cpu, see bench_common.hpp);
// peak_frac divides by the per-core peak of the selected level's int8 instruction.
void measure_peaks() {
    g_fma_peak = measure_fma_peak(Clock::process_cpu);
    benchmark::AddCustomContext("kernel_isa", minibert::to_string(mk::kernel_table(minibert::select_isa()).isa));
#if defined(__x86_64__)
    const std::size_t steps = 2'000'000;
    if (use_amx()) {
        g_int8_peak = best_rate(7, int8_ops_per_step_amx * double(steps / 16), Clock::process_cpu,
                                [&] { return int8_chains_amx(steps / 16); });
        benchmark::AddCustomContext("int8_peak", "TDPBSSD on 4 independent tiles");
    } else if (use_vnni512()) {
        g_int8_peak = best_rate(7, int8_ops_per_step_vnni512 * double(steps), Clock::process_cpu,
                                [&] { return int8_chains_vnni512(steps); });
        benchmark::AddCustomContext("int8_peak", "512-bit vpdpbusd chains");
    } else if (minibert::cpu_info().has(minibert::Isa::avx2)) {
        g_int8_peak = best_rate(7, int8_ops_per_step_avx2 * double(steps), Clock::process_cpu,
                                [&] { return int8_chains_avx2(steps); });
        benchmark::AddCustomContext("int8_peak", "vpsignb + vpmaddubsw + vpmaddwd + vpaddd (AVX2 sign scheme)");
    }
#endif
}

void BM_FmaPeak(benchmark::State& state) {
    state.counters["GOPS"] = chains_rate(state, Clock::process_cpu, kFmaFlopsPerStep, fma_chains);
}

void BM_Int8Peak(benchmark::State& state) {
#if defined(__x86_64__)
    if (use_amx())
        state.counters["GOPS"] = chains_rate(state, Clock::process_cpu, int8_ops_per_step_amx, int8_chains_amx);
    else if (use_vnni512())
        state.counters["GOPS"] = chains_rate(state, Clock::process_cpu, int8_ops_per_step_vnni512, int8_chains_vnni512);
    else
        state.counters["GOPS"] = chains_rate(state, Clock::process_cpu, int8_ops_per_step_avx2, int8_chains_avx2);
    state.counters["vs_fma_peak"] = state.counters["GOPS"] / g_fma_peak;
#else
    state.SkipWithError("needs x86-64");
    for (auto _ : state) {}
#endif
}

void BM_GemmF32(benchmark::State& state) {
    const std::size_t m = state.range(0), k = state.range(1), n = state.range(2), threads = state.range(3);
    const auto w = random_vector(n * k, 1), a = random_vector(m * k, 2), bias = random_vector(n, 3);
    const mk::PackedWeightsF32 packed(w.data(), n, k);
    minibert::ThreadPool pool(threads);
    minibert::AlignedBuffer<float> c(m * n), scratch(mk::gemm_f32_scratch_floats(m, k, threads));
    mk::Epilogue ep;
    ep.bias = bias.data();
    LoopTimer timer;
    for (auto _ : state) {
        mk::gemm_f32(a.data(), k, m, packed, c.data(), n, ep, scratch.data(), &pool);
        benchmark::ClobberMemory();
    }
    const double gops = 2.0 * double(m * n * k) * double(state.iterations()) / timer.process_cpu_seconds() * 1e-9;
    state.counters["GOPS"] = gops;
    state.counters["peak_frac"] = gops / g_fma_peak;
    auto& best = g_f32_gops[{state.range(0), state.range(1), state.range(2), state.range(3)}];
    best = std::max(best, gops);
}

// Times gemm_i8 (per-row dynamic quantisation, bias fused) on M x K x N packed for `table`;
// returns GOP/s per CPU-second of all threads and sets the GOPS / peak_frac counters.
double time_gemm_i8(benchmark::State& state, std::size_t m, std::size_t k, std::size_t n, const mk::KernelTable& table,
                    minibert::ThreadPool* pool) {
    const auto w = random_vector(n * k, 1, 0.05f), a = random_vector(m * k, 2, 3.0f), bias = random_vector(n, 3);
    const auto packed = mk::PackedWeightsI8::quantize(w.data(), n, k, table);
    minibert::AlignedBuffer<float> c(m * n);
    minibert::AlignedBuffer<std::uint8_t> scratch(mk::gemm_i8_scratch_bytes(m, k));
    mk::Epilogue ep;
    ep.bias = bias.data();
    LoopTimer timer;
    for (auto _ : state) {
        mk::gemm_i8(a.data(), k, m, packed, 0.0f, c.data(), n, ep, scratch.data(), pool);
        benchmark::ClobberMemory();
    }
    const double gops = 2.0 * double(m * n * k) * double(state.iterations()) / timer.process_cpu_seconds() * 1e-9;
    state.counters["GOPS"] = gops;
    if (g_int8_peak > 0) state.counters["peak_frac"] = gops / g_int8_peak;
    return gops;
}

void BM_GemmI8(benchmark::State& state) {
    const std::size_t m = state.range(0), k = state.range(1), n = state.range(2), threads = state.range(3);
    minibert::ThreadPool pool(threads);
    const double gops = time_gemm_i8(state, m, k, n, mk::packing_kernels(), &pool);
    const auto f32 = g_f32_gops.find({state.range(0), state.range(1), state.range(2), state.range(3)});
    if (f32 != g_f32_gops.end()) state.counters["vs_f32"] = gops / f32->second;
}

// The amx level's blocking, as chosen in x86/amx_i8.hpp (tile rows 32, block rows 256) and the
// alternatives it was measured against: rows per tile call (16: one row tile x 4 panels; 32: two
// row tiles x 2 panels) and rows per block (KernelTable::i8_block_rows). One thread.
void BM_GemmI8AmxBlocking(benchmark::State& state) {
    if (mk::kernel_table(minibert::select_isa()).isa != minibert::Isa::amx) {
        state.SkipWithError("needs the amx level");
        for (auto _ : state) {}
        return;
    }
    mk::KernelTable table = mk::kernel_table(minibert::Isa::amx);
    table.i8_tile_rows = state.range(3);
    table.i8_block_rows = state.range(4);
    time_gemm_i8(state, state.range(0), state.range(1), state.range(2), table, nullptr);
}

void amx_blocking(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "K", "N", "tile_rows", "block_rows"});
    const long shapes[][3] = {{128, 768, 768}, {128, 768, 3072}, {128, 3072, 768}, {1024, 768, 3072}};
    const long variants[][2] = {{16, 64}, {32, 64}, {32, 128}, {32, 256}};
    for (const auto& s : shapes)
        for (const auto& v : variants) b->Args({s[0], s[1], s[2], v[0], v[1]});
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "K", "N", "threads"});
    const long kn[][2] = {{768, 768}, {768, 3072}, {3072, 768}};
    for (long threads : {1, 2})
        for (long m : {16, 128})
            for (const auto& s : kn) b->Args({m, s[0], s[1], threads});
}

}  // namespace

BENCHMARK(BM_FmaPeak)->UseRealTime();
BENCHMARK(BM_Int8Peak)->UseRealTime();
BENCHMARK(BM_GemmF32)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmI8)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmI8AmxBlocking)->Apply(amx_blocking)->UseRealTime()->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) { return run_benchmarks(argc, argv, measure_peaks); }
