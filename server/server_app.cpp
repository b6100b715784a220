// ServeApp's handlers (see server_app.hpp). Each endpoint: parse (requests.hpp) -> resolve the
// model (A/B routes, registry) -> check lengths -> one Job on the model's batcher -> wait until
// the deadline -> JSON. Failures are exceptions caught once, in respond().
#include "server_app.hpp"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <numeric>
#include <stdexcept>

#include <minibert/kernels/dispatch.hpp>
#include <minibert/version.hpp>

namespace minibert::serve {

/// httplib::Server with a deeper accept queue: the packaged library listens with a backlog of 5
/// (CPPHTTPLIB_LISTEN_BACKLOG, compiled into the shared library), so 64 clients connecting at
/// once overflow it and some connections fail. Linux takes a second listen() on a listening
/// socket as a new backlog; svr_sock_ is the protected listening socket.
class HttpServer : public httplib::Server {
public:
    void deepen_backlog(int backlog) {
        const auto fd = svr_sock_.load();
        if (fd != INVALID_SOCKET) ::listen(fd, backlog);
    }
};

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Little-endian float32 bytes in base64 (OpenAI's encoding_format "base64").
std::string base64_floats(const std::vector<float>& v) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes(v.size() * sizeof(float), '\0');
    if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());  // x86-64 is little-endian
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned n = (unsigned char)bytes[i] << 16 | (unsigned char)bytes[i + 1] << 8 | (unsigned char)bytes[i + 2];
        out += table[n >> 18];
        out += table[(n >> 12) & 63];
        out += table[(n >> 6) & 63];
        out += table[n & 63];
    }
    if (i < bytes.size()) {
        unsigned n = (unsigned char)bytes[i] << 16;
        if (i + 1 < bytes.size()) n |= (unsigned char)bytes[i + 1] << 8;
        out += table[n >> 18];
        out += table[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? table[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

const char* kind_needed(Task t) {
    switch (t) {
        case Task::classify:
        case Task::classify_pairs: return "a sequence classifier (*ForSequenceClassification)";
        case Task::embed: return "an embedding model (a bare encoder or a sentence-transformers folder)";
        case Task::qa: return "a question-answering model (*ForQuestionAnswering)";
        case Task::rerank: return "a cross-encoder (*ForSequenceClassification with one label)";
        default: return "a token classifier (*ForTokenClassification)";
    }
}

ModelKind kind_for(Task t) {
    switch (t) {
        case Task::classify:
        case Task::classify_pairs: return ModelKind::classifier;
        case Task::embed: return ModelKind::embedder;
        case Task::qa: return ModelKind::qa;
        case Task::rerank: return ModelKind::reranker;
        default: return ModelKind::tagger;
    }
}

float cosine(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size() || a.empty()) return 0.0f;
    double dot = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        dot += double(a[i]) * b[i];
        na += double(a[i]) * a[i];
        nb += double(b[i]) * b[i];
    }
    return na > 0 && nb > 0 ? float(dot / std::sqrt(na * nb)) : 0.0f;
}

}  // namespace

// ---------------------------------------------------------------- the shared path of a request

namespace {

/// A request's work on its way through: the runner it holds (kept alive until it is answered),
/// the job, its deadline.
struct Work {
    std::shared_ptr<ModelRunner> runner;
    std::shared_ptr<Job> job;
    RouteTarget target;
};

}  // namespace

static Clock::time_point deadline_of(const httplib::Request& req, std::size_t server_ms) {
    std::size_t ms = server_ms;
    if (req.has_header("X-Timeout-Ms")) {
        const std::string v = req.get_header_value("X-Timeout-Ms");
        char* end = nullptr;
        errno = 0;
        const unsigned long long asked = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || errno != 0 || asked == 0)
            throw bad_request("header 'X-Timeout-Ms' must be a positive whole number of milliseconds, got '" + v.substr(0, 32) + "'");
        ms = std::min<unsigned long long>(ms, asked);
    }
    return Clock::now() + std::chrono::milliseconds(ms);
}

/// Resolves the model (default, route, name) and checks it can do `task`.
static Work start_work(ModelRegistry& registry, const AbRouter& router, const std::optional<std::string>& asked, Task task,
                       std::string& model_label) {
    Work w;
    const std::string name = asked ? *asked : registry.default_model();
    if (!router.is_route(name) && !registry.has(name)) {
        std::string served;
        for (const auto& n : registry.names()) served += (served.empty() ? "" : ", ") + n;
        for (const auto& n : router.route_names()) served += ", " + n;
        throw ApiError(404, "not_found_error", "'model': no model or route named '" + name + "' (serving: " + served + ")");
    }
    w.target = router.resolve(name);
    w.runner = registry.get(w.target.model);
    model_label = w.target.model;
    if (w.runner->kind() != kind_for(task))
        throw bad_request("'model': '" + w.target.model + "' is a " + to_string(w.runner->kind()) + "; this endpoint needs " +
                          kind_needed(task));
    w.job = std::make_shared<Job>();
    w.job->task = task;
    return w;
}

/// Token counts against the model's limit: 422 naming the text under --overflow reject, else
/// the count the truncated text will have. Returns the tokens the job weighs.
static std::size_t check_lengths(const ModelRunner& runner, const Job& job, const char* field) {
    std::size_t total = 0;
    const std::size_t limit = runner.max_length();
    const bool reject = runner.options().overflow == Overflow::reject;
    for (std::size_t i = 0; i < job.inputs(); ++i) {
        std::size_t n;
        if (job.task == Task::classify_pairs) {
            const std::string_view second = job.pairs[i].second;
            n = runner.count_tokens(job.pairs[i].first, &second);
        } else if (job.task == Task::rerank) {
            const std::string_view document = job.texts[i];
            n = runner.count_tokens(job.query, &document);
        } else {
            n = runner.count_tokens(job.texts[i]);
        }
        if (n > limit) {
            if (reject)
                throw ApiError(422, "input_too_long",
                               "'" + std::string(field) + "[" + std::to_string(i) + "]' has " + std::to_string(n) +
                                   " tokens; model '" + runner.name() + "' takes at most " + std::to_string(limit) +
                                   " (the server runs with --overflow reject)");
            n = limit;
        }
        total += n;
    }
    return total;
}

/// Queues the job and waits for it until its deadline (504 after).
static void await(Work& w, Clock::time_point deadline) {
    w.job->deadline = deadline;
    auto done = w.job->done.get_future();
    w.runner->submit(w.job);
    if (done.wait_until(deadline) != std::future_status::ready) {
        w.job->abandoned = true;
        throw ApiError(504, "timeout_error", "the request did not finish before its deadline");
    }
    if (w.job->error) std::rethrow_exception(w.job->error);
}

/// Runs a copy of the answered job on the shadow model, then records agreement in /metrics.
static void shadow(ModelRegistry& registry, Metrics& metrics, const Work& w, const std::string& route) {
    if (!w.target.shadow) return;
    std::shared_ptr<ModelRunner> runner;
    try {
        runner = registry.get(*w.target.shadow);
    } catch (const ApiError&) {
        return;
    }
    if (runner->kind() != kind_for(w.job->task)) return;
    auto copy = std::make_shared<Job>();
    copy->task = w.job->task;
    copy->texts = w.job->texts;
    copy->pairs = w.job->pairs;
    copy->tokens = w.job->tokens;
    const Labels labels{{"route", route}, {"primary", w.target.model}, {"shadow", *w.target.shadow}};
    auto primary = w.job;  // its answers, read on the shadow's worker
    copy->on_done = [primary, labels, &metrics, runner](Job& s) {
        if (s.error) {
            metrics.add_counter("minibert_shadow_errors_total", "Shadow requests that failed", labels);
            return;
        }
        for (std::size_t i = 0; i < s.classifications.size() && i < primary->classifications.size(); ++i) {
            Labels l = labels;
            l.emplace_back("agree", s.classifications[i].label_id == primary->classifications[i].label_id ? "true" : "false");
            metrics.add_counter("minibert_shadow_label_agreement_total", "Shadow answers whose label equals the primary's", l);
        }
        for (std::size_t i = 0; i < s.embeddings.size() && i < primary->embeddings.size(); ++i)
            metrics.observe("minibert_shadow_embedding_cosine", "Cosine between the shadow's and the primary's embeddings", labels,
                            cosine(s.embeddings[i], primary->embeddings[i]),
                            {0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 1.0});
    };
    try {
        runner->submit(copy);
    } catch (const ApiError&) {
        metrics.add_counter("minibert_shadow_dropped_total", "Shadow copies not run because the shadow's queue was full", labels);
    }
}

// ---------------------------------------------------------------- ServeApp

ServeApp::ServeApp(ServeOptions options) : options_(std::move(options)), registry_(&metrics_), log_(options_.log_format) {
    if (options_.models.empty()) throw std::invalid_argument("no model to serve: give --model [NAME=]DIR");
    for (const auto& spec : options_.models) {
        if (registry_.has(spec.name)) throw std::invalid_argument("two models are named '" + spec.name + "'");
        registry_.add(spec);
    }
    for (const auto& r : options_.routes) router_.add_split(r);
    for (const auto& s : options_.shadows) router_.add_shadow(s);
    for (const auto& m : router_.models_named())
        if (!registry_.has(m)) throw std::invalid_argument("a route names '" + m + "', which is not a --model name");
    for (const auto& r : router_.route_names())
        if (registry_.has(r)) throw std::invalid_argument("route '" + r + "' has the name of a model; give it its own");

    http_ = std::make_unique<HttpServer>();
    const std::size_t threads = std::max<std::size_t>(1, options_.http_threads);
    http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http_->set_payload_max_length(options_.max_body_bytes);
    http_->set_read_timeout(std::chrono::milliseconds(options_.read_timeout_ms));
    http_->set_write_timeout(std::chrono::milliseconds(options_.read_timeout_ms));
    http_->set_keep_alive_max_count(100000);  // httplib's default (5) would reconnect every 5 requests
    http_->set_keep_alive_timeout(5);
    http_->set_tcp_nodelay(true);

    // Auth before routing, so an unknown path and a known one look the same to a caller without the key.
    http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (options_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
        const std::string expected = "Bearer " + options_.api_key;
        if (req.get_header_value("Authorization") == expected) return httplib::Server::HandlerResponse::Unhandled;
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer");
        res.set_content(error_body("missing or wrong API key: send 'Authorization: Bearer <key>'", "authentication_error"),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
    });
    // Statuses httplib sets itself (404 no route, 413 body too large, 400 malformed HTTP) get the
    // same JSON error body as ours; ours already have one.
    const httplib::Server::HandlerWithResponse on_error = [](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        if (res.status == 404) message = "no endpoint " + req.method + " " + req.path;
        else if (res.status == 413) message = "the request body is larger than the server takes (--max-body-bytes)";
        else message = "the request failed with HTTP status " + std::to_string(res.status);
        res.set_content(error_body(message, type_for_status(res.status)), "application/json");
        return httplib::Server::HandlerResponse::Handled;
    };
    http_->set_error_handler(on_error);
    http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        if (log_.format() == LogFormat::none) return;
        AccessRecord r;
        r.method = req.method;
        r.path = req.path;
        r.remote = req.remote_addr;
        r.status = res.status;
        r.request_bytes = req.body.size();
        r.response_bytes = res.body.size();
        r.model = res.get_header_value("X-Minibert-Model");
        if (res.has_header("X-Minibert-Latency-Us")) r.latency_ms = std::atof(res.get_header_value("X-Minibert-Latency-Us").c_str()) / 1000.0;
        log_.write(r);
    });

    route("POST", "/v1/embeddings", &ServeApp::embeddings);
    route("POST", "/embed", &ServeApp::embed);
    route("POST", "/classify", &ServeApp::classify);
    route("POST", "/tag", &ServeApp::tag);
    route("POST", "/qa", &ServeApp::qa);
    route("POST", "/tokenize", &ServeApp::tokenize);
    route("POST", "/rerank", &ServeApp::rerank);
    route("GET", "/health", &ServeApp::health);
    route("GET", "/ready", &ServeApp::ready);
    route("GET", "/info", &ServeApp::info);
    route("GET", "/metrics", &ServeApp::metrics_text);
    route("POST", "/admin/reload", &ServeApp::admin_reload);
    route("POST", "/admin/rollback", &ServeApp::admin_rollback);
}

ServeApp::~ServeApp() = default;

int ServeApp::bind() {
    if (options_.port == 0) port_ = http_->bind_to_any_port(options_.host);
    else port_ = http_->bind_to_port(options_.host, options_.port) ? options_.port : -1;
    if (port_ <= 0)
        throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                                 " (in use, or not an address of this host)");
    http_->deepen_backlog(1024);
    return port_;
}

void ServeApp::run() { http_->listen_after_bind(); }

void ServeApp::stop() {
    draining_ = true;
    http_->stop();
}

void ServeApp::reload_all() {
    for (const auto& name : registry_.names()) {
        try {
            registry_.reload(name);
            std::fprintf(stderr, "minibert-serve: reloaded '%s' (version %d)\n", name.c_str(), registry_.version(name));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "minibert-serve: %s\n", e.what());
        }
    }
}

void ServeApp::route(const char* method, const char* path, Handler handler) {
    auto fn = [this, path, handler](const httplib::Request& req, httplib::Response& res) { respond(path, req, res, handler); };
    if (std::strcmp(method, "GET") == 0) http_->Get(path, fn);
    else http_->Post(path, fn);
}

void ServeApp::respond(const char* endpoint, const httplib::Request& req, httplib::Response& res, Handler handler) {
    const auto start = Clock::now();
    std::string model;
    try {
        std::string body = (this->*handler)(req, res, model);
        if (res.status <= 0 || res.status == -1) res.status = 200;
        if (res.get_header_value("Content-Type").empty() && res.body.empty())
            res.set_content(std::move(body), "application/json");
    } catch (const ApiError& e) {
        res.status = e.status();
        if (e.retry_after_s() > 0) res.set_header("Retry-After", std::to_string(e.retry_after_s()));
        res.set_content(error_body(e.what(), e.type()), "application/json");
    } catch (const Error& e) {
        const ApiError a = from_library_error(e);
        res.status = a.status();
        res.set_content(error_body(a.what(), a.type()), "application/json");
    } catch (const std::bad_alloc&) {
        res.status = 503;
        res.set_header("Retry-After", "1");
        res.set_content(error_body("out of memory while answering; retry later", "overloaded_error"), "application/json");
    } catch (const std::exception& e) {
        res.status = 500;
        res.set_content(error_body(std::string("internal error: ") + e.what(), "server_error"), "application/json");
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    res.set_header("X-Minibert-Latency-Us", std::to_string(static_cast<long long>(seconds * 1e6)));
    if (!model.empty()) res.set_header("X-Minibert-Model", model);
    metrics_.add_counter("minibert_requests_total", "Requests by endpoint, model and status",
                         {{"endpoint", endpoint}, {"model", model}, {"status", std::to_string(res.status)}});
    metrics_.observe("minibert_request_seconds", "Time from request parsed to response ready, by endpoint",
                     {{"endpoint", endpoint}}, seconds, latency_buckets());
}

// ---------------------------------------------------------------- inference endpoints

std::string ServeApp::embeddings(const httplib::Request& req, httplib::Response&, std::string& model) {
    const EmbeddingsRequest r = parse_embeddings(req.body, options_.limits);
    const auto deadline = deadline_of(req, options_.request_timeout_ms);
    Work w = start_work(registry_, router_, r.model, Task::embed, model);
    w.job->texts = r.input;
    w.job->tokens = check_lengths(*w.runner, *w.job, "input");
    await(w, deadline);
    shadow(registry_, metrics_, w, r.model.value_or(""));
    json data = json::array();
    for (std::size_t i = 0; i < w.job->embeddings.size(); ++i) {
        json e = {{"object", "embedding"}, {"index", i}};
        if (r.base64) e["embedding"] = base64_floats(w.job->embeddings[i]);
        else e["embedding"] = w.job->embeddings[i];
        data.push_back(std::move(e));
    }
    const json out = {{"object", "list"}, {"data", std::move(data)}, {"model", model},
                      {"usage", {{"prompt_tokens", w.job->tokens}, {"total_tokens", w.job->tokens}}}};
    return dump(out);
}

std::string ServeApp::embed(const httplib::Request& req, httplib::Response&, std::string& model) {
    const EmbeddingsRequest r = parse_embeddings(req.body, options_.limits, "inputs");
    const auto deadline = deadline_of(req, options_.request_timeout_ms);
    Work w = start_work(registry_, router_, r.model, Task::embed, model);
    w.job->texts = r.input;
    w.job->tokens = check_lengths(*w.runner, *w.job, "inputs");
    await(w, deadline);
    shadow(registry_, metrics_, w, r.model.value_or(""));
    const json out = {{"model", model}, {"embeddings", w.job->embeddings}, {"dimension", w.runner->dimension()},
                      {"usage", {{"prompt_tokens", w.job->tokens}, {"total_tokens", w.job->tokens}}}};
    return dump(out);
}

std::string ServeApp::classify(const httplib::Request& req, httplib::Response&, std::string& model) {
    const ClassifyRequest r = parse_classify(req.body, options_.limits);
    const auto deadline = deadline_of(req, options_.request_timeout_ms);
    Work w = start_work(registry_, router_, r.model, r.pairs.empty() ? Task::classify : Task::classify_pairs, model);
    const std::size_t n_labels = w.runner->labels().size();
    if (r.top_k > n_labels)
        throw bad_request("'top_k' is " + std::to_string(r.top_k) + " but model '" + model + "' has " + std::to_string(n_labels) + " labels");
    w.job->texts = r.texts;
    w.job->pairs = r.pairs;
    w.job->tokens = check_lengths(*w.runner, *w.job, r.pairs.empty() ? "texts" : "pairs");
    await(w, deadline);
    shadow(registry_, metrics_, w, r.model.value_or(""));
    const std::size_t k = r.top_k == 0 ? n_labels : r.top_k;
    json results = json::array();
    for (const Classification& c : w.job->classifications) {
        std::vector<std::size_t> order(c.probabilities.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c.probabilities[a] > c.probabilities[b]; });
        json top = json::array();
        for (std::size_t i = 0; i < k && i < order.size(); ++i)
            top.push_back({{"label", w.runner->labels()[order[i]]}, {"label_id", order[i]}, {"score", c.probabilities[order[i]]}});
        results.push_back({{"label", c.label}, {"label_id", c.label_id}, {"score", c.score}, {"top_k", std::move(top)},
                           {"probabilities", c.probabilities}});
    }
    return dump({{"model", model}, {"results", std::move(results)}, {"usage", {{"prompt_tokens", w.job->tokens}}}});
}

std::string ServeApp::tag(const httplib::Request& req, httplib::Response&, std::string& model) {
    const TagRequest r = parse_tag(req.body, options_.limits);
    const auto deadline = deadline_of(req, options_.request_timeout_ms);
    const Task task = r.aggregation == "none" ? Task::tag_none : r.aggregation == "first" ? Task::tag_first : Task::tag_simple;
    Work w = start_work(registry_, router_, r.model, task, model);
    w.job->texts = r.texts;
    w.job->tokens = check_lengths(*w.runner, *w.job, "texts");
    await(w, deadline);
    json results = json::array();
    for (const auto& entities : w.job->entities) {
        json list = json::array();
        for (const Entity& e : entities)
            list.push_back({{"label", e.label}, {"score", e.score}, {"word", e.word}, {"start", e.start}, {"end", e.end},
                            {"char_start", e.char_start}, {"char_end", e.char_end}, {"index", e.index}});
        results.push_back(std::move(list));
    }
    return dump({{"model", model}, {"results", std::move(results)}});
}

std::string ServeApp::qa(const httplib::Request& req, httplib::Response&, std::string& model) {
    const QaRequest r = parse_qa(req.body);
    const auto deadline = deadline_of(req, options_.request_timeout_ms);
    Work w = start_work(registry_, router_, r.model, Task::qa, model);
    w.job->pairs.emplace_back(r.question, r.context);
    // Long contexts run in strided windows, so only the question's length can be refused.
    w.job->tokens = std::min(w.runner->count_tokens(r.question) + w.runner->count_tokens(r.context), w.runner->max_length());
    await(w, deadline);
    const Answer& a = w.job->answer;
    return dump({{"model", model}, {"answer", a.text}, {"score", a.score}, {"start", a.start}, {"end", a.end},
                 {"char_start", a.char_start}, {"char_end", a.char_end}});
}

std::string ServeApp::rerank(const httplib::Request& req, httplib::Response&, std::string& model) {
    const RerankRequest r = parse_rerank(req.body, options_.limits);
    const auto deadline = deadline_of(req, options_.request_timeout_ms);
    Work w = start_work(registry_, router_, r.model, Task::rerank, model);
    w.job->query = r.query;
    w.job->texts = r.documents;
    w.job->top_n = r.top_n;
    w.job->tokens = check_lengths(*w.runner, *w.job, "documents");
    await(w, deadline);
    json results = json::array();
    for (const RerankResult& x : w.job->ranking)
        results.push_back({{"index", x.index}, {"score", x.score}, {"document", r.documents.at(x.index)}});
    return dump({{"model", model}, {"results", std::move(results)}, {"usage", {{"prompt_tokens", w.job->tokens}}}});
}

std::string ServeApp::tokenize(const httplib::Request& req, httplib::Response&, std::string& model) {
    const TokenizeRequest r = parse_tokenize(req.body, options_.limits);
    const std::string name = r.model ? *r.model : registry_.default_model();
    const auto runner = registry_.get(router_.resolve(name).model);
    model = runner->name();
    EncodeOptions eo;
    eo.add_special_tokens = r.add_special_tokens;
    json results = json::array();
    for (const auto& text : r.texts) {
        const Encoding e = runner->tokenizer().encode(text, eo);
        json offsets = json::array();
        for (const auto& o : e.offsets) offsets.push_back({o.first, o.second});
        results.push_back({{"ids", e.ids}, {"tokens", e.tokens}, {"offsets", std::move(offsets)}, {"count", e.size()}});
    }
    return dump({{"model", model}, {"max_length", runner->max_length()}, {"results", std::move(results)}});
}

// ---------------------------------------------------------------- operations

std::string ServeApp::health(const httplib::Request&, httplib::Response&, std::string&) { return R"({"status":"ok"})"; }

std::string ServeApp::ready(const httplib::Request&, httplib::Response&, std::string&) {
    if (draining_) throw ApiError(503, "overloaded_error", "the server is shutting down", 1);
    json models = json::array();
    for (const auto& n : registry_.names()) models.push_back(n);
    return dump({{"status", "ready"}, {"models", std::move(models)}});
}

std::string ServeApp::info(const httplib::Request&, httplib::Response&, std::string&) {
    json models = json::array();
    for (const auto& n : registry_.names()) {
        const auto r = registry_.get(n);
        json m = {{"name", n}, {"dir", r->dir()}, {"kind", to_string(r->kind())},
                  {"architecture", r->model().config().architecture},
                  {"weights", minibert::to_string(r->model().weight_type())},
                  {"kernels", minibert::to_string(r->model().kernel_isa())},
                  {"max_length", r->max_length()}, {"version", registry_.version(n)},
                  {"sessions", r->options().sessions}, {"threads_per_session", r->options().threads_per_session},
                  {"overflow", r->options().overflow == Overflow::reject ? "reject" : "truncate"},
                  {"queue_depth", r->queue_depth()}};
        if (r->kind() == ModelKind::classifier || r->kind() == ModelKind::tagger) m["labels"] = r->labels();
        if (r->kind() == ModelKind::embedder) m["dimension"] = r->dimension();
        models.push_back(std::move(m));
    }
    const BatchLimits& b = options_.models.front().options.batch;
    json routes = json::array();
    for (const auto& s : options_.routes) routes.push_back({{"split", s}});
    for (const auto& s : options_.shadows) routes.push_back({{"shadow", s}});
    const json out = {{"version", MINIBERT_VERSION_STRING},
                      {"models", std::move(models)},
                      {"routes", std::move(routes)},
                      {"limits",
                       {{"max_batch_tokens", b.max_batch_tokens}, {"max_batch_requests", b.max_batch_requests},
                        {"max_wait_us", b.max_wait_us}, {"queue_size", b.queue_size}, {"max_body_bytes", options_.max_body_bytes},
                        {"max_inputs", options_.limits.max_inputs}, {"request_timeout_ms", options_.request_timeout_ms},
                        {"read_timeout_ms", options_.read_timeout_ms}, {"http_threads", options_.http_threads}}},
                      {"auth", !options_.api_key.empty()}};
    return dump(out);
}

std::string ServeApp::metrics_text(const httplib::Request&, httplib::Response& res, std::string&) {
    for (const auto& n : registry_.names()) {
        const auto r = registry_.get(n);
        metrics_.set_gauge("minibert_queue_depth", "Requests waiting in the model's queue", {{"model", n}}, double(r->queue_depth()));
        metrics_.set_gauge("minibert_model_version", "Loads of the model since start (reloads and rollbacks count)", {{"model", n}},
                           registry_.version(n));
    }
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
    return {};
}

std::string ServeApp::admin_reload(const httplib::Request& req, httplib::Response&, std::string& model) {
    if (options_.api_key.empty())
        throw ApiError(403, "permission_error", "admin endpoints need the server started with --api-key");
    const AdminRequest r = parse_admin(req.body);
    if (r.dir && !r.model) throw bad_request("'dir' needs 'model': which model is to load it");
    std::vector<std::string> names = r.model ? std::vector<std::string>{*r.model} : registry_.names();
    json done = json::array();
    for (const auto& n : names) {
        if (!registry_.has(n)) throw not_found("'model': no model named '" + n + "'");
        registry_.reload(n, r.dir);
        done.push_back({{"model", n}, {"version", registry_.version(n)}, {"dir", registry_.get(n)->dir()}});
    }
    if (r.model) model = *r.model;
    return dump({{"reloaded", std::move(done)}});
}

std::string ServeApp::admin_rollback(const httplib::Request& req, httplib::Response&, std::string& model) {
    if (options_.api_key.empty())
        throw ApiError(403, "permission_error", "admin endpoints need the server started with --api-key");
    const AdminRequest r = parse_admin(req.body);
    if (!r.model) throw bad_request("'model': name the model to roll back");
    if (!registry_.has(*r.model)) throw not_found("'model': no model named '" + *r.model + "'");
    registry_.rollback(*r.model);
    model = *r.model;
    return dump({{"model", *r.model}, {"version", registry_.version(*r.model)}, {"dir", registry_.get(*r.model)->dir()}});
}

std::string ServeApp::startup_line() const {
    std::string s = "minibert-serve " MINIBERT_VERSION_STRING " listening on http://" + options_.host + ":" + std::to_string(port_) + "; models:";
    for (const auto& n : registry_.names()) {
        const auto r = registry_.get(n);
        s += " " + n + " (" + to_string(r->kind()) + ", " + minibert::to_string(r->model().weight_type()) + ", kernels " +
             minibert::to_string(r->model().kernel_isa()) + ", max_length " + std::to_string(r->max_length()) + ", " +
             std::to_string(r->options().sessions) + "x" + std::to_string(r->options().threads_per_session) + " threads)";
    }
    const BatchLimits& b = options_.models.front().options.batch;
    s += "; batches: " + std::to_string(b.max_batch_tokens) + " tokens, " + std::to_string(b.max_batch_requests) +
         " requests, wait " + std::to_string(b.max_wait_us) + " us; queue " + std::to_string(b.queue_size) + "; body " +
         std::to_string(options_.max_body_bytes) + " B; timeout " + std::to_string(options_.request_timeout_ms) + " ms; auth " +
         (options_.api_key.empty() ? "off" : "on");
    return s;
}

}  // namespace minibert::serve
