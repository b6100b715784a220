// Flat hash tables for the tokenizer.json models: string -> id (vocabularies) and
// 64-bit key -> value (BPE merges). Open addressing, built once at load, read-only after, so
// any number of threads may look up concurrently. Written here rather than std::unordered_map
// because look-ups by std::string_view (without building a std::string) are on the hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minibert::detail {

inline std::uint64_t hash_bytes(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ s.size();
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

inline std::uint64_t hash_u64(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/// string -> int32 id. insert() overwrites (the last insertion of a key wins, as in a Rust
/// HashMap built by iterating the vocabulary).
class StringTable {
public:
    void reserve(std::size_t n) {
        std::size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        slots_.assign(cap, -1);
        keys_.reserve(n);
        ids_.reserve(n);
    }

    void insert(std::string_view key, std::int32_t id) {
        if ((keys_.size() + 1) * 2 > slots_.size()) grow();
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash_bytes(key) & mask;; i = (i + 1) & mask) {
            if (slots_[i] < 0) {
                slots_[i] = static_cast<std::int32_t>(keys_.size());
                keys_.emplace_back(key);
                ids_.push_back(id);
                return;
            }
            if (keys_[static_cast<std::size_t>(slots_[i])] == key) {
                ids_[static_cast<std::size_t>(slots_[i])] = id;
                return;
            }
        }
    }

    /// The id of `key`, or -1.
    std::int32_t find(std::string_view key) const noexcept {
        if (slots_.empty()) return -1;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash_bytes(key) & mask;; i = (i + 1) & mask) {
            const std::int32_t s = slots_[i];
            if (s < 0) return -1;
            if (keys_[static_cast<std::size_t>(s)] == key) return ids_[static_cast<std::size_t>(s)];
        }
    }

    std::size_t size() const noexcept { return keys_.size(); }

    template <class Fn>
    void for_each(Fn&& fn) const {
        for (std::size_t i = 0; i < keys_.size(); ++i) fn(std::string_view(keys_[i]), ids_[i]);
    }

private:
    void grow() {
        std::vector<std::string> keys = std::move(keys_);
        std::vector<std::int32_t> ids = std::move(ids_);
        keys_.clear();
        ids_.clear();
        reserve(keys.size() * 2 + 8);
        for (std::size_t i = 0; i < keys.size(); ++i) insert(keys[i], ids[i]);
    }

    std::vector<std::int32_t> slots_;
    std::vector<std::string> keys_;
    std::vector<std::int32_t> ids_;
};

/// uint64 -> Value; insert() overwrites (the last insertion of a key wins, like a Rust HashMap
/// collected from the file's list). Key and value share a slot, so a look-up touches one cache
/// line; the all-ones key marks an empty slot and cannot be stored.
template <class Value>
class U64Table {
public:
    static constexpr std::uint64_t empty_key = ~std::uint64_t{0};

    void reserve(std::size_t n) {
        std::size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        slots_.assign(cap, Slot{empty_key, Value{}});
        size_ = 0;
    }

    bool insert(std::uint64_t key, const Value& v) {
        if (key == empty_key) return false;
        if ((size_ + 1) * 2 > slots_.size()) rehash();
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.key == empty_key) {
                s = Slot{key, v};
                ++size_;
                return true;
            }
            if (s.key == key) {
                s.value = v;
                return false;
            }
        }
    }

    const Value* find(std::uint64_t key) const noexcept {
        if (slots_.empty()) return nullptr;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.key == key) return &s.value;
            if (s.key == empty_key) return nullptr;
        }
    }

private:
    struct Slot {
        std::uint64_t key;
        Value value;
    };

    void rehash() {
        std::vector<Slot> old = std::move(slots_);
        reserve(size_ * 2 + 8);
        for (const Slot& s : old) if (s.key != empty_key) insert(s.key, s.value);
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

}  // namespace minibert::detail
