// NormalizedString: a piece of the input after normalisation, with the original byte range of
// every normalised byte, so that token offsets point into the caller's text.
//
// This is the Hugging Face engine's NormalizedString, reduced to what the pipeline needs. The
// alignment arithmetic of transform() (which original character an inserted or merged character
// is charged to) follows the engine exactly, because the offsets in its encodings depend on it,
// including its quirks (the Precompiled normaliser's expansions shift later alignments).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unicode_normalization.hpp"

namespace minibert::detail {

/// Original byte range [first, second) of one normalised byte (absolute in the input text).
using Alignment = std::pair<std::uint32_t, std::uint32_t>;

struct NormalizedString {
    std::string text;                   ///< the normalised UTF-8
    std::vector<Alignment> alignments;  ///< one entry per byte of `text`

    /// The identity normalisation of input[begin, end): every byte maps to its character.
    void assign_original(std::string_view input, std::size_t begin, std::size_t end) {
        text.assign(input.data() + begin, end - begin);
        alignments.clear();
        std::size_t pos = begin;
        char32_t cp = 0;
        while (pos < end) {
            const std::size_t at = pos;
            if (!decode_utf8(input, pos, cp)) pos = at + 1;  // callers validate UTF-8 first
            for (std::size_t i = at; i < pos; ++i) {
                alignments.emplace_back(static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(pos));
            }
        }
    }

    bool empty() const noexcept { return text.empty(); }

    /// The original byte range of normalised bytes [begin, end): from the first byte's start to
    /// the last byte's end; an empty range maps to itself, as in the engine.
    Alignment original_range(std::size_t begin, std::size_t end) const {
        if (begin >= end || end > alignments.size()) {
            const std::uint32_t at = begin < alignments.size() ? alignments[begin].first
                                     : alignments.empty()     ? 0
                                                              : alignments.back().second;
            return {at, at};
        }
        return {alignments[begin].first, alignments[end - 1].second};
    }

    /// Copies normalised bytes [begin, end) into `out`.
    void slice_to(std::size_t begin, std::size_t end, NormalizedString& out) const {
        out.text.assign(text, begin, end - begin);
        out.alignments.assign(alignments.begin() + static_cast<std::ptrdiff_t>(begin),
                              alignments.begin() + static_cast<std::ptrdiff_t>(end));
    }

    /// Replaces normalised bytes [begin, end) by `dest`, the engine's transform_range: each new
    /// character with change <= 0 takes the alignment of the character it replaces, one with
    /// change > 0 (inserted) takes the alignment of the byte before it; -N also consumes the N
    /// characters that follow. `initial_removed` characters at the start of the range are dropped.
    void transform_range(std::size_t begin, std::size_t end, const std::vector<CharChange>& dest,
                         std::size_t initial_removed, std::string& scratch_text, std::vector<Alignment>& scratch_align) {
        std::size_t offset = begin;  // byte position in the old text of the next replaced character
        auto skip_char = [&]() -> std::size_t {
            if (offset >= end) return 0;
            std::size_t p = offset;
            char32_t c = 0;
            if (!decode_utf8(text, p, c)) p = offset + 1;
            return p - offset;
        };
        for (std::size_t i = 0; i < initial_removed; ++i) offset += skip_char();
        scratch_text.clear();
        scratch_align.clear();
        for (const CharChange& c : dest) {
            Alignment align{0, 0};
            if (c.change > 0) {
                if (offset >= 1 && offset - 1 < alignments.size()) align = alignments[offset - 1];
            } else if (offset < alignments.size()) {
                align = alignments[offset];
            } else if (!alignments.empty()) {
                align = alignments.back();  // the engine would index out of range here
            }
            if (c.change <= 0) {
                offset += skip_char();
                for (std::int32_t k = 0; k < -c.change; ++k) offset += skip_char();
            }
            const std::size_t before = scratch_text.size();
            append_utf8(scratch_text, c.cp);
            scratch_align.insert(scratch_align.end(), scratch_text.size() - before, align);
        }
        text.replace(begin, end - begin, scratch_text);
        alignments.erase(alignments.begin() + static_cast<std::ptrdiff_t>(begin),
                         alignments.begin() + static_cast<std::ptrdiff_t>(end));
        alignments.insert(alignments.begin() + static_cast<std::ptrdiff_t>(begin), scratch_align.begin(), scratch_align.end());
    }

    void transform(const std::vector<CharChange>& dest, std::size_t initial_removed, std::string& st,
                   std::vector<Alignment>& sa) {
        transform_range(0, text.size(), dest, initial_removed, st, sa);
    }

    /// Prepends `s` (the engine's prepend: the first new character replaces the current first
    /// character, which is re-inserted after `s`; all of them share its alignment).
    void prepend(std::string_view s, std::string& /*st*/, std::vector<Alignment>& /*sa*/) {
        // Every byte of the prefix ends up with the first character's alignment (the first new
        // character replaces it, the rest and the re-inserted character are insertions charged
        // to it), so this is a plain insertion at the front.
        if (text.empty() || s.empty()) return;
        const Alignment first = alignments[0];
        text.insert(0, s);
        alignments.insert(alignments.begin(), s.size(), first);
    }
};

}  // namespace minibert::detail
