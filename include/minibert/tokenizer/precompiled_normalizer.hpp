// The `Precompiled` normaliser of SentencePiece tokenizers (T5, XLM-RoBERTa, CamemBERT...):
// SentencePiece's character map, carried base64-encoded in tokenizer.json.
//
// Format of the decoded blob: a little-endian u32 byte size of the trie, the trie (a Darts
// double array of u32 units), then the replacement strings, each terminated by NUL. A trie
// leaf's value is the byte offset of its replacement string. Unit layout (Darts-clone):
// bits 0-7 label, bit 8 has-leaf, bit 9 offset scale (<< 8), bits 10-30 offset, and a leaf's
// value in its low 31 bits.
//
// Lookup rule, as the Rust engine applies it (normalizers/precompiled.rs): the text is walked by
// extended grapheme cluster; a cluster shorter than 6 bytes is looked up whole, and the
// replacement of the SHORTEST trie key that prefixes it is used (so a mapped base character
// swallows the marks after it); otherwise each character is looked up on its own.
// (Read from the engine's normalizers/precompiled.rs and the spm_precompiled crate, and checked
// against the engine's output on the goldens; the code here is written afresh.) Every index
// into the blob is bounds-checked: a hostile file gives no match or an Error, never a read
// outside the blob.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "minibert/error.hpp"
#include "minibert/tokenizer/normalized_string.hpp"
#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unicode_normalization.hpp"

namespace minibert::detail {

/// Standard base64 (RFC 4648, '=' padding optional) to bytes; throws Error(format) on bad input.
inline std::vector<std::uint8_t> base64_decode(std::string_view in, const std::string& where) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    std::vector<std::uint8_t> out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const int v = value(in[i]);
        if (v < 0) throw Error(ErrorKind::format, where + ": invalid base64 character at position " + std::to_string(i));
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
        }
    }
    if (bits >= 6) throw Error(ErrorKind::format, where + ": truncated base64");
    return out;
}

class PrecompiledCharsMap {
public:
    /// Parses the decoded charsmap; `where` names the file and key in errors.
    PrecompiledCharsMap(const std::vector<std::uint8_t>& blob, const std::string& where) {
        if (blob.size() < 4) throw Error(ErrorKind::format, where + ": precompiled_charsmap shorter than its header");
        const std::uint32_t trie_bytes = read_u32(blob, 0);
        if (trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4) {
            throw Error(ErrorKind::format, where + ": precompiled_charsmap trie size " + std::to_string(trie_bytes) +
                                               " does not fit the " + std::to_string(blob.size()) + "-byte blob");
        }
        units_.resize(trie_bytes / 4);
        for (std::size_t i = 0; i < units_.size(); ++i) units_[i] = read_u32(blob, 4 + 4 * i);
        normalized_.assign(reinterpret_cast<const char*>(blob.data()) + 4 + trie_bytes, blob.size() - 4 - trie_bytes);
        if (find_invalid_utf8(normalized_) != std::string_view::npos) {
            throw Error(ErrorKind::format, where + ": precompiled_charsmap replacement strings are not valid UTF-8");
        }
        if (units_.empty()) throw Error(ErrorKind::format, where + ": precompiled_charsmap has an empty trie");
        for (int c = 0; c < 128; ++c) {
            const char ch = static_cast<char>(c);
            std::string_view unused;
            ascii_mapped_[c] = transform(std::string_view(&ch, 1), unused);
        }
    }

    /// True when no byte of an ASCII-only text has a mapping (and so the text is unchanged:
    /// ASCII graphemes are single characters, except CR LF, which is checked by the caller).
    bool ascii_unchanged(std::string_view text) const {
        for (unsigned char c : text) {
            if (c >= 0x80 || ascii_mapped_[c]) return false;
        }
        return true;
    }

    /// The replacement for the shortest trie key that prefixes `key`, or false when none does.
    bool transform(std::string_view key, std::string_view& replacement) const {
        std::size_t node = 0;
        std::uint32_t unit = units_[0];
        node ^= offset(unit);
        for (unsigned char c : key) {
            if (c == 0) break;
            node ^= c;
            if (node >= units_.size()) return false;
            unit = units_[node];
            if ((unit & ((1u << 31) | 0xFF)) != c) return false;
            node ^= offset(unit);
            if ((unit >> 8) & 1) {
                if (node >= units_.size()) return false;
                const std::size_t value = units_[node] & ((1u << 31) - 1);
                if (value > normalized_.size()) return false;
                std::size_t end = value;
                while (end < normalized_.size() && normalized_[end] != '\0') ++end;
                replacement = std::string_view(normalized_).substr(value, end - value);
                return true;
            }
        }
        return false;
    }

private:
    static std::uint32_t read_u32(const std::vector<std::uint8_t>& b, std::size_t at) {
        return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
               (static_cast<std::uint32_t>(b[at + 2]) << 16) | (static_cast<std::uint32_t>(b[at + 3]) << 24);
    }
    static std::size_t offset(std::uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

    std::vector<std::uint32_t> units_;
    std::string normalized_;
    bool ascii_mapped_[128] = {};
};

/// Applies the charsmap to `s` with the engine's alignment changes (see the file comment).
inline void precompiled_normalize(const PrecompiledCharsMap& map, NormalizedString& s, std::vector<CharChange>& changes,
                                  std::string& st, std::vector<Alignment>& sa) {
    // Fast path: plain ASCII that the map leaves alone (most English text).
    if (map.ascii_unchanged(s.text) && s.text.find("\r\n") == std::string::npos) return;
    changes.clear();
    bool modified = false;
    // Characters of a replacement replace the old ones one to one (change 0); extra new ones are
    // insertions (+1, the last ones); missing ones are removals charged to the last character
    // pushed so far, even one of an earlier replacement (the engine's rule since it fixed the
    // alignments of expansions).
    auto push_replacement = [&](std::string_view norm, std::size_t old_count) {
        std::size_t new_count = 0;
        std::size_t p = 0;
        char32_t c = 0;
        while (p < norm.size() && decode_utf8(norm, p, c)) {
            changes.push_back({c, 0});
            ++new_count;
        }
        if (new_count > old_count) {
            for (std::size_t k = 0; k < new_count - old_count; ++k) changes[changes.size() - 1 - k].change = 1;
        } else if (new_count < old_count && !changes.empty()) {
            changes.back().change -= static_cast<std::int32_t>(old_count - new_count);
        }
    };
    const std::string_view text = s.text;
    for_each_grapheme(text, [&](std::size_t begin, std::size_t end) {
        const std::string_view g = text.substr(begin, end - begin);
        std::string_view norm;
        if (g.size() < 6 && map.transform(g, norm)) {
            modified = true;
            std::size_t old_count = 0;
            for (unsigned char b : g) old_count += (b & 0xC0) != 0x80;
            push_replacement(norm, old_count);
            return;
        }
        std::size_t p = 0;
        while (p < g.size()) {
            const std::size_t at = p;
            char32_t c = 0;
            if (!decode_utf8(g, p, c)) { p = at + 1; continue; }
            if (map.transform(g.substr(at, p - at), norm)) {
                modified = true;
                push_replacement(norm, 1);
            } else {
                changes.push_back({c, 0});
            }
        }
    });
    if (modified) s.transform(changes, 0, st, sa);
}

}  // namespace minibert::detail
