// Batch: several token sequences packed end to end, without padding.
//
// Dense layers run once over all tokens of all sequences; attention runs per sequence. A padded
// [batch x length] input converts with from_padded(), which reads the attention mask's lengths.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "numeric/matrix_view.hpp"

namespace minibert {

class Batch {
public:
    Batch() { offsets_.push_back(0); }

    /// Appends one sequence. type_ids may be empty (all zeros) or as long as ids.
    void add(Span<const std::int32_t> ids, Span<const std::int32_t> type_ids = {}) {
        if (ids.empty()) throw Error(ErrorKind::invalid_input, "sequence " + std::to_string(size()) + " is empty");
        if (!type_ids.empty() && type_ids.size() != ids.size())
            throw Error(ErrorKind::invalid_input, "sequence " + std::to_string(size()) + " has " + std::to_string(ids.size()) +
                                                      " ids but " + std::to_string(type_ids.size()) + " token type ids");
        ids_.insert(ids_.end(), ids.begin(), ids.end());
        if (type_ids.empty()) type_ids_.insert(type_ids_.end(), ids.size(), 0);
        else type_ids_.insert(type_ids_.end(), type_ids.begin(), type_ids.end());
        offsets_.push_back(ids_.size());
    }
    void add(const std::vector<std::int32_t>& ids, const std::vector<std::int32_t>& type_ids = {}) {
        add(Span<const std::int32_t>(ids.data(), ids.size()), Span<const std::int32_t>(type_ids.data(), type_ids.size()));
    }

    /// Packs a right-padded [batch x seq_len] input. mask and type_ids may be empty (all ones /
    /// all zeros). The mask must be 1...1 0...0 in every row with at least one 1.
    static Batch from_padded(Span<const std::int32_t> ids, Span<const std::int32_t> mask,
                             Span<const std::int32_t> type_ids, std::size_t batch, std::size_t seq_len) {
        if (batch == 0 || seq_len == 0) throw Error(ErrorKind::invalid_input, "the batch is empty");
        // batch x seq_len must not wrap: 2^63 x 2 == 0 would pass the size check with no ids.
        if (batch > ids.size() / seq_len || ids.size() != batch * seq_len)
            throw Error(ErrorKind::invalid_input, "input_ids hold " + std::to_string(ids.size()) + " values, not " +
                                                      std::to_string(batch) + " x " + std::to_string(seq_len));
        if (!mask.empty() && mask.size() != ids.size())
            throw Error(ErrorKind::invalid_input, "attention_mask has " + std::to_string(mask.size()) +
                                                      " values but input_ids has " + std::to_string(ids.size()));
        if (!type_ids.empty() && type_ids.size() != ids.size())
            throw Error(ErrorKind::invalid_input, "token_type_ids has " + std::to_string(type_ids.size()) +
                                                      " values but input_ids has " + std::to_string(ids.size()));
        Batch out;
        for (std::size_t b = 0; b < batch; ++b) {
            std::size_t length = seq_len;
            if (!mask.empty()) {
                length = 0;
                while (length < seq_len && mask[b * seq_len + length] == 1) ++length;
                for (std::size_t t = length; t < seq_len; ++t)
                    if (mask[b * seq_len + t] != 0)
                        throw Error(ErrorKind::invalid_input,
                                    "attention_mask row " + std::to_string(b) + " is not right-padded (1...1 0...0): value " +
                                        std::to_string(mask[b * seq_len + t]) + " at position " + std::to_string(t));
                if (length == 0)
                    throw Error(ErrorKind::invalid_input, "attention_mask row " + std::to_string(b) + " masks every token");
            }
            out.add(ids.subspan(b * seq_len, length),
                    type_ids.empty() ? Span<const std::int32_t>() : type_ids.subspan(b * seq_len, length));
        }
        return out;
    }

    std::size_t size() const noexcept { return offsets_.size() - 1; }      ///< sequences
    std::size_t tokens() const noexcept { return ids_.size(); }            ///< all tokens
    std::size_t length(std::size_t i) const noexcept { return offsets_[i + 1] - offsets_[i]; }
    std::size_t longest() const noexcept {
        std::size_t most = 0;
        for (std::size_t i = 0; i < size(); ++i) most = std::max(most, length(i));
        return most;
    }
    Span<const std::int32_t> ids() const noexcept { return {ids_.data(), ids_.size()}; }
    Span<const std::int32_t> type_ids() const noexcept { return {type_ids_.data(), type_ids_.size()}; }
    /// size() + 1 token offsets: sequence i is tokens [offsets[i], offsets[i+1]).
    Span<const std::size_t> offsets() const noexcept { return {offsets_.data(), offsets_.size()}; }

    void clear() {
        ids_.clear();
        type_ids_.clear();
        offsets_.assign(1, 0);
    }

private:
    std::vector<std::int32_t> ids_;
    std::vector<std::int32_t> type_ids_;
    std::vector<std::size_t> offsets_;
};

}  // namespace minibert
