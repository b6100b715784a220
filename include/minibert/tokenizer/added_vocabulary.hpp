// Added tokens ([CLS], [MASK], user tokens): found in the raw text before normalisation.
//
// Hugging Face extracts added tokens whose `normalized` flag is false from the original text
// with a leftmost-longest search, so "x[SEP]y" gives x, [SEP], y and "[cls]" stays text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "minibert/tokenizer/unicode.hpp"

namespace minibert {

/// A token matched verbatim in the input (tokenizer.json "added_tokens").
struct AddedToken {
    std::string content;
    std::int32_t id = -1;
    bool special = true;       ///< skipped by decode(skip_special_tokens = true)
    bool single_word = false;  ///< match only when not inside a word
    bool lstrip = false;       ///< the match swallows whitespace on its left
    bool rstrip = false;       ///< the match swallows whitespace on its right
    bool normalized = false;   ///< match in normalised text (only false is supported)
};

namespace detail {

/// A piece of the input: bytes [begin, end), either plain text (token < 0) or an added
/// token (index into the added-token list).
struct TextSplit {
    std::size_t begin;
    std::size_t end;
    int token;
};

/// The code point that ends at byte `end` (text valid UTF-8, end > 0).
inline char32_t code_point_before(std::string_view text, std::size_t end) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    char32_t cp = 0;
    decode_utf8(text, start, cp);
    return cp;
}

inline bool is_word_char(char32_t cp) { return (char_flags(cp) & unicode_tables::flag_word) != 0; }
inline bool is_white_space(char32_t cp) { return (char_flags(cp) & unicode_tables::flag_whitespace) != 0; }

/// Splits `text` (valid UTF-8) into plain pieces and added-token matches, appending to `out`.
/// Matching is leftmost-longest and non-overlapping, as HF's Aho-Corasick matcher does; a
/// single_word candidate that touches a word is dropped and the scan resumes after it.
inline void split_on_added_tokens(std::string_view text, const std::vector<AddedToken>& tokens,
                                  const bool (&first_byte)[256], std::vector<TextSplit>& out) {
    std::size_t plain_start = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (!first_byte[static_cast<unsigned char>(text[pos])]) {
            ++pos;
            continue;
        }
        int best = -1;
        std::size_t best_len = 0;
        for (std::size_t t = 0; t < tokens.size(); ++t) {
            const std::string& content = tokens[t].content;
            if (content.size() > best_len && text.compare(pos, content.size(), content) == 0) {
                best = static_cast<int>(t);
                best_len = content.size();
            }
        }
        if (best < 0) {
            ++pos;
            continue;
        }
        std::size_t start = pos, stop = pos + best_len;
        pos = stop;
        const AddedToken& token = tokens[static_cast<std::size_t>(best)];
        if (token.single_word) {
            const bool word_before = start > 0 && is_word_char(code_point_before(text, start));
            char32_t next = 0;
            std::size_t probe = stop;
            const bool word_after = stop < text.size() && decode_utf8(text, probe, next) && is_word_char(next);
            if (word_before || word_after) continue;
        }
        if (token.lstrip) {
            while (start > plain_start && is_white_space(code_point_before(text, start))) {
                std::size_t back = start - 1;
                while ((static_cast<unsigned char>(text[back]) & 0xC0) == 0x80) --back;
                start = back;
            }
        }
        if (token.rstrip) {
            while (stop < text.size()) {
                std::size_t probe = stop;
                char32_t next = 0;
                if (!decode_utf8(text, probe, next) || !is_white_space(next)) break;
                stop = probe;
            }
            pos = stop;
        }
        if (plain_start < start) out.push_back({plain_start, start, -1});
        out.push_back({start, stop, best});
        plain_start = stop;
    }
    if (plain_start < text.size()) out.push_back({plain_start, text.size(), -1});
}

}  // namespace detail
}  // namespace minibert
