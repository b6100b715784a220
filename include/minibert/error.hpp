// minibert::Error: the one exception type the library throws for bad input.
//
// Every check at the API edge (files, JSON, shapes, token ids, UTF-8) throws an Error whose
// kind says what class of problem it is and whose message names the file, tensor or value at
// fault. Hot code below the API edge asserts instead of throwing.
#pragma once

#include <stdexcept>
#include <string>

namespace minibert {

enum class ErrorKind {
    io,              ///< a file is missing or cannot be read or mapped
    format,          ///< a file's bytes are malformed (safetensors header, JSON, vocab)
    config,          ///< config.json holds an unknown or inconsistent value
    shape,           ///< a tensor's shape or dtype disagrees with the config or the caller
    invalid_input,   ///< the caller's ids, mask, batch or text are out of range
    limit,           ///< a request exceeds a session or model limit
    unsupported,     ///< a valid but unsupported feature (architecture, activation, dtype)
};

inline const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::io: return "io";
        case ErrorKind::format: return "format";
        case ErrorKind::config: return "config";
        case ErrorKind::shape: return "shape";
        case ErrorKind::invalid_input: return "invalid_input";
        case ErrorKind::limit: return "limit";
        case ErrorKind::unsupported: return "unsupported";
    }
    return "unknown";
}

/// What failed, as "minibert: <kind>: <message>". The message names the file, tensor or value.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error("minibert: " + std::string(to_string(kind)) + ": " + message),
          kind_(kind) {}

    ErrorKind kind() const noexcept { return kind_; }
    /// The message without the "minibert: <kind>: " prefix (to wrap it in another Error).
    const char* message() const noexcept {
        const char* w = what();
        const std::size_t prefix = 10 + std::char_traits<char>::length(to_string(kind_)) + 2;  // "minibert: " kind ": "
        return std::char_traits<char>::length(w) >= prefix ? w + prefix : w;
    }

private:
    ErrorKind kind_;
};

}  // namespace minibert
