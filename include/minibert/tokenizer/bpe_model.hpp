// The model stage of the tokenizer.json pipeline (the interface every model implements) and the
// BPE model: merges applied by rank, lowest rank first and leftmost on ties, as the Hugging Face
// engine's Word::merge_all does, in O(n log n) per word (a heap of candidate merges).
//
// Byte-level BPE (GPT-2, RoBERTa, ModernBERT): when the pipeline's pre-tokeniser is ByteLevel,
// vocabulary and merges are converted at load from GPT-2's printable byte alphabet back to raw
// bytes, so the model works on the UTF-8 input directly; token strings stay the file's.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minibert/error.hpp"
#include "minibert/tokenizer/token_table.hpp"
#include "minibert/tokenizer/unicode.hpp"

namespace minibert::detail {

/// One token from a model: its id and byte range in the split it came from. `from_text`: the
/// token string is that range of the text (Unigram), else the vocabulary string of `id`.
struct ModelToken {
    std::int32_t id;
    std::uint32_t begin, end;
    bool from_text;
};

/// The tokenisation model stage (BPE, Unigram, WordPiece). Not named Model: minibert::Model is
/// the network, and code inside minibert::detail (the pipelines) must still find that one.
class TokenModel {
public:
    virtual ~TokenModel() = default;
    /// Appends the tokens of one pre-tokenised split (valid UTF-8, not empty).
    virtual void tokenize(std::string_view text, std::vector<ModelToken>& out) const = 0;
    /// Id of a vocabulary string (in the file's spelling), or -1.
    virtual std::int32_t token_to_id(std::string_view token) const = 0;
    /// The vocabulary strings by id (empty where an id has none).
    virtual const std::vector<std::string>& vocabulary() const = 0;
};

/// GPT-2's byte -> printable character table (bytes_to_unicode).
inline const std::vector<char32_t>& byte_level_alphabet() {
    static const std::vector<char32_t> table = [] {
        std::vector<char32_t> t(256, 0);
        std::vector<bool> direct(256, false);
        for (int b = '!'; b <= '~'; ++b) direct[static_cast<std::size_t>(b)] = true;
        for (int b = 0xA1; b <= 0xAC; ++b) direct[static_cast<std::size_t>(b)] = true;
        for (int b = 0xAE; b <= 0xFF; ++b) direct[static_cast<std::size_t>(b)] = true;
        char32_t n = 0;
        for (std::size_t b = 0; b < 256; ++b) t[b] = direct[b] ? static_cast<char32_t>(b) : 256 + n++;
        return t;
    }();
    return table;
}

/// Converts a byte-level string (GPT-2 alphabet) to the raw bytes it stands for. False when
/// a character is outside the alphabet (such a token can never match byte-level input).
inline bool byte_level_to_raw(std::string_view s, std::string& out) {
    static const std::vector<int> reverse = [] {
        std::vector<int> r(512, -1);
        const auto& t = byte_level_alphabet();
        for (std::size_t b = 0; b < 256; ++b) r[t[b]] = static_cast<int>(b);
        return r;
    }();
    out.clear();
    std::size_t pos = 0;
    char32_t c = 0;
    while (pos < s.size()) {
        if (!decode_utf8(s, pos, c) || c >= 512 || reverse[c] < 0) return false;
        out.push_back(static_cast<char>(reverse[c]));
    }
    return true;
}

struct BpeSettings {
    bool byte_level = false;                ///< vocabulary in GPT-2's byte alphabet; input bytes are symbols
    std::string continuing_subword_prefix;  ///< prefix of every symbol but a word's first
    std::string end_of_word_suffix;         ///< suffix of a word's last symbol
    std::int32_t unk_id = -1;               ///< -1: unknown characters are dropped, as in the engine
    bool fuse_unk = false;
    bool byte_fallback = false;
    bool ignore_merges = false;
};

class BpeModel final : public TokenModel {
public:
    /// `vocab`: (token, id) in file order; `merges`: (left, right) in rank order.
    BpeModel(const std::vector<std::pair<std::string, std::int32_t>>& vocab,
             const std::vector<std::pair<std::string, std::string>>& merges, BpeSettings settings, const std::string& where)
        : s_(std::move(settings)) {
        std::size_t size = 0;
        for (const auto& [tok, id] : vocab) {
            if (id < 0) throw Error(ErrorKind::format, where + ".vocab: negative id for a token");
            size = std::max(size, static_cast<std::size_t>(id) + 1);
        }
        if (size > 4 * vocab.size() + 1024) throw Error(ErrorKind::format, where + ".vocab: ids are sparse (largest " + std::to_string(size - 1) + ")");
        vocab_strings_.assign(size, std::string());
        file_vocab_.reserve(vocab.size());
        symbols_.reserve(vocab.size());
        std::string raw;
        for (const auto& [tok, id] : vocab) {
            file_vocab_.insert(tok, id);
            vocab_strings_[static_cast<std::size_t>(id)] = tok;
            if (!s_.byte_level) symbols_.insert(tok, id);
            else if (byte_level_to_raw(tok, raw)) symbols_.insert(raw, id);
        }
        if (s_.byte_level) {
            for (int b = 0; b < 256; ++b) {
                const char c = static_cast<char>(b);
                byte_symbol_[b] = symbols_.find(std::string_view(&c, 1));
            }
        }
        merges_.reserve(merges.size());
        std::string joined;
        for (std::size_t rank = 0; rank < merges.size(); ++rank) {
            const auto& [a, b] = merges[rank];
            const std::int32_t ia = file_vocab_.find(a), ib = file_vocab_.find(b);
            joined = a;
            if (!s_.continuing_subword_prefix.empty() && b.compare(0, s_.continuing_subword_prefix.size(), s_.continuing_subword_prefix) == 0) {
                joined += b.substr(s_.continuing_subword_prefix.size());
            } else {
                joined += b;
            }
            const std::int32_t merged = file_vocab_.find(joined);
            if (ia < 0 || ib < 0 || merged < 0) {
                throw Error(ErrorKind::format, where + ".merges[" + std::to_string(rank) + "]: a token of the merge is not in the vocabulary");
            }
            merges_.insert(pair_key(ia, ib), Merge{static_cast<std::uint32_t>(rank), merged});
        }
        if (s_.byte_fallback) {
            char name[8];
            for (int b = 0; b < 256; ++b) {
                std::snprintf(name, sizeof name, "<0x%02X>", b);
                byte_ids_[b] = file_vocab_.find(name);
            }
        }
    }

    std::int32_t token_to_id(std::string_view token) const override { return file_vocab_.find(token); }
    const std::vector<std::string>& vocabulary() const override { return vocab_strings_; }

    void tokenize(std::string_view text, std::vector<ModelToken>& out) const override {
        if (s_.ignore_merges) {
            const std::int32_t id = s_.byte_level ? symbols_.find(text) : file_vocab_.find(text);
            if (id >= 0) {
                out.push_back({id, 0, static_cast<std::uint32_t>(text.size()), false});
                return;
            }
        }
        thread_local std::vector<Symbol> syms;
        thread_local std::string buffer;
        syms.clear();
        // Initial symbols: bytes (byte-level) or characters, with prefix/suffix where configured.
        std::size_t pos = 0;
        while (pos < text.size()) {
            const std::size_t at = pos;
            if (s_.byte_level) {
                ++pos;
            } else {
                char32_t c = 0;
                if (!decode_utf8(text, pos, c)) pos = at + 1;
            }
            std::string_view piece = text.substr(at, pos - at);
            std::int32_t id;
            if (s_.continuing_subword_prefix.empty() && s_.end_of_word_suffix.empty()) {
                id = s_.byte_level ? byte_symbol_[static_cast<unsigned char>(piece[0])] : symbols_.find(piece);
            } else {
                buffer.clear();
                if (at > 0) buffer += s_.continuing_subword_prefix;
                buffer += piece;
                if (pos == text.size()) buffer += s_.end_of_word_suffix;
                id = symbols_.find(buffer);
            }
            if (id < 0) {
                if (s_.byte_fallback) {
                    bool all = true;
                    for (unsigned char b : piece) all &= byte_ids_[b] >= 0;
                    if (all) {
                        for (unsigned char b : piece) push_symbol(syms, byte_ids_[b], at, pos);
                        continue;
                    }
                }
                if (s_.unk_id < 0) continue;  // no unknown token: the character is dropped
                if (s_.fuse_unk && !syms.empty() && syms.back().id == s_.unk_id && syms.back().end == at) {
                    syms.back().end = static_cast<std::uint32_t>(pos);
                    continue;
                }
                id = s_.unk_id;
            }
            push_symbol(syms, id, at, pos);
        }
        merge_all(syms);
        for (const Symbol& sym : syms) {
            if (sym.len_alive) out.push_back({sym.id, sym.begin, sym.end, false});
        }
    }

private:
    struct Merge {
        std::uint32_t rank;
        std::int32_t new_id;
    };
    struct Symbol {
        std::int32_t id;
        std::uint32_t begin, end;
        std::int32_t prev, next;
        bool len_alive;
    };
    struct Candidate {
        std::uint32_t rank;
        std::uint32_t pos;
        std::int32_t new_id;
        bool operator<(const Candidate& o) const {  // std::priority_queue pops the largest
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };

    static std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
    }

    static void push_symbol(std::vector<Symbol>& syms, std::int32_t id, std::size_t begin, std::size_t end) {
        const auto n = static_cast<std::int32_t>(syms.size());
        syms.push_back({id, static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end), n - 1, -1, true});
        if (n > 0) syms[static_cast<std::size_t>(n - 1)].next = n;
    }

    void merge_all(std::vector<Symbol>& syms) const {
        if (syms.size() < 2) return;
        if (syms.size() <= 24) {
            merge_small(syms);
            return;
        }
        thread_local std::vector<Candidate> heap;
        heap.clear();
        const auto cmp = std::less<Candidate>();
        auto consider = [&](std::int32_t left) {
            const Symbol& l = syms[static_cast<std::size_t>(left)];
            if (l.next < 0) return;
            if (const Merge* m = merges_.find(pair_key(l.id, syms[static_cast<std::size_t>(l.next)].id))) {
                heap.push_back({m->rank, static_cast<std::uint32_t>(left), m->new_id});
                std::push_heap(heap.begin(), heap.end(), cmp);
            }
        };
        for (std::size_t i = 0; i + 1 < syms.size(); ++i) consider(static_cast<std::int32_t>(i));
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), cmp);
            const Candidate top = heap.back();
            heap.pop_back();
            Symbol& l = syms[top.pos];
            if (!l.len_alive || l.next < 0) continue;
            Symbol& r = syms[static_cast<std::size_t>(l.next)];
            const Merge* m = merges_.find(pair_key(l.id, r.id));
            if (m == nullptr || m->new_id != top.new_id) continue;  // stale: a neighbour changed
            l.id = top.new_id;
            l.end = r.end;
            r.len_alive = false;
            l.next = r.next;
            if (r.next >= 0) syms[static_cast<std::size_t>(r.next)].prev = static_cast<std::int32_t>(top.pos);
            if (l.prev >= 0) consider(l.prev);
            consider(static_cast<std::int32_t>(top.pos));
        }
    }

    /// The same merges for short words without a heap: the pair ranks sit beside the symbols
    /// and each step takes the lowest rank, leftmost on ties - the heap's order exactly.
    void merge_small(std::vector<Symbol>& syms) const {
        constexpr std::uint32_t none = UINT32_MAX;
        std::uint32_t rank[24];
        std::int32_t merged[24];
        const std::size_t n = syms.size();
        auto look = [&](std::size_t i) {
            rank[i] = none;
            const Symbol& l = syms[i];
            if (l.next < 0) return;
            if (const Merge* m = merges_.find(pair_key(l.id, syms[static_cast<std::size_t>(l.next)].id))) {
                rank[i] = m->rank;
                merged[i] = m->new_id;
            }
        };
        for (std::size_t i = 0; i < n; ++i) look(i);
        for (;;) {
            std::uint32_t best = none;
            std::size_t at = 0;
            for (std::int32_t i = 0; i >= 0; i = syms[static_cast<std::size_t>(i)].next) {
                if (rank[i] < best) {
                    best = rank[i];
                    at = static_cast<std::size_t>(i);
                }
            }
            if (best == none) return;
            Symbol& l = syms[at];
            Symbol& r = syms[static_cast<std::size_t>(l.next)];
            l.id = merged[at];
            l.end = r.end;
            r.len_alive = false;
            l.next = r.next;
            if (r.next >= 0) syms[static_cast<std::size_t>(r.next)].prev = static_cast<std::int32_t>(at);
            if (l.prev >= 0) look(static_cast<std::size_t>(l.prev));
            look(at);
        }
    }

    BpeSettings s_;
    StringTable file_vocab_;  ///< the file's token strings
    StringTable symbols_;     ///< the strings the model matches (raw bytes when byte-level)
    std::vector<std::string> vocab_strings_;
    U64Table<Merge> merges_;
    std::int32_t byte_ids_[256] = {};
    std::int32_t byte_symbol_[256] = {};
};

}  // namespace minibert::detail
