// TokenizerPipeline throughput on one thread (tokenizer.json families): MB/s of UTF-8 input
// (SetBytesProcessed) and tokens/s, for byte-level BPE (roberta-base, ModernBERT-base), Unigram
// (sentence-camembert-base, t5-small) and WordPiece + RobertaProcessing (all-mpnet-base-v2).
//
// Corpora (tests/data/tokenizer/): the first 5000 SST-2 train sentences, and the 301-line
// stress set (Unicode-heavy), as in bench_tokenizer.cpp. The target in issue 14 is 15 MB/s on
// SST-2 for BPE and Unigram.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/tokenizer/tokenizer_pipeline.hpp"

namespace {

const std::string data_dir = std::string(MINIBERT_SOURCE_DIR) + "/tests/data/tokenizer/";

const std::vector<std::string>& sst2() {
    static const std::vector<std::string> texts = [] {
        std::ifstream in(data_dir + "sst2-train-5000.tsv");
        std::vector<std::string> out;
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) out.push_back(line.substr(0, line.find('\t')));
        return out;
    }();
    return texts;
}

const std::vector<std::string>& stress() {
    static const std::vector<std::string> texts = [] {
        std::ifstream in(data_dir + "roberta-base/goldens.jsonl");
        std::vector<std::string> out;
        std::string line;
        while (out.size() < 301 && std::getline(in, line)) out.push_back(nlohmann::json::parse(line)["text"]);
        return out;
    }();
    return texts;
}

const minibert::TokenizerPipeline& pipeline(const std::string& name) {
    static std::map<std::string, minibert::TokenizerPipeline> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, minibert::load_tokenizer_pipeline(data_dir + name + "/tokenizer.json")).first;
    return it->second;
}

void run(benchmark::State& state, const std::string& name, const std::vector<std::string>& texts, bool cache = true) {
    // A copy, so that switching its word cache does not touch the shared one.
    minibert::TokenizerPipeline tok = pipeline(name);
    tok.set_word_cache(cache);
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

void BM_sst2_roberta(benchmark::State& s) { run(s, "roberta-base", sst2()); }
void BM_sst2_modernbert(benchmark::State& s) { run(s, "ModernBERT-base", sst2()); }
void BM_sst2_camembert(benchmark::State& s) { run(s, "sentence-camembert-base", sst2()); }
void BM_sst2_t5(benchmark::State& s) { run(s, "t5-small", sst2()); }
void BM_sst2_mpnet(benchmark::State& s) { run(s, "all-mpnet-base-v2", sst2()); }
// Without the word cache: every word goes through the model (BPE merges, Viterbi), the case of
// text whose words are all new. With it (above), repeated iterations over one corpus find every
// word cached: the steady state of a long stream of similar text.
void BM_sst2_roberta_nocache(benchmark::State& s) { run(s, "roberta-base", sst2(), false); }
void BM_sst2_modernbert_nocache(benchmark::State& s) { run(s, "ModernBERT-base", sst2(), false); }
void BM_sst2_camembert_nocache(benchmark::State& s) { run(s, "sentence-camembert-base", sst2(), false); }
void BM_sst2_t5_nocache(benchmark::State& s) { run(s, "t5-small", sst2(), false); }
void BM_sst2_mpnet_nocache(benchmark::State& s) { run(s, "all-mpnet-base-v2", sst2(), false); }
void BM_stress_roberta(benchmark::State& s) { run(s, "roberta-base", stress()); }
void BM_stress_camembert(benchmark::State& s) { run(s, "sentence-camembert-base", stress()); }

void BM_load_roberta(benchmark::State& state) {
    for (auto _ : state) {
        auto tok = minibert::load_tokenizer_pipeline(data_dir + "roberta-base/tokenizer.json");
        benchmark::DoNotOptimize(&tok);
    }
}
void BM_load_t5(benchmark::State& state) {
    for (auto _ : state) {
        auto tok = minibert::load_tokenizer_pipeline(data_dir + "t5-small/tokenizer.json");
        benchmark::DoNotOptimize(&tok);
    }
}

}  // namespace

BENCHMARK(BM_sst2_roberta)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_modernbert)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_camembert)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_t5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_mpnet)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_roberta_nocache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_modernbert_nocache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_camembert_nocache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_t5_nocache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sst2_mpnet_nocache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_stress_roberta)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_stress_camembert)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_roberta)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_t5)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
