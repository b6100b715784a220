// ApiError: a request the server refuses, with its HTTP status and an OpenAI-style error type.
//
// Every refusal leaves the server as {"error": {"message": ..., "type": ...}} with the status
// here (OpenAI's error body, which clients of /v1/embeddings already parse). A minibert::Error
// thrown while answering maps to a status by its kind (status_of), so a text the tokenizer or the
// model refuses is a 4xx naming it, never a 500.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include <minibert/error.hpp>

namespace minibert::serve {

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string type, const std::string& message, int retry_after_s = 0)
        : std::runtime_error(message), status_(status), type_(std::move(type)), retry_after_s_(retry_after_s) {}
    int status() const noexcept { return status_; }
    const std::string& type() const noexcept { return type_; }
    /// Seconds for a Retry-After header (429/503); 0: none.
    int retry_after_s() const noexcept { return retry_after_s_; }

private:
    int status_;
    std::string type_;
    int retry_after_s_;
};

inline ApiError bad_request(const std::string& message) { return ApiError(400, "invalid_request_error", message); }
inline ApiError not_found(const std::string& message) { return ApiError(404, "not_found_error", message); }

/// The error body every refusal carries.
inline std::string error_body(const std::string& message, const std::string& type) {
    nlohmann::json j;
    j["error"] = {{"message", message}, {"type", type}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// A library error as a client sees it: its input (400), a limit (422), the rest is ours (500).
inline ApiError from_library_error(const Error& e) {
    switch (e.kind()) {
        case ErrorKind::invalid_input: return ApiError(400, "invalid_request_error", e.what());
        case ErrorKind::limit: return ApiError(422, "input_too_long", e.what());
        default: return ApiError(500, "server_error", e.what());
    }
}

/// The reason phrase-like type for a status httplib produced itself (413, 404 route, 408 ...).
inline const char* type_for_status(int status) {
    switch (status) {
        case 400: return "invalid_request_error";
        case 401: return "authentication_error";
        case 404: return "not_found_error";
        case 405: return "method_not_allowed";
        case 408: return "request_timeout";
        case 413: return "payload_too_large";
        case 414: return "uri_too_long";
        case 422: return "input_too_long";
        case 429: return "rate_limit_error";
        case 503: return "overloaded_error";
        case 504: return "timeout_error";
        default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

}  // namespace minibert::serve
