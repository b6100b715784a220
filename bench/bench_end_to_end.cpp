// End-to-end latency and throughput of whole models (embeddings, every layer, the head).
//
// Models come from MINIBERT_BENCH_MODELS (default: build/bench-models), written by
//   /usr/bin/python3 tests/reference/make_checkpoints.py --out build/bench-models
//       (continued) --only bench-tinybert-4l-312 bench-distilbert-base bench-bert-base
// Each benchmark times every inference itself and reports p50_ms / p95_ms (latency, batch 1)
// or seq_per_s (throughput, batch 8); args are {batch, sequence length, threads}.
#include <benchmark/benchmark.h>
#include <minibert/minibert.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

std::string models_dir() {
    const char* env = std::getenv("MINIBERT_BENCH_MODELS");
    return env ? env : std::string(MINIBERT_SOURCE_DIR) + "/build/bench-models";
}

const minibert::Model& cached_model(const std::string& name) {
    static std::map<std::string, minibert::Model> models;
    auto it = models.find(name);
    if (it == models.end()) it = models.emplace(name, minibert::Model::load(models_dir() + "/" + name)).first;
    return it->second;
}

void run_model(benchmark::State& state, const std::string& name) {
    const std::size_t batch_size = static_cast<std::size_t>(state.range(0));
    const std::size_t length = static_cast<std::size_t>(state.range(1));
    minibert::SessionOptions options;
    options.threads = static_cast<std::size_t>(state.range(2));
    options.max_batch = batch_size;
    options.max_tokens = batch_size * length;
    options.max_sequence = length;
    const minibert::Model* model = nullptr;
    try {
        model = &cached_model(name);
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
    std::vector<double> ms;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        const minibert::Outputs out = session.run(batch);
        benchmark::DoNotOptimize(out.logits.data());
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    auto percentile = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * (ms.size() - 1) + 0.5))]; };
    state.counters["p50_ms"] = percentile(0.50);
    state.counters["p95_ms"] = percentile(0.95);
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

BENCHMARK_CAPTURE(run_model, tinybert_4l_312, std::string("bench-tinybert-4l-312"))->Apply(shapes);
BENCHMARK_CAPTURE(run_model, distilbert_base, std::string("bench-distilbert-base"))->Apply(shapes);
BENCHMARK_CAPTURE(run_model, bert_base, std::string("bench-bert-base"))->Apply(shapes);

BENCHMARK_MAIN();
