// minibert::TokenizerPipeline: any tokenizer.json the Hugging Face engine would build from the
// supported components, structured as the engine is: added tokens, normaliser, pre-tokeniser,
// model, post-processor, decoder. A new model family is a new composition of these parts.
//
//   normalizers.hpp       NFC/NFD/NFKC/NFKD, Lowercase, Strip, Replace, Prepend, Precompiled,
//                         BertNormalizer, Sequence
//   pre_tokenizers.hpp    ByteLevel, Metaspace, WhitespaceSplit, BertPreTokenizer, Sequence
//   bpe_model.hpp         BPE (byte-level or not); unigram_model.hpp: Unigram;
//   wordpiece_model.hpp   WordPiece
//   post_processors.hpp   TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence
//   decoders              ByteLevel, Metaspace, WordPiece (in this file)
//
// Offsets are UTF-8 byte ranges of the caller's text, as in minibert::Encoding. Immutable after
// loading: any number of threads may encode with one pipeline.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/error.hpp"
#include "minibert/io/file_open.hpp"
#include "minibert/io/json.hpp"
#include "minibert/tokenizer/added_tokens_matcher.hpp"
#include "minibert/tokenizer/bpe_model.hpp"
#include "minibert/tokenizer/encoding.hpp"
#include "minibert/tokenizer/normalized_string.hpp"
#include "minibert/tokenizer/normalizers.hpp"
#include "minibert/tokenizer/post_processors.hpp"
#include "minibert/tokenizer/pre_tokenizers.hpp"
#include "minibert/tokenizer/token_table.hpp"
#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/unigram_model.hpp"
#include "minibert/tokenizer/wordpiece_model.hpp"

namespace minibert {

namespace detail {

/// Checked access to tokenizer.json values. Messages name the file and the key path and say
/// what was expected; they never print the offending value (it may be huge or binary).
class JsonAt {
public:
    JsonAt(const nlohmann::json& v, std::string path) : v_(v), path_(std::move(path)) {}

    const nlohmann::json& value() const { return v_; }
    const std::string& path() const { return path_; }

    [[noreturn]] void fail(const std::string& what) const { throw Error(ErrorKind::format, path_ + ": " + what); }

    static const char* type_name(const nlohmann::json& v) {
        if (v.is_null()) return "null";
        if (v.is_boolean()) return "a boolean";
        if (v.is_number()) return "a number";
        if (v.is_string()) return "a string";
        if (v.is_array()) return "an array";
        return "an object";
    }

    void expect_object() const { if (!v_.is_object()) fail(std::string("expected an object, got ") + type_name(v_)); }
    void expect_array() const { if (!v_.is_array()) fail(std::string("expected an array, got ") + type_name(v_)); }

    bool has(const char* key) const { return v_.is_object() && v_.contains(key) && !v_.at(key).is_null(); }

    JsonAt at(const char* key) const {
        expect_object();
        const auto it = v_.find(key);
        if (it == v_.end()) fail(std::string("missing key \"") + key + "\"");
        return JsonAt(*it, path_ + "." + key);
    }
    JsonAt at(std::size_t i) const {
        expect_array();
        if (i >= v_.size()) fail("index " + std::to_string(i) + " out of range");
        return JsonAt(v_[i], path_ + "[" + std::to_string(i) + "]");
    }

    std::string str() const {
        if (!v_.is_string()) fail(std::string("expected a string, got ") + type_name(v_));
        const auto& s = v_.get_ref<const std::string&>();
        if (find_invalid_utf8(s) != std::string_view::npos) fail("string is not valid UTF-8");
        return s;
    }
    bool boolean() const {
        if (!v_.is_boolean()) fail(std::string("expected a boolean, got ") + type_name(v_));
        return v_.get<bool>();
    }
    std::int32_t int32() const {
        const bool ok = v_.is_number_unsigned() ? v_.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT32_MAX)
                                                : v_.is_number_integer() && v_.get<std::int64_t>() >= INT32_MIN &&
                                                      v_.get<std::int64_t>() <= INT32_MAX;
        if (!ok) fail("expected a 32-bit integer");
        return static_cast<std::int32_t>(v_.get<std::int64_t>());
    }
    double number() const {
        if (!v_.is_number()) fail(std::string("expected a number, got ") + type_name(v_));
        return v_.get<double>();
    }
    std::string str_or(const char* key, const std::string& fallback) const { return has(key) ? at(key).str() : fallback; }
    bool bool_or(const char* key, bool fallback) const { return has(key) ? at(key).boolean() : fallback; }
    std::size_t size() const { return v_.size(); }
    std::string type() const { return at("type").str(); }

private:
    const nlohmann::json& v_;
    std::string path_;
};

/// How to turn ids back into text (the decoder of tokenizer.json).
struct DecoderSpec {
    enum Kind { none, byte_level, metaspace, wordpiece, unsupported } kind = none;
    std::string replacement = "\xE2\x96\x81";  ///< Metaspace
    bool strip_first_space = true;             ///< Metaspace: prepend scheme always/first
    std::string prefix = "##";                 ///< WordPiece
    bool cleanup = true;                       ///< WordPiece
    std::string name;                          ///< the decoder type, for the unsupported message
};

}  // namespace detail

/// A tokenizer built from tokenizer.json: BPE (byte-level or not), Unigram or WordPiece.
class TokenizerPipeline {
public:
    /// Parses tokenizer.json text; `source` names it in errors. Nesting deeper than the
    /// checked-JSON layer's limit (io/json.hpp) is refused before nlohmann parses.
    static TokenizerPipeline from_json_string(std::string_view json_text, const std::string& source = "tokenizer.json") {
        const json::ParseOptions limits;
        if (const std::size_t at = json::find_excess_nesting(json_text, limits.max_depth); at != std::string_view::npos)
            throw Error(ErrorKind::format, source + ": invalid JSON (nests deeper than " + std::to_string(limits.max_depth) +
                                               " levels at byte " + std::to_string(at) + ")");
        nlohmann::json root;
        try {
            root = nlohmann::json::parse(json_text.begin(), json_text.end());
        } catch (const nlohmann::json::exception& e) {
            throw Error(ErrorKind::format, source + ": invalid JSON (" + std::string(e.what()).substr(0, 200) + ")");
        }
        return from_json(root, source);
    }

    /// Builds the pipeline from an already parsed tokenizer.json (Tokenizer::from_tokenizer_json
    /// parses once, looks at the shape, then hands the tree here).
    static TokenizerPipeline from_json(const nlohmann::json& root, const std::string& source = "tokenizer.json") {
        TokenizerPipeline p;
        p.source_ = source;
        p.serial_ = next_serial();
        p.load(detail::JsonAt(root, source));
        return p;
    }

    /// Reads and parses a tokenizer.json file through the library's file policy
    /// (io/file_open.hpp: regular files only, size cap, errno named).
    static TokenizerPipeline from_file(const std::filesystem::path& path) {
        return from_json_string(read_text_file(path.string()), path.string());
    }

    /// "BPE", "Unigram" or "WordPiece".
    const std::string& model_type() const noexcept { return model_type_; }

    Encoding encode(std::string_view text, const EncodeOptions& options = {}) const {
        thread_local detail::SequenceTokens first;
        encode_sequence(text, first, early_exit(options, 0));
        return post_process(first, nullptr, options);
    }

    Encoding encode_pair(std::string_view text, std::string_view text_pair, const EncodeOptions& options = {}) const {
        thread_local detail::SequenceTokens first, second;
        encode_sequence(text, first, early_exit(options, 0));
        encode_sequence(text_pair, second, early_exit(options, 1));
        return post_process(first, &second, options);
    }

    std::vector<Encoding> encode_batch(const std::vector<std::string_view>& texts, const EncodeOptions& options = {},
                                       const PaddingOptions& padding = {}) const {
        std::vector<Encoding> out;
        out.reserve(texts.size());
        for (std::string_view t : texts) out.push_back(encode(t, options));
        pad(out, padding);
        return out;
    }

    void pad(std::vector<Encoding>& encodings, const PaddingOptions& padding) const {
        if (padding.strategy == PaddingStrategy::none) return;
        if (pad_id_ < 0) throw Error(ErrorKind::invalid_input, source_ + ": padding asked for, but the tokenizer has no pad token");
        pad_encodings(encodings, padding, pad_id_, pad_token_, 0);
    }

    std::int32_t token_to_id(std::string_view token) const {
        for (const auto& t : added_) if (t.content == token) return t.id;
        return model_->token_to_id(token);
    }

    /// The string of `id`; throws Error(invalid_input) for an id outside the vocabulary.
    const std::string& id_to_token(std::int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<std::size_t>(id)]) {
            throw Error(ErrorKind::invalid_input, "token id " + std::to_string(id) + " is not in the vocabulary");
        }
        return id_to_token_[static_cast<std::size_t>(id)];
    }

    std::size_t vocab_size() const noexcept { return id_to_token_.size(); }

    /// Sets the token pad() uses (the file's `padding.pad_token` is the default; RoBERTa files
    /// have none and take `<pad>` from tokenizer_config.json). Throws Error(invalid_input) when
    /// the token is not in the vocabulary.
    void set_pad_token(const std::string& token) {
        const std::int32_t id = token_to_id(token);
        if (id < 0) throw Error(ErrorKind::invalid_input, source_ + ": pad token '" + token.substr(0, 64) + "' is not in the vocabulary");
        pad_token_ = token;
        pad_id_ = id;
    }
    const std::string& pad_token() const noexcept { return pad_token_; }

    /// Switches the per-thread word cache (on by default). Set it before encoding starts; it is
    /// not synchronised with concurrent encode calls. Off, every word goes through the model
    /// (the benchmark's worst case).
    void set_word_cache(bool on) noexcept { word_cache_ = on; }
    std::int32_t pad_id() const noexcept { return pad_id_; }

    /// Ids back to text through the file's decoder (ByteLevel, Metaspace or WordPiece; none:
    /// tokens joined by spaces). Special added tokens are skipped when `skip_special_tokens`.
    std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const {
        std::vector<std::string_view> tokens;
        for (std::int32_t id : ids) {
            const std::string& t = id_to_token(id);
            if (skip_special_tokens && is_special_[static_cast<std::size_t>(id)]) continue;
            tokens.push_back(t);
        }
        std::string out;
        switch (decoder_.kind) {
            case detail::DecoderSpec::byte_level: {
                std::string raw;
                for (std::string_view t : tokens) {
                    if (detail::byte_level_to_raw(t, raw)) out += raw;
                    else out += t;
                }
                return lossy_utf8(out);
            }
            case detail::DecoderSpec::metaspace: {
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    std::string t(tokens[i]);
                    std::size_t pos = 0;
                    while ((pos = t.find(decoder_.replacement, pos)) != std::string::npos) t.replace(pos, decoder_.replacement.size(), " ");
                    if (i == 0 && decoder_.strip_first_space && !t.empty() && t[0] == ' ') t.erase(0, 1);
                    out += t;
                }
                return out;
            }
            case detail::DecoderSpec::wordpiece: {
                for (std::size_t i = 0; i < tokens.size(); ++i) {
                    std::string_view t = tokens[i];
                    if (i > 0) {
                        if (t.substr(0, decoder_.prefix.size()) == decoder_.prefix) t.remove_prefix(decoder_.prefix.size());
                        else out += ' ';
                    }
                    out += t;
                }
                return decoder_.cleanup ? detail::wordpiece_cleanup(std::move(out)) : out;
            }
            case detail::DecoderSpec::unsupported:
                throw Error(ErrorKind::unsupported, source_ + ": decoder type '" + decoder_.name.substr(0, 64) + "' is not supported for decode()");
            case detail::DecoderSpec::none:
                break;
        }
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (i > 0) out += ' ';
            out += tokens[i];
        }
        return out;
    }

private:
    static std::string lossy_utf8(const std::string& s) {
        std::string out;
        std::size_t pos = 0;
        char32_t c = 0;
        while (pos < s.size()) {
            const std::size_t at = pos;
            if (detail::decode_utf8(s, pos, c)) out.append(s, at, pos - at);
            else {
                out += "\xEF\xBF\xBD";
                pos = at + 1;
            }
        }
        return out;
    }

    static std::size_t early_exit(const EncodeOptions& options, int sequence) {
        if (sequence == 0 && options.truncation == TruncationStrategy::only_second) return 0;
        return options.max_length;
    }

    /// Added tokens, normaliser, pre-tokeniser and model for one text. `stop_after` > 0: the
    /// engine's early exit under truncation (see Tokenizer::early_exit_length).
    void encode_sequence(std::string_view text, detail::SequenceTokens& out, std::size_t stop_after) const {
        detail::require_valid_utf8(text, "tokenizer input");
        if (text.size() > UINT32_MAX) throw Error(ErrorKind::limit, "tokenizer input longer than 4 GiB");
        struct Scratch {
            std::vector<detail::TextPiece> raw_pieces, norm_pieces;
            detail::NormalizedString ns;
            detail::SplitList splits;
            detail::PreTokenizeScratch pre;
            std::vector<detail::ModelToken> tokens;
        };
        thread_local Scratch sc;
        out.clear();
        std::int32_t word = 0;
        auto push_added = [&](std::int32_t token, std::string_view value, std::size_t b, std::size_t e) {
            out.ids.push_back(added_[static_cast<std::size_t>(token)].id);
            out.tokens.emplace_back(value);
            out.offsets.emplace_back(b, e);
            out.word_ids.push_back(word++);
        };
        raw_matcher_.split(text, added_, sc.raw_pieces);
        for (const detail::TextPiece& rp : sc.raw_pieces) {
            if (rp.token >= 0) {
                push_added(rp.token, text.substr(rp.begin, rp.end - rp.begin), rp.begin, rp.end);
                continue;
            }
            sc.ns.assign_original(text, rp.begin, rp.end);
            if (normalizer_) normalizer_->normalize(sc.ns, sc.pre.normalize);
            norm_matcher_.split(sc.ns.text, added_, sc.norm_pieces);
            for (const detail::TextPiece& np : sc.norm_pieces) {
                if (np.token >= 0) {
                    const auto r = sc.ns.original_range(np.begin, np.end);
                    push_added(np.token, std::string_view(sc.ns.text).substr(np.begin, np.end - np.begin), r.first, r.second);
                    continue;
                }
                if (np.begin >= np.end) continue;
                sc.splits.clear();
                sc.ns.slice_to(np.begin, np.end, sc.splits.push());
                if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(sc.splits, sc.pre);
                for (std::size_t i = 0; i < sc.splits.size(); ++i) {
                    const detail::NormalizedString& s = sc.splits[i];
                    if (s.text.empty()) continue;
                    sc.tokens.clear();
                    tokenize_cached(s.text, sc.tokens);
                    for (const detail::ModelToken& t : sc.tokens) {
                        out.ids.push_back(t.id);
                        if (t.from_text) out.tokens.emplace_back(s.text, t.begin, t.end - t.begin);
                        else out.tokens.push_back(id_to_token_[static_cast<std::size_t>(t.id)]);
                        const auto r = s.original_range(t.begin, t.end);
                        out.offsets.emplace_back(r.first, r.second);
                        out.word_ids.push_back(word);
                    }
                    ++word;
                    if (stop_after > 0 && out.size() >= stop_after) return;
                }
            }
        }
    }

    /// The model on one split, through a per-thread cache of recent words (the engine caches
    /// too): natural text repeats its words, and BPE merges or a Viterbi pass cost more than a
    /// look-up. The cache belongs to one pipeline at a time (by serial number, never reused).
    void tokenize_cached(const std::string& word, std::vector<detail::ModelToken>& out) const {
        // Open addressing over a flat arena: no allocation per word once warm.
        struct Cache {
            std::uint64_t owner = 0;
            std::vector<std::uint32_t> slots;  // entry index + 1; 0 = empty
            struct Entry {
                std::uint64_t hash;
                std::uint32_t key_begin, key_len, tok_begin, tok_end;
            };
            std::vector<Entry> entries;
            std::string keys;
            std::vector<detail::ModelToken> tokens;
            void reset(std::uint64_t who) {
                owner = who;
                slots.assign(std::size_t{1} << 16, 0);
                entries.clear();
                keys.clear();
                tokens.clear();
            }
        };
        thread_local Cache cache;
        if (!word_cache_ || word.size() > 48) {
            model_->tokenize(word, out);
            return;
        }
        if (cache.owner != serial_ || cache.entries.size() >= (std::size_t{1} << 15)) cache.reset(serial_);
        const std::uint64_t h = detail::hash_bytes(word);
        const std::size_t mask = cache.slots.size() - 1;
        std::size_t i = h & mask;
        for (; cache.slots[i] != 0; i = (i + 1) & mask) {
            const auto& e = cache.entries[cache.slots[i] - 1];
            if (e.hash == h && e.key_len == word.size() && cache.keys.compare(e.key_begin, e.key_len, word) == 0) {
                out.insert(out.end(), cache.tokens.begin() + e.tok_begin, cache.tokens.begin() + e.tok_end);
                return;
            }
        }
        const std::size_t before = out.size();
        model_->tokenize(word, out);
        typename Cache::Entry e{h, static_cast<std::uint32_t>(cache.keys.size()), static_cast<std::uint32_t>(word.size()),
                                static_cast<std::uint32_t>(cache.tokens.size()), 0};
        cache.keys += word;
        cache.tokens.insert(cache.tokens.end(), out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
        e.tok_end = static_cast<std::uint32_t>(cache.tokens.size());
        cache.entries.push_back(e);
        cache.slots[i] = static_cast<std::uint32_t>(cache.entries.size());
    }

    static std::uint64_t next_serial() {
        static std::atomic<std::uint64_t> counter{0};
        return ++counter;
    }

    Encoding post_process(detail::SequenceTokens& first, detail::SequenceTokens* second, const EncodeOptions& options) const {
        const bool pair = second != nullptr;
        if (options.max_length > 0) {
            const std::size_t n_special = options.add_special_tokens ? post_->added_tokens(pair) : 0;
            if (options.max_length < n_special) {
                throw Error(ErrorKind::invalid_input, "max_length " + std::to_string(options.max_length) + " is shorter than the " +
                                                          std::to_string(n_special) + " special tokens the template adds");
            }
            detail::truncate_sequences(first, second, options.max_length - n_special, options.truncation);
        }
        post_->prepare(first, second);
        return detail::join_sequences(post_->layout(pair), first, second, options.add_special_tokens);
    }

    // ---- loading ------------------------------------------------------------------------

    void load(const detail::JsonAt& root) {
        root.expect_object();
        try {
            load_components(root);
        } catch (const nlohmann::json::exception& e) {  // defensive: every access above is checked
            throw Error(ErrorKind::format, source_ + ": " + std::string(e.what()).substr(0, 200));
        }
    }

    void load_components(const detail::JsonAt& root) {
        if (root.has("normalizer")) normalizer_ = load_normalizer(root.at("normalizer"));
        bool byte_level = false;
        if (root.has("pre_tokenizer")) pre_tokenizer_ = load_pre_tokenizer(root.at("pre_tokenizer"), byte_level);
        model_ = load_model(root.at("model"), byte_level);
        if (byte_level && model_type_ != "BPE") {
            throw Error(ErrorKind::unsupported, source_ + ": a ByteLevel pre-tokenizer with a " + model_type_ + " model");
        }
        load_added_tokens(root);
        if (root.has("post_processor")) post_ = load_post_processor(root.at("post_processor"));
        else post_ = std::make_shared<detail::TemplatePostProcessor>(
                 std::vector<detail::TemplateItem>{detail::TemplateItem{true, 0, {}, {}, 0}},
                 std::vector<detail::TemplateItem>{detail::TemplateItem{true, 0, {}, {}, 0}, detail::TemplateItem{true, 1, {}, {}, 1}});
        if (root.has("decoder")) load_decoder(root.at("decoder"));
        if (root.has("padding")) {
            const detail::JsonAt p = root.at("padding");
            p.expect_object();
            if (p.has("pad_token")) pad_token_ = p.at("pad_token").str();
        }
        build_id_table();
        pad_id_ = -1;
        if (!pad_token_.empty()) {
            pad_id_ = token_to_id(pad_token_);
        }
    }

    std::shared_ptr<detail::Normalizer> load_normalizer(const detail::JsonAt& j) {
        auto n = make_normalizer(j);
        return std::shared_ptr<detail::Normalizer>(std::move(n));
    }

    std::unique_ptr<detail::Normalizer> make_normalizer(const detail::JsonAt& j) {
        j.expect_object();
        const std::string type = j.type();
        if (type == "NFC") return std::make_unique<detail::UnicodeNormalizer>(false, true);
        if (type == "NFD") return std::make_unique<detail::UnicodeNormalizer>(false, false);
        if (type == "NFKC") return std::make_unique<detail::UnicodeNormalizer>(true, true);
        if (type == "NFKD") return std::make_unique<detail::UnicodeNormalizer>(true, false);
        if (type == "Lowercase") return std::make_unique<detail::LowercaseNormalizer>();
        if (type == "Strip") return std::make_unique<detail::StripNormalizer>(j.bool_or("strip_left", true), j.bool_or("strip_right", true));
        if (type == "Prepend") return std::make_unique<detail::PrependNormalizer>(j.at("prepend").str());
        if (type == "Replace") {
            return std::make_unique<detail::ReplaceNormalizer>(load_pattern(j.at("pattern")), j.at("content").str());
        }
        if (type == "Precompiled") {
            const detail::JsonAt cm = j.at("precompiled_charsmap");
            const auto blob = detail::base64_decode(cm.str(), cm.path());
            return std::make_unique<detail::PrecompiledNormalizer>(detail::PrecompiledCharsMap(blob, cm.path()));
        }
        if (type == "BertNormalizer") {
            detail::BertNormalizerSettings s;
            s.clean_text = j.bool_or("clean_text", true);
            s.handle_chinese_chars = j.bool_or("handle_chinese_chars", true);
            s.lowercase = j.bool_or("lowercase", true);
            s.strip_accents = j.has("strip_accents") ? j.at("strip_accents").boolean() : s.lowercase;
            return std::make_unique<detail::BertNormalizer>(s);
        }
        if (type == "Sequence") {
            const detail::JsonAt list = j.at("normalizers");
            list.expect_array();
            std::vector<std::unique_ptr<detail::Normalizer>> items;
            for (std::size_t i = 0; i < list.size(); ++i) items.push_back(make_normalizer(list.at(i)));
            return std::make_unique<detail::SequenceNormalizer>(std::move(items));
        }
        throw Error(ErrorKind::unsupported, j.path() + ".type: normalizer '" + type.substr(0, 64) + "' is not supported");
    }

    static detail::SimplePattern load_pattern(const detail::JsonAt& j) {
        j.expect_object();
        if (j.has("String")) return detail::SimplePattern::literal(j.at("String").str());
        if (j.has("Regex")) return detail::SimplePattern::regex(j.at("Regex").str(), j.path() + ".Regex");
        j.fail("expected {\"String\": ...} or {\"Regex\": ...}");
    }

    std::shared_ptr<detail::PreTokenizer> load_pre_tokenizer(const detail::JsonAt& j, bool& byte_level) {
        return std::shared_ptr<detail::PreTokenizer>(make_pre_tokenizer(j, byte_level));
    }

    std::unique_ptr<detail::PreTokenizer> make_pre_tokenizer(const detail::JsonAt& j, bool& byte_level) {
        j.expect_object();
        const std::string type = j.type();
        if (type == "ByteLevel") {
            byte_level = true;
            return std::make_unique<detail::ByteLevelPreTokenizer>(j.bool_or("add_prefix_space", true), j.bool_or("use_regex", true));
        }
        if (type == "Metaspace") {
            const std::string rep = j.str_or("replacement", "\xE2\x96\x81");
            std::size_t q = 0;
            char32_t cp = 0;
            if (rep.empty() || !detail::decode_utf8(rep, q, cp) || q != rep.size()) j.fail("replacement must be one character");
            auto scheme = detail::MetaspacePreTokenizer::Prepend::always;
            if (j.has("prepend_scheme")) {
                const std::string s = j.at("prepend_scheme").str();
                if (s == "always") scheme = detail::MetaspacePreTokenizer::Prepend::always;
                else if (s == "first") scheme = detail::MetaspacePreTokenizer::Prepend::first;
                else if (s == "never") scheme = detail::MetaspacePreTokenizer::Prepend::never;
                else j.fail("prepend_scheme must be always, first or never");
            } else if (j.has("add_prefix_space")) {
                scheme = j.at("add_prefix_space").boolean() ? detail::MetaspacePreTokenizer::Prepend::always
                                                            : detail::MetaspacePreTokenizer::Prepend::never;
            }
            return std::make_unique<detail::MetaspacePreTokenizer>(cp, scheme, j.bool_or("split", true));
        }
        if (type == "WhitespaceSplit") return std::make_unique<detail::WhitespaceSplitPreTokenizer>();
        if (type == "BertPreTokenizer") return std::make_unique<detail::BertPreTokenizer>();
        if (type == "Sequence") {
            const detail::JsonAt list = j.at("pretokenizers");
            list.expect_array();
            std::vector<std::unique_ptr<detail::PreTokenizer>> items;
            for (std::size_t i = 0; i < list.size(); ++i) items.push_back(make_pre_tokenizer(list.at(i), byte_level));
            return std::make_unique<detail::SequencePreTokenizer>(std::move(items));
        }
        throw Error(ErrorKind::unsupported, j.path() + ".type: pre-tokenizer '" + type.substr(0, 64) + "' is not supported");
    }

    std::shared_ptr<detail::TokenModel> load_model(const detail::JsonAt& j, bool byte_level) {
        j.expect_object();
        std::string type;
        if (j.has("type")) {
            type = j.at("type").str();
        } else if (j.has("merges")) {
            type = "BPE";  // old serialisations omit the type; the engine infers it from the fields
        } else if (j.has("vocab") && j.at("vocab").value().is_array()) {
            type = "Unigram";
        } else if (j.has("vocab")) {
            type = "WordPiece";
        } else {
            j.fail("no \"type\" and no vocab to infer the model from");
        }
        model_type_ = type;
        if (type == "BPE") return load_bpe(j, byte_level);
        if (type == "Unigram") return load_unigram(j);
        if (type == "WordPiece") return load_wordpiece(j);
        throw Error(ErrorKind::unsupported, j.path() + ".type: model '" + type.substr(0, 64) + "' is not supported (BPE, Unigram, WordPiece)");
    }

    static std::vector<std::pair<std::string, std::int32_t>> load_vocab_object(const detail::JsonAt& v) {
        v.expect_object();
        std::vector<std::pair<std::string, std::int32_t>> out;
        out.reserve(v.size());
        for (auto it = v.value().begin(); it != v.value().end(); ++it) {
            if (detail::find_invalid_utf8(it.key()) != std::string_view::npos) v.fail("a token is not valid UTF-8");
            out.emplace_back(it.key(), detail::JsonAt(it.value(), v.path() + "[\"" + it.key().substr(0, 32) + "\"]").int32());
        }
        return out;
    }

    std::shared_ptr<detail::TokenModel> load_bpe(const detail::JsonAt& j, bool byte_level) {
        if (j.has("dropout") && j.at("dropout").number() != 0.0) {
            throw Error(ErrorKind::unsupported, j.path() + ".dropout: BPE dropout is random and not supported");
        }
        const auto vocab = load_vocab_object(j.at("vocab"));
        const detail::JsonAt m = j.at("merges");
        m.expect_array();
        std::vector<std::pair<std::string, std::string>> merges;
        merges.reserve(m.size());
        for (std::size_t i = 0; i < m.size(); ++i) {
            const detail::JsonAt e = m.at(i);
            if (e.value().is_string()) {
                const std::string s = e.str();
                const std::size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) e.fail("a merge must be two tokens separated by one space");
                merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
            } else if (e.value().is_array() && e.size() == 2) {
                merges.emplace_back(e.at(std::size_t{0}).str(), e.at(std::size_t{1}).str());
            } else {
                e.fail("a merge must be a string \"a b\" or a pair [\"a\", \"b\"]");
            }
        }
        detail::BpeSettings s;
        s.byte_level = byte_level;
        s.continuing_subword_prefix = j.str_or("continuing_subword_prefix", "");
        s.end_of_word_suffix = j.str_or("end_of_word_suffix", "");
        s.fuse_unk = j.bool_or("fuse_unk", false);
        s.byte_fallback = j.bool_or("byte_fallback", false);
        s.ignore_merges = j.bool_or("ignore_merges", false);
        if (j.has("unk_token")) {
            const std::string unk = j.at("unk_token").str();
            for (const auto& [tok, id] : vocab) if (tok == unk) s.unk_id = id;  // the last entry wins, as in a map
            if (s.unk_id < 0) j.fail("unk_token is not in the vocabulary");
        }
        auto model = std::make_shared<detail::BpeModel>(vocab, merges, s, j.path());
        return model;
    }

    std::shared_ptr<detail::TokenModel> load_unigram(const detail::JsonAt& j) {
        const detail::JsonAt v = j.at("vocab");
        v.expect_array();
        std::vector<std::pair<std::string, double>> pieces;
        pieces.reserve(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            const detail::JsonAt e = v.at(i);
            e.expect_array();
            if (e.size() != 2) e.fail("a piece must be [string, score]");
            pieces.emplace_back(e.at(std::size_t{0}).str(), e.at(std::size_t{1}).number());
        }
        const std::int32_t unk = j.has("unk_id") ? j.at("unk_id").int32() : -1;
        if (unk < -1) j.fail("unk_id must not be negative");
        return std::make_shared<detail::UnigramModel>(std::move(pieces), unk, j.bool_or("byte_fallback", false), j.path());
    }

    std::shared_ptr<detail::TokenModel> load_wordpiece(const detail::JsonAt& j) {
        const auto vocab = load_vocab_object(j.at("vocab"));
        detail::WordPieceModelSettings s;
        s.unk_token = j.str_or("unk_token", "[UNK]");
        s.prefix = j.str_or("continuing_subword_prefix", "##");
        if (j.has("max_input_chars_per_word")) {
            const std::int32_t m = j.at("max_input_chars_per_word").int32();
            if (m < 0) j.fail("max_input_chars_per_word must not be negative");
            s.max_input_chars_per_word = static_cast<std::size_t>(m);
        }
        return std::make_shared<detail::WordPieceModel>(vocab, s, j.path());
    }

    void load_added_tokens(const detail::JsonAt& root) {
        if (!root.has("added_tokens")) return;
        const detail::JsonAt list = root.at("added_tokens");
        list.expect_array();
        for (std::size_t i = 0; i < list.size(); ++i) {
            const detail::JsonAt t = list.at(i);
            t.expect_object();
            detail::PipelineAddedToken a;
            a.id = t.at("id").int32();
            if (a.id < 0) t.fail("id must not be negative");
            a.content = t.at("content").str();
            a.special = t.bool_or("special", false);
            a.single_word = t.bool_or("single_word", false);
            a.lstrip = t.bool_or("lstrip", false);
            a.rstrip = t.bool_or("rstrip", false);
            a.normalized = t.bool_or("normalized", !a.special);
            if (a.content.empty()) continue;  // the engine ignores empty added tokens
            added_.push_back(std::move(a));
        }
        std::vector<std::string> raw, norm;
        std::vector<std::int32_t> raw_index, norm_index;
        detail::NormalizeScratch scratch;
        for (std::size_t i = 0; i < added_.size(); ++i) {
            if (!added_[i].normalized) {
                raw.push_back(added_[i].content);
                raw_index.push_back(static_cast<std::int32_t>(i));
                continue;
            }
            detail::NormalizedString ns;
            ns.assign_original(added_[i].content, 0, added_[i].content.size());
            if (normalizer_) normalizer_->normalize(ns, scratch);
            norm.push_back(ns.text);
            norm_index.push_back(static_cast<std::int32_t>(i));
        }
        raw_matcher_.build(std::move(raw), std::move(raw_index));
        norm_matcher_.build(std::move(norm), std::move(norm_index));
    }

    std::shared_ptr<detail::PostProcessor> load_post_processor(const detail::JsonAt& j) {
        return std::shared_ptr<detail::PostProcessor>(make_post_processor(j));
    }

    std::pair<std::string, std::int32_t> token_pair(const detail::JsonAt& j) const {
        j.expect_array();
        if (j.size() != 2) j.fail("expected [token, id]");
        const std::int32_t id = j.at(std::size_t{1}).int32();
        if (id < 0) j.fail("negative token id");
        return {j.at(std::size_t{0}).str(), id};
    }

    std::unique_ptr<detail::PostProcessor> make_post_processor(const detail::JsonAt& j) {
        j.expect_object();
        const std::string type = j.type();
        using detail::TemplateItem;
        if (type == "RobertaProcessing") {
            const auto cls = token_pair(j.at("cls")), sep = token_pair(j.at("sep"));
            return std::make_unique<detail::RobertaPostProcessor>(cls.first, cls.second, sep.first, sep.second,
                                                                  j.bool_or("trim_offsets", true), j.bool_or("add_prefix_space", true));
        }
        if (type == "BertProcessing") {
            const auto cls = token_pair(j.at("cls")), sep = token_pair(j.at("sep"));
            const TemplateItem c{false, 0, {cls.second}, {cls.first}, 0}, s0{false, 0, {sep.second}, {sep.first}, 0},
                s1{false, 0, {sep.second}, {sep.first}, 1};
            return std::make_unique<detail::TemplatePostProcessor>(
                std::vector<TemplateItem>{c, TemplateItem{true, 0, {}, {}, 0}, s0},
                std::vector<TemplateItem>{c, TemplateItem{true, 0, {}, {}, 0}, s0, TemplateItem{true, 1, {}, {}, 1}, s1});
        }
        if (type == "ByteLevel") {
            return std::make_unique<detail::ByteLevelPostProcessor>(j.bool_or("trim_offsets", true), j.bool_or("add_prefix_space", true));
        }
        if (type == "TemplateProcessing") {
            // special_tokens: name -> {ids, tokens}
            std::vector<std::pair<std::string, TemplateItem>> specials;
            if (j.has("special_tokens")) {
                const detail::JsonAt st = j.at("special_tokens");
                st.expect_object();
                for (auto it = st.value().begin(); it != st.value().end(); ++it) {
                    const detail::JsonAt e(it.value(), st.path() + "[\"" + it.key().substr(0, 32) + "\"]");
                    const detail::JsonAt ids = e.at("ids"), toks = e.at("tokens");
                    ids.expect_array();
                    toks.expect_array();
                    if (ids.size() != toks.size()) e.fail("ids and tokens differ in length");
                    TemplateItem item;
                    for (std::size_t k = 0; k < ids.size(); ++k) {
                        const std::int32_t id = ids.at(k).int32();
                        if (id < 0) ids.fail("negative token id");
                        item.ids.push_back(id);
                        item.tokens.push_back(toks.at(k).str());
                    }
                    specials.emplace_back(it.key(), std::move(item));
                }
            }
            auto parse = [&](const char* key) {
                const detail::JsonAt list = j.at(key);
                list.expect_array();
                std::vector<TemplateItem> out;
                for (std::size_t i = 0; i < list.size(); ++i) {
                    const detail::JsonAt piece = list.at(i);
                    piece.expect_object();
                    TemplateItem item;
                    if (piece.has("Sequence")) {
                        const detail::JsonAt s = piece.at("Sequence");
                        const std::string id = s.at("id").str();
                        if (id != "A" && id != "B") s.fail("sequence id must be A or B");
                        item.is_sequence = true;
                        item.sequence = id == "A" ? 0 : 1;
                        item.type_id = s.at("type_id").int32();
                    } else if (piece.has("SpecialToken")) {
                        const detail::JsonAt s = piece.at("SpecialToken");
                        const std::string name = s.at("id").str();
                        bool found = false;
                        for (const auto& [n, sp] : specials) {
                            if (n == name) {
                                item = sp;
                                found = true;
                                break;
                            }
                        }
                        if (!found) s.fail("special token is not defined in special_tokens");
                        item.type_id = s.at("type_id").int32();
                    } else {
                        piece.fail("expected a Sequence or a SpecialToken");
                    }
                    out.push_back(std::move(item));
                }
                return out;
            };
            return std::make_unique<detail::TemplatePostProcessor>(parse("single"), parse("pair"));
        }
        if (type == "Sequence") {
            const detail::JsonAt list = j.at("processors");
            list.expect_array();
            std::vector<std::unique_ptr<detail::PostProcessor>> items;
            for (std::size_t i = 0; i < list.size(); ++i) items.push_back(make_post_processor(list.at(i)));
            return std::make_unique<detail::SequencePostProcessor>(std::move(items));
        }
        throw Error(ErrorKind::unsupported, j.path() + ".type: post-processor '" + type.substr(0, 64) + "' is not supported");
    }

    void load_decoder(const detail::JsonAt& j) {
        j.expect_object();
        const std::string type = j.type();
        decoder_.name = type;
        if (type == "ByteLevel") decoder_.kind = detail::DecoderSpec::byte_level;
        else if (type == "Metaspace") {
            decoder_.kind = detail::DecoderSpec::metaspace;
            decoder_.replacement = j.str_or("replacement", decoder_.replacement);
            if (j.has("prepend_scheme")) decoder_.strip_first_space = j.at("prepend_scheme").str() != "never";
            else decoder_.strip_first_space = j.bool_or("add_prefix_space", true);
        } else if (type == "WordPiece") {
            decoder_.kind = detail::DecoderSpec::wordpiece;
            decoder_.prefix = j.str_or("prefix", "##");
            decoder_.cleanup = j.bool_or("cleanup", true);
        } else {
            decoder_.kind = detail::DecoderSpec::unsupported;
        }
    }

    void build_id_table() {
        const auto& vocab = model_->vocabulary();
        std::size_t size = vocab.size();
        for (const auto& a : added_) size = std::max(size, static_cast<std::size_t>(a.id) + 1);
        auto check_special = [&](const std::vector<detail::TemplateItem>& layout) {
            for (const auto& item : layout) for (std::int32_t id : item.ids) size = std::max(size, static_cast<std::size_t>(id) + 1);
        };
        check_special(post_->layout(false));
        check_special(post_->layout(true));
        if (size > 4 * (vocab.size() + added_.size()) + 1024) {
            throw Error(ErrorKind::format, source_ + ": token ids are sparse (largest " + std::to_string(size - 1) + " for " +
                                               std::to_string(vocab.size()) + " tokens)");
        }
        id_to_token_.assign(size, std::string());
        has_token_.assign(size, false);
        is_special_.assign(size, false);
        for (std::size_t i = 0; i < vocab.size(); ++i) {
            id_to_token_[i] = vocab[i];
            has_token_[i] = !vocab[i].empty() || model_->token_to_id(vocab[i]) == static_cast<std::int32_t>(i);
        }
        for (const auto& a : added_) {
            const auto i = static_cast<std::size_t>(a.id);
            id_to_token_[i] = a.content;
            has_token_[i] = true;
            is_special_[i] = a.special;
        }
        for (bool pair : {false, true}) {
            for (const auto& item : post_->layout(pair)) {
                for (std::size_t k = 0; k < item.ids.size(); ++k) {
                    const auto i = static_cast<std::size_t>(item.ids[k]);
                    if (!has_token_[i]) id_to_token_[i] = item.tokens[k];
                    has_token_[i] = true;
                }
            }
        }
    }

    std::string source_;
    std::uint64_t serial_ = 0;  ///< identifies this pipeline's entries in the per-thread word cache
    bool word_cache_ = true;
    std::string model_type_;
    std::shared_ptr<detail::Normalizer> normalizer_;
    std::shared_ptr<detail::PreTokenizer> pre_tokenizer_;
    std::shared_ptr<detail::TokenModel> model_;
    std::shared_ptr<detail::PostProcessor> post_;
    detail::DecoderSpec decoder_;
    std::vector<detail::PipelineAddedToken> added_;
    detail::AddedTokensMatcher raw_matcher_, norm_matcher_;
    std::vector<std::string> id_to_token_;
    std::vector<bool> has_token_;
    std::vector<bool> is_special_;
    std::string pad_token_;
    std::int32_t pad_id_ = -1;
};

/// Loads a tokenizer.json file into a TokenizerPipeline.
inline TokenizerPipeline load_tokenizer_pipeline(const std::filesystem::path& path) { return TokenizerPipeline::from_file(path); }

}  // namespace minibert
