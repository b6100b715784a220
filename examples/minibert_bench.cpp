// minibert-bench: load time, latency percentiles, throughput and peak resident memory of one
// model at one shape, as one JSON line (bench/peers/run.sh runs it beside ONNX Runtime and
// PyTorch; each engine in its own process, so the peak RSS is the engine's own).
//
//   minibert-bench --model DIR [--dtype fp32|fp16|int8-dynamic|int8-static|native] [--batch 1]
//                  [--seq 128] [--threads 1] [--iters 50] [--warmup 5] [--json]
//
// Inputs are the ids every peer uses (bench/peers/peer_model.py): id(b, t) = 1000 + (t * 7919 +
// b * 104729) % (vocab - 1000), [CLS] = 101 first, [SEP] = 102 last, token types 0 (a vocabulary
// of 2000 or fewer, e.g. a test model's, uses base vocab / 2 instead of 1000 and clamps the
// specials into it, so no id is out of range and nothing divides by zero). Latency is
// the wall time of Session::run; cpu_p50_ms is this process's CPU time per run (all threads), a
// steadier figure than wall time on a shared machine when one thread runs.
#include <minibert/minibert.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

namespace {

struct Args {
    std::string model, dtype = "fp32";
    std::size_t batch = 1, seq = 128, threads = 1, iters = 50, warmup = 5;
    bool json = false;
};

minibert::WeightType weight_type(const std::string& dtype) {
    if (dtype == "fp16") return minibert::WeightType::fp16;
    if (dtype == "int8-dynamic" || dtype == "int8") return minibert::WeightType::int8_dynamic;
    if (dtype == "int8-static") return minibert::WeightType::int8_static;
    if (dtype == "native") return minibert::WeightType::native;
    return minibert::WeightType::fp32;  // the parser admits only these names
}

/// The peers' id for token t of sequence b (see the header comment), within any vocabulary.
std::int32_t bench_id(std::size_t b, std::size_t t, std::size_t vocab) {
    const std::size_t base = vocab > 2000 ? 1000 : vocab / 2;
    return static_cast<std::int32_t>(base + (t * 7919 + b * 104729) % (vocab - base));
}

double process_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

double percentile(const std::vector<double>& sorted, double p) {
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * double(sorted.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-bench", [&] {
        tool::Cli cli("minibert-bench", "Load time, latency, throughput and peak RSS of one model at one shape.");
        Args a;
        cli.add_model(a.model);
        cli.app().add_option("--dtype", a.dtype, "weights after loading")
            ->check(CLI::IsMember({"fp32", "fp16", "int8", "int8-dynamic", "int8-static", "native"}))
            ->capture_default_str();
        cli.add_count("-b,--batch", a.batch, "sequences per run", 1u << 20);
        cli.add_count("--seq", a.seq, "tokens per sequence, [CLS] and [SEP] included", 1u << 20);
        cli.add_threads(a.threads);
        cli.add_count("--iters", a.iters, "timed runs", 1u << 30);
        cli.app().add_option("--warmup", a.warmup, "untimed runs first")->capture_default_str();
        cli.app().add_flag("--json", a.json, "one JSON line");
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        minibert::LoadOptions load;
        load.weights = weight_type(a.dtype);
        const minibert::Model model = minibert::Model::load(a.model, load);
        minibert::SessionOptions options;
        options.threads = a.threads;
        options.max_batch = a.batch;
        options.max_tokens = a.batch * a.seq;
        options.max_sequence = a.seq;
        minibert::Session session(model, options);
        const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();

        const std::size_t vocab = model.config().vocab_size;
        const auto special = [&](std::size_t id) { return static_cast<std::int32_t>(std::min(id, vocab - 1)); };
        minibert::Batch batch;
        for (std::size_t b = 0; b < a.batch; ++b) {
            std::vector<std::int32_t> ids(a.seq);
            for (std::size_t t = 0; t < a.seq; ++t) ids[t] = bench_id(b, t, vocab);
            ids.front() = special(101);
            ids.back() = special(102);
            batch.add(ids);
        }
        // The first output value, printed so a wrong-result regression shows: a logit, or the
        // first hidden value of a model without a head.
        const auto first_value = [](const minibert::Outputs& out) {
            return out.logits.empty() ? out.last_hidden_state.data()[0] : out.logits.data()[0];
        };

        float first_logit = 0.0f;
        for (std::size_t i = 0; i < a.warmup; ++i) first_logit = first_value(session.run(batch));
        std::vector<double> ms, cpu;
        for (std::size_t i = 0; i < a.iters; ++i) {
            const double c0 = process_cpu_ms();
            const auto start = clock::now();
            const minibert::Outputs out = session.run(batch);
            ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
            cpu.push_back(process_cpu_ms() - c0);
            first_logit = first_value(out);
        }
        double total = 0.0;
        for (double x : ms) total += x;
        std::sort(ms.begin(), ms.end());
        std::sort(cpu.begin(), cpu.end());
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        const double peak_rss_mb = double(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux

        if (a.json) {
            std::printf("{\"engine\":\"minibert\",\"dtype\":\"%s\",\"threads\":%zu,\"batch\":%zu,\"seq\":%zu,"
                        "\"p50_ms\":%.4f,\"p95_ms\":%.4f,\"cpu_p50_ms\":%.4f,\"seq_per_s\":%.3f,\"peak_rss_mb\":%.1f,"
                        "\"load_ms\":%.1f,\"first_logit\":%.7g,\"resident_mb\":%.1f,\"workspace_mb\":%.1f,\"kernel_isa\":\"%s\"}\n",
                        a.dtype.c_str(), a.threads, a.batch, a.seq, percentile(ms, 0.5), percentile(ms, 0.95),
                        percentile(cpu, 0.5), double(a.batch * ms.size()) / (total / 1e3), peak_rss_mb, load_ms,
                        first_logit, double(model.resident_bytes()) / 1048576.0,
                        double(session.workspace_bytes()) / 1048576.0, minibert::to_string(model.kernel_isa()));
        } else {
            std::printf("%s  dtype %s  kernels %s  threads %zu  batch %zu x %zu\n", a.model.c_str(), a.dtype.c_str(),
                        minibert::to_string(model.kernel_isa()), a.threads, a.batch, a.seq);
            std::printf("  load %.1f ms   p50 %.3f ms   p95 %.3f ms   cpu p50 %.3f ms   %.2f seq/s   peak RSS %.1f MB\n",
                        load_ms, percentile(ms, 0.5), percentile(ms, 0.95), percentile(cpu, 0.5),
                        double(a.batch * ms.size()) / (total / 1e3), peak_rss_mb);
        }
        return 0;
    });
}
