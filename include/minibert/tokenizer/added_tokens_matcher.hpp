// Added tokens of a tokenizer.json pipeline, found in text the way the Hugging Face engine's
// AddedVocabulary finds them: leftmost-longest matching, `single_word`, `lstrip` / `rstrip`
// widening over white space, and two passes - tokens with `normalized: false` on the raw text,
// the others on the normalised text, against their normalised content.
//
// This is the pipeline's own matcher (added_vocabulary.hpp serves the WordPiece Tokenizer).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unicode_normalization.hpp"

namespace minibert::detail {

struct PipelineAddedToken {
    std::string content;
    std::int32_t id = 0;
    bool special = false;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;
};

/// A piece of text: [begin, end) bytes, and the index of the added token it is (-1: plain text).
struct TextPiece {
    std::size_t begin, end;
    std::int32_t token;
};

class AddedTokensMatcher {
public:
    /// `patterns[i]` is the string to look for; `tokens[i]` its token (for the flags).
    void build(std::vector<std::string> patterns, std::vector<std::int32_t> token_index) {
        patterns_ = std::move(patterns);
        index_ = std::move(token_index);
        by_first_.assign(256, {});
        for (std::size_t i = 0; i < patterns_.size(); ++i) {
            if (patterns_[i].empty()) continue;
            by_first_[static_cast<unsigned char>(patterns_[i][0])].push_back(static_cast<std::uint32_t>(i));
        }
        // Longest first, so the first hit at a position is the longest match there.
        for (auto& list : by_first_) {
            std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
                return patterns_[a].size() > patterns_[b].size();
            });
        }
    }

    bool empty() const noexcept { return patterns_.empty(); }

    /// Splits `text` into pieces covering it (the engine's find_matches).
    void split(std::string_view text, const std::vector<PipelineAddedToken>& tokens, std::vector<TextPiece>& out) const {
        out.clear();
        if (by_first_.empty()) {  // no tokens to look for
            out.push_back({0, text.size(), -1});
            return;
        }
        std::size_t start_offset = 0, pos = 0;
        while (pos < text.size()) {
            const auto& cands = by_first_[static_cast<unsigned char>(text[pos])];
            std::int32_t hit = -1;
            for (std::uint32_t c : cands) {
                const std::string& p = patterns_[c];
                if (text.compare(pos, p.size(), p) == 0) {
                    hit = static_cast<std::int32_t>(c);
                    break;
                }
            }
            if (hit < 0) {
                ++pos;
                continue;
            }
            std::size_t start = pos, stop = pos + patterns_[static_cast<std::size_t>(hit)].size();
            const std::int32_t token = index_[static_cast<std::size_t>(hit)];
            const PipelineAddedToken& t = tokens[static_cast<std::size_t>(token)];
            if (t.single_word) {
                const bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
                const bool stop_space = stop == text.size() || !starts_with_word(text.substr(stop));
                if (!start_space || !stop_space) {
                    pos = stop;  // the engine's match iterator has moved past this match
                    continue;
                }
            }
            if (t.lstrip) start = std::max(space_leftmost_at_end(text.substr(0, start)), start_offset);
            if (t.rstrip) stop += space_rightmost_at_start(text.substr(stop));
            if (start_offset < start) out.push_back({start_offset, start, -1});
            out.push_back({start, stop, token});
            start_offset = stop;
            pos = stop;
        }
        if (start_offset < text.size() || out.empty()) out.push_back({start_offset, text.size(), -1});
    }

private:
    static bool is_word_char(char32_t c) { return c == '_' || is_letter(c) || is_number(c); }
    static bool ends_with_word(std::string_view s) {
        std::size_t p = s.size();
        while (p > 0 && (static_cast<unsigned char>(s[p - 1]) & 0xC0) == 0x80) --p;
        if (p == 0) return false;
        std::size_t q = p - 1;
        char32_t c = 0;
        return decode_utf8(s, q, c) && is_word_char(c);
    }
    static bool starts_with_word(std::string_view s) {
        std::size_t q = 0;
        char32_t c = 0;
        return !s.empty() && decode_utf8(s, q, c) && is_word_char(c);
    }
    /// Byte index where the run of white space that ends `s` begins (s.size() when none).
    static std::size_t space_leftmost_at_end(std::string_view s) {
        std::size_t p = s.size();
        while (p > 0) {
            std::size_t b = p - 1;
            while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
            std::size_t q = b;
            char32_t c = 0;
            if (!decode_utf8(s, q, c) || !is_white_space(c)) break;
            p = b;
        }
        return p;
    }
    /// Byte length of the run of white space that starts `s`.
    static std::size_t space_rightmost_at_start(std::string_view s) {
        std::size_t p = 0;
        while (p < s.size()) {
            std::size_t q = p;
            char32_t c = 0;
            if (!decode_utf8(s, q, c) || !is_white_space(c)) break;
            p = q;
        }
        return p;
    }

    std::vector<std::string> patterns_;
    std::vector<std::int32_t> index_;
    std::vector<std::vector<std::uint32_t>> by_first_;
};

}  // namespace minibert::detail
