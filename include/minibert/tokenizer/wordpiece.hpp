// WordPiece: the vocabulary and the greedy longest-match-first sub-word split.
//
// The split is the Rust engine's: from each position take the longest vocabulary entry
// (with the continuing-subword prefix after the first piece); if some position has no match,
// the whole word becomes the unknown token, and so does a word longer than
// max_input_chars_per_word code points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace minibert {

/// WordPiece model settings (tokenizer.json "model", or BERT defaults for vocab.txt).
struct WordPieceSettings {
    std::string unk_token = "[UNK]";
    std::string continuing_subword_prefix = "##";
    std::size_t max_input_chars_per_word = 100;  ///< longer words (in code points) -> unk_token
    /// The largest max_input_chars_per_word a tokenizer.json may set (larger is refused at load).
    static constexpr std::size_t max_max_input_chars_per_word = 10000;
};

namespace detail {

/// 64-bit hash of a byte string: 8 bytes per step, then a final avalanche.
inline std::uint64_t hash_bytes(const char* data, std::size_t size) noexcept {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
    std::uint64_t h = size * k;
    while (size >= 8) {
        std::uint64_t word;
        std::memcpy(&word, data, 8);
        h = (h ^ word) * k;
        h ^= h >> 29;
        data += 8;
        size -= 8;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, data, size);
    h = (h ^ tail) * k;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h;
}

/// Open-addressing map from byte strings to ids. The keys live in one string pool, so a
/// look-up with a string_view never allocates.
class StringIdMap {
public:
    /// Inserts or overwrites (the last insertion of a key wins, as in HF's vocab loaders).
    void insert(std::string_view key, std::int32_t id) {
        if ((count_ + 1) * 2 > slots_.size()) grow();
        Slot& slot = find_slot(key, hash_bytes(key.data(), key.size()));
        if (slot.id < 0) {
            slot.offset = static_cast<std::uint32_t>(pool_.size());
            slot.length = static_cast<std::uint32_t>(key.size());
            pool_.append(key);
            ++count_;
            if (key.size() > max_key_length_) max_key_length_ = key.size();
        }
        slot.id = id;
    }

    /// The id of `key`, or -1.
    std::int32_t find(std::string_view key) const noexcept {
        if (slots_.empty()) return -1;
        const std::uint64_t hash = hash_bytes(key.data(), key.size());
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
            const Slot& slot = slots_[i];
            if (slot.id < 0) return -1;
            if (slot.hash == hash && slot.length == key.size() &&
                std::memcmp(pool_.data() + slot.offset, key.data(), key.size()) == 0) {
                return slot.id;
            }
        }
    }

    std::size_t size() const noexcept { return count_; }
    std::size_t max_key_length() const noexcept { return max_key_length_; }

    /// Calls f(key, id) for every entry.
    template <class F>
    void for_each(F&& f) const {
        for (const Slot& slot : slots_) {
            if (slot.id >= 0) f(std::string_view(pool_.data() + slot.offset, slot.length), slot.id);
        }
    }

private:
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t offset = 0;
        std::uint32_t length = 0;
        std::int32_t id = -1;
    };

    Slot& find_slot(std::string_view key, std::uint64_t hash) {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
            Slot& slot = slots_[i];
            if (slot.id < 0) {
                slot.hash = hash;
                return slot;
            }
            if (slot.hash == hash && slot.length == key.size() &&
                std::memcmp(pool_.data() + slot.offset, key.data(), key.size()) == 0) {
                return slot;
            }
        }
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const Slot& slot : old) {
            if (slot.id < 0) continue;
            std::size_t i = slot.hash & mask;
            while (slots_[i].id >= 0) i = (i + 1) & mask;
            slots_[i] = slot;
        }
    }

    std::vector<Slot> slots_;
    std::string pool_;
    std::size_t count_ = 0;
    std::size_t max_key_length_ = 0;
};

/// One WordPiece piece: vocabulary id and the normalised code points [first, last) of the word.
struct WordPiecePiece {
    std::int32_t id;
    std::uint32_t first;
    std::uint32_t last;
};

/// The WordPiece model: a token -> id map plus the greedy split.
class WordPiece {
public:
    WordPiece() = default;

    /// Builds the model. `vocab` maps tokens to ids; `unk_id` must be the id of settings.unk_token.
    WordPiece(const StringIdMap& vocab, WordPieceSettings settings, std::int32_t unk_id)
        : settings_(std::move(settings)), unk_id_(unk_id) {
        const std::string_view prefix = settings_.continuing_subword_prefix;
        vocab.for_each([&](std::string_view token, std::int32_t id) {
            word_start_.insert(token, id);
            // Continuations are keyed without their prefix so that a look-up needs no
            // concatenation: "##ing" is found as "ing" in this table.
            if (token.size() >= prefix.size() && token.compare(0, prefix.size(), prefix) == 0) {
                continuation_.insert(token.substr(prefix.size()), id);
            }
        });
    }

    const WordPieceSettings& settings() const noexcept { return settings_; }
    std::int32_t unk_id() const noexcept { return unk_id_; }

    /// Splits one word. `bytes` is its UTF-8, `char_pos[i]` the byte where code point i starts
    /// (char_pos has one more entry, equal to bytes.size()). Appends pieces to `out`.
    void tokenize(std::string_view bytes, const std::vector<std::uint32_t>& char_pos,
                  std::vector<WordPiecePiece>& out) const {
        const auto n_chars = static_cast<std::uint32_t>(char_pos.size() - 1);
        const std::size_t first_out = out.size();
        if (n_chars > settings_.max_input_chars_per_word) {
            out.push_back({unk_id_, 0, n_chars});
            return;
        }
        std::uint32_t start = 0;
        while (start < n_chars) {
            const StringIdMap& table = start == 0 ? word_start_ : continuation_;
            const std::size_t max_len = table.max_key_length();
            // Skip candidates longer than any key. A code point is at least one byte, so no key
            // ends past start + max_len code points: start there, not at the word's end (which
            // made a long word quadratic), then move back a code point at a time.
            std::uint32_t end = max_len < n_chars - start ? start + static_cast<std::uint32_t>(max_len) : n_chars;
            while (end > start && char_pos[end] - char_pos[start] > max_len) --end;
            std::int32_t found = -1;
            for (; end > start; --end) {
                found = table.find(bytes.substr(char_pos[start], char_pos[end] - char_pos[start]));
                if (found >= 0) break;
            }
            if (found < 0) {
                out.resize(first_out);
                out.push_back({unk_id_, 0, n_chars});
                return;
            }
            out.push_back({found, start, end});
            start = end;
        }
    }

private:
    WordPieceSettings settings_;
    std::int32_t unk_id_ = -1;
    StringIdMap word_start_;
    StringIdMap continuation_;
};

}  // namespace detail
}  // namespace minibert
