// Normalisers of the tokenizer.json pipeline: NFC / NFD / NFKC / NFKD, Lowercase, Strip,
// Replace, Prepend, Precompiled and Sequence, each editing a NormalizedString in place with
// the alignment changes the Hugging Face engine makes (offsets depend on them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "minibert/error.hpp"
#include "minibert/tokenizer/normalized_string.hpp"
#include "minibert/tokenizer/precompiled_normalizer.hpp"
#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unicode_normalization.hpp"

namespace minibert::detail {

/// Working memory shared by the normalisers and pre-tokenisers of one encode call.
struct NormalizeScratch {
    std::vector<CharChange> changes;
    std::string text;
    std::vector<Alignment> align;
};

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(NormalizedString& s, NormalizeScratch& scratch) const = 0;
};

/// NFC, NFD, NFKC or NFKD over the whole string.
class UnicodeNormalizer final : public Normalizer {
public:
    UnicodeNormalizer(bool compat, bool compose) : compat_(compat), compose_(compose) {}
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        // ASCII is invariant under every form: skip the work for the common case.
        bool ascii = true;
        for (unsigned char c : s.text) ascii &= c < 0x80;
        if (ascii) return;
        unicode_normalize(s.text, compat_, compose_, sc.changes);
        s.transform(sc.changes, 0, sc.text, sc.align);
    }

private:
    bool compat_, compose_;
};

/// Lower-cases one character at a time (Rust's char::to_lowercase).
class LowercaseNormalizer final : public Normalizer {
public:
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        sc.changes.clear();
        std::size_t pos = 0;
        char32_t cp = 0;
        while (pos < s.text.size()) {
            if (!decode_utf8(s.text, pos, cp)) { ++pos; continue; }
            bool first = true;
            for_each_lowercase(cp, [&](char32_t l) {
                sc.changes.push_back({l, first ? 0 : 1});
                first = false;
            });
        }
        s.transform(sc.changes, 0, sc.text, sc.align);
    }
};

/// Removes leading and/or trailing white space.
class StripNormalizer final : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        std::vector<char32_t> chars;
        std::size_t pos = 0;
        char32_t cp = 0;
        while (pos < s.text.size()) {
            if (!decode_utf8(s.text, pos, cp)) { ++pos; continue; }
            chars.push_back(cp);
        }
        std::size_t lead = 0, trail = 0;
        if (left_) while (lead < chars.size() && is_white_space(chars[lead])) ++lead;
        if (right_) while (trail < chars.size() - lead && is_white_space(chars[chars.size() - 1 - trail])) ++trail;
        if (lead == 0 && trail == 0) return;
        sc.changes.clear();
        for (std::size_t i = lead; i + trail < chars.size(); ++i) {
            const bool last = i + trail + 1 == chars.size();
            sc.changes.push_back({chars[i], last ? -static_cast<std::int32_t>(trail) : 0});
        }
        s.transform(sc.changes, lead, sc.text, sc.align);
    }

private:
    bool left_, right_;
};

/// The pattern of a Replace normaliser or Split pre-tokeniser: a literal string, or a regex
/// from the small subset that tokenizer.json files use for white space (one atom - a literal
/// character, `\s`, `\d` or an escaped character - with an optional quantifier `+ * ? {n}
/// {n,} {n,m}`, or a run of literal characters). Other regexes are refused as unsupported.
/// Deviation: `\d` matches every \p{N} character, not only decimal digits.
class SimplePattern {
public:
    static SimplePattern literal(std::string s) {
        SimplePattern p;
        p.literal_ = std::move(s);
        p.is_literal_ = true;
        return p;
    }

    static SimplePattern regex(const std::string& re, const std::string& where) {
        SimplePattern p;
        std::size_t i = 0;
        auto unsupported = [&]() {
            return Error(ErrorKind::unsupported, where + ": regex pattern of " + std::to_string(re.size()) +
                                                     " bytes uses syntax beyond the supported subset (one atom with a quantifier, or literal characters)");
        };
        std::vector<Atom> atoms;
        while (i < re.size()) {
            Atom a;
            const char c = re[i];
            if (c == '\\') {
                if (i + 1 >= re.size()) throw unsupported();
                const char e = re[i + 1];
                if (e == 's') a.kind = Atom::space;
                else if (e == 'd') a.kind = Atom::digit;
                else if (std::string_view("\\.^$|?*+()[]{}/-").find(e) != std::string_view::npos) a.cp = static_cast<unsigned char>(e);
                else throw unsupported();
                i += 2;
            } else if (std::string_view(".^$|?*+()[]{}").find(c) != std::string_view::npos) {
                throw unsupported();
            } else {
                std::size_t q = i;
                if (!decode_utf8(re, q, a.cp)) throw unsupported();
                i = q;
            }
            if (i < re.size() && (re[i] == '+' || re[i] == '*' || re[i] == '?' || re[i] == '{')) {
                if (re[i] == '+') a.min = 1, a.max = SIZE_MAX, ++i;
                else if (re[i] == '*') a.min = 0, a.max = SIZE_MAX, ++i;
                else if (re[i] == '?') a.min = 0, a.max = 1, ++i;
                else {
                    const std::size_t close = re.find('}', i);
                    if (close == std::string::npos) throw unsupported();
                    const std::string body = re.substr(i + 1, close - i - 1);
                    const std::size_t comma = body.find(',');
                    auto num = [&](const std::string& t) -> std::size_t {
                        if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) throw unsupported();
                        return static_cast<std::size_t>(std::stoul(t));
                    };
                    if (comma == std::string::npos) a.min = a.max = num(body);
                    else {
                        a.min = num(body.substr(0, comma));
                        a.max = comma + 1 == body.size() ? SIZE_MAX : num(body.substr(comma + 1));
                    }
                    if (a.max < a.min) throw unsupported();
                    i = close + 1;
                }
                if (i < re.size() && (re[i] == '?' || re[i] == '+')) throw unsupported();  // lazy / possessive
            }
            atoms.push_back(a);
        }
        if (atoms.empty()) throw unsupported();
        bool all_single = true;
        for (const Atom& a : atoms) all_single &= a.min == 1 && a.max == 1 && a.kind == Atom::literal;
        if (all_single) {
            std::string lit;
            for (const Atom& a : atoms) append_utf8(lit, a.cp);
            return literal(lit);
        }
        if (atoms.size() != 1 || atoms[0].min == 0) throw unsupported();  // empty matches: refuse
        p.atom_ = atoms[0];
        return p;
    }

    /// Calls `emit(begin, end)` for each leftmost non-overlapping match in `text`.
    template <class Emit>
    void find(std::string_view text, Emit&& emit) const {
        if (is_literal_) {
            if (literal_.empty()) return;
            std::size_t pos = 0;
            while ((pos = text.find(literal_, pos)) != std::string_view::npos) {
                emit(pos, pos + literal_.size());
                pos += literal_.size();
            }
            return;
        }
        if (atom_.kind == Atom::literal && atom_.cp < 0x80) {
            // An ASCII atom: scan bytes.
            const char c = static_cast<char>(atom_.cp);
            std::size_t pos = 0;
            while ((pos = text.find(c, pos)) != std::string_view::npos) {
                std::size_t p = pos;
                while (p < text.size() && text[p] == c && p - pos < atom_.max) ++p;
                if (p - pos >= atom_.min) emit(pos, p);
                pos = p;
            }
            return;
        }
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t p = pos, count = 0;
            char32_t cp = 0;
            while (p < text.size() && count < atom_.max) {
                std::size_t q = p;
                if (!decode_utf8(text, q, cp) || !atom_.matches(cp)) break;
                p = q;
                ++count;
            }
            if (count >= atom_.min) {
                emit(pos, p);
                pos = p;
            } else {
                std::size_t q = pos;
                if (!decode_utf8(text, q, cp)) q = pos + 1;
                pos = q;
            }
        }
    }

private:
    struct Atom {
        enum Kind { literal, space, digit } kind = literal;
        char32_t cp = 0;
        std::size_t min = 1, max = 1;
        bool matches(char32_t c) const {
            if (kind == space) return is_white_space(c);
            if (kind == digit) return is_number(c);  // any \p{N}: wider than Oniguruma's decimal digits
            return c == cp;
        }
    };
    bool is_literal_ = false;
    std::string literal_;
    Atom atom_;
};

/// Replaces every match of a pattern by `content`.
class ReplaceNormalizer final : public Normalizer {
public:
    ReplaceNormalizer(SimplePattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        // One pass (a match at a time would move the tail of the text for every match): text
        // outside the matches is kept with its alignments; each match is replaced by `content`,
        // every new byte taking the alignment of the match's last byte, as the engine's
        // replace() gives it (the removed characters go first, the new ones are insertions).
        auto& text = sc.text;
        auto& align = sc.align;
        text.clear();
        align.clear();
        std::size_t kept = 0;
        bool any = false;
        pattern_.find(s.text, [&](std::size_t b, std::size_t e) {
            any = true;
            text.append(s.text, kept, b - kept);
            align.insert(align.end(), s.alignments.begin() + static_cast<std::ptrdiff_t>(kept),
                         s.alignments.begin() + static_cast<std::ptrdiff_t>(b));
            text += content_;
            align.insert(align.end(), content_.size(), e > 0 ? s.alignments[e - 1] : Alignment{0, 0});
            kept = e;
        });
        if (!any) return;
        text.append(s.text, kept, std::string::npos);
        align.insert(align.end(), s.alignments.begin() + static_cast<std::ptrdiff_t>(kept), s.alignments.end());
        s.text.swap(text);
        s.alignments.swap(align);
    }

private:
    SimplePattern pattern_;
    std::string content_;
};

/// Prepends a string to non-empty text.
class PrependNormalizer final : public Normalizer {
public:
    explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override { s.prepend(prefix_, sc.text, sc.align); }

private:
    std::string prefix_;
};

class PrecompiledNormalizer final : public Normalizer {
public:
    explicit PrecompiledNormalizer(PrecompiledCharsMap map) : map_(std::move(map)) {}
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        precompiled_normalize(map_, s, sc.changes, sc.text, sc.align);
    }

private:
    PrecompiledCharsMap map_;
};

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> items) : items_(std::move(items)) {}
    void normalize(NormalizedString& s, NormalizeScratch& sc) const override {
        for (const auto& n : items_) n->normalize(s, sc);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace minibert::detail
