// Request parsing and validation: a request body's bytes in, a typed request out, or an
// ApiError(400) whose message names the field ("'input[2]' must be a string, got 7").
//
// Pure functions over bytes (no model, no server), so tests/fuzz/fuzz_serve_requests.cpp can
// feed them anything. JSON goes through minibert's checked layer (io/json.hpp): nesting depth is
// bounded before nlohmann parses, and type errors name the key path. Limits that need a model
// (top_k against the label count, text length against max_length) are checked by the handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <minibert/io/json.hpp>

#include "api_error.hpp"

namespace minibert::serve {

/// What every request parser enforces, whatever the model.
struct RequestLimits {
    std::size_t max_inputs = 256;  ///< texts (or pairs, or documents) per request
};

struct EmbeddingsRequest {  ///< POST /v1/embeddings (OpenAI) and POST /embed
    std::optional<std::string> model;
    std::vector<std::string> input;
    bool base64 = false;  ///< encoding_format "base64": little-endian float32 bytes, base64
    bool single = false;  ///< input was one string, not a list (/embed answers in kind)
};

struct ClassifyRequest {  ///< POST /classify
    std::optional<std::string> model;
    std::vector<std::string> texts;                           ///< either texts ...
    std::vector<std::pair<std::string, std::string>> pairs;  ///< ... or (text, text_pair) pairs
    std::size_t top_k = 1;                                    ///< labels per text; 0: all
};

struct TagRequest {  ///< POST /tag
    std::optional<std::string> model;
    std::vector<std::string> texts;
    std::string aggregation = "simple";  ///< none | simple | first
};

struct QaRequest {  ///< POST /qa
    std::optional<std::string> model;
    std::string question, context;
};

struct TokenizeRequest {  ///< POST /tokenize
    std::optional<std::string> model;
    std::vector<std::string> texts;
    bool add_special_tokens = true;
};

struct RerankRequest {  ///< POST /rerank
    std::optional<std::string> model;
    std::string query;
    std::vector<std::string> documents;
    std::size_t top_n = 0;  ///< 0: all, best first
};

struct AdminRequest {  ///< POST /admin/reload and /admin/rollback
    std::optional<std::string> model;  ///< absent: every model
    std::optional<std::string> dir;    ///< reload only: a new folder for the model (absent: the same one again)
};

namespace detail {

/// The body as a JSON object, or ApiError(400). An empty body counts as {} only when allowed.
inline nlohmann::json parse_object(std::string_view body, bool empty_ok = false) {
    if (body.empty()) {
        if (empty_ok) return nlohmann::json::object();
        throw bad_request("the request body is empty; send a JSON object");
    }
    json::ParseOptions options;
    options.kind = ErrorKind::invalid_input;
    options.max_depth = 16;  // requests nest 3 levels; anything deep is hostile
    nlohmann::json j;
    try {
        j = json::parse(body, "request body", options);
    } catch (const Error& e) {
        throw bad_request(e.what());
    }
    if (!j.is_object()) throw bad_request("the request body must be a JSON object, got " + json::describe(j));
    return j;
}

/// A non-empty text (the tokenizer would make an empty text a lone [CLS] [SEP]; clients mean a bug).
inline std::string text_of(const json::Node& node) {
    const std::string& s = node.string();
    if (s.empty()) throw bad_request("'" + node.path() + "' is empty");
    return s;
}

/// A string or a non-empty list of strings, at most `limits.max_inputs`.
inline std::vector<std::string> texts_of(const json::Node& node, const RequestLimits& limits, bool* single = nullptr) {
    std::vector<std::string> out;
    if (node.is_string()) {
        out.push_back(text_of(node));
        if (single) *single = true;
        return out;
    }
    if (!node.is_array()) node.fail("a string or a list of strings");
    if (node.size() == 0) throw bad_request("'" + node.path() + "' is an empty list");
    if (node.size() > limits.max_inputs)
        throw bad_request("'" + node.path() + "' holds " + std::to_string(node.size()) + " items; at most " +
                          std::to_string(limits.max_inputs) + " per request (--max-inputs)");
    out.reserve(node.size());
    node.for_each_element([&](const json::Node& e) { out.push_back(text_of(e)); });
    return out;
}

/// Runs a parser body, turning the checked layer's Errors into 400s.
template <class F>
auto checked(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Error& e) {
        throw bad_request(e.what());
    }
}

inline std::optional<std::string> model_of(const json::Node& root) {
    auto m = root.optional_string("model");
    if (m && m->empty()) throw bad_request("'model' is empty");
    return m;
}

}  // namespace detail

inline EmbeddingsRequest parse_embeddings(std::string_view body, const RequestLimits& limits, const char* input_key = "input") {
    const nlohmann::json j = detail::parse_object(body);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        EmbeddingsRequest r;
        r.model = detail::model_of(root);
        r.input = detail::texts_of(root.at(input_key), limits, &r.single);
        if (const auto f = root.optional_string("encoding_format")) {
            if (*f == "base64") r.base64 = true;
            else if (*f != "float")
                throw bad_request("'encoding_format' must be \"float\" or \"base64\", got " + json::describe(nlohmann::json(*f)));
        }
        return r;
    });
}

inline ClassifyRequest parse_classify(std::string_view body, const RequestLimits& limits) {
    const nlohmann::json j = detail::parse_object(body);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        ClassifyRequest r;
        r.model = detail::model_of(root);
        const auto texts = root.find("texts");
        const auto pairs = root.find("pairs");
        if (texts && pairs) throw bad_request("give 'texts' or 'pairs', not both");
        if (!texts && !pairs) throw bad_request("the request needs 'texts' (a string or a list) or 'pairs' (a list of [text, text_pair])");
        if (texts) r.texts = detail::texts_of(*texts, limits);
        if (pairs) {
            pairs->require_array();
            if (pairs->size() == 0) throw bad_request("'pairs' is an empty list");
            if (pairs->size() > limits.max_inputs)
                throw bad_request("'pairs' holds " + std::to_string(pairs->size()) + " items; at most " +
                                  std::to_string(limits.max_inputs) + " per request (--max-inputs)");
            pairs->for_each_element([&](const json::Node& p) {
                if (!p.is_array() || p.size() != 2) p.fail("a list of two strings [text, text_pair]");
                r.pairs.emplace_back(detail::text_of(p[0]), detail::text_of(p[1]));
            });
        }
        if (const auto k = root.optional_integer("top_k", 0, 1 << 20)) r.top_k = static_cast<std::size_t>(*k);
        return r;
    });
}

inline TagRequest parse_tag(std::string_view body, const RequestLimits& limits) {
    const nlohmann::json j = detail::parse_object(body);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        TagRequest r;
        r.model = detail::model_of(root);
        r.texts = detail::texts_of(root.at("texts"), limits);
        if (const auto a = root.optional_string("aggregation")) {
            if (*a != "none" && *a != "simple" && *a != "first")
                throw bad_request("'aggregation' must be \"none\", \"simple\" or \"first\", got " + json::describe(nlohmann::json(*a)));
            r.aggregation = *a;
        }
        return r;
    });
}

inline QaRequest parse_qa(std::string_view body) {
    const nlohmann::json j = detail::parse_object(body);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        QaRequest r;
        r.model = detail::model_of(root);
        r.question = detail::text_of(root.at("question"));
        r.context = detail::text_of(root.at("context"));
        return r;
    });
}

inline TokenizeRequest parse_tokenize(std::string_view body, const RequestLimits& limits) {
    const nlohmann::json j = detail::parse_object(body);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        TokenizeRequest r;
        r.model = detail::model_of(root);
        r.texts = detail::texts_of(root.at("texts"), limits);
        if (const auto s = root.optional_bool("add_special_tokens")) r.add_special_tokens = *s;
        return r;
    });
}

inline RerankRequest parse_rerank(std::string_view body, const RequestLimits& limits) {
    const nlohmann::json j = detail::parse_object(body);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        RerankRequest r;
        r.model = detail::model_of(root);
        r.query = detail::text_of(root.at("query"));
        const json::Node docs = root.at("documents");
        if (!docs.is_array()) docs.fail("a list of strings");
        r.documents = detail::texts_of(docs, limits);
        if (const auto n = root.optional_integer("top_n", 0, 1 << 20)) r.top_n = static_cast<std::size_t>(*n);
        return r;
    });
}

inline AdminRequest parse_admin(std::string_view body) {
    const nlohmann::json j = detail::parse_object(body, /*empty_ok=*/true);
    return detail::checked([&] {
        const json::Node root(j, "request body", {}, ErrorKind::invalid_input);
        AdminRequest r;
        r.model = detail::model_of(root);
        r.dir = root.optional_string("dir");
        return r;
    });
}

}  // namespace minibert::serve
