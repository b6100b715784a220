// The BERT normaliser and pre-tokeniser (Hugging Face BertNormalizer + BertPreTokenizer).
//
// Normalisation works one code point at a time and remembers, for every normalised code
// point, the byte range of the original code point it came from. That is the alignment the
// Rust engine keeps per normalised byte: characters it inserts (the spaces around CJK, the
// second code point of a lower-case or NFD expansion) share their source's range, and a
// token's offsets are the start of its first code point and the end of its last.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "minibert/tokenizer/unicode.hpp"

namespace minibert {

/// BertNormalizer settings (tokenizer.json "normalizer", or do_lower_case & co. from
/// tokenizer_config.json). `strip_accents` is already resolved: HF's null means "= lowercase".
struct NormalizerSettings {
    bool clean_text = true;            ///< drop NUL, U+FFFD and Cc/Cf/Co; whitespace -> ' '
    bool handle_chinese_chars = true;  ///< put spaces around CJK ideographs
    bool strip_accents = true;         ///< NFD, then drop nonspacing marks (Mn)
    bool lowercase = true;             ///< per-code-point full lower-casing
};

namespace detail {

/// One normalised code point and the original UTF-8 bytes [begin, end) it came from.
struct NormalizedChar {
    char32_t cp;
    std::uint32_t begin;
    std::uint32_t end;
};

/// A pre-token: normalised code points [first, last) of the normaliser's output.
struct WordSpan {
    std::uint32_t first;
    std::uint32_t last;
};

/// Normalises text[begin, end) (valid UTF-8; offsets stay absolute into `text`) and appends
/// the result to `out`. Does not clear `out`, so segments between added tokens can share it.
inline void normalize_append(std::string_view text, std::size_t begin, std::size_t end,
                             const NormalizerSettings& settings, std::vector<NormalizedChar>& out) {
    namespace ut = unicode_tables;
    std::size_t pos = begin;
    while (pos < end) {
        const std::size_t start = pos;
        const unsigned char byte = static_cast<unsigned char>(text[pos]);
        if (byte < 0x80) {
            // ASCII fast path: the only changes are control removal, whitespace and A-Z.
            ++pos;
            char32_t cp = byte;
            if (settings.clean_text) {
                if (cp == '\t' || cp == '\n' || cp == '\r') {
                    cp = ' ';
                } else if (cp < 0x20 || cp == 0x7F) {
                    continue;
                }
            }
            if (settings.lowercase && cp >= 'A' && cp <= 'Z') cp += 32;
            out.push_back({cp, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos)});
            continue;
        }
        char32_t cp = 0;
        decode_utf8(text, pos, cp);  // validated by the caller
        const auto b = static_cast<std::uint32_t>(start), e = static_cast<std::uint32_t>(pos);
        std::uint8_t flags = char_flags(cp);
        if (settings.clean_text) {
            if (cp == 0xFFFD || (flags & ut::flag_control)) continue;
            if (flags & ut::flag_whitespace) {
                cp = ' ';
                flags = ut::flag_whitespace;
            }
        }
        const bool chinese = settings.handle_chinese_chars && is_chinese_char(cp);
        if (chinese) out.push_back({U' ', b, e});
        auto emit_lowered = [&](char32_t c) {
            if (settings.lowercase) {
                for_each_lowercase(c, [&](char32_t l) { out.push_back({l, b, e}); });
            } else {
                out.push_back({c, b, e});
            }
        };
        if (settings.strip_accents) {
            for_each_decomposed(cp, [&](char32_t d) {
                if (!(char_flags(d) & ut::flag_mark_nonspacing)) emit_lowered(d);
            });
        } else {
            emit_lowered(cp);
        }
        if (chinese) out.push_back({U' ', b, e});
    }
}

/// BertPreTokenizer: splits normalised code points on whitespace (dropped) and on
/// punctuation (each punctuation code point becomes its own word). Appends to `words`.
inline void pre_tokenize_append(const std::vector<NormalizedChar>& chars, std::size_t first,
                                std::vector<WordSpan>& words) {
    namespace ut = unicode_tables;
    auto word_start = static_cast<std::uint32_t>(first);
    const auto n = static_cast<std::uint32_t>(chars.size());
    for (auto i = static_cast<std::uint32_t>(first); i < n; ++i) {
        const char32_t cp = chars[i].cp;
        std::uint8_t flags;
        if (cp < 0x80) {
            if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z')) continue;
            flags = char_flags(cp);
        } else {
            flags = char_flags(cp);
        }
        if (flags & ut::flag_whitespace) {
            if (word_start < i) words.push_back({word_start, i});
            word_start = i + 1;
        } else if (flags & ut::flag_punct) {
            if (word_start < i) words.push_back({word_start, i});
            words.push_back({i, i + 1});
            word_start = i + 1;
        }
    }
    if (word_start < n) words.push_back({word_start, n});
}

}  // namespace detail
}  // namespace minibert
