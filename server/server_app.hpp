// ServeApp: the HTTP layer. Routes each endpoint to its handler, applies auth, limits and
// deadlines, turns every failure into {"error": {"message", "type"}} with its status, counts
// everything in /metrics and writes the access log. Built on Debian's cpp-httplib (a thread
// per connection from a fixed pool; inference itself runs on the batcher's workers).
//
// main.cpp wraps it in a command line and signals; server/test_serve.cpp runs it in-process on
// an ephemeral loopback port.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "ab_router.hpp"
#include "access_log.hpp"
#include "metrics.hpp"
#include "model_registry.hpp"
#include "serve_options.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace minibert::serve {

class HttpServer;

class ServeApp {
public:
    /// Loads every model and checks the routes. Throws minibert::Error (a model) or
    /// std::invalid_argument (a route naming no served model).
    explicit ServeApp(ServeOptions options);
    ~ServeApp();

    /// Binds the listening socket; returns the port (the chosen one when options.port is 0).
    /// Throws std::runtime_error when it cannot.
    int bind();
    /// Serves until stop(); returns after in-flight requests have finished.
    void run();
    /// Graceful stop: /ready turns 503, the listening socket closes, requests in flight finish.
    /// Safe from any thread (not from a signal handler: main.cpp calls it from its signal thread).
    void stop();
    /// Reloads every model from its folder (SIGHUP); failures are logged and leave the old version.
    void reload_all();

    const ServeOptions& options() const noexcept { return options_; }
    ModelRegistry& registry() noexcept { return registry_; }
    Metrics& metrics() noexcept { return metrics_; }
    /// One line: address, models (kind, weights, kernels, max length), limits.
    std::string startup_line() const;

private:
    using Handler = std::string (ServeApp::*)(const httplib::Request&, httplib::Response&, std::string& model);
    void route(const char* method, const char* path, Handler handler);
    void respond(const char* endpoint, const httplib::Request& req, httplib::Response& res, Handler handler);

    std::string embeddings(const httplib::Request&, httplib::Response&, std::string& model);
    std::string embed(const httplib::Request&, httplib::Response&, std::string& model);
    std::string classify(const httplib::Request&, httplib::Response&, std::string& model);
    std::string tag(const httplib::Request&, httplib::Response&, std::string& model);
    std::string qa(const httplib::Request&, httplib::Response&, std::string& model);
    std::string tokenize(const httplib::Request&, httplib::Response&, std::string& model);
    std::string rerank(const httplib::Request&, httplib::Response&, std::string& model);
    std::string health(const httplib::Request&, httplib::Response&, std::string& model);
    std::string ready(const httplib::Request&, httplib::Response&, std::string& model);
    std::string info(const httplib::Request&, httplib::Response&, std::string& model);
    std::string metrics_text(const httplib::Request&, httplib::Response&, std::string& model);
    std::string admin_reload(const httplib::Request&, httplib::Response&, std::string& model);
    std::string admin_rollback(const httplib::Request&, httplib::Response&, std::string& model);

    ServeOptions options_;
    Metrics metrics_;
    ModelRegistry registry_;
    AbRouter router_;
    AccessLog log_;
    std::atomic<bool> draining_{false};
    std::unique_ptr<HttpServer> http_;
    int port_ = 0;
};

}  // namespace minibert::serve
