// The Unigram model (SentencePiece): the segmentation with the highest total piece score,
// found by Viterbi over byte positions with a trie of the pieces, as the Hugging Face engine's
// encode_optimized does: a character no piece starts with costs (lowest score - 10) as the
// unknown piece, consecutive unknown characters fuse into one token whose string is the text,
// and with byte_fallback an unknown token becomes its <0xXX> byte pieces.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minibert/error.hpp"
#include "minibert/tokenizer/bpe_model.hpp"
#include "minibert/tokenizer/token_table.hpp"

namespace minibert::detail {

class UnigramModel final : public TokenModel {
public:
    UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::int32_t unk_id, bool byte_fallback,
                 const std::string& where)
        : unk_id_(unk_id), byte_fallback_(byte_fallback) {
        if (pieces.empty()) throw Error(ErrorKind::format, where + ".vocab: empty");
        if (unk_id >= static_cast<std::int64_t>(pieces.size())) {
            throw Error(ErrorKind::format, where + ".unk_id " + std::to_string(unk_id) + " is outside the " +
                                               std::to_string(pieces.size()) + "-piece vocabulary");
        }
        strings_.reserve(pieces.size());
        scores_.reserve(pieces.size());
        ids_.reserve(pieces.size());
        min_score_ = INFINITY;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            if (!std::isfinite(pieces[i].second)) throw Error(ErrorKind::format, where + ".vocab[" + std::to_string(i) + "]: score is not finite");
            ids_.insert(pieces[i].first, static_cast<std::int32_t>(i));
            min_score_ = std::min(min_score_, pieces[i].second);
            scores_.push_back(pieces[i].second);
            strings_.push_back(std::move(pieces[i].first));
        }
        // The trie holds every piece; a node's id is the piece's id in the string table (the
        // last piece of a repeated string, as the engine's token_to_ids map has it).
        nodes_.push_back({});
        for (std::size_t i = 0; i < strings_.size(); ++i) {
            const std::string& s = strings_[i];
            if (s.empty()) continue;
            std::uint32_t node = 0;
            for (unsigned char c : s) node = child_or_add(node, c);
            nodes_[node].id = ids_.find(s);
        }
        // Freeze the trie: nodes renumbered breadth-first (the short prefixes every walk starts
        // with sit together in memory), each node holding its score beside its id and its
        // children as a contiguous sorted edge list, or a direct 256-entry table when it has many.
        for (auto& n : build_) std::sort(n.begin(), n.end());
        std::vector<std::uint32_t> order{0}, renumber(nodes_.size(), 0);
        for (std::size_t k = 0; k < order.size(); ++k) {
            for (const auto& [label, child] : build_[order[k]]) {
                renumber[child] = static_cast<std::uint32_t>(order.size());
                order.push_back(child);
            }
        }
        packed_.resize(order.size());
        for (std::size_t k = 0; k < order.size(); ++k) {
            const auto& kids = build_[order[k]];
            Packed& p = packed_[k];
            p.id = nodes_[order[k]].id;
            p.score = p.id >= 0 ? scores_[static_cast<std::size_t>(p.id)] : 0.0;
            p.edge_begin = static_cast<std::uint32_t>(edges_.size());
            p.edge_count = static_cast<std::uint32_t>(kids.size());
            p.dense = -1;
            for (const auto& [label, child] : kids) edges_.push_back({renumber[child], label});
            if (kids.size() >= 12) {
                p.dense = static_cast<std::int32_t>(dense_.size() / 256);
                dense_.resize(dense_.size() + 256, 0);
                for (const auto& [label, child] : kids) dense_[static_cast<std::size_t>(p.dense) * 256 + label] = renumber[child];
            }
        }
        nodes_.clear();
        nodes_.shrink_to_fit();
        build_.clear();
        build_.shrink_to_fit();
        if (byte_fallback_) {
            char name[8];
            for (int b = 0; b < 256; ++b) {
                std::snprintf(name, sizeof name, "<0x%02X>", b);
                byte_ids_[b] = ids_.find(name);
            }
        }
    }

    std::int32_t token_to_id(std::string_view token) const override { return ids_.find(token); }
    const std::vector<std::string>& vocabulary() const override { return strings_; }

    void tokenize(std::string_view text, std::vector<ModelToken>& out) const override {
        struct Best {
            double score;
            std::int32_t id;
            std::int32_t start;  // -1: not reached
        };
        thread_local std::vector<Best> best;
        struct Span {
            std::uint32_t first, second;
            std::int32_t id;
        };
        thread_local std::vector<Span> spans;
        const std::size_t n = text.size();
        best.assign(n + 1, Best{0.0, 0, -1});
        const double unk_score = min_score_ - 10.0;
        std::size_t start = 0;
        while (start < n) {
            const double base = best[start].score;
            const unsigned char lead = static_cast<unsigned char>(text[start]);
            const std::size_t char_len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
            bool has_single = false;
            std::uint32_t node = 0;
            for (std::size_t p = start; p < n; ++p) {
                node = child(node, static_cast<unsigned char>(text[p]));
                if (node == 0) break;
                const Packed& pn = packed_[node];
                const std::int32_t id = pn.id;
                if (id < 0) continue;
                const std::size_t end = p + 1;
                Best& target = best[end];
                const double candidate = base + pn.score;
                if (target.start < 0 || candidate > target.score) target = {candidate, id, static_cast<std::int32_t>(start)};
                if (end - start == char_len) has_single = true;
            }
            if (!has_single) {
                const std::size_t end = std::min(n, start + char_len);
                if (unk_id_ < 0) throw Error(ErrorKind::invalid_input, "Unigram model has no unk_id for a character it cannot encode");
                Best& target = best[end];
                const double candidate = base + unk_score;
                if (target.start < 0 || candidate > target.score) target = {candidate, unk_id_, static_cast<std::int32_t>(start)};
            }
            start += char_len;
        }
        // Back-track, fusing runs of unknown pieces.
        spans.clear();
        std::size_t end = n;
        bool last_unk = false;
        while (end > 0) {
            const Best& b = best[end];
            const auto s = static_cast<std::uint32_t>(b.start < 0 ? 0 : b.start);
            const bool unk = b.id == unk_id_;
            if (unk && last_unk) spans.back().first = s;
            else spans.push_back({s, static_cast<std::uint32_t>(end), b.id});
            last_unk = unk;
            end = s;
        }
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            const std::string_view piece = text.substr(it->first, it->second - it->first);
            // A piece found by the trie carries its id (the string table's id for that string,
            // which is what the engine looks up); only unknown runs need a look-up.
            const std::int32_t id = it->id != unk_id_ ? it->id : ids_.find(piece);
            if (id >= 0) {
                out.push_back({id, it->first, it->second, true});
                continue;
            }
            if (byte_fallback_) {
                bool all = true;
                for (unsigned char c : piece) all &= byte_ids_[c] >= 0;
                if (all) {
                    for (unsigned char c : piece) out.push_back({byte_ids_[c], it->first, it->second, false});
                    continue;
                }
            }
            out.push_back({unk_id_, it->first, it->second, true});
        }
    }

private:
    struct Node {
        std::int32_t id = -1;
    };

    std::uint32_t child_or_add(std::uint32_t node, unsigned char c) {
        if (build_.size() < nodes_.size()) build_.resize(nodes_.size());
        for (const auto& [label, ch] : build_[node]) if (label == c) return ch;
        const auto id = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back({});
        build_.resize(nodes_.size());
        build_[node].emplace_back(c, id);
        return id;
    }

    /// The child of `node` labelled `c`, or 0 (the root is never a child).
    std::uint32_t child(std::uint32_t node, unsigned char c) const {
        const Packed& p = packed_[node];
        if (p.dense >= 0) return dense_[static_cast<std::size_t>(p.dense) * 256 + c];
        const Edge* first = edges_.data() + p.edge_begin;
        const Edge* last = first + p.edge_count;
        if (p.edge_count > 8) {
            const Edge* it = std::lower_bound(first, last, c, [](const Edge& e, unsigned char v) { return e.label < v; });
            return it != last && it->label == c ? it->child : 0;
        }
        for (const Edge* e = first; e != last; ++e) if (e->label == c) return e->child;
        return 0;
    }

    struct Packed {
        double score;
        std::int32_t id;
        std::uint32_t edge_begin, edge_count;
        std::int32_t dense;
    };
    struct Edge {
        std::uint32_t child;
        unsigned char label;
    };

    std::int32_t unk_id_;
    bool byte_fallback_;
    double min_score_ = 0.0;
    std::vector<std::string> strings_;
    std::vector<double> scores_;
    StringTable ids_;
    std::vector<Node> nodes_;
    std::vector<std::vector<std::pair<unsigned char, std::uint32_t>>> build_;
    std::vector<Packed> packed_;
    std::vector<Edge> edges_;
    std::vector<std::uint32_t> dense_;
    std::int32_t byte_ids_[256] = {};
};

}  // namespace minibert::detail
