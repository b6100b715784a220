// minibert-serve over real HTTP on an ephemeral loopback port, with cpp-httplib's own client:
// every endpoint against the in-process pipelines bit for bit, 64 concurrent clients, the
// bad-input and overload statuses, reload under load, graceful stop, auth, A/B routes.
// The program's signal handling is tested from the outside by test_serve_signals.sh.
#include <httplib.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "doctest/doctest.h"
#include "server_app.hpp"
#include "test_support.hpp"

using minibert::Classifier; using minibert::Embedder; using minibert::TokenTagger; using minibert::QuestionAnswerer;
using minibert::PipelineOptions; using minibert::Classification; using minibert::Answer; using minibert::Aggregation;
using minibert::Tokenizer; using minibert::Overflow; using minibert::WeightType;
using minibert::serve::ServeApp; using minibert::serve::ServeOptions; using minibert::serve::ModelSpec; using minibert::serve::Clock;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string demo_dir() { return std::string(MINIBERT_SOURCE_DIR) + "/models/sst2-student"; }

/// A test model folder: the fixture's weights with bert-base-uncased's vocabulary beside them.
std::string folder_with_vocab(const std::string& model, const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("minibert-test-serve-" + name);
    fs::create_directories(dir);
    for (const char* f : {"config.json", "model.safetensors"})
        fs::copy_file(fs::path(test_support::model_path(model)) / f, dir / f, fs::copy_options::overwrite_existing);
    fs::copy_file(fs::path(MINIBERT_TEST_DATA_DIR) / "tokenizer/bert-base-uncased/vocab.txt", dir / "vocab.txt",
                  fs::copy_options::overwrite_existing);
    return dir.string();
}

/// The first n sentences of SST-2 dev (the repo's copy).
/// The fixture's bare 100-token encoder (tiny-bert) with a 100-token vocabulary written for it:
/// the specials, letters, their continuations, digits and a few words.
std::string tiny_embedder_folder() {
    const fs::path dir = fs::temp_directory_path() / "minibert-test-serve-embedder";
    fs::create_directories(dir);
    for (const char* f : {"config.json", "model.safetensors"})
        fs::copy_file(fs::path(test_support::model_path("tiny-bert")) / f, dir / f, fs::copy_options::overwrite_existing);
    std::ofstream vocab(dir / "vocab.txt");
    std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (char c = 'a'; c <= 'z'; ++c) tokens.push_back(std::string(1, c));
    for (char c = 'a'; c <= 'z'; ++c) tokens.push_back("##" + std::string(1, c));
    for (char c = '0'; c <= '9'; ++c) tokens.push_back(std::string(1, c));
    for (const char* w : {"the", "a", "and", "of", "to", "is", "it", "in", "that", "film", "movie", "'s", ".", ",", "!", "?",
                          "-", "good", "bad", "fine", "with", "for", "as", "but", "this", "an", "on", "be", "not", "its",
                          "you", "by", "so"})
        tokens.push_back(w);
    tokens.resize(100, "[unused]");
    for (std::size_t i = 0; i < tokens.size(); ++i) vocab << (tokens[i] == "[unused]" ? "[unused" + std::to_string(i) + "]" : tokens[i]) << "\n";
    return dir.string();
}

std::vector<std::string> sst2_sentences(std::size_t n) {
    std::ifstream in(std::string(MINIBERT_SOURCE_DIR) + "/data/glue-sst2/dev.tsv");
    std::string line;
    std::getline(in, line);  // header
    std::vector<std::string> out;
    while (out.size() < n && std::getline(in, line)) out.push_back(line.substr(0, line.find('\t')));
    REQUIRE(out.size() == n);
    return out;
}

ModelSpec spec(const std::string& name, const std::string& dir, std::size_t sessions = 1) {
    ModelSpec s;
    s.name = name;
    s.dir = dir;
    s.options.sessions = sessions;
    s.options.threads_per_session = 1;
    return s;
}

/// A ServeApp listening on 127.0.0.1:<any>, served on its own thread until the end of scope.
struct Running {
    explicit Running(ServeOptions o) : app((o.port = 0, o.host = "127.0.0.1", std::move(o))) {
        port = app.bind();
        thread = std::thread([this] { app.run(); });
    }
    ~Running() {
        app.stop();
        thread.join();
    }
    httplib::Client client(const std::string& key = {}) const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(30, 0);
        if (!key.empty()) c.set_default_headers({{"Authorization", "Bearer " + key}});
        return c;
    }
    ServeApp app;
    int port = 0;
    std::thread thread;
};

json post_ok(httplib::Client& c, const std::string& path, const json& body) {
    const auto res = c.Post(path.c_str(), body.dump(), "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
}

/// Status and parsed error of a request that must fail.
std::pair<int, json> post_fail(httplib::Client& c, const std::string& path, const std::string& body,
                               const httplib::Headers& headers = {}) {
    const auto res = c.Post(path.c_str(), headers, body, "application/json");
    REQUIRE(res);
    INFO(res->body);
    json j = json::parse(res->body);
    REQUIRE(j.contains("error"));
    CHECK(j["error"]["message"].is_string());
    CHECK(j["error"]["type"].is_string());
    return {res->status, j};
}

std::vector<float> floats(const json& a) { return a.get<std::vector<float>>(); }

std::vector<float> from_base64(const std::string& s) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    };
    std::string bytes;
    for (std::size_t i = 0; i + 3 < s.size(); i += 4) {
        const int a = val(s[i]), b = val(s[i + 1]), c = val(s[i + 2]), d = val(s[i + 3]);
        bytes += char((a << 2) | (b >> 4));
        if (c >= 0) bytes += char(((b & 15) << 4) | (c >> 2));
        if (d >= 0) bytes += char(((c & 3) << 6) | d);
    }
    std::vector<float> out(bytes.size() / 4);
    std::memcpy(out.data(), bytes.data(), out.size() * 4);
    return out;
}

}  // namespace

TEST_CASE("every endpoint answers bit for bit what the in-process pipeline answers") {
    const std::string emb_dir = tiny_embedder_folder();
    const std::string tag_dir = folder_with_vocab("small-bert-tokcls", "tagger");
    const std::string qa_dir = folder_with_vocab("small-bert-qa", "qa");
    const std::string rerank_dir = folder_with_vocab("small-bert-rerank", "rerank");
    ServeOptions o;
    o.models = {spec("sst2", demo_dir()), spec("emb", emb_dir), spec("ner", tag_dir), spec("qa", qa_dir),
                spec("rerank", rerank_dir)};
    Running server(o);
    auto c = server.client();
    PipelineOptions p;
    p.threads = 1;
    const auto texts = sst2_sentences(6);

    SUBCASE("/classify, texts and pairs, top_k") {
        Classifier reference = Classifier::load(demo_dir(), p);
        const json out = post_ok(c, "/classify", {{"texts", texts}, {"top_k", 2}});
        REQUIRE(out["results"].size() == texts.size());
        CHECK(out["model"] == "sst2");
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const Classification want = reference.classify(texts[i]);
            const json& got = out["results"][i];
            CHECK(got["label"] == want.label);
            CHECK(floats(got["probabilities"]) == want.probabilities);
            CHECK(got["score"].get<float>() == want.score);
            REQUIRE(got["top_k"].size() == 2);
            CHECK(got["top_k"][0]["label"] == want.label);
        }
        const json pairs = post_ok(c, "/classify", {{"pairs", json::array({json::array({texts[0], texts[1]})})}, {"model", "sst2"}});
        CHECK(floats(pairs["results"][0]["probabilities"]) == reference.classify_pairs({{texts[0], texts[1]}})[0].probabilities);
    }
    SUBCASE("/v1/embeddings (float and base64, usage) and /embed") {
        Embedder reference = Embedder::load(emb_dir, p);
        const json out = post_ok(c, "/v1/embeddings", {{"input", {texts[0], texts[1]}}, {"model", "emb"}});
        CHECK(out["object"] == "list");
        REQUIRE(out["data"].size() == 2);
        std::size_t tokens = 0;
        for (std::size_t i = 0; i < 2; ++i) {
            CHECK(out["data"][i]["index"] == i);
            CHECK(floats(out["data"][i]["embedding"]) == reference.embed(texts[i]));
            tokens += reference.tokenizer().encode(texts[i]).size();
        }
        CHECK(out["usage"]["prompt_tokens"] == tokens);
        const json b64 = post_ok(c, "/v1/embeddings", {{"input", texts[2]}, {"model", "emb"}, {"encoding_format", "base64"}});
        CHECK(from_base64(b64["data"][0]["embedding"].get<std::string>()) == reference.embed(texts[2]));
        const json embed = post_ok(c, "/embed", {{"inputs", {texts[3]}}, {"model", "emb"}});
        CHECK(floats(embed["embeddings"][0]) == reference.embed(texts[3]));
    }
    SUBCASE("/tag, /qa, /tokenize") {
        TokenTagger tagger = TokenTagger::load(tag_dir, p);
        const json tagged = post_ok(c, "/tag", {{"texts", {"John lives in Paris", texts[0]}}, {"model", "ner"}, {"aggregation", "none"}});
        const auto want = tagger.tag(std::vector<std::string_view>{"John lives in Paris", texts[0]}, Aggregation::none);
        REQUIRE(tagged["results"].size() == 2);
        for (std::size_t t = 0; t < 2; ++t) {
            REQUIRE(tagged["results"][t].size() == want[t].size());
            for (std::size_t e = 0; e < want[t].size(); ++e) {
                CHECK(tagged["results"][t][e]["label"] == want[t][e].label);
                CHECK(tagged["results"][t][e]["score"].get<float>() == want[t][e].score);
                CHECK(tagged["results"][t][e]["start"] == want[t][e].start);
                CHECK(tagged["results"][t][e]["char_end"] == want[t][e].char_end);
            }
        }
        QuestionAnswerer qa = QuestionAnswerer::load(qa_dir, {}, p);
        const json answered = post_ok(c, "/qa", {{"question", "who acts?"}, {"context", texts[3]}, {"model", "qa"}});
        const Answer a = qa.answer("who acts?", texts[3]);
        CHECK(answered["answer"] == a.text);
        CHECK(answered["score"].get<float>() == a.score);
        CHECK(answered["start"] == a.start);
        const json tok = post_ok(c, "/tokenize", {{"texts", "hello world"}, {"model", "sst2"}});
        CHECK(tok["results"][0]["ids"].get<std::vector<std::int32_t>>() ==
              Tokenizer::from_folder(demo_dir()).encode("hello world").ids);
    }
    SUBCASE("/rerank: the Reranker's ranking, top_n") {
        minibert::Reranker reference = minibert::Reranker::load(rerank_dir, p);
        const std::vector<std::string> docs(texts.begin(), texts.begin() + 5);
        const json out = post_ok(c, "/rerank", {{"query", "a charming film"}, {"documents", docs}, {"top_n", 3}, {"model", "rerank"}});
        const auto want = reference.rerank("a charming film", docs, 3);
        REQUIRE(out["results"].size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK(out["results"][i]["index"] == want[i].index);
            CHECK(out["results"][i]["score"].get<float>() == want[i].score);
            CHECK(out["results"][i]["document"] == docs[want[i].index]);
        }
        const auto [status, err] = post_fail(c, "/rerank", json{{"query", "q"}, {"documents", "not a list"}, {"model", "rerank"}}.dump());
        CHECK(status == 400);
        CHECK(err["error"]["message"].get<std::string>().find("'documents'") != std::string::npos);
    }
    SUBCASE("/health, /ready, /info, /metrics") {
        CHECK(c.Get("/health")->status == 200);
        CHECK(c.Get("/ready")->status == 200);
        const auto info = c.Get("/info");
        REQUIRE(info->status == 200);
        const json i = json::parse(info->body);
        CHECK(i["models"].size() == 5);
        CHECK(i["models"][4]["kind"] == "reranker");
        CHECK(i["models"][0]["kind"] == "classifier");
        CHECK(i["models"][1]["dimension"] == 32);
        post_ok(c, "/classify", {{"texts", texts[0]}});
        const auto m = c.Get("/metrics");
        REQUIRE(m->status == 200);
        CHECK(m->get_header_value("Content-Type").find("text/plain") == 0);
        CHECK(m->body.find("minibert_requests_total{endpoint=\"/classify\",model=\"sst2\",status=\"200\"}") != std::string::npos);
        CHECK(m->body.find("minibert_request_seconds_bucket{endpoint=\"/classify\",le=\"+Inf\"}") != std::string::npos);
        CHECK(m->body.find("minibert_queue_depth{model=\"sst2\"} 0") != std::string::npos);
        CHECK(m->body.find("minibert_batch_tokens_count{model=\"sst2\"}") != std::string::npos);
    }
}

TEST_CASE("64 concurrent clients get their own rows, bit-identical whatever the batch they shared") {
    ServeOptions o;
    o.models = {spec("sst2", demo_dir(), 2)};
    o.models[0].options.batch.max_wait_us = 2000;  // let batches fill
    Running server(o);
    PipelineOptions p;
    p.threads = 1;
    Classifier reference = Classifier::load(demo_dir(), p);
    const auto texts = sst2_sentences(64);
    std::vector<std::vector<float>> want;
    for (const auto& t : texts) want.push_back(reference.classify(t).probabilities);

    std::atomic<int> mismatches{0}, failures{0};
    std::vector<std::thread> clients;
    for (int k = 0; k < 64; ++k)
        clients.emplace_back([&, k] {
            auto c = server.client();
            for (int r = 0; r < 3; ++r) {
                // Each client sends one or two texts, so batches mix requests of different sizes.
                const std::size_t a = (k + r) % 64, b = (k * 7 + r) % 64;
                json body = {{"texts", r % 2 ? json{texts[a], texts[b]} : json{texts[a]}}};
                const auto res = c.Post("/classify", body.dump(), "application/json");
                if (!res || res->status != 200) {
                    if (failures++ == 0) MESSAGE("first failure: " << (res ? res->body : httplib::to_string(res.error())));
                    continue;
                }
                const json out = json::parse(res->body);
                if (floats(out["results"][0]["probabilities"]) != want[a]) ++mismatches;
                if (r % 2 && floats(out["results"][1]["probabilities"]) != want[b]) ++mismatches;
            }
        });
    for (auto& t : clients) t.join();
    CHECK(failures.load() == 0);
    CHECK(mismatches.load() == 0);
    // The test is about batching: some batches must have held several requests.
    const std::string metrics = server.client().Get("/metrics")->body;
    const auto count_at = metrics.find("minibert_batch_requests_count{model=\"sst2\"} ");
    REQUIRE(count_at != std::string::npos);
    const double batches = std::stod(metrics.substr(count_at + std::strlen("minibert_batch_requests_count{model=\"sst2\"} ")));
    MESSAGE("192 requests ran in " << batches << " batches");
    CHECK(batches < 192);
}

TEST_CASE("bad input gets the right status and names the field") {
    ServeOptions o;
    o.models = {spec("sst2", demo_dir())};
    o.models[0].options.overflow = Overflow::reject;
    o.max_body_bytes = 4096;
    o.limits.max_inputs = 8;
    Running server(o);
    auto c = server.client();
    auto check = [&](const std::string& path, const std::string& body, int status, const std::string& needle) {
        const auto [got, j] = post_fail(c, path, body);
        INFO(path << " " << body.substr(0, 80) << " -> " << j.dump());
        CHECK(got == status);
        CHECK(j["error"]["message"].get<std::string>().find(needle) != std::string::npos);
    };
    check("/classify", "{not json", 400, "not valid JSON");
    check("/classify", "", 400, "empty");
    check("/classify", "[1,2]", 400, "must be a JSON object");
    check("/classify", R"({"texts": 5})", 400, "'texts'");
    check("/classify", R"({"texts": ["ok", 7]})", 400, "'texts[1]'");
    check("/classify", R"({"texts": []})", 400, "'texts' is an empty list");
    check("/classify", R"({"texts": [""]})", 400, "'texts[0]' is empty");
    check("/classify", R"({"texts": ["a","a","a","a","a","a","a","a","a"]})", 400, "--max-inputs");
    check("/classify", R"({"texts": "a", "top_k": 3})", 400, "'top_k'");
    check("/classify", R"({"texts": "a", "top_k": -1})", 400, "top_k");
    check("/classify", R"({"pairs": [["a"]]})", 400, "'pairs[0]'");
    check("/classify", R"({"texts": "a", "model": "nope"})", 404, "'model'");
    check("/v1/embeddings", R"({"input": "a"})", 400, "needs an embedding model");
    check("/v1/embeddings", R"({"input": "a", "encoding_format": "hex"})", 400, "'encoding_format'");
    check("/classify", std::string(100, '[') + std::string(100, ']'), 400, "deeper");
    check("/classify", R"({"texts": ")" + std::string(5000, 'a') + "\"}", 413, "larger than");
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "word ";
    check("/classify", json{{"texts", {"fine", long_text}}}.dump(), 422, "'texts[1]' has");
    const auto missing = c.Get("/nowhere");
    CHECK(missing->status == 404);
    CHECK(json::parse(missing->body)["error"]["type"] == "not_found_error");
    const auto [bad_timeout, j] = post_fail(c, "/classify", R"({"texts":"a"})", {{"X-Timeout-Ms", "soon"}});
    CHECK(bad_timeout == 400);
    CHECK(c.Post("/admin/reload", "{}", "application/json")->status == 403);  // no --api-key: admin is off
}

TEST_CASE("overload: full queue is 429 with Retry-After, a passed deadline 504, a slow client is dropped") {
    ServeOptions o;
    o.models = {spec("sst2", demo_dir())};
    o.models[0].options.batch.queue_size = 1;
    o.models[0].options.batch.max_wait_us = 300000;  // a worker holds its batch open 0.3 s waiting for more
    o.models[0].options.batch.max_batch_requests = 2;
    o.read_timeout_ms = 300;
    Running server(o);

    SUBCASE("504 when the deadline passes first") {
        auto c = server.client();
        const auto [status, j] = post_fail(c, "/classify", R"({"texts":"a"})", {{"X-Timeout-Ms", "50"}});
        CHECK(status == 504);
    }
    SUBCASE("429 + Retry-After when the queue is full") {
        // The worker takes request 1 and waits for a second; requests 2 and 3 fill its batch and
        // the queue (size 1), so some of the later ones find the queue full.
        std::atomic<int> refused{0}, ok{0};
        std::vector<std::thread> ts;
        for (int i = 0; i < 8; ++i)
            ts.emplace_back([&] {
                auto c = server.client();
                const auto res = c.Post("/classify", R"({"texts":"a"})", "application/json");
                if (res && res->status == 429 && res->get_header_value("Retry-After") == "1") ++refused;
                if (res && res->status == 200) ++ok;
            });
        for (auto& t : ts) t.join();
        CHECK(refused > 0);
        CHECK(ok > 0);
        CHECK(refused + ok == 8);
    }
    SUBCASE("a half-sent request times out and the server keeps answering") {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(server.port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        const std::string partial = "POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"te";
        REQUIRE(::send(fd, partial.data(), partial.size(), 0) == static_cast<ssize_t>(partial.size()));
        auto c = server.client();
        CHECK(c.Get("/health")->status == 200);
        char buf[256];
        const auto start = Clock::now();
        const ssize_t got = ::recv(fd, buf, sizeof buf, 0);  // the server closes (or answers 400) after its read timeout
        const double waited = std::chrono::duration<double>(Clock::now() - start).count();
        CHECK(got >= 0);
        CHECK(waited < 5.0);
        ::close(fd);
    }
}

TEST_CASE("reload and rollback under load fail no request; auth guards all but /health") {
    ServeOptions o;
    o.models = {spec("sst2", demo_dir())};
    o.api_key = "sesame";
    Running server(o);
    auto anon = server.client();
    CHECK(anon.Get("/health")->status == 200);
    const auto denied = anon.Post("/classify", R"({"texts":"a"})", "application/json");
    CHECK(denied->status == 401);
    CHECK(json::parse(denied->body)["error"]["type"] == "authentication_error");
    CHECK(server.client("wrong").Get("/info")->status == 401);

    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> load;
    for (int i = 0; i < 8; ++i)
        load.emplace_back([&] {
            auto c = server.client("sesame");
            while (!stop) {
                const auto res = c.Post("/classify", R"({"texts":["a fine film","dull"]})", "application/json");
                (res && res->status == 200 ? ok : failed)++;
            }
        });
    auto admin = server.client("sesame");
    for (int i = 0; i < 3; ++i) {
        const auto r = admin.Post("/admin/reload", R"({"model":"sst2"})", "application/json");
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    CHECK(admin.Post("/admin/rollback", R"({"model":"sst2"})", "application/json")->status == 200);
    CHECK(admin.Post("/admin/reload", R"({"model":"sst2","dir":"/nonexistent"})", "application/json")->status == 500);
    CHECK(admin.Post("/admin/rollback", R"({"model":"zzz"})", "application/json")->status == 404);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
    for (auto& t : load) t.join();
    MESSAGE(ok.load() << " requests during 3 reloads and a rollback");
    CHECK(failed == 0);
    CHECK(ok > 0);
    CHECK(server.app.registry().version("sst2") == 5);
}

TEST_CASE("A/B: a split goes exactly by weight; a shadow records agreement") {
    ServeOptions o;
    o.models = {spec("fp32", demo_dir()), spec("int8", demo_dir())};
    o.models[1].options.load.weights = WeightType::int8_dynamic;
    o.routes = {"sst2=fp32:3,int8:1"};
    o.shadows = {"checked=fp32,int8"};
    Running server(o);
    auto c = server.client();
    std::map<std::string, int> by_model;
    for (int i = 0; i < 8; ++i) {
        const auto res = c.Post("/classify", R"({"texts":"a fine film","model":"sst2"})", "application/json");
        REQUIRE(res->status == 200);
        ++by_model[res->get_header_value("X-Minibert-Model")];
    }
    CHECK(by_model["fp32"] == 6);
    CHECK(by_model["int8"] == 2);
    for (int i = 0; i < 4; ++i) post_ok(c, "/classify", {{"texts", {"a fine film", "boring"}}, {"model", "checked"}});
    // The shadow runs after the answer: wait for its four batches.
    double agreed = 0;
    for (int i = 0; i < 200 && agreed < 8; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        agreed = server.app.metrics().value("minibert_shadow_label_agreement_total",
                                            {{"route", "checked"}, {"primary", "fp32"}, {"shadow", "int8"}, {"agree", "true"}}) +
                 server.app.metrics().value("minibert_shadow_label_agreement_total",
                                            {{"route", "checked"}, {"primary", "fp32"}, {"shadow", "int8"}, {"agree", "false"}});
    }
    CHECK(agreed == 8);
}

TEST_CASE("stop() drains: requests in flight finish with 200, /ready turns 503") {
    ServeOptions o;
    o.models = {spec("sst2", demo_dir())};
    o.models[0].options.batch.max_wait_us = 300000;  // requests sit in a forming batch when stop() comes
    auto server = std::make_unique<Running>(o);
    std::atomic<int> ok{0}, other{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i)
        ts.emplace_back([&] {
            auto c = server->client();
            const auto res = c.Post("/classify", R"({"texts":"a fine film"})", "application/json");
            (res && res->status == 200 ? ok : other)++;
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server->app.stop();
    for (auto& t : ts) t.join();
    CHECK(ok == 4);
    CHECK(other == 0);
    server.reset();
}
