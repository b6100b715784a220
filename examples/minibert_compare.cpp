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
// Labels in the TSV are indices or names from config.json's id2label (its label2id, inverted).
// int8 static needs a calibrated folder: --static DIR, or else one is converted into a fresh
// mkdtemp folder (removed afterwards unless --keep) by convert_weights.py --calibrate, found in
// <exe>/../share/minibert/scripts (installed by CMake, linked in the build tree) or
// $MINIBERT_SOURCE_DIR/scripts, and run with an argument vector (no shell). Calibration text: the
// TSV's sibling train.tsv (the eval TSV itself when there is none), its first min(500, --limit) lines.
// Exit codes are tool_common.hpp's; 5 when a variant failed (its row says why).
// Progress goes to stderr (stdout holds only the table or --json): on a terminal one bar per step,
// redrawn in place; otherwise (logs, CI) one line per finished step. --no-progress turns it off.
#include <minibert/minibert.hpp>

#include <fcntl.h>
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

#include "tool_common.hpp"

namespace fs = std::filesystem;
namespace tool = minibert::tool;

namespace {

[[noreturn]] void fail(const std::string& message) { throw minibert::Error(minibert::ErrorKind::invalid_input, message); }

struct Example {
    std::string text;
    int label;
};

/// The label column's value as a label id: an index within [0, labels), or a name of id2label
/// (config.json's label2id read backwards; exact, then ignoring case). Anything else is an error
/// naming the line: a text label must never silently become 0.
int label_id(const std::string& value, const std::vector<std::string>& id2label, const std::string& where) {
    if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos && value.size() < 10) {
        const unsigned long id = std::stoul(value);
        if (id < id2label.size()) return static_cast<int>(id);
    }
    for (std::size_t i = 0; i < id2label.size(); ++i)
        if (id2label[i] == value) return static_cast<int>(i);
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    for (std::size_t i = 0; i < id2label.size(); ++i)
        if (lower(id2label[i]) == lower(value)) return static_cast<int>(i);
    std::string names;
    for (const auto& n : id2label) names += (names.empty() ? "" : ", ") + n;
    fail(where + ": label '" + value + "' is neither an index below " + std::to_string(id2label.size()) +
         " nor one of the model's labels (" + names + ")");
}

std::vector<Example> read_tsv(const std::string& path, std::size_t limit, const std::vector<std::string>& id2label) {
    std::ifstream in(path);
    if (!in) throw minibert::Error(minibert::ErrorKind::io, "cannot open the TSV '" + path + "' (pass --tsv FILE)");
    std::string line;
    std::getline(in, line);  // header: sentence<TAB>label
    std::vector<Example> out;
    for (std::size_t number = 2; out.size() < limit && std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto tab = line.rfind('\t');
        if (tab == std::string::npos) continue;
        out.push_back({line.substr(0, tab), label_id(line.substr(tab + 1), id2label, path + " line " + std::to_string(number))});
    }
    if (out.empty()) fail("'" + path + "' holds no 'sentence<TAB>label' rows");
    return out;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * double(v.size() - 1) + 0.5))];
}

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
    if (pipe(fds) != 0) throw minibert::Error(minibert::ErrorKind::io, "pipe() failed");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw minibert::Error(minibert::ErrorKind::io, "fork() failed");
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

/// convert_weights.py: <exe>/../share/minibert/scripts (installed, or linked in the build
/// tree), else $MINIBERT_SOURCE_DIR/scripts. Empty when neither has it.
std::string converter_script(const char* argv0) {
    std::vector<fs::path> places = {tool::data_dir(argv0) / "scripts"};
    if (const char* env = std::getenv("MINIBERT_SOURCE_DIR"); env && *env) places.push_back(fs::path(env) / "scripts");
    for (const fs::path& p : places)
        if (fs::is_regular_file(p / "convert_weights.py")) return (p / "convert_weights.py").string();
    return {};
}

/// Runs argv (argv[0] looked up in PATH) with stdout, and stderr unless `keep_stderr`, appended to
/// `log`; returns its exit status (128 + signal when killed). No shell: any byte in a path is safe.
int run_process(const std::vector<std::string>& argv, const std::string& log, bool keep_stderr) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + log + "'");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        ::close(fd);
        throw minibert::Error(minibert::ErrorKind::io, "fork() failed");
    }
    if (pid == 0) {
        ::dup2(fd, STDOUT_FILENO);
        if (!keep_stderr) ::dup2(fd, STDERR_FILENO);
        ::execvp(args[0], args.data());
        std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    ::close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 127;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// A folder from mkdtemp(3), removed when this goes out of scope unless kept.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "minibert-compare-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw minibert::Error(minibert::ErrorKind::io, "mkdtemp(" + pattern + ") failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        if (!keep_) fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    void keep() { keep_ = true; }

private:
    fs::path path_;
    bool keep_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-compare", [&]() -> int {
    tool::Cli cli("minibert-compare", "fp32 / fp16 / int8 dynamic / int8 static of one sequence classifier on a labelled TSV.");
    std::string model_dir, tokenizer_dir, tsv = "data/glue-sst2/dev.tsv", static_dir, calibrate;
    std::size_t limit = 1000000, threads = 1;
    bool json = false, no_progress = false, keep = false;
    cli.add_model(model_dir, tool::default_model_dir(argv[0]));
    cli.app().add_option("--tokenizer", tokenizer_dir, "tokenizer folder (default: the model's)");
    cli.app().add_option("--tsv", tsv, "labelled TSV: a header, then sentence<TAB>label (an index or a label name)")
        ->capture_default_str();
    cli.app().add_option("--static", static_dir, "an int8 static (calibrated) folder; default: convert one");
    cli.app().add_option("--calibrate", calibrate, "calibration text (default: the TSV's sibling train.tsv, else the TSV)");
    cli.add_count("--limit", limit, "use at most N examples, and at most N calibration lines", 1000000000);
    cli.add_threads(threads);
    cli.app().add_flag("--json", json, "print the results as JSON");
    cli.app().add_flag("--no-progress", no_progress, "no progress bars on stderr");
    cli.app().add_flag("--keep", keep, "keep the converted static folder and its log");
    if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
    Progress::enabled = !no_progress;
    if (tokenizer_dir.empty()) tokenizer_dir = model_dir;

    // The model must be one this tool can score: a sequence classifier, labels from id2label.
    const minibert::ModelConfig config = minibert::ModelConfig::load((fs::path(model_dir) / "config.json").string());
    if (config.head != minibert::HeadKind::sequence_classification)
        throw minibert::Error(minibert::ErrorKind::unsupported,
                              "'" + model_dir + "' is a " + config.architecture +
                                  "; minibert-compare scores sequence classifiers (*ForSequenceClassification) only");
    const std::vector<Example> data = read_tsv(tsv, limit, config.id2label);
    minibert::Tokenizer tokenizer = minibert::Tokenizer::from_folder(tokenizer_dir);

    std::unique_ptr<TempDir> work;
    if (static_dir.empty()) {  // convert a calibrated folder with the script
        if (calibrate.empty()) {
            const fs::path train = fs::path(tsv).parent_path() / "train.tsv";
            calibrate = fs::exists(train) ? train.string() : tsv;
        }
        const std::string script = converter_script(argv[0]);
        if (script.empty())
            throw minibert::Error(minibert::ErrorKind::io,
                                  "no convert_weights.py in " + (tool::data_dir(argv[0]) / "scripts").string() +
                                      " or $MINIBERT_SOURCE_DIR/scripts to make the int8 static folder; pass --static DIR");
        work = std::make_unique<TempDir>();
        if (keep) work->keep();
        static_dir = (work->path() / "static").string();
        const std::string lines = (work->path() / "calibration.txt").string(), log = (work->path() / "convert.log").string();
        const std::size_t calibration_lines = std::min<std::size_t>(500, limit);
        {
            std::ifstream in(calibrate);
            if (!in) throw minibert::Error(minibert::ErrorKind::io, "cannot open the calibration text '" + calibrate + "'");
            std::ofstream out(lines);
            std::string line;
            std::getline(in, line);  // header (or a first line: calibration needs no label)
            for (std::size_t n = 0; n < calibration_lines && std::getline(in, line); ++n) out << line.substr(0, line.rfind('\t')) << '\n';
            if (!out) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + lines + "'");
        }
        const char* py = std::getenv("PYTHON");
        const std::string python = py && *py ? py : fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        std::vector<std::string> command = {python, script, model_dir, static_dir, "--dtype", "int8", "--force",
                                            "--calibrate", lines, "--tokenizer-dir", tokenizer_dir};
        const fs::path tokenize = tool::executable_dir(argv[0]) / "minibert-tokenize";
        if (fs::exists(tokenize)) command.insert(command.end(), {"--tokenizer-bin", tokenize.string()});
        // On a terminal the script's own progress (tqdm, if installed) shows on stderr; else it all goes to the log.
        const bool live = Progress::enabled && isatty(STDERR_FILENO) == 1;
        if (Progress::enabled)
            std::fprintf(stderr, "converting an int8 static folder (calibration: up to %zu lines of %s) ...%s",
                         calibration_lines, calibrate.c_str(), live ? "\n" : "");
        std::fflush(stderr);
        const auto start = Clock::now();
        if (const int rc = run_process(command, log, live); rc != 0) {
            work->keep();
            throw minibert::Error(minibert::ErrorKind::io, "converting a static int8 folder failed (exit " + std::to_string(rc) +
                                                               "); see " + log);
        }
        if (Progress::enabled)
            std::fprintf(stderr, "%sdone, %.1f s%s\n", live ? "" : " ", ms_since(start) / 1e3,
                         keep ? (" (kept: " + work->path().string() + ")").c_str() : "");
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

    std::size_t failed = 0;
    for (const auto& r : results)
        if (r.contains("error")) {
            ++failed;
            tool::complain("minibert-compare", r["variant"].get<std::string>() + " failed: " + r["error"].get<std::string>());
        }
    const auto& base = results.front();
    if (base.contains("error")) throw minibert::Error(minibert::ErrorKind::invalid_input, "fp32, the reference, failed");
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
        std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return failed ? tool::partial : tool::ok;
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
    return failed ? tool::partial : tool::ok;
    });
}
