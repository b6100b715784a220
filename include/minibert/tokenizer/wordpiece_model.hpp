// WordPiece as a component of the tokenizer.json pipeline (for files that pair it with other
// parts than BERT's, such as all-mpnet-base-v2's RobertaProcessing and normalised added tokens),
// with BertNormalizer as a NormalizedString normaliser. The BERT-only minibert::Tokenizer keeps
// its own fused implementation (wordpiece.hpp, basic_tokenizer.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minibert/error.hpp"
#include "minibert/tokenizer/bpe_model.hpp"
#include "minibert/tokenizer/normalizers.hpp"
#include "minibert/tokenizer/token_table.hpp"
#include "minibert/tokenizer/unicode.hpp"

namespace minibert::detail {

struct BertNormalizerSettings {
    bool clean_text = true;
    bool handle_chinese_chars = true;
    bool strip_accents = true;
    bool lowercase = true;
};

/// BertNormalizer: drop NUL, U+FFFD and control characters and turn white space into ' ';
/// put spaces around CJK ideographs; NFD and drop non-spacing marks; lower-case. Each step
/// with the engine's alignment changes.
class BertNormalizer final : public Normalizer {
public:
    explicit BertNormalizer(BertNormalizerSettings s) : s_(s) {}

    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        if (s_.clean_text) filter_map(s, sc, [](char32_t c) { return !(c == 0 || c == 0xFFFD || (char_flags(c) & ut::flag_control)); },
                                      [](char32_t c) { return is_white_space(c) ? U' ' : c; });
        if (s_.handle_chinese_chars) {
            bool any = false;
            decode_all(s.text, [&](char32_t c) { any |= is_chinese_char(c); });
            if (any) {
                sc.changes.clear();
                decode_all(s.text, [&](char32_t c) {
                    if (is_chinese_char(c)) {
                        sc.changes.push_back({U' ', 0});
                        sc.changes.push_back({c, 1});
                        sc.changes.push_back({U' ', 1});
                    } else {
                        sc.changes.push_back({c, 0});
                    }
                });
                s.transform(sc.changes, 0, sc.text, sc.align);
            }
        }
        if (s_.strip_accents) {
            bool ascii = true;
            for (unsigned char c : s.text) ascii &= c < 0x80;
            if (!ascii) {
                unicode_normalize(s.text, false, false, sc.changes);
                s.transform(sc.changes, 0, sc.text, sc.align);
                filter_map(s, sc, [](char32_t c) { return !(char_flags(c) & ut::flag_mark_nonspacing); }, [](char32_t c) { return c; });
            }
        }
        if (s_.lowercase) LowercaseNormalizer().normalize(s, sc);
    }

private:
    template <class Fn>
    static void decode_all(std::string_view text, Fn&& fn) {
        std::size_t pos = 0;
        char32_t c = 0;
        while (pos < text.size()) {
            if (!decode_utf8(text, pos, c)) { ++pos; continue; }
            fn(c);
        }
    }

    /// The engine's filter() then map(): a kept character carries the count of removed
    /// characters that follow it; removed characters at the start are the initial offset.
    template <class Keep, class Map>
    static void filter_map(NormalizedString& s, NormalizeScratch& sc, Keep&& keep, Map&& map) {
        std::vector<char32_t> chars;
        decode_all(s.text, [&](char32_t c) { chars.push_back(c); });
        sc.changes.clear();
        std::size_t leading = 0;
        bool seen_kept = false, changed = false;
        for (char32_t c : chars) {
            if (keep(c)) {
                sc.changes.push_back({map(c), 0});
                seen_kept = true;
                changed |= map(c) != c;
            } else {
                changed = true;
                if (!seen_kept) ++leading;
                else --sc.changes.back().change;
            }
        }
        if (changed) s.transform(sc.changes, leading, sc.text, sc.align);
    }

    BertNormalizerSettings s_;
};

/// Cleans decoded WordPiece text as the Rust decoder's `cleanup` does.
inline std::string wordpiece_cleanup(std::string s) {
    static const std::pair<std::string_view, std::string_view> rules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : rules) {
        std::size_t pos = 0;
        while ((pos = s.find(from, pos)) != std::string::npos) {
            s.replace(pos, from.size(), to);
            pos += to.size();
        }
    }
    return s;
}

struct WordPieceModelSettings {
    std::string unk_token = "[UNK]";
    std::string prefix = "##";
    std::size_t max_input_chars_per_word = 100;
};

/// Greedy longest-match-first WordPiece over one pre-tokenised word.
class WordPieceModel final : public TokenModel {
public:
    WordPieceModel(const std::vector<std::pair<std::string, std::int32_t>>& vocab, WordPieceModelSettings s, const std::string& where)
        : s_(std::move(s)) {
        std::size_t size = 0;
        for (const auto& [tok, id] : vocab) {
            if (id < 0) throw Error(ErrorKind::format, where + ".vocab: negative id for a token");
            size = std::max(size, static_cast<std::size_t>(id) + 1);
        }
        if (size > 4 * vocab.size() + 1024) throw Error(ErrorKind::format, where + ".vocab: ids are sparse (largest " + std::to_string(size - 1) + ")");
        strings_.assign(size, std::string());
        ids_.reserve(vocab.size());
        for (const auto& [tok, id] : vocab) {
            ids_.insert(tok, id);
            strings_[static_cast<std::size_t>(id)] = tok;
            max_token_bytes_ = std::max(max_token_bytes_, tok.size());
        }
        unk_id_ = ids_.find(s_.unk_token);
        if (unk_id_ < 0) throw Error(ErrorKind::format, where + ".unk_token is not in the vocabulary");
    }

    std::int32_t token_to_id(std::string_view token) const override { return ids_.find(token); }
    const std::vector<std::string>& vocabulary() const override { return strings_; }

    void tokenize(std::string_view text, std::vector<ModelToken>& out) const override {
        thread_local std::vector<std::uint32_t> bounds;
        thread_local std::string candidate;
        bounds.clear();
        std::size_t pos = 0;
        char32_t c = 0;
        while (pos < text.size()) {
            bounds.push_back(static_cast<std::uint32_t>(pos));
            if (!decode_utf8(text, pos, c)) ++pos;
        }
        bounds.push_back(static_cast<std::uint32_t>(text.size()));
        const std::size_t n_chars = bounds.size() - 1;
        const auto whole = static_cast<std::uint32_t>(text.size());
        if (n_chars > s_.max_input_chars_per_word) {
            out.push_back({unk_id_, 0, whole, false});
            return;
        }
        const std::size_t first = out.size();
        std::size_t start = 0;
        while (start < n_chars) {
            // Candidates longer than the longest vocabulary entry cannot match: start below that
            // length, which keeps a long word linear (same result as trying them).
            const std::size_t extra = start > 0 ? s_.prefix.size() : 0;
            const std::size_t budget = max_token_bytes_ > extra ? max_token_bytes_ - extra : 0;
            const auto limit = static_cast<std::uint32_t>(std::min<std::size_t>(bounds[start] + budget, UINT32_MAX));
            std::size_t end = static_cast<std::size_t>(std::upper_bound(bounds.begin() + static_cast<std::ptrdiff_t>(start), bounds.end(), limit) - bounds.begin());
            end = std::max(end == 0 ? 0 : end - 1, start + 1);
            end = std::min(end, n_chars);
            std::int32_t found = -1;
            while (end > start) {
                candidate.clear();
                if (start > 0) candidate += s_.prefix;
                candidate.append(text.data() + bounds[start], bounds[end] - bounds[start]);
                found = ids_.find(candidate);
                if (found >= 0) break;
                --end;
            }
            if (found < 0) {
                out.resize(first);
                out.push_back({unk_id_, 0, whole, false});
                return;
            }
            out.push_back({found, bounds[start], bounds[end], false});
            start = end;
        }
    }

private:
    WordPieceModelSettings s_;
    StringTable ids_;
    std::vector<std::string> strings_;
    std::int32_t unk_id_ = -1;
    std::size_t max_token_bytes_ = 0;
};

}  // namespace minibert::detail
