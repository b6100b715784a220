// Post-processors of the tokenizer.json pipeline: TemplateProcessing, RobertaProcessing
// (`<s> A </s></s> B </s>`, with ByteLevel offset trimming), BertProcessing, ByteLevel (offset
// trimming only) and Sequence. They add the special tokens, type ids and the special-tokens mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "minibert/tokenizer/encoding.hpp"
#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unicode_normalization.hpp"

namespace minibert::detail {

/// One element of a template: a sequence (0 = A, 1 = B) or a named special token.
struct TemplateItem {
    bool is_sequence = false;
    int sequence = 0;
    std::vector<std::int32_t> ids;     ///< the special token's ids
    std::vector<std::string> tokens;   ///< and strings
    std::int32_t type_id = 0;
};

/// The ByteLevel post-processing of offsets: leading and trailing spaces (GPT-2's `Ġ` or white
/// space) of each token are cut from its offsets, one byte per character as the engine does.
inline void trim_byte_level_offsets(SequenceTokens& seq, bool add_prefix_space) {
    constexpr char32_t g_space = 0x120;  // 'Ġ', the byte-level space
    std::vector<char32_t> chars;
    for (std::size_t i = 0; i < seq.size(); ++i) {
        const std::string& token = seq.tokens[i];
        chars.clear();
        std::size_t pos = 0;
        char32_t c = 0;
        while (pos < token.size()) {
            if (!decode_utf8(token, pos, c)) { ++pos; continue; }
            chars.push_back(c);
        }
        auto is_space = [&](char32_t x) { return x == g_space || is_white_space(x); };
        std::size_t lead = 0, trail = 0;
        while (lead < chars.size() && is_space(chars[lead])) ++lead;
        while (trail < chars.size() && is_space(chars[chars.size() - 1 - trail])) ++trail;
        auto& off = seq.offsets[i];
        if (lead > 0) {
            const bool is_first = i == 0 || off.first == 0;
            if (is_first && add_prefix_space && lead == 1) lead = 0;
            off.first = std::min(off.first + lead, off.second);
        }
        if (trail > 0 && off.second >= trail) off.second = std::max(off.second - trail, off.first);
    }
}

class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    /// How many special tokens process() adds for a single text or a pair.
    virtual std::size_t added_tokens(bool pair) const = 0;
    /// Edits the sequences in place before they are joined (offset trimming).
    virtual void prepare(SequenceTokens& /*first*/, SequenceTokens* /*second*/) const {}
    /// The template: which specials go where, with which type ids.
    virtual const std::vector<TemplateItem>& layout(bool pair) const = 0;
};

class TemplatePostProcessor : public PostProcessor {
public:
    TemplatePostProcessor(std::vector<TemplateItem> single, std::vector<TemplateItem> pair)
        : single_(std::move(single)), pair_(std::move(pair)) {}
    std::size_t added_tokens(bool pair) const override {
        std::size_t n = 0;
        for (const auto& item : pair ? pair_ : single_) n += item.is_sequence ? 0 : item.ids.size();
        return n;
    }
    const std::vector<TemplateItem>& layout(bool pair) const override { return pair ? pair_ : single_; }

protected:
    std::vector<TemplateItem> single_, pair_;
};

/// RobertaProcessing: `cls A sep` and `cls A sep sep B sep`, every type id 0, and the ByteLevel
/// offset trimming when trim_offsets is set.
class RobertaPostProcessor final : public TemplatePostProcessor {
public:
    RobertaPostProcessor(std::string cls, std::int32_t cls_id, std::string sep, std::int32_t sep_id, bool trim_offsets,
                         bool add_prefix_space)
        : TemplatePostProcessor({}, {}), trim_(trim_offsets), add_prefix_space_(add_prefix_space) {
        const TemplateItem c{false, 0, {cls_id}, {cls}, 0}, s{false, 0, {sep_id}, {sep}, 0};
        const TemplateItem a{true, 0, {}, {}, 0}, b{true, 1, {}, {}, 0};
        single_ = {c, a, s};
        pair_ = {c, a, s, s, b, s};
    }
    void prepare(SequenceTokens& first, SequenceTokens* second) const override {
        if (!trim_) return;
        trim_byte_level_offsets(first, add_prefix_space_);
        if (second) trim_byte_level_offsets(*second, add_prefix_space_);
    }

private:
    bool trim_, add_prefix_space_;
};

/// ByteLevel as a post-processor: offset trimming only, no special tokens.
class ByteLevelPostProcessor final : public TemplatePostProcessor {
public:
    ByteLevelPostProcessor(bool trim_offsets, bool add_prefix_space)
        : TemplatePostProcessor({TemplateItem{true, 0, {}, {}, 0}}, {TemplateItem{true, 0, {}, {}, 0}, TemplateItem{true, 1, {}, {}, 1}}),
          trim_(trim_offsets), add_prefix_space_(add_prefix_space) {}
    void prepare(SequenceTokens& first, SequenceTokens* second) const override {
        if (!trim_) return;
        trim_byte_level_offsets(first, add_prefix_space_);
        if (second) trim_byte_level_offsets(*second, add_prefix_space_);
    }

private:
    bool trim_, add_prefix_space_;
};

/// Sequence: every member's offset edits in order; the specials of the one member that adds any.
class SequencePostProcessor final : public PostProcessor {
public:
    explicit SequencePostProcessor(std::vector<std::unique_ptr<PostProcessor>> items) : items_(std::move(items)) {
        static const std::vector<TemplateItem> single{TemplateItem{true, 0, {}, {}, 0}};
        static const std::vector<TemplateItem> pair{TemplateItem{true, 0, {}, {}, 0}, TemplateItem{true, 1, {}, {}, 1}};
        layout_ = nullptr;
        for (const auto& p : items_) {
            if (p->added_tokens(false) > 0 || p->added_tokens(true) > 0) layout_ = p.get();
        }
        if (layout_ == nullptr && !items_.empty()) layout_ = items_.back().get();
        single_ = &single;
        pair_ = &pair;
    }
    std::size_t added_tokens(bool pair) const override { return layout_ ? layout_->added_tokens(pair) : 0; }
    void prepare(SequenceTokens& first, SequenceTokens* second) const override {
        for (const auto& p : items_) p->prepare(first, second);
    }
    const std::vector<TemplateItem>& layout(bool pair) const override {
        return layout_ ? layout_->layout(pair) : (pair ? *pair_ : *single_);
    }

private:
    std::vector<std::unique_ptr<PostProcessor>> items_;
    const PostProcessor* layout_;
    const std::vector<TemplateItem>* single_;
    const std::vector<TemplateItem>* pair_;
};

/// Joins the sequences as `layout` says: specials (mask 1, offsets (0, 0)) and text tokens.
inline Encoding join_sequences(const std::vector<TemplateItem>& layout, SequenceTokens& first, SequenceTokens* second,
                               bool add_special_tokens) {
    Encoding e;
    for (const auto& item : layout) {
        if (item.is_sequence) {
            if (item.sequence == 1 && !second) continue;
            SequenceTokens& seq = item.sequence == 0 ? first : *second;
            e.ids.insert(e.ids.end(), seq.ids.begin(), seq.ids.end());
            e.type_ids.insert(e.type_ids.end(), seq.size(), item.type_id);
            e.special_tokens_mask.insert(e.special_tokens_mask.end(), seq.size(), 0);
            e.tokens.insert(e.tokens.end(), std::make_move_iterator(seq.tokens.begin()), std::make_move_iterator(seq.tokens.end()));
            e.offsets.insert(e.offsets.end(), seq.offsets.begin(), seq.offsets.end());
            e.word_ids.insert(e.word_ids.end(), seq.word_ids.begin(), seq.word_ids.end());
            e.sequence_ids.insert(e.sequence_ids.end(), seq.size(), item.sequence);
        } else if (add_special_tokens) {
            for (std::size_t k = 0; k < item.ids.size(); ++k) {
                e.ids.push_back(item.ids[k]);
                e.type_ids.push_back(item.type_id);
                e.special_tokens_mask.push_back(1);
                e.tokens.push_back(item.tokens[k]);
                e.offsets.emplace_back(0, 0);
                e.word_ids.push_back(-1);
                e.sequence_ids.push_back(-1);
            }
        }
    }
    e.attention_mask.assign(e.ids.size(), 1);
    return e;
}

}  // namespace minibert::detail
