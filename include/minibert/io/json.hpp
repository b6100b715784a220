// The checked-JSON layer every JSON reader in the library goes through (config.json,
// tokenizer.json, tokenizer_config.json, the sentence-transformers files, the safetensors header).
//
// Three rules, each closing a hole a hostile file found:
//  - Nesting depth is limited before nlohmann parses anything: a linear byte scan (strings and
//    escapes skipped) refuses a document nested deeper than max_depth. Real files nest under 10
//    levels; 100k levels used to overflow the stack in the recursive json::dump() of an error
//    message. The scan costs one pass over the bytes (docs/reliability.md has the figure).
//  - Error messages quote a value only through describe(): a scalar is printed (a string cut to
//    a few dozen bytes), an array or object is named with its size, never dumped. describe() does
//    not recurse.
//  - Type errors are minibert::Error naming the file and the key path ("model.vocab[\"x\"]"):
//    readers use Node's typed getters, never nlohmann's get<T>() on an unchecked value (whose
//    type_error would escape as a foreign exception).
//
// Duplicate keys: nlohmann keeps the last; parse() can refuse them instead (the safetensors
// header does, since two entries for one tensor name are a corrupt or crafted file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "../error.hpp"
#include "../separate_compilation.hpp"

namespace minibert {
namespace json {

/// Deepest nesting accepted. Hugging Face files nest at most ~6 levels (tokenizer.json's
/// post_processor templates); 64 is far above that and far below any stack limit.
constexpr std::size_t default_max_depth = 64;

struct ParseOptions {
    std::size_t max_depth = default_max_depth;
    bool reject_duplicate_keys = false;  ///< Error(format) naming the key instead of keeping the last
    ErrorKind kind = ErrorKind::format;  ///< the kind of the Errors parse() throws
};

/// The byte offset where `text` first nests deeper than `max_depth`, or npos. Strings (with
/// their escapes) are skipped; brackets are counted wherever they stand, so malformed text
/// gives an answer too (the parser then reports the malformation).
inline std::size_t find_excess_nesting(std::string_view text, std::size_t max_depth) noexcept {
    std::size_t depth = 0;
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        const char c = *p++;
        if (c == '"') {
            while (p < end) {
                const char s = *p++;
                if (s == '\\') {
                    if (p < end) ++p;
                } else if (s == '"') {
                    break;
                }
            }
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return static_cast<std::size_t>(p - 1 - text.data());
        } else if (c == ']' || c == '}') {
            if (depth > 0) --depth;
        }
    }
    return std::string_view::npos;
}

/// A short, bounded description of a value for error messages; never recursive.
inline std::string describe(const nlohmann::json& v) {
    switch (v.type()) {
        case nlohmann::json::value_t::null: return "null";
        case nlohmann::json::value_t::boolean: return v.get<bool>() ? "true" : "false";
        case nlohmann::json::value_t::object: return "an object of " + std::to_string(v.size()) + " keys";
        case nlohmann::json::value_t::array: return "an array of " + std::to_string(v.size()) + " values";
        case nlohmann::json::value_t::string: {
            constexpr std::size_t shown = 40;
            const std::string& s = v.get_ref<const std::string&>();
            // dump() of a string is flat (no recursion); cut it at a code point boundary.
            if (s.size() <= shown) return nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
            std::size_t cut = shown;
            while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
            return nlohmann::json(s.substr(0, cut)).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) +
                   "... (" + std::to_string(s.size()) + " bytes)";
        }
        case nlohmann::json::value_t::number_integer:
        case nlohmann::json::value_t::number_unsigned:
        case nlohmann::json::value_t::number_float: return v.dump();  // a scalar: flat and short
        case nlohmann::json::value_t::binary: return "binary data";
        case nlohmann::json::value_t::discarded: return "a discarded value";
    }
    return "a value";
}

/// Parses `text`; `source` names the file in errors. Throws Error(options.kind) for text that is
/// not JSON, nests deeper than options.max_depth, or (when asked) repeats a key in an object.
MINIBERT_COMPILED_INLINE nlohmann::json parse(std::string_view text, const std::string& source,
                                               const ParseOptions& options = {});

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE nlohmann::json parse(std::string_view text, const std::string& source,
                                              const ParseOptions& options) {
    if (const std::size_t at = find_excess_nesting(text, options.max_depth); at != std::string_view::npos)
        throw Error(options.kind, "'" + source + "' nests JSON deeper than " + std::to_string(options.max_depth) +
                                      " levels (at byte " + std::to_string(at) + ")");
    try {
        if (!options.reject_duplicate_keys) return nlohmann::json::parse(text.begin(), text.end());
        // One key set per open object; the callback sees keys in order. Only used for small
        // headers (the safetensors header), so the sets' cost does not matter.
        std::vector<std::set<std::string>> open_objects;
        std::string duplicate;
        auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
            using E = nlohmann::json::parse_event_t;
            if (event == E::object_start) {
                open_objects.emplace_back();
            } else if (event == E::object_end) {
                if (!open_objects.empty()) open_objects.pop_back();
            } else if (event == E::key && !open_objects.empty() && parsed.is_string()) {
                if (!open_objects.back().insert(parsed.get_ref<const std::string&>()).second && duplicate.empty())
                    duplicate = parsed.get_ref<const std::string&>();
            }
            return true;
        };
        nlohmann::json result = nlohmann::json::parse(text.begin(), text.end(), callback);
        if (!duplicate.empty())
            throw Error(options.kind, "'" + source + "' repeats the key " + describe(nlohmann::json(duplicate)) +
                                          " in one object");
        return result;
    } catch (const nlohmann::json::exception& e) {
        // nlohmann's parse_error names a byte position and the token, never a whole value.
        throw Error(options.kind, "'" + source + "' is not valid JSON: " + e.what());
    }
}
#endif  // MINIBERT_DEFINE_READERS

/// A value inside a parsed document, with the file and key path used in error messages. A Node
/// refers to the document; it must not outlive it.
class Node {
public:
    Node(const nlohmann::json& value, std::string source, std::string path = {}, ErrorKind kind = ErrorKind::format)
        : v_(&value), source_(std::move(source)), path_(std::move(path)), kind_(kind) {}

    const nlohmann::json& raw() const noexcept { return *v_; }
    const std::string& source() const noexcept { return source_; }
    const std::string& path() const noexcept { return path_; }
    ErrorKind kind() const noexcept { return kind_; }

    bool is_null() const noexcept { return v_->is_null(); }
    bool is_object() const noexcept { return v_->is_object(); }
    bool is_array() const noexcept { return v_->is_array(); }
    bool is_string() const noexcept { return v_->is_string(); }
    std::size_t size() const noexcept { return v_->size(); }

    /// Error(kind) "'<file>': '<path>' must be <expected>, got <describe(value)>".
    [[noreturn]] void fail(const std::string& expected) const {
        throw Error(kind_, "'" + source_ + "': " + where() + " must be " + expected + ", got " + describe(*v_));
    }
    /// Error(kind) "'<file>': '<path>' <message>" (for range and consistency errors).
    [[noreturn]] void fail_with(const std::string& message) const {
        throw Error(kind_, "'" + source_ + "': " + where() + " " + message);
    }

    /// This value as an object (Error naming the path otherwise).
    const Node& require_object() const {
        if (!v_->is_object()) fail("an object");
        return *this;
    }
    const Node& require_array() const {
        if (!v_->is_array()) fail("an array");
        return *this;
    }

    /// The member `key` of this object, or nullopt when absent or null. Error when this is not
    /// an object.
    std::optional<Node> find(const std::string& key) const {
        require_object();
        const auto it = v_->find(key);
        if (it == v_->end() || it->is_null()) return std::nullopt;
        return child(*it, key);
    }
    /// The member `key`; Error "has no" when absent or null.
    Node at(const std::string& key) const {
        if (auto n = find(key)) return *n;
        throw Error(kind_, "'" + source_ + "': " + (path_.empty() ? std::string("the document") : where()) +
                               " has no '" + key + "'");
    }
    /// Element i of this array.
    Node operator[](std::size_t i) const {
        require_array();
        return Node((*v_)[i], source_, path_ + "[" + std::to_string(i) + "]", kind_);
    }
    /// Calls f(key, Node) for each member of this object.
    template <class F>
    void for_each_member(F&& f) const {
        require_object();
        for (auto it = v_->begin(); it != v_->end(); ++it) f(it.key(), child(it.value(), it.key()));
    }
    /// Calls f(Node) for each element of this array.
    template <class F>
    void for_each_element(F&& f) const {
        require_array();
        for (std::size_t i = 0; i < v_->size(); ++i) f((*this)[i]);
    }

    const std::string& string() const {
        if (!v_->is_string()) fail("a string");
        return v_->get_ref<const std::string&>();
    }
    bool boolean() const {
        if (!v_->is_boolean()) fail("true or false");
        return v_->get<bool>();
    }
    /// An integer in [lo, hi] (floats, strings and booleans refused, not converted).
    std::int64_t integer(std::int64_t lo, std::int64_t hi) const {
        bool ok = false;
        std::int64_t value = 0;
        if (v_->is_number_unsigned()) {
            const auto u = v_->get<std::uint64_t>();
            ok = u <= static_cast<std::uint64_t>(INT64_MAX);
            value = static_cast<std::int64_t>(u);
        } else if (v_->is_number_integer()) {
            value = v_->get<std::int64_t>();
            ok = true;
        }
        if (!ok || value < lo || value > hi)
            fail("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return value;
    }
    /// A finite number (integer or float).
    double number() const {
        if (!v_->is_number()) fail("a number");
        return v_->get<double>();
    }

    std::optional<std::string> optional_string(const std::string& key) const {
        if (auto n = find(key)) return n->string();
        return std::nullopt;
    }
    std::optional<bool> optional_bool(const std::string& key) const {
        if (auto n = find(key)) return n->boolean();
        return std::nullopt;
    }
    std::optional<std::int64_t> optional_integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
        if (auto n = find(key)) return n->integer(lo, hi);
        return std::nullopt;
    }

private:
    Node child(const nlohmann::json& value, const std::string& key) const {
        // A key is part of every message about its value: keep a hostile 1 MB key out of them.
        const std::string shown = key.size() <= 64 ? key : key.substr(0, 64) + "...";
        return Node(value, source_, path_.empty() ? shown : path_ + "." + shown, kind_);
    }
    std::string where() const { return path_.empty() ? std::string("the document") : "'" + path_ + "'"; }

    const nlohmann::json* v_;
    std::string source_;
    std::string path_;
    ErrorKind kind_;
};

}  // namespace json
}  // namespace minibert
