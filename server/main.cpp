// minibert-serve: the HTTP inference server (server_app.hpp) behind a command line.
//
//   minibert-serve --model sst2=models/sst2-student --dtype int8 --port 8080 --threads 2
//
// Conventions of the minibert-* tools (examples/tool_common.hpp): CLI11, --version, --verbose
// prints the kernels, exit 2 for usage errors, 3 for a model that cannot be served, 0 after a
// graceful SIGTERM/SIGINT (stop accepting, finish in-flight requests). SIGHUP reloads every
// model from its folder without failing a request in flight.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "server_app.hpp"
#include "tool_common.hpp"

using namespace minibert;
using namespace minibert::serve;

namespace {

/// "NAME=VALUE" -> (NAME, VALUE); a bare VALUE -> ("", VALUE).
std::pair<std::string, std::string> split_named(const std::string& s) {
    const std::size_t eq = s.find('=');
    if (eq == std::string::npos) return {"", s};
    return {s.substr(0, eq), s.substr(eq + 1)};
}

}  // namespace

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-serve", [&]() -> int {
        tool::Cli cli("minibert-serve", "HTTP inference server: embeddings, classification, tagging, QA and reranking over minibert, "
                                        "with dynamic batching, metrics, A/B routes and reload");
        CLI::App& app = cli.app();
        ServeOptions o;
        std::vector<std::string> models, dtypes;
        std::size_t threads = 1, sessions = 1, max_text_batch = 256;
        std::string overflow = "truncate", log_format = "none", isa = "native";
        BatchLimits b;
        app.add_option("-m,--model", models, "[NAME=]DIR: a model folder to serve (repeat for several; NAME defaults to the "
                                             "folder's name; the first is the default model)")
            ->required();
        app.add_option("--dtype", dtypes, "[NAME=]TYPE: weights after loading: native (the folder's), fp32, fp16, int8; "
                                          "a bare TYPE sets every model's (repeatable)");
        app.add_option("--isa", isa, "highest kernel level (native, portable, avx2, avxvnni, avx512, avx512vnni, amx)")
            ->check(CLI::IsMember({"native", "portable", "avx2", "avxvnni", "avx512", "avx512vnni", "amx"}))
            ->capture_default_str();
        app.add_option("--host", o.host, "address to listen on")->capture_default_str();
        app.add_option("-p,--port", o.port, "port (0: any free port, printed on the startup line)")
            ->check(CLI::Range(0, 65535))
            ->capture_default_str();
        cli.add_threads(threads);
        cli.add_count("--sessions", sessions, "inference workers per model, each with its own session; --threads is split "
                                              "among them", 256);
        cli.add_count("--max-batch-tokens", b.max_batch_tokens, "token budget of one batch", 1 << 24);
        cli.add_count("--max-batch-requests", b.max_batch_requests, "requests in one batch at most", 1 << 16);
        app.add_option("--max-wait-us", b.max_wait_us, "how long a worker waits for more requests to fill a batch")
            ->check(CLI::Range(std::size_t{0}, std::size_t{10000000}))
            ->capture_default_str();
        cli.add_count("--queue-size", b.queue_size, "requests waiting per model at most; more get 429 + Retry-After", 1 << 20);
        cli.add_count("--max-body-bytes", o.max_body_bytes, "request body limit; larger: 413", std::size_t{1} << 32);
        cli.add_count("--max-inputs", o.limits.max_inputs, "texts per request at most", 1 << 20);
        cli.add_count("--max-text-batch", max_text_batch, "texts per forward pass at most", 1 << 20);
        cli.add_count("--request-timeout-ms", o.request_timeout_ms, "deadline of a request (X-Timeout-Ms may ask for less); "
                                                                    "past it: 504", 86400000);
        cli.add_count("--read-timeout-ms", o.read_timeout_ms, "a client slower than this to send (or read) is dropped", 3600000);
        cli.add_count("--http-threads", o.http_threads, "connections served at once", 4096);
        app.add_option("--overflow", overflow, "texts longer than the model takes: truncate, or reject (422)")
            ->check(CLI::IsMember({"truncate", "reject"}))
            ->capture_default_str();
        app.add_option("--api-key", o.api_key, "require 'Authorization: Bearer KEY' on every endpoint but /health; enables "
                                               "/admin/*")
            ->envname("MINIBERT_API_KEY");
        app.add_option("--route", o.routes, "NAME=A:90,B:10: split requests for NAME between models by weight (repeatable)");
        app.add_option("--shadow", o.shadows, "NAME=A,B: A answers NAME, B runs a copy; agreement in /metrics (repeatable)");
        app.add_option("--log-format", log_format, "access log on stderr: none, text, json (JSON Lines)")
            ->check(CLI::IsMember({"none", "text", "json"}))
            ->capture_default_str();
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;

        const Isa cap = parse_isa(isa);
        std::map<std::string, std::string> dtype_of;
        for (const auto& d : dtypes) {
            const auto [name, type] = split_named(d);
            if (!tool::dtype_choices().count(type))
                throw tool::UsageError("--dtype " + d + ": the type must be native, fp32, fp16 or int8");
            dtype_of[name] = type;
        }
        sessions = std::min(sessions, threads);
        for (const auto& m : models) {
            auto [name, dir] = split_named(m);
            if (dir.empty()) throw tool::UsageError("--model " + m + ": the folder is missing");
            if (name.empty()) name = std::filesystem::path(dir).lexically_normal().filename().string();
            if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
            ModelSpec spec;
            spec.name = name;
            spec.dir = dir;
            const std::string type = dtype_of.count(name) ? dtype_of[name] : dtype_of.count("") ? dtype_of[""] : "native";
            spec.options.load.weights = tool::dtype_choices().at(type);
            spec.options.load.isa = cap;
            spec.options.sessions = sessions;
            spec.options.threads_per_session = std::max<std::size_t>(1, threads / sessions);
            spec.options.max_batch_texts = max_text_batch;
            spec.options.overflow = overflow == "reject" ? Overflow::reject : Overflow::truncate;
            spec.options.batch = b;
            o.models.push_back(spec);
        }
        for (const auto& [name, type] : dtype_of)
            if (!name.empty() && std::none_of(o.models.begin(), o.models.end(), [&](const ModelSpec& s) { return s.name == name; }))
                throw tool::UsageError("--dtype " + name + "=" + type + ": no --model is named '" + name + "'");
        o.log_format = log_format == "json" ? LogFormat::json : log_format == "text" ? LogFormat::text : LogFormat::none;

        // Signals go to one thread that waits for them (sigwait), blocked everywhere else: every
        // thread started from here on inherits the mask.
        sigset_t signals;
        sigemptyset(&signals);
        for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-response is an error on that socket, not the process's end

        std::unique_ptr<ServeApp> server;
        try {
            server = std::make_unique<ServeApp>(o);
        } catch (const std::invalid_argument& e) {
            throw tool::UsageError(e.what());
        }
        server->bind();
        const std::string line = server->startup_line();
        if (o.log_format == LogFormat::json) {
            std::printf("%s\n", nlohmann::json({{"time", utc_now_iso8601()}, {"event", "startup"}, {"message", line}}).dump().c_str());
        } else {
            std::printf("%s\n", line.c_str());
        }
        std::fflush(stdout);

        std::thread waiter([&] {
            for (;;) {
                int sig = 0;
                if (sigwait(&signals, &sig) != 0) continue;
                if (sig == SIGHUP) {
                    server->reload_all();
                } else if (sig == SIGTERM || sig == SIGINT) {
                    std::fprintf(stderr, "minibert-serve: %s: draining, then exiting\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                    server->stop();
                    return;
                } else {
                    return;  // SIGUSR1 from main: the server stopped by itself
                }
            }
        });
        server->run();
        pthread_kill(waiter.native_handle(), SIGUSR1);
        waiter.join();
        server.reset();  // finishes every queued job
        std::fprintf(stderr, "minibert-serve: stopped\n");
        return 0;
    });
}
