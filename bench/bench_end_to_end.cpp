// End-to-end latency and throughput of whole models (embeddings, every layer, the head).
//
// Models come from MINIBERT_BENCH_MODELS (default: build/bench-models), written by
//   /usr/bin/python3 tests/reference/make_checkpoints.py --out build/bench-models
//       (continued) --only bench-tinybert-4l-312 bench-distilbert-base bench-bert-base
// Each benchmark times every inference itself and reports p50_ms / p95_ms (latency, batch 1)
// or seq_per_s (throughput, batch 8); args are {batch, sequence length, threads}. Each model runs
// in fp32, fp16 and int8 (dynamic activations, int8 word embeddings; quantised at load), named
// <model>_<dtype>; e.g. --benchmark_filter='bert_base_(fp32|int8)/1/128/1'.
#include <benchmark/benchmark.h>
#include <minibert/minibert.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

std::string models_dir() {
    const char* env = std::getenv("MINIBERT_BENCH_MODELS");
    return env ? env : std::string(MINIBERT_SOURCE_DIR) + "/build/bench-models";
}

minibert::LoadOptions options_for(const std::string& dtype) {
    if (dtype == "fp16") return {minibert::WeightType::fp16, minibert::EmbeddingStorage::fp16};
    if (dtype == "int8") return {minibert::WeightType::int8_dynamic, minibert::EmbeddingStorage::int8};
    return {minibert::WeightType::fp32, minibert::EmbeddingStorage::fp32};
}

// One model in memory at a time: BERT-base in three dtypes would not leave the page cache alone.
const minibert::Model& cached_model(const std::string& name, const std::string& dtype) {
    static std::map<std::string, minibert::Model> models;
    const std::string key = name + "/" + dtype;
    auto it = models.find(key);
    if (it == models.end()) {
        models.clear();
        it = models.emplace(key, minibert::Model::load(models_dir() + "/" + name, options_for(dtype))).first;
    }
    return it->second;
}

void run_model(benchmark::State& state, const std::string& name, const std::string& dtype) {
    const std::size_t batch_size = static_cast<std::size_t>(state.range(0));
    const std::size_t length = static_cast<std::size_t>(state.range(1));
    minibert::SessionOptions options;
    options.threads = static_cast<std::size_t>(state.range(2));
    options.max_batch = batch_size;
    options.max_tokens = batch_size * length;
    options.max_sequence = length;
    const minibert::Model* model = nullptr;
    try {
        model = &cached_model(name, dtype);
    } catch (const minibert::Error& e) {
        state.SkipWithError(e.what());
        for (auto _ : state) {}
        return;
    }
    minibert::Session session(*model, options);
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::int32_t> id(1000, static_cast<std::int32_t>(model->config().vocab_size) - 1);
    minibert::Batch batch;
    for (std::size_t b = 0; b < batch_size; ++b) {
        std::vector<std::int32_t> ids(length);
        for (auto& v : ids) v = id(rng);
        ids.front() = 101;
        ids.back() = 102;
        batch.add(ids);
    }
    session.run(batch);  // warm-up: page in the weights
    // Wall time, and process CPU time (all threads): on a shared machine the second is what the
    // inference itself cost, the first includes waiting for a core.
    auto cpu_ms = [] {
        timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return 1e3 * double(ts.tv_sec) + 1e-6 * double(ts.tv_nsec);
    };
    std::vector<double> ms, cpu;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        const double cpu_start = cpu_ms();
        const minibert::Outputs out = session.run(batch);
        benchmark::DoNotOptimize(out.logits.data());
        cpu.push_back(cpu_ms() - cpu_start);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    auto percentile = [&](const std::vector<double>& v, double p) {
        return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5))];
    };
    state.counters["p50_ms"] = percentile(ms, 0.50);
    state.counters["p95_ms"] = percentile(ms, 0.95);
    state.counters["cpu_p50_ms"] = percentile(cpu, 0.50);
    state.counters["seq_per_s"] = benchmark::Counter(static_cast<double>(batch_size * ms.size()), benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"batch", "seq", "threads"});
    for (int threads : {1, 2}) {
        b->Args({1, 16, threads});
        b->Args({1, 128, threads});
        b->Args({8, 128, threads});
    }
    b->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
}

}  // namespace

#define MINIBERT_E2E(id, folder)                                                               \
    BENCHMARK_CAPTURE(run_model, id##_fp32, std::string(folder), std::string("fp32"))->Apply(shapes); \
    BENCHMARK_CAPTURE(run_model, id##_fp16, std::string(folder), std::string("fp16"))->Apply(shapes); \
    BENCHMARK_CAPTURE(run_model, id##_int8, std::string(folder), std::string("int8"))->Apply(shapes);

MINIBERT_E2E(tinybert_4l_312, "bench-tinybert-4l-312")
MINIBERT_E2E(distilbert_base, "bench-distilbert-base")
MINIBERT_E2E(bert_base, "bench-bert-base")

BENCHMARK_MAIN();
