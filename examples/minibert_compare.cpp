// minibert-compare: one sequence-classification model in fp32, fp16, int8 dynamic and int8
// static, side by side on a labelled TSV (issue 5; docs/quantization.md shows its table).
//
//   minibert-compare [--model DIR] [--tokenizer DIR] [--tsv FILE] [--static DIR] [--calibrate FILE]
//                    [--limit N] [--threads N] [--json] [--no-progress]
//
// For each weight type, in its own child process (so peak resident memory is that variant's
// alone): file size of the folder's model.safetensors, peak RSS after a batch-32 run, load time,
// P50/P95/P99 latency of single sentences (batch 1), throughput at batch 32, accuracy on the TSV
// (columns: sentence, label), agreement of the predicted label with fp32, max |logit - fp32 logit|.
// int8 static needs a calibrated folder: --static DIR, or else one is converted into
// <tmp>/minibert-compare-static with scripts/convert_weights.py --calibrate (default: the TSV's
// sibling train.tsv, first 500 lines; the eval TSV itself only when there is none).
// Progress goes to stderr (stdout holds only the table or --json): on a terminal one bar per step,
// redrawn in place; otherwise (logs, CI) one line per finished step. --no-progress turns it off.
#include <minibert/minibert.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#ifndef MINIBERT_DEFAULT_MODEL_DIR
#define MINIBERT_DEFAULT_MODEL_DIR "models/sst2-student"
#endif

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& message) {
    std::fprintf(stderr, "minibert-compare: %s\n", message.c_str());
    std::exit(2);
}

struct Example {
    std::string text;
    int label;
};

std::vector<Example> read_tsv(const std::string& path, std::size_t limit) {
    std::ifstream in(path);
    if (!in) fail("cannot open the TSV '" + path + "'");
    std::string line;
    std::getline(in, line);  // header: sentence<TAB>label
    std::vector<Example> out;
    while (std::getline(in, line) && out.size() < limit) {
        const auto tab = line.rfind('\t');
        if (tab == std::string::npos) continue;
        out.push_back({line.substr(0, tab), std::atoi(line.c_str() + tab + 1)});
    }
    if (out.empty()) fail("'" + path + "' holds no 'sentence<TAB>label' rows");
    return out;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * double(v.size() - 1) + 0.5))];
}

/// Sentences of the calibration TSV that calibrate the int8 static folder (the first ones).
constexpr int kCalibrationLines = 500;

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

/// A progress bar on stderr: `label  [#####-----]  436/872  3.1 s`, redrawn with '\r' (at most
/// 10 times a second) when stderr is a terminal; otherwise only the finished line, plus one every
/// 30 s on a long step, so logs stay readable.
class Progress {
public:
    static inline bool enabled = true;
    Progress(std::string label, std::size_t total) : label_(std::move(label)), total_(total) {
        if (tty_) draw(0, false);
    }
    ~Progress() {  // left early (an exception): end a half-drawn terminal line
        if (!finished_ && tty_) std::fputc('\n', stderr);
    }
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void update(std::size_t n) {
        const auto now = Clock::now();
        const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(30000);
        if (n < total_ && now - last_ < every) return;
        last_ = now;
        draw(n, n >= total_ || !tty_);
    }
    void done() {
        if (!finished_) update(total_);
    }

private:
    void draw(std::size_t n, bool end_line) {
        finished_ = n >= total_;
        if (!enabled) return;
        constexpr std::size_t width = 20;
        const std::size_t fill = total_ ? std::min(width, width * n / total_) : width;
        std::fprintf(stderr, "%s%-46s [%s%s] %6zu/%zu  %.1f s%s", tty_ ? "\r" : "", label_.c_str(),
                     std::string(fill, '#').c_str(), std::string(width - fill, '-').c_str(), n, total_,
                     std::chrono::duration<double>(Clock::now() - start_).count(), end_line ? "\n" : "");
        std::fflush(stderr);
    }
    std::string label_;
    std::size_t total_;
    bool tty_ = enabled && isatty(STDERR_FILENO) == 1, finished_ = false;
    Clock::time_point start_ = Clock::now(), last_ = start_;
};

struct Variant {
    std::string name, dir;
    minibert::LoadOptions options;
    std::string label;  // "[2/4] fp16" for progress lines
};

/// Runs one variant (in the child process); returns its measurements and logits as JSON.
nlohmann::json measure(const Variant& v, const minibert::Tokenizer& tokenizer, const std::vector<Example>& data,
                       std::size_t threads) {
    const auto t0 = Clock::now();
    const minibert::Model model = minibert::Model::load(v.dir, v.options);
    const double load_ms = ms_since(t0);
    minibert::SessionOptions so;
    so.threads = threads;
    so.max_batch = 32;
    so.max_sequence = 128;
    so.max_tokens = 32 * 128;
    minibert::Session session(model, so);
    minibert::EncodeOptions eo;
    eo.max_length = 128;
    std::vector<minibert::Encoding> enc;
    for (const auto& e : data) enc.push_back(tokenizer.encode(e.text, eo));

    // Batch 1: latency per sentence, and the logits used for accuracy and agreement.
    std::vector<double> latency;
    std::vector<float> logits;
    std::size_t labels = 0;
    Progress accuracy_bar(v.label + "  batch 1: latency, accuracy", enc.size());
    for (const auto& e : enc) {
        minibert::Batch batch;
        batch.add(e.ids, e.type_ids);
        const auto t = Clock::now();
        const minibert::Outputs out = session.run(batch);
        latency.push_back(ms_since(t));
        labels = out.logits.cols();
        logits.insert(logits.end(), out.logits.row(0), out.logits.row(0) + labels);
        accuracy_bar.update(latency.size());
    }
    accuracy_bar.done();
    // Batch 32: throughput over the whole set.
    Progress throughput_bar(v.label + "  batch 32: throughput", enc.size());
    const auto t1 = Clock::now();
    for (std::size_t i = 0; i < enc.size(); i += 32) {
        minibert::Batch batch;
        for (std::size_t j = i; j < std::min(enc.size(), i + 32); ++j) batch.add(enc[j].ids, enc[j].type_ids);
        session.run(batch);
        throughput_bar.update(std::min(enc.size(), i + 32));
    }
    const double throughput = double(enc.size()) / (ms_since(t1) / 1e3);
    throughput_bar.done();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);

    std::error_code ec;
    const auto file = fs::file_size(v.dir + "/model.safetensors", ec);
    nlohmann::json j;
    j["variant"] = v.name;
    j["weights"] = minibert::to_string(model.weight_type());
    j["folder"] = v.dir;
    j["file_mb"] = ec ? 0.0 : double(file) / 1e6;
    j["resident_weights_mib"] = double(model.resident_bytes()) / 1048576.0;
    j["peak_rss_mib"] = double(usage.ru_maxrss) / 1024.0;
    j["load_ms"] = load_ms;
    j["p50_ms"] = percentile(latency, 0.50);
    j["p95_ms"] = percentile(latency, 0.95);
    j["p99_ms"] = percentile(latency, 0.99);
    j["batch32_seq_per_s"] = throughput;
    j["labels"] = labels;
    j["logits"] = logits;
    return j;
}

/// Forks, measures the variant in the child, returns what it printed (JSON) or an error entry.
nlohmann::json measure_in_child(const Variant& v, const minibert::Tokenizer& tokenizer,
                                const std::vector<Example>& data, std::size_t threads) {
    int fds[2];
    if (pipe(fds) != 0) fail("pipe() failed");
    const pid_t pid = fork();
    if (pid < 0) fail("fork() failed");
    if (pid == 0) {
        close(fds[0]);
        std::string text;
        try {
            text = measure(v, tokenizer, data, threads).dump();
        } catch (const std::exception& e) {
            text = nlohmann::json{{"variant", v.name}, {"error", e.what()}}.dump();
        }
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = write(fds[1], text.data() + done, text.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    std::string text;
    char buf[65536];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return {{"variant", v.name}, {"error", "the child process died"}};
    return j;
}

/// The source tree (for scripts/convert_weights.py): $MINIBERT_SOURCE_DIR, else the first folder
/// above the program or the current directory that holds the script.
std::string source_dir(const char* argv0) {
    if (const char* env = std::getenv("MINIBERT_SOURCE_DIR")) return env;
    for (fs::path p : {fs::absolute(fs::path(argv0)).parent_path(), fs::current_path()})
        for (; !p.empty() && p != p.root_path(); p = p.parent_path())
            if (fs::exists(p / "scripts" / "convert_weights.py")) return p.string();
    return ".";
}

std::string default_tsv(const std::string& source) {
    for (const std::string& p : {std::string("data/glue-sst2/dev.tsv"), source + "/data/glue-sst2/dev.tsv",
                                std::string("/work/shared/data/glue-sst2/dev.tsv")})
        if (fs::exists(p)) return p;
    return "data/glue-sst2/dev.tsv";
}

}  // namespace

int main(int argc, char** argv) {
    const std::string source = source_dir(argv[0]);
    std::string model_dir = MINIBERT_DEFAULT_MODEL_DIR, tokenizer_dir, tsv = default_tsv(source), static_dir, calibrate;
    std::size_t limit = 1000000, threads = 1;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--model") model_dir = value();
        else if (arg == "--tokenizer") tokenizer_dir = value();
        else if (arg == "--tsv") tsv = value();
        else if (arg == "--static") static_dir = value();
        else if (arg == "--calibrate") calibrate = value();
        else if (arg == "--limit") limit = std::strtoul(value().c_str(), nullptr, 10);
        else if (arg == "--threads") threads = std::max<std::size_t>(1, std::strtoul(value().c_str(), nullptr, 10));
        else if (arg == "--json") json = true;
        else if (arg == "--no-progress") Progress::enabled = false;
        else if (arg == "-h" || arg == "--help") {
            std::printf("usage: minibert-compare [--model DIR] [--tokenizer DIR] [--tsv FILE] [--static DIR]\n"
                        "                        [--calibrate FILE] [--limit N] [--threads N] [--json]\n"
                        "                        [--no-progress]\n"
                        "  fp32 / fp16 / int8 dynamic / int8 static on a labelled TSV (default model %s)\n"
                        "  progress bars go to stderr (plain lines when it is not a terminal)\n",
                        MINIBERT_DEFAULT_MODEL_DIR);
            return 0;
        } else fail("unknown argument '" + arg + "' (see --help)");
    }
    if (tokenizer_dir.empty()) tokenizer_dir = model_dir;
    const std::vector<Example> data = read_tsv(tsv, limit);
    minibert::Tokenizer tokenizer = [&] {
        try {
            return minibert::Tokenizer::from_folder(tokenizer_dir);
        } catch (const std::exception& e) {
            fail(std::string(e.what()) + " (pass --tokenizer DIR)");
        }
    }();

    if (static_dir.empty()) {  // convert a calibrated folder with the script
        if (calibrate.empty()) {
            const fs::path train = fs::path(tsv).parent_path() / "train.tsv";
            calibrate = fs::exists(train) ? train.string() : tsv;
        }
        static_dir = (fs::temp_directory_path() / "minibert-compare-static").string();
        const std::string lines = static_dir + ".calibration.txt";
        {
            std::ifstream in(calibrate);
            std::ofstream out(lines);
            std::string line;
            std::getline(in, line);  // header (or a first line: calibration needs no label)
            for (int n = 0; n < kCalibrationLines && std::getline(in, line); ++n) out << line.substr(0, line.rfind('\t')) << '\n';
        }
        const char* py = std::getenv("PYTHON");
        const std::string tool = (fs::path(argv[0]).parent_path() / "minibert-tokenize").string();
        // On a terminal the script's own progress (tqdm, if installed) shows on stderr; else it all goes to the log.
        const bool live = Progress::enabled && isatty(STDERR_FILENO) == 1;
        const std::string cmd = std::string(py ? py : "/usr/bin/python3") + " '" + source +
                                "/scripts/convert_weights.py' '" + model_dir + "' '" + static_dir +
                                "' --dtype int8 --force --calibrate '" + lines + "' --tokenizer-dir '" + tokenizer_dir +
                                "'" + (fs::exists(tool) ? " --tokenizer-bin '" + tool + "'" : std::string()) +
                                " > '" + static_dir + ".log'" + (live ? "" : " 2>&1");
        if (Progress::enabled)
            std::fprintf(stderr, "converting an int8 static folder (calibration: up to %d lines of %s) ...%s",
                         kCalibrationLines, calibrate.c_str(), live ? "\n" : "");
        std::fflush(stderr);
        const auto start = Clock::now();
        if (std::system(cmd.c_str()) != 0) fail("converting a static int8 folder failed; see " + static_dir + ".log");
        if (Progress::enabled)
            std::fprintf(stderr, "%sdone, %.1f s (log: %s.log)\n", live ? "" : " ", ms_since(start) / 1e3,
                         static_dir.c_str());
    }

    using minibert::EmbeddingStorage;
    using minibert::WeightType;
    std::vector<Variant> variants = {
        {"fp32", model_dir, {WeightType::fp32, EmbeddingStorage::fp32}, ""},
        {"fp16", model_dir, {WeightType::fp16, EmbeddingStorage::fp16}, ""},
        {"int8 dynamic", model_dir, {WeightType::int8_dynamic, EmbeddingStorage::int8}, ""},
        {"int8 static", static_dir, {WeightType::int8_static, EmbeddingStorage::native}, ""},
    };
    std::vector<nlohmann::json> results;
    for (std::size_t i = 0; i < variants.size(); ++i) {  // the child draws its own bars on stderr
        char label[64];
        std::snprintf(label, sizeof label, "[%zu/%zu] %-12s", i + 1, variants.size(), variants[i].name.c_str());
        variants[i].label = label;
        results.push_back(measure_in_child(variants[i], tokenizer, data, threads));
    }

    const auto& base = results.front();
    if (base.contains("error")) fail("fp32: " + base["error"].get<std::string>());
    const auto ref = base["logits"].get<std::vector<float>>();
    const std::size_t labels = base["labels"].get<std::size_t>();
    auto argmax = [&](const std::vector<float>& l, std::size_t i) {
        return static_cast<int>(std::max_element(l.begin() + i * labels, l.begin() + (i + 1) * labels) - (l.begin() + i * labels));
    };
    for (auto& r : results) {
        if (r.contains("error")) continue;
        const auto l = r["logits"].get<std::vector<float>>();
        std::size_t correct = 0, agree = 0;
        double diff = 0;
        for (std::size_t i = 0; i < data.size(); ++i) {
            correct += argmax(l, i) == data[i].label;
            agree += argmax(l, i) == argmax(ref, i);
        }
        for (std::size_t i = 0; i < l.size(); ++i) diff = std::max(diff, double(std::fabs(l[i] - ref[i])));
        r["accuracy"] = double(correct) / double(data.size());
        r["agreement"] = double(agree) / double(data.size());
        r["max_logit_diff"] = diff;
        r.erase("logits");
    }

    if (json) {
        nlohmann::json out;
        out["model"] = model_dir;
        out["tsv"] = tsv;
        out["examples"] = data.size();
        out["threads"] = threads;
        out["results"] = results;
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf("model %s, %zu examples of %s, %zu thread(s)\n\n", model_dir.c_str(), data.size(), tsv.c_str(), threads);
    std::printf("| variant | file MB | weights MiB | peak RSS MiB | load ms | p50 ms | p95 ms | p99 ms | b32 seq/s | accuracy | agreement | max abs logit diff |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : results) {
        if (r.contains("error")) {
            std::printf("| %s | error: %s |\n", r["variant"].get<std::string>().c_str(), r["error"].get<std::string>().c_str());
            continue;
        }
        std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.1f | %.4f | %.4f | %.4f |\n",
                    r["variant"].get<std::string>().c_str(), r["file_mb"].get<double>(),
                    r["resident_weights_mib"].get<double>(), r["peak_rss_mib"].get<double>(), r["load_ms"].get<double>(),
                    r["p50_ms"].get<double>(), r["p95_ms"].get<double>(), r["p99_ms"].get<double>(),
                    r["batch32_seq_per_s"].get<double>(), r["accuracy"].get<double>(), r["agreement"].get<double>(),
                    r["max_logit_diff"].get<double>());
    }
    return 0;
}
