// minibert-bench: load time, latency percentiles, throughput and peak resident memory of one
// model at one shape, as one JSON line (bench/peers/run.sh runs it beside ONNX Runtime and
// PyTorch; each engine in its own process, so the peak RSS is the engine's own).
//
//   minibert-bench --model DIR [--dtype fp32|fp16|int8-dynamic|int8-static|native] [--batch 1]
//                  [--seq 128] [--threads 1] [--iters 50] [--warmup 5] [--json]
//
// Inputs are the ids every peer uses (bench/peers/peer_model.py): id(b, t) = 1000 + (t * 7919 +
// b * 104729) % (vocab - 1000), [CLS] = 101 first, [SEP] = 102 last, token types 0. Latency is
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

namespace {

struct Args {
    std::string model, dtype = "fp32";
    std::size_t batch = 1, seq = 128, threads = 1, iters = 50, warmup = 5;
    bool json = false;
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: minibert-bench --model DIR [--dtype fp32|fp16|int8-dynamic|int8-static|native] [--batch B]\n"
                 "                      [--seq S] [--threads T] [--iters N] [--warmup W] [--json]\n");
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string key = argv[i];
        if (key == "--json") {
            a.json = true;
            continue;
        }
        if (i + 1 >= argc) usage();
        const std::string value = argv[++i];
        auto number = [&] {
            char* end = nullptr;
            const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
            if (end == value.c_str() || *end != '\0' || v == 0) usage();
            return static_cast<std::size_t>(v);
        };
        if (key == "--model") a.model = value;
        else if (key == "--dtype") a.dtype = value;
        else if (key == "--batch") a.batch = number();
        else if (key == "--seq") a.seq = number();
        else if (key == "--threads") a.threads = number();
        else if (key == "--iters") a.iters = number();
        else if (key == "--warmup") a.warmup = number();
        else usage();
    }
    if (a.model.empty()) usage();
    return a;
}

minibert::WeightType weight_type(const std::string& dtype) {
    if (dtype == "fp32") return minibert::WeightType::fp32;
    if (dtype == "fp16") return minibert::WeightType::fp16;
    if (dtype == "int8-dynamic" || dtype == "int8") return minibert::WeightType::int8_dynamic;
    if (dtype == "int8-static") return minibert::WeightType::int8_static;
    if (dtype == "native") return minibert::WeightType::native;
    usage();
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
    const Args a = parse(argc, argv);
    try {
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
        minibert::Batch batch;
        for (std::size_t b = 0; b < a.batch; ++b) {
            std::vector<std::int32_t> ids(a.seq);
            for (std::size_t t = 0; t < a.seq; ++t)
                ids[t] = static_cast<std::int32_t>(1000 + (t * 7919 + b * 104729) % (vocab - 1000));
            ids.front() = 101;
            ids.back() = 102;
            batch.add(ids);
        }

        float first_logit = 0.0f;
        for (std::size_t i = 0; i < a.warmup; ++i) first_logit = session.run(batch).logits.data()[0];
        std::vector<double> ms, cpu;
        for (std::size_t i = 0; i < a.iters; ++i) {
            const double c0 = process_cpu_ms();
            const auto start = clock::now();
            const minibert::Outputs out = session.run(batch);
            ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
            cpu.push_back(process_cpu_ms() - c0);
            first_logit = out.logits.data()[0];
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
                        "\"load_ms\":%.1f,\"first_logit\":%.7g,\"resident_mb\":%.1f,\"workspace_mb\":%.1f}\n",
                        a.dtype.c_str(), a.threads, a.batch, a.seq, percentile(ms, 0.5), percentile(ms, 0.95),
                        percentile(cpu, 0.5), double(a.batch * ms.size()) / (total / 1e3), peak_rss_mb, load_ms,
                        first_logit, double(model.resident_bytes()) / 1048576.0,
                        double(session.workspace_bytes()) / 1048576.0);
        } else {
            std::printf("%s  dtype %s  threads %zu  batch %zu x %zu\n", a.model.c_str(), a.dtype.c_str(), a.threads,
                        a.batch, a.seq);
            std::printf("  load %.1f ms   p50 %.3f ms   p95 %.3f ms   cpu p50 %.3f ms   %.2f seq/s   peak RSS %.1f MB\n",
                        load_ms, percentile(ms, 0.5), percentile(ms, 0.95), percentile(cpu, 0.5),
                        double(a.batch * ms.size()) / (total / 1e3), peak_rss_mb);
        }
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "minibert-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
