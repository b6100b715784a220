// What every minibert-* program shares: one argument parser (Debian's CLI11, header-only), one
// set of exit codes, one way to find the default model, one way to read stdin line by line.
//
// Exit codes (docs/api.md "Tools"; tests/test_tools.sh checks each):
//   0  success
//   1  anything else (an unexpected exception; a bug to report)
//   2  usage: unknown option, bad or missing value (a one-line message, then see --help)
//   3  model or input error: a minibert::Error (file, config, text), the first bad line with --fail-fast
//   4  out of memory (std::bad_alloc, or a workspace the session could not allocate)
//   5  finished, but some input lines (or minibert-compare variants) failed and were reported on stderr
#pragma once

#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <minibert/error.hpp>
#include <minibert/model.hpp>
#include <minibert/pipelines/pipeline_base.hpp>
#include <minibert/version.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace minibert::tool {

enum Exit : int { ok = 0, other = 1, usage = 2, input_error = 3, out_of_memory = 4, partial = 5 };

/// A usage error found after parsing (e.g. two options that exclude each other): exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A message on one line: newlines and other control bytes become spaces (a caller's text or a
/// file name may hold them), so every failure is exactly one stderr line.
inline std::string one_line(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return s;
}

inline void complain(const char* tool, const std::string& message) {
    std::fflush(stdout);  // answers already given come before the message
    std::fprintf(stderr, "%s: %s\n", tool, one_line(message).c_str());
}

/// The session reports a workspace it cannot allocate as Error(limit) "cannot allocate ...".
inline bool is_memory_error(const Error& e) {
    return e.kind() == ErrorKind::limit && std::strstr(e.what(), "cannot allocate") != nullptr;
}

/// Runs a tool's body and turns every exception into a one-line message and an exit code.
inline int guarded_main(const char* tool, const std::function<int()>& body) {
    try {
        return body();
    } catch (const UsageError& e) {
        complain(tool, std::string(e.what()) + " (see --help)");
        return usage;
    } catch (const Error& e) {
        complain(tool, e.what());
        return is_memory_error(e) ? out_of_memory : input_error;
    } catch (const std::bad_alloc&) {
        complain(tool, "out of memory (try a smaller --batch or --max-length, or fewer --threads)");
        return out_of_memory;
    } catch (const std::exception& e) {
        complain(tool, std::string("unexpected error: ") + e.what());
        return other;
    } catch (...) {
        complain(tool, "unexpected error of unknown type");
        return other;
    }
}

/// CPUs this process may run on (its affinity mask, so a container's or taskset's limit counts).
inline std::size_t machine_threads() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return static_cast<std::size_t>(n);
    }
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<std::size_t>(n) : 1;
}

/// Where this program lives: /proc/self/exe (a symlink-resolved path), else argv[0].
inline std::filesystem::path executable_dir(const char* argv0) {
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec || exe.empty()) exe = std::filesystem::absolute(argv0 ? argv0 : ".", ec);
    return exe.parent_path();
}

/// minibert's data folder: <exe>/../share/minibert. CMake installs the demo model and the
/// converter there (<prefix>/bin/.. = <prefix>) and links the same layout into the build tree
/// (<build>/examples/.. = <build>), so one rule serves both and no build path is baked in.
inline std::filesystem::path data_dir(const char* argv0) {
    return executable_dir(argv0).parent_path() / "share" / "minibert";
}

/// The default model: $MINIBERT_MODEL, else <data_dir>/models/sst2-student.
inline std::string default_model_dir(const char* argv0) {
    if (const char* env = std::getenv("MINIBERT_MODEL"); env && *env) return env;
    return (data_dir(argv0) / "models" / "sst2-student").string();
}

/// What the program was built for. After runtime ISA dispatch lands, --verbose also prints the
/// kernels chosen at run time here; today the choice is made at compile time, so this is it.
/// The version, the kernel level a model loaded under `cap` (and MINIBERT_ISA) would run, the
/// levels this CPU offers and its features (cpu/cpu_info.hpp): what --verbose prints.
inline std::string kernel_info(Isa cap = Isa::native) {
    const CpuInfo& cpu = cpu_info();
    return std::string("minibert " MINIBERT_VERSION_STRING "; kernels: ") + to_string(select_isa(cap)) +
           " (levels: " + cpu.levels() + "; cpu: " + cpu.features() + ")";
}
inline void print_kernel_info(Isa cap = Isa::native) { std::fprintf(stderr, "%s\n", kernel_info(cap).c_str()); }

/// The weight types the task tools offer with --dtype (quantised at load).
inline std::map<std::string, WeightType> dtype_choices() {
    return {{"native", WeightType::native}, {"fp32", WeightType::fp32}, {"fp16", WeightType::fp16},
            {"int8", WeightType::int8_dynamic}};
}

/// The run options the task tools share (minibert-classify, -embed, -tag, -qa, -rerank): which
/// model, how it runs (threads, batch, length, weights, kernel level) and how input and failures
/// are handled. Cli::add_run_options() declares them; each tool declares only its own flags.
struct RunArgs {
    std::string model_dir;
    std::size_t threads = 1;
    std::size_t batch = 32;       ///< --batch: inputs answered together, and the most per forward pass
    std::size_t max_length = 0;   ///< --max-length; 0: the model's limit
    LoadOptions load;             ///< --dtype, --isa (set by Cli::parse)
    bool json = false;
    bool fail_fast = false;

    /// The pipeline's options from the above (Classifier::load, Embedder::load, ...).
    PipelineOptions pipeline_options() const {
        PipelineOptions options;
        options.threads = threads;
        options.max_batch = batch;
        options.max_length = max_length;
        options.load = load;
        return options;
    }
};

/// How one tool words and bounds the shared run options.
struct RunHelp {
    std::string batch;                  ///< --batch's help
    std::string max_length;             ///< --max-length's help; empty: the tool has no --max-length
    std::string json;                   ///< --json's help
    std::size_t batch_default = 32;
    std::size_t batch_most = 1000000;
    std::string default_model;          ///< empty: --model (or $MINIBERT_MODEL) is required
};

/// A tool's own options, declared where its --help lists them among the shared ones (CLI11
/// lists options in the order they are added): --model --threads --batch [--max-length]
/// `before_dtype` --dtype --isa `before_json` --json `before_fail_fast` --fail-fast. Positional
/// arguments are listed apart; a tool adds them after add_run_options().
struct OwnOptions {
    std::function<void()> before_dtype;
    std::function<void()> before_json;
    std::function<void()> before_fail_fast;
};

/// One program's command line: CLI11 with minibert's conventions (help on stdout with rc 0,
/// --version, every parse error a one-line message with rc 2, numbers checked, env fallbacks).
class Cli {
public:
    Cli(const char* tool, std::string description) : tool_(tool), app_(std::move(description), tool) {
        app_.set_version_flag("--version", std::string(tool) + " (minibert) " MINIBERT_VERSION_STRING);
        app_.get_formatter()->column_width(34);
        app_.add_flag("--verbose", verbose_, "print the build's kernels and timings on stderr");
    }
    CLI::App& app() { return app_; }
    const char* tool() const { return tool_; }
    bool verbose() const { return verbose_; }

    /// --threads N (1..1024), else $MINIBERT_THREADS, else this machine's CPU count.
    void add_threads(std::size_t& threads) {
        threads = std::min<std::size_t>(machine_threads(), 1024);
        app_.add_option("-t,--threads", threads, "threads per forward pass (default: this machine's CPUs)")
            ->envname("MINIBERT_THREADS")
            ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
            ->capture_default_str();
    }
    /// A positive count option (--batch, --max-length ...) within [1, most].
    CLI::Option* add_count(const std::string& names, std::size_t& value, const std::string& help, std::size_t most) {
        return app_.add_option(names, value, help)->check(CLI::Range(std::size_t{1}, most))->capture_default_str();
    }
    /// --dtype native|fp32|fp16|int8: the weights' type after loading (int8: dynamic activations).
    void add_dtype(LoadOptions& load) {
        load_ = &load;
        app_.add_option("--dtype", dtype_, "weights after loading: native (the file's), fp32, fp16, int8 (quantised at load)")
            ->check(CLI::IsMember({"native", "fp32", "fp16", "int8"}))
            ->capture_default_str();
        app_.add_option("--isa", isa_, "highest kernel level: native (the CPU's best), portable, dotprod (aarch64), avx2, "
                                       "avxvnni, avx512, avx512vnni, amx (also $MINIBERT_ISA; the lower wins)")
            ->check(CLI::IsMember({"native", "portable", "dotprod", "avx2", "avxvnni", "avx512", "avx512vnni", "amx"}))
            ->capture_default_str();
    }
    /// --model DIR; required unless a default is given.
    void add_model(std::string& dir, const std::string& default_dir = {}) {
        auto* o = app_.add_option("-m,--model", dir, "model folder (Hugging Face layout)");
        if (default_dir.empty()) {
            o->envname("MINIBERT_MODEL")->required();
        } else {
            dir = default_dir;
            o->description("model folder (default: $MINIBERT_MODEL, else " + default_dir + ")");
        }
    }
    void add_fail_fast(bool& fail_fast) {
        app_.add_flag("--fail-fast", fail_fast, "stop at the first bad input line (exit 3) instead of skipping it");
    }

    /// The task tools' shared options (RunArgs) and the tool's own, in --help's order.
    void add_run_options(RunArgs& run, const RunHelp& help, const OwnOptions& own = {}) {
        add_model(run.model_dir, help.default_model);
        add_threads(run.threads);
        run.batch = help.batch_default;
        add_count("-b,--batch", run.batch, help.batch, help.batch_most);
        if (!help.max_length.empty())
            add_count("--max-length", run.max_length, help.max_length, 1u << 20)->default_str("model");
        if (own.before_dtype) own.before_dtype();
        add_dtype(run.load);
        if (own.before_json) own.before_json();
        app_.add_flag("--json", run.json, help.json);
        if (own.before_fail_fast) own.before_fail_fast();
        add_fail_fast(run.fail_fast);
    }

    /// Parses argv; returns -1 to go on, or the exit code to return now (help/version: 0).
    int parse(int argc, char** argv) {
        try {
            app_.parse(argc, argv);
        } catch (const CLI::CallForHelp& e) {
            return app_.exit(e);  // help on stdout, rc 0
        } catch (const CLI::CallForAllHelp& e) {
            return app_.exit(e);
        } catch (const CLI::CallForVersion& e) {
            return app_.exit(e);  // version on stdout, rc 0
        } catch (const CLI::ParseError& e) {
            complain(tool_, std::string(e.what()) + " (see --help)");
            return usage;
        }
        if (load_) {
            load_->weights = dtype_choices().at(dtype_);
            load_->isa = parse_isa(isa_);
        }
        if (verbose_) print_kernel_info(load_ ? load_->isa : Isa::native);
        return -1;
    }

private:
    const char* tool_;
    CLI::App app_;
    bool verbose_ = false;
    std::string isa_ = "native";
    std::string dtype_ = "native";
    LoadOptions* load_ = nullptr;
};

/// stdin as lines, read with read(2) so the program can tell whether another line is ready
/// without blocking: a pipe of many lines fills whole batches, a person typing gets an answer
/// per line. Memory: one line plus a 64 KiB buffer.
class LineReader {
public:
    explicit LineReader(int fd = STDIN_FILENO) : fd_(fd) {}

    /// The next line without its '\n' (and a '\r' before it); false at end of input.
    bool next(std::string& line) {
        line.clear();
        for (;;) {
            const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', end_ - pos_));
            if (nl) {
                const std::size_t n = static_cast<std::size_t>(nl - (buf_.data() + pos_));
                line.append(buf_.data() + pos_, n);
                pos_ += n + 1;
                break;
            }
            line.append(buf_.data() + pos_, end_ - pos_);
            pos_ = end_ = 0;
            if (!fill()) {
                if (line.empty()) return false;
                break;  // a last line without '\n'
            }
        }
        if (!line.empty() && line.back() == '\r') line.pop_back();
        ++number_;
        return true;
    }
    /// True when next() would not wait: a whole line is buffered or the descriptor has data (or EOF).
    bool ready() const {
        if (eof_) return true;
        if (std::memchr(buf_.data() + pos_, '\n', end_ - pos_)) return true;
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, 0) > 0;
    }
    std::size_t line_number() const { return number_; }

private:
    bool fill() {
        if (eof_) return false;
        for (;;) {
            const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
            if (n > 0) {
                end_ = static_cast<std::size_t>(n);
                return true;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error(ErrorKind::io, std::string("reading stdin: ") + std::strerror(errno));
            eof_ = true;
            return false;
        }
    }
    int fd_;
    std::vector<char> buf_ = std::vector<char>(1 << 16);
    std::size_t pos_ = 0, end_ = 0, number_ = 0;
    bool eof_ = false;
};

/// One input: its text as read and where it came from ("stdin line 7", "argument 2").
struct Input {
    std::string where;
    std::string line;
};

/// Parses a JSON Lines record: an object, nested at most 32 deep (a hostile line cannot
/// recurse the parser or later dumps deeply). Throws Error(invalid_input).
inline nlohmann::json parse_json_line(const std::string& line) {
    const nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > 32) throw Error(ErrorKind::invalid_input, "JSON nested more than 32 deep");
        return true;
    };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(line, limit_depth);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::invalid_input, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) throw Error(ErrorKind::invalid_input, "a JSON line must be an object");
    return j;
}

/// A string field of a JSON Lines record; `required` false gives "" for a missing or null one.
inline std::string json_string(const nlohmann::json& j, const char* key, bool required) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) throw Error(ErrorKind::invalid_input, std::string("missing string field \"") + key + "\"");
        return {};
    }
    if (!it->is_string()) throw Error(ErrorKind::invalid_input, std::string("field \"") + key + "\" is not a string");
    return it->get<std::string>();
}

/// JSON text for output: invalid UTF-8 in an echoed text is replaced, never a throw.
inline std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

/// Answers inputs in batches of at most `batch`: `run` maps a batch to one output line per
/// input (all computed before any is printed); the lines go to stdout, flushed per batch. When
/// a batch fails with a minibert::Error, its inputs are run one by one so each bad one is
/// reported on stderr with its place and skipped (or, with fail_fast, stops the run: exit 3).
/// Memory is bounded by one batch, whatever the input's length. Returns the exit code.
class BatchRunner {
public:
    using Run = std::function<std::vector<std::string>(const std::vector<Input>&)>;
    BatchRunner(const char* tool, std::size_t batch, bool fail_fast, Run run)
        : tool_(tool), batch_(std::max<std::size_t>(1, batch)), fail_fast_(fail_fast), run_(std::move(run)) {}

    /// Inputs from the command line, `batch` at a time.
    void from_arguments(const std::vector<std::string>& texts) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
            pending_.push_back({"argument " + std::to_string(i + 1), texts[i]});
            if (pending_.size() == batch_) flush();
        }
        flush();
    }
    /// Inputs from stdin, one per line (blank lines skipped): a batch runs when full or when no
    /// further line is ready yet.
    void from_stdin() {
        LineReader reader;
        std::string line;
        while (reader.next(line)) {
            if (line.find_first_not_of(" \t") != std::string::npos)
                pending_.push_back({"stdin line " + std::to_string(reader.line_number()), std::move(line)});
            if (pending_.size() == batch_ || (!pending_.empty() && !reader.ready())) flush();
        }
        flush();
    }
    std::size_t failed() const { return failed_; }
    int exit_code() const { return failed_ ? partial : ok; }

private:
    void flush() {
        if (pending_.empty()) return;
        std::vector<std::string> out;
        try {
            out = run_(pending_);
        } catch (const Error& e) {
            if (is_memory_error(e)) throw;
            for (const Input& in : pending_) one(in);
            pending_.clear();
            std::fflush(stdout);
            return;
        }
        emit(out);
        std::fflush(stdout);
        pending_.clear();
    }
    static void emit(const std::vector<std::string>& lines) {
        for (const std::string& s : lines) {
            std::fwrite(s.data(), 1, s.size(), stdout);
            std::fputc('\n', stdout);
        }
    }
    void one(const Input& in) {
        std::vector<std::string> out;
        try {
            out = run_({in});
        } catch (const Error& e) {
            if (is_memory_error(e)) throw;  // not the line's fault: stop with exit 4
            if (fail_fast_) throw Error(e.kind(), in.where + ": " + strip(e.what()));
            complain(tool_, in.where + " skipped: " + e.what());
            ++failed_;
            return;
        }
        emit(out);
    }
    static std::string strip(const std::string& what) {  // "minibert: kind: message" -> "message"
        const std::string prefix = "minibert: ";
        if (what.compare(0, prefix.size(), prefix) != 0) return what;
        const auto colon = what.find(": ", prefix.size());
        return colon == std::string::npos ? what : what.substr(colon + 2);
    }

    const char* tool_;
    std::size_t batch_;
    bool fail_fast_;
    Run run_;
    std::vector<Input> pending_;
    std::size_t failed_ = 0;
};

}  // namespace minibert::tool
