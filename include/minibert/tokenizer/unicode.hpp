// UTF-8 decoding/encoding and the Unicode look-ups the BERT normaliser needs.
//
// All data comes from the generated unicode_tables.hpp (Unicode version in
// `unicode_version()`); nothing here allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "minibert/error.hpp"
#include "minibert/tokenizer/unicode_tables.hpp"

namespace minibert {

/// The Unicode version the tokenizer's character tables were generated from (e.g. "14.0.0").
inline const char* unicode_version() noexcept { return detail::unicode_tables::unicode_version; }

namespace detail {

namespace ut = unicode_tables;

/// Decodes the code point starting at `text[pos]` and advances `pos` past it.
/// Returns false (leaving `pos` unchanged) for anything std::str::from_utf8 would reject:
/// truncated sequences, stray continuation bytes, overlong forms, surrogates, > U+10FFFF.
inline bool decode_utf8(std::string_view text, std::size_t& pos, char32_t& cp) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    const unsigned char b0 = s[pos];
    if (b0 < 0x80) {
        cp = b0;
        ++pos;
        return true;
    }
    std::size_t len;
    char32_t min_cp;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1F, min_cp = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0F, min_cp = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07, min_cp = 0x10000;
    } else {
        return false;
    }
    if (pos + len > n) return false;
    for (std::size_t i = 1; i < len; ++i) {
        const unsigned char b = s[pos + i];
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    pos += len;
    return true;
}

/// Byte position of the first invalid UTF-8 sequence in `text`, or npos when it is valid.
inline std::size_t find_invalid_utf8(std::string_view text) noexcept {
    std::size_t pos = 0;
    char32_t cp = 0;
    while (pos < text.size()) {
        // Skip ASCII eight bytes at a time: most text is ASCII and this check is on every encode.
        while (pos + 8 <= text.size()) {
            std::uint64_t word;
            std::copy_n(text.data() + pos, 8, reinterpret_cast<char*>(&word));
            if (word & 0x8080808080808080ULL) break;
            pos += 8;
        }
        if (pos >= text.size()) break;
        if (!decode_utf8(text, pos, cp)) return pos;
    }
    return std::string_view::npos;
}

/// Throws Error(invalid_input) naming the byte position when `text` is not valid UTF-8.
inline void require_valid_utf8(std::string_view text, std::string_view what) {
    const std::size_t bad = find_invalid_utf8(text);
    if (bad != std::string_view::npos) {
        throw Error(ErrorKind::invalid_input, std::string(what) + ": invalid UTF-8 at byte " +
                                                  std::to_string(bad));
    }
}

/// Appends the UTF-8 encoding of `cp` (assumed a valid scalar value) to `out`.
inline void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// Number of UTF-8 bytes `cp` takes.
inline std::size_t utf8_length(char32_t cp) noexcept {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/// The flag byte of `cp` (bits are unicode_tables::flag_*).
inline std::uint8_t char_flags(char32_t cp) noexcept {
    if (cp > 0x10FFFF) return 0;
    const unsigned block = ut::flag_blocks[cp >> ut::block_shift];
    return ut::flag_values[(block << ut::block_shift) | (cp & ((1u << ut::block_shift) - 1))];
}

/// Rust's char::is_whitespace (White_Space), which is also Oniguruma's \s. Shared by the fused
/// path's added-token matcher and the pipeline's stages (one definition for both).
inline bool is_white_space(char32_t cp) noexcept {
    if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
    return (char_flags(cp) & ut::flag_whitespace) != 0;
}

/// BertNormalizer's "Chinese character" ranges, copied from the Rust engine rather than the
/// Python one: Rust starts Extension E at U+2B920 (Python's slow tokenizer uses U+2B820), and
/// parity with BertTokenizerFast is what we promise.
inline bool is_chinese_char(char32_t cp) noexcept {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/// Calls `emit(cp)` for each code point of the lower-case mapping of `cp` (usually one;
/// U+0130 gives two). Context-free like Rust's char::to_lowercase: capital sigma is always σ.
template <class Emit>
inline void for_each_lowercase(char32_t cp, Emit&& emit) {
    if (cp < 0x80) {
        emit(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        return;
    }
    if (!(char_flags(cp) & ut::flag_lower)) {
        emit(cp);
        return;
    }
    const auto* end = ut::lower_keys + std::size(ut::lower_keys);
    const auto* it = std::lower_bound(ut::lower_keys, end, static_cast<std::uint32_t>(cp));
    const std::uint32_t value = ut::lower_values[it - ut::lower_keys];
    if (!(value & 0x80000000u)) {
        emit(static_cast<char32_t>(value));
        return;
    }
    const std::uint32_t first = (value & 0x7FFFFFFFu) >> 8, count = value & 0xFF;
    for (std::uint32_t i = 0; i < count; ++i) emit(static_cast<char32_t>(ut::lower_extra[first + i]));
}

/// Calls `emit(cp)` for each code point of the full canonical decomposition (NFD) of `cp`.
/// Canonical reordering across neighbouring code points is not applied: the tokenizer drops
/// every nonspacing mark right after NFD, and the only marks with a non-zero combining class
/// that survive are 25 rare spacing marks, so reordering cannot change a realistic result.
template <class Emit>
inline void for_each_decomposed(char32_t cp, Emit&& emit) {
    if (!(char_flags(cp) & ut::flag_decomp)) {
        emit(cp);
        return;
    }
    constexpr char32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
    constexpr char32_t v_count = 21, t_count = 28, n_count = v_count * t_count;
    if (cp >= s_base && cp < s_base + 11172) {  // Hangul syllables decompose algorithmically
        const char32_t s = cp - s_base;
        emit(l_base + s / n_count);
        emit(v_base + (s % n_count) / t_count);
        if (s % t_count != 0) emit(t_base + s % t_count);
        return;
    }
    const auto* end = ut::decomp_keys + std::size(ut::decomp_keys);
    const auto* it = std::lower_bound(ut::decomp_keys, end, static_cast<std::uint32_t>(cp));
    const std::uint32_t packed = ut::decomp_index[it - ut::decomp_keys];
    const std::uint32_t first = packed >> 8, count = packed & 0xFF;
    for (std::uint32_t i = 0; i < count; ++i) emit(static_cast<char32_t>(ut::decomp_data[first + i]));
}

}  // namespace detail
}  // namespace minibert
