// Tokenizer throughput on one thread: MB/s of UTF-8 input (SetBytesProcessed) and tokens/s.
//
// Corpora (from tests/data/tokenizer/): the first 5000 SST-2 train sentences (lower-cased
// English, mostly the ASCII fast path) and the 301-line stress set (Unicode-heavy).
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/tokenizer/tokenizer.hpp"

namespace {

const std::string data_dir = std::string(MINIBERT_SOURCE_DIR) + "/tests/data/tokenizer/";

std::vector<std::string> load_sst2() {
    std::ifstream in(data_dir + "sst2-train-5000.tsv");
    std::vector<std::string> texts;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) texts.push_back(line.substr(0, line.find('\t')));
    return texts;
}

std::vector<std::string> load_stress() {
    std::ifstream in(data_dir + "goldens/bert-base-uncased.jsonl");
    std::vector<std::string> texts;
    std::string line;
    while (texts.size() < 301 && std::getline(in, line)) texts.push_back(nlohmann::json::parse(line)["text"]);
    return texts;
}

const minibert::Tokenizer& tokenizer(bool cased) {
    static const auto uncased = minibert::Tokenizer::from_folder(data_dir + "bert-base-uncased");
    static const auto cased_tok = minibert::Tokenizer::from_folder(data_dir + "bert-base-cased");
    return cased ? cased_tok : uncased;
}

void run(benchmark::State& state, const std::vector<std::string>& texts, bool cased) {
    const minibert::Tokenizer& tok = tokenizer(cased);
    std::size_t bytes = 0, tokens = 0;
    for (const auto& t : texts) bytes += t.size();
    for (auto _ : state) {
        for (const auto& t : texts) {
            minibert::Encoding e = tok.encode(t);
            tokens += e.size();
            benchmark::DoNotOptimize(e.ids.data());
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
    state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_tokenize_sst2_uncased(benchmark::State& state) {
    static const auto texts = load_sst2();
    run(state, texts, false);
}
void BM_tokenize_sst2_cased(benchmark::State& state) {
    static const auto texts = load_sst2();
    run(state, texts, true);
}
void BM_tokenize_stress_uncased(benchmark::State& state) {
    static const auto texts = load_stress();
    run(state, texts, false);
}
void BM_tokenize_stress_cased(benchmark::State& state) {
    static const auto texts = load_stress();
    run(state, texts, true);
}

void BM_load_tokenizer_json(benchmark::State& state) {
    for (auto _ : state) {
        auto tok = minibert::Tokenizer::from_folder(data_dir + "bert-base-uncased");
        benchmark::DoNotOptimize(&tok);
    }
}

}  // namespace

BENCHMARK(BM_tokenize_sst2_uncased)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tokenize_sst2_cased)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tokenize_stress_uncased)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tokenize_stress_cased)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_tokenizer_json)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
