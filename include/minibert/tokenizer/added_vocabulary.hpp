// Added tokens ([CLS], [MASK], user tokens): found in the raw text before normalisation.
//
// Hugging Face extracts added tokens whose `normalized` flag is false from the original text
// with a leftmost-longest search, so "x[SEP]y" gives x, [SEP], y and "[cls]" stays text.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
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
// is_white_space: unicode.hpp.

/// A byte trie of the added tokens' contents: longest_at() finds the longest token that starts
/// at a position by walking the text once from there, so a scan costs text length x the depth
/// walked (at most the longest token), independent of how many added tokens there are. The old
/// scan compared every token at every candidate position: 20,000 tokens sharing a first byte
/// took 77 s on 1 MB of text.
class AddedTokenTrie {
public:
    AddedTokenTrie() = default;
    explicit AddedTokenTrie(const std::vector<AddedToken>& tokens) {
        nodes_.emplace_back();
        for (std::size_t t = 0; t < tokens.size(); ++t) {
            std::uint32_t node = 0;
            for (const char c : tokens[t].content) {
                const auto byte = static_cast<unsigned char>(c);
                std::uint32_t next = find_child(node, byte);
                if (next == none) {
                    next = static_cast<std::uint32_t>(nodes_.size());
                    nodes_[node].children.push_back({byte, next});
                    nodes_.emplace_back();
                }
                node = next;
            }
            // Two tokens with one content: the first listed wins, as in the scan it replaces.
            if (nodes_[node].token < 0) nodes_[node].token = static_cast<int>(t);
        }
        for (Node& n : nodes_) std::sort(n.children.begin(), n.children.end());
        sorted_ = true;
        for (auto& r : root_) r = none;
        for (const auto& [byte, child] : nodes_[0].children) root_[byte] = child;
    }

    /// The index of the longest token that starts at text[pos] (the first listed among equal
    /// contents) and its length in `length`, or -1.
    int longest_at(std::string_view text, std::size_t pos, std::size_t& length) const noexcept {
        if (nodes_.empty()) return -1;
        std::uint32_t node = root_[static_cast<unsigned char>(text[pos])];
        int best = -1;
        for (std::size_t i = pos + 1; node != none; ++i) {
            if (nodes_[node].token >= 0) {
                best = nodes_[node].token;
                length = i - pos;
            }
            if (i >= text.size()) break;
            node = find_child(node, static_cast<unsigned char>(text[i]));
        }
        return best;
    }

private:
    static constexpr std::uint32_t none = 0xFFFFFFFFu;
    struct Node {
        std::vector<std::pair<unsigned char, std::uint32_t>> children;  ///< sorted by byte once built
        int token = -1;
    };

    /// The child of `node` for `byte`, or none. Children are unsorted while the constructor
    /// inserts (linear scan) and sorted once it is done (binary search for wide nodes).
    std::uint32_t find_child(std::uint32_t node, unsigned char byte) const noexcept {
        const auto& c = nodes_[node].children;
        if (!sorted_ || c.size() <= 8) {
            for (const auto& e : c)
                if (e.first == byte) return e.second;
            return none;
        }
        const auto it = std::lower_bound(c.begin(), c.end(), std::make_pair(byte, std::uint32_t{0}));
        return it != c.end() && it->first == byte ? it->second : none;
    }

    std::vector<Node> nodes_;
    std::uint32_t root_[256] = {};
    bool sorted_ = false;
};

/// Splits `text` (valid UTF-8) into plain pieces and added-token matches one piece at a time
/// (next()), so that an encoder that stops early never splits the rest of the text. Matching is
/// leftmost-longest and non-overlapping, as HF's Aho-Corasick matcher does; a single_word
/// candidate that touches a word is dropped and the scan resumes after it.
class AddedTokenSplitter {
public:
    /// `trie` null (no added tokens): the whole text is one plain piece.
    AddedTokenSplitter(std::string_view text, const std::vector<AddedToken>& tokens, const AddedTokenTrie* trie,
                       const bool (&first_byte)[256]) noexcept
        : text_(text), tokens_(tokens), trie_(trie), first_byte_(first_byte) {}

    /// The next piece, or false at the end of the text.
    bool next(TextSplit& out) {
        if (has_pending_) {
            out = pending_;
            has_pending_ = false;
            return true;
        }
        if (trie_) {
            while (pos_ < text_.size()) {
                if (!first_byte_[static_cast<unsigned char>(text_[pos_])]) {
                    ++pos_;
                    continue;
                }
                std::size_t best_len = 0;
                const int best = trie_->longest_at(text_, pos_, best_len);
                if (best < 0) {
                    ++pos_;
                    continue;
                }
                std::size_t start = pos_, stop = pos_ + best_len;
                pos_ = stop;
                const AddedToken& token = tokens_[static_cast<std::size_t>(best)];
                if (token.single_word) {
                    const bool word_before = start > 0 && is_word_char(code_point_before(text_, start));
                    char32_t next_cp = 0;
                    std::size_t probe = stop;
                    const bool word_after = stop < text_.size() && decode_utf8(text_, probe, next_cp) && is_word_char(next_cp);
                    if (word_before || word_after) continue;
                }
                if (token.lstrip) {
                    while (start > plain_start_ && is_white_space(code_point_before(text_, start))) {
                        std::size_t back = start - 1;
                        while ((static_cast<unsigned char>(text_[back]) & 0xC0) == 0x80) --back;
                        start = back;
                    }
                }
                if (token.rstrip) {
                    while (stop < text_.size()) {
                        std::size_t probe = stop;
                        char32_t next_cp = 0;
                        if (!decode_utf8(text_, probe, next_cp) || !is_white_space(next_cp)) break;
                        stop = probe;
                    }
                    pos_ = stop;
                }
                const TextSplit match{start, stop, best};
                const std::size_t plain = plain_start_;
                plain_start_ = stop;
                if (plain < start) {
                    out = {plain, start, -1};
                    pending_ = match;
                    has_pending_ = true;
                } else {
                    out = match;
                }
                return true;
            }
        }
        if (plain_start_ < text_.size()) {
            out = {plain_start_, text_.size(), -1};
            plain_start_ = pos_ = text_.size();
            return true;
        }
        return false;
    }

private:
    std::string_view text_;
    const std::vector<AddedToken>& tokens_;
    const AddedTokenTrie* trie_;
    const bool (&first_byte_)[256];
    std::size_t pos_ = 0;
    std::size_t plain_start_ = 0;
    TextSplit pending_{0, 0, -1};
    bool has_pending_ = false;
};

}  // namespace detail
}  // namespace minibert
