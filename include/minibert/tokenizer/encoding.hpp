// Encoding (the tokenizer's output), truncation and padding, with Hugging Face semantics.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "minibert/error.hpp"

namespace minibert {

/// How encode_pair() shortens a pair that is longer than max_length.
enum class TruncationStrategy {
    longest_first,  ///< shorten the longer sequence first; both when both are long (HF default)
    only_first,     ///< shorten the first sequence only
    only_second,    ///< shorten the second sequence only
};

/// Options for one encode call.
struct EncodeOptions {
    bool add_special_tokens = true;  ///< apply the post-processor template ([CLS] A [SEP] ...)
    std::size_t max_length = 0;      ///< 0: no truncation; else the total length, specials included
    TruncationStrategy truncation = TruncationStrategy::longest_first;
};

/// How a batch is padded.
enum class PaddingStrategy {
    none,        ///< no padding
    longest,     ///< pad every encoding to the longest one in the batch
    max_length,  ///< pad every encoding to PaddingOptions::max_length
};

/// Padding options for encode_batch() and pad().
struct PaddingOptions {
    PaddingStrategy strategy = PaddingStrategy::none;
    std::size_t max_length = 0;          ///< target for PaddingStrategy::max_length
    std::size_t pad_to_multiple_of = 0;  ///< round the target length up to a multiple (0: off)
};

/// One encoded text or pair. Every vector has size() entries.
struct Encoding {
    std::vector<std::int32_t> ids;                  ///< vocabulary ids
    std::vector<std::int32_t> type_ids;             ///< segment ids (0: first text, 1: second)
    std::vector<std::int32_t> attention_mask;       ///< 1 for tokens, 0 for padding
    std::vector<std::int32_t> special_tokens_mask;  ///< 1 for template specials and padding
    std::vector<std::string> tokens;                ///< token strings ("##ing" for continuations)
    /// UTF-8 byte range [first, second) of each token in the text it came from (the pair's
    /// second text for tokens of the second sequence); (0, 0) for specials and padding.
    std::vector<std::pair<std::size_t, std::size_t>> offsets;
    std::vector<std::int32_t> word_ids;      ///< pre-token index within its sequence; -1 for specials
    std::vector<std::int32_t> sequence_ids;  ///< 0 or 1 for text tokens; -1 for specials and padding

    std::size_t size() const noexcept { return ids.size(); }
};

namespace detail {

/// The tokens of one sequence, before the template adds specials.
struct SequenceTokens {
    std::vector<std::int32_t> ids;
    std::vector<std::string> tokens;
    std::vector<std::pair<std::size_t, std::size_t>> offsets;
    std::vector<std::int32_t> word_ids;

    std::size_t size() const noexcept { return ids.size(); }
    /// Frees the buffers when an outlier text made them hold more than `tokens` tokens, so a
    /// thread's per-call scratch does not keep a 40 MB text's size for the rest of its life.
    void shrink_if_above(std::size_t tokens) {
        if (ids.capacity() > tokens || this->tokens.capacity() > tokens) *this = SequenceTokens{};
    }
    void clear() {
        ids.clear();
        tokens.clear();
        offsets.clear();
        word_ids.clear();
    }
    void truncate(std::size_t n) {
        if (n >= ids.size()) return;
        ids.resize(n);
        tokens.resize(n);
        offsets.resize(n);
        word_ids.resize(n);
    }
};

/// The Rust engine's truncate_encodings (stride 0, truncation on the right). `budget` is the
/// length left for the text tokens once the template's special tokens are counted. The
/// sequences arrive already shortened by the engine's early exit (Tokenizer::encode_sequence).
inline void truncate_sequences(SequenceTokens& first, SequenceTokens* second, std::size_t budget,
                               TruncationStrategy strategy) {
    if (budget == 0) {  // the engine empties both sequences, whatever the strategy, without error
        first.truncate(0);
        if (second) second->truncate(0);
        return;
    }
    const std::size_t total = first.size() + (second ? second->size() : 0);
    if (total <= budget) return;
    const std::size_t to_remove = total - budget;
    if (strategy == TruncationStrategy::longest_first) {
        if (!second) {
            first.truncate(budget);
            return;
        }
        // Keep the shorter sequence whole when the longer one can absorb the cut; otherwise
        // split the budget in half, the odd token going to the longer sequence.
        std::size_t n1 = first.size(), n2 = second->size();
        const bool swapped = n1 > n2;
        if (swapped) std::swap(n1, n2);
        n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
        if (n1 + n2 > budget) {
            n1 = budget / 2;
            n2 = n1 + budget % 2;
        }
        if (swapped) std::swap(n1, n2);
        first.truncate(n1);
        second->truncate(n2);
        return;
    }
    SequenceTokens* target = &first;
    if (strategy == TruncationStrategy::only_second) {
        if (!second) {
            throw Error(ErrorKind::invalid_input,
                        "truncation only_second needs a pair, but a single text was given");
        }
        target = second;
    }
    if (target->size() <= to_remove) {
        throw Error(ErrorKind::invalid_input,
                    std::string("truncation ") +
                        (strategy == TruncationStrategy::only_first ? "only_first" : "only_second") +
                        ": the sequence to truncate has " + std::to_string(target->size()) +
                        " tokens, too short to remove " + std::to_string(to_remove) +
                        " and respect max_length");
    }
    target->truncate(target->size() - to_remove);
}

}  // namespace detail

/// Pads `encodings` on the right (ids = pad_id, type id pad_type_id, attention 0,
/// special_tokens_mask 1, offsets (0,0), word/sequence ids -1). Longer encodings stay as they are.
inline void pad_encodings(std::vector<Encoding>& encodings, const PaddingOptions& options,
                          std::int32_t pad_id, const std::string& pad_token, std::int32_t pad_type_id = 0) {
    if (options.strategy == PaddingStrategy::none || encodings.empty()) return;
    std::size_t target = options.max_length;
    if (options.strategy == PaddingStrategy::longest) {
        target = 0;
        for (const Encoding& e : encodings) target = std::max(target, e.size());
    }
    if (options.pad_to_multiple_of > 0 && target % options.pad_to_multiple_of != 0) {
        target += options.pad_to_multiple_of - target % options.pad_to_multiple_of;
    }
    for (Encoding& e : encodings) {
        if (e.size() >= target) continue;
        const std::size_t n = target;
        e.ids.resize(n, pad_id);
        e.type_ids.resize(n, pad_type_id);
        e.attention_mask.resize(n, 0);
        e.special_tokens_mask.resize(n, 1);
        e.tokens.resize(n, pad_token);
        e.offsets.resize(n, {0, 0});
        e.word_ids.resize(n, -1);
        e.sequence_ids.resize(n, -1);
    }
}

}  // namespace minibert
