// Pre-tokenisers of the tokenizer.json pipeline: ByteLevel (GPT-2's regex), Metaspace,
// WhitespaceSplit, BertPreTokenizer and Sequence. Each turns a list of NormalizedString
// splits into a finer list; empty splits are dropped, as in the Hugging Face engine.
//
// ByteLevel does not rewrite bytes into GPT-2's printable alphabet here: the BPE model of a
// byte-level pipeline keeps its vocabulary in raw bytes instead (bpe_model.hpp), which gives the
// same tokens and offsets (every byte of a character carries that character's alignment) without
// a transform per split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minibert/tokenizer/normalized_string.hpp"
#include "minibert/tokenizer/normalizers.hpp"
#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unicode_normalization.hpp"

namespace minibert::detail {

/// A reusable list of splits: clear() keeps every string's capacity for the next text.
struct SplitList {
    std::vector<NormalizedString> items;
    std::size_t count = 0;

    void clear() noexcept { count = 0; }
    NormalizedString& push() {
        if (count == items.size()) items.emplace_back();
        return items[count++];
    }
    NormalizedString& operator[](std::size_t i) { return items[i]; }
    std::size_t size() const noexcept { return count; }
};

struct PreTokenizeScratch {
    NormalizeScratch normalize;
    SplitList other;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    /// Splits every element of `splits` further (in place).
    virtual void pre_tokenize(SplitList& splits, PreTokenizeScratch& scratch) const = 0;

protected:
    /// Replaces `splits` by the ranges that `split_one(s, ranges)` yields for each split.
    template <class SplitOne>
    static void resplit(SplitList& splits, PreTokenizeScratch& sc, SplitOne&& split_one) {
        sc.other.clear();
        for (std::size_t i = 0; i < splits.size(); ++i) {
            NormalizedString& s = splits[i];
            sc.ranges.clear();
            split_one(s, sc.ranges);
            for (const auto& r : sc.ranges) {
                if (r.first < r.second) s.slice_to(r.first, r.second, sc.other.push());
            }
        }
        std::swap(splits.items, sc.other.items);
        std::swap(splits.count, sc.other.count);
    }
};

/// GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// with Oniguruma's semantics (first alternative that matches, greedy with backtracking):
/// appends the byte range of each match of `text`; the matches cover the text.
inline void gpt2_split(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& out) {
    const std::size_t n = text.size();
    auto cp_at = [&](std::size_t p, std::size_t& next) -> char32_t {
        char32_t c = 0;
        next = p;
        if (!decode_utf8(text, next, c)) { next = p + 1; return 0xFFFD; }
        return c;
    };
    auto run = [&](std::size_t p, auto&& pred) {
        while (p < n) {
            std::size_t q;
            const char32_t c = cp_at(p, q);
            if (!pred(c)) break;
            p = q;
        }
        return p;
    };
    auto is_other = [](char32_t c) { return !is_white_space(c) && !is_letter(c) && !is_number(c); };
    std::size_t pos = 0;
    while (pos < n) {
        const char c0 = text[pos];
        std::size_t end = pos;
        if (c0 == '\'' && pos + 1 < n) {
            const char c1 = text[pos + 1];
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') end = pos + 2;
            else if (pos + 2 < n && ((c1 == 'r' && text[pos + 2] == 'e') || (c1 == 'v' && text[pos + 2] == 'e') ||
                                     (c1 == 'l' && text[pos + 2] == 'l')))
                end = pos + 3;
        }
        if (end == pos) {
            const std::size_t body = c0 == ' ' ? pos + 1 : pos;
            if (body < n) {
                std::size_t q;
                const char32_t c = cp_at(body, q);
                if (is_letter(c)) end = run(q, [](char32_t x) { return is_letter(x); });
                else if (is_number(c)) end = run(q, [](char32_t x) { return is_number(x); });
                else if (is_other(c)) end = run(q, is_other);
            }
        }
        if (end == pos) {
            // White space: \s+(?!\S) keeps the last space for the next word when one follows.
            std::size_t q;
            cp_at(pos, q);
            std::size_t last_start = pos, p = pos;
            while (p < n) {
                std::size_t r;
                const char32_t c = cp_at(p, r);
                if (!is_white_space(c)) break;
                last_start = p;
                p = r;
            }
            if (p == pos) end = q;  // not reachable for valid input: every character is in one class
            else if (p == n || last_start == pos) end = p;
            else end = last_start;
        }
        out.emplace_back(pos, end);
        pos = end;
    }
}

class ByteLevelPreTokenizer final : public PreTokenizer {
public:
    ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}
    void pre_tokenize(SplitList& splits, PreTokenizeScratch& sc) const override {
        if (add_prefix_space_) {
            for (std::size_t i = 0; i < splits.size(); ++i) {
                if (!splits[i].text.empty() && splits[i].text[0] != ' ') splits[i].prepend(" ", sc.normalize.text, sc.normalize.align);
            }
        }
        if (!use_regex_) return;
        resplit(splits, sc, [](const NormalizedString& s, auto& ranges) { gpt2_split(s.text, ranges); });
    }

private:
    bool add_prefix_space_, use_regex_;
};

/// Splits on white space, dropping it (Rust's char::is_whitespace).
inline void whitespace_ranges(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
    std::size_t pos = 0, start = 0;
    while (pos < text.size()) {
        const std::size_t at = pos;
        char32_t c = 0;
        if (!decode_utf8(text, pos, c)) pos = at + 1;
        if (is_white_space(c)) {
            ranges.emplace_back(start, at);
            start = pos;
        }
    }
    ranges.emplace_back(start, text.size());
}

class WhitespaceSplitPreTokenizer final : public PreTokenizer {
public:
    void pre_tokenize(SplitList& splits, PreTokenizeScratch& sc) const override {
        resplit(splits, sc, [](const NormalizedString& s, auto& ranges) { whitespace_ranges(s.text, ranges); });
    }
};

/// BERT's pre-tokeniser: split on white space (removed), then isolate each punctuation character.
class BertPreTokenizer final : public PreTokenizer {
public:
    void pre_tokenize(SplitList& splits, PreTokenizeScratch& sc) const override {
        resplit(splits, sc, [](const NormalizedString& s, auto& ranges) {
            const std::string_view text = s.text;
            std::size_t pos = 0, start = 0;
            while (pos < text.size()) {
                const std::size_t at = pos;
                char32_t c = 0;
                if (!decode_utf8(text, pos, c)) pos = at + 1;
                if (is_white_space(c)) {
                    ranges.emplace_back(start, at);
                    start = pos;
                } else if (char_flags(c) & ut::flag_punct) {
                    ranges.emplace_back(start, at);
                    ranges.emplace_back(at, pos);
                    start = pos;
                }
            }
            ranges.emplace_back(start, text.size());
        });
    }
};

/// SentencePiece's meta-space: spaces become `replacement` (U+2581 by default), the replacement
/// is prepended (scheme "always", or "first" for the split at the start of the text), and the
/// text is split before each replacement character.
class MetaspacePreTokenizer final : public PreTokenizer {
public:
    enum class Prepend { always, first, never };
    MetaspacePreTokenizer(char32_t replacement, Prepend prepend, bool split) : prepend_(prepend), split_(split) {
        append_utf8(replacement_, replacement);
        replacement_cp_ = replacement;
    }
    void pre_tokenize(SplitList& splits, PreTokenizeScratch& sc) const override {
        for (std::size_t i = 0; i < splits.size(); ++i) {
            NormalizedString& s = splits[i];
            if (s.text.find(' ') != std::string::npos) {
                // Each space becomes the replacement, which keeps the space's alignment (the
                // engine's replace(' ', ...) gives exactly that), in one pass.
                auto& text = sc.normalize.text;
                auto& align = sc.normalize.align;
                text.clear();
                align.clear();
                for (std::size_t k = 0; k < s.text.size(); ++k) {
                    if (s.text[k] == ' ') {
                        text += replacement_;
                        align.insert(align.end(), replacement_.size(), s.alignments[k]);
                    } else {
                        text.push_back(s.text[k]);
                        align.push_back(s.alignments[k]);
                    }
                }
                s.text.swap(text);
                s.alignments.swap(align);
            }
            const bool want = prepend_ == Prepend::always ||
                              (prepend_ == Prepend::first && !s.alignments.empty() && s.alignments[0].first == 0);
            if (want && s.text.compare(0, replacement_.size(), replacement_) != 0) {
                s.prepend(replacement_, sc.normalize.text, sc.normalize.align);
            }
        }
        if (!split_) return;
        const std::string& rep = replacement_;
        resplit(splits, sc, [&rep](const NormalizedString& s, auto& ranges) {
            std::size_t start = 0, pos = 0;
            while ((pos = s.text.find(rep, pos)) != std::string::npos) {
                if (pos > start) ranges.emplace_back(start, pos);
                start = pos;
                pos += rep.size();
            }
            ranges.emplace_back(start, s.text.size());
        });
    }

private:
    std::string replacement_;
    char32_t replacement_cp_ = 0x2581;
    Prepend prepend_;
    bool split_;
};

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items) : items_(std::move(items)) {}
    void pre_tokenize(SplitList& splits, PreTokenizeScratch& sc) const override {
        for (const auto& p : items_) p->pre_tokenize(splits, sc);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> items_;
};

}  // namespace minibert::detail
