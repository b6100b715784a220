// minibert::Tokenizer: BERT WordPiece tokenisation identical to Hugging Face's
// BertTokenizerFast (the Rust `tokenizers` engine).
//
// Loads a model folder (tokenizer.json preferred, else vocab.txt + tokenizer_config.json) or
// the same files from memory; encodes single texts, pairs and batches with truncation and
// padding; gives ids, type ids, masks, tokens, UTF-8 byte offsets and word ids.
//
// A Tokenizer is immutable after loading: any number of threads may encode with one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/error.hpp"
#include "minibert/io/file_open.hpp"
#include "minibert/io/json.hpp"
#include "minibert/tokenizer/added_vocabulary.hpp"
#include "minibert/tokenizer/basic_tokenizer.hpp"
#include "minibert/tokenizer/encoding.hpp"
#include "minibert/tokenizer/tokenizer_pipeline.hpp"
#include "minibert/tokenizer/unicode.hpp"
#include "minibert/tokenizer/wordpiece.hpp"
#include "../separate_compilation.hpp"

namespace minibert {

/// Settings from tokenizer_config.json (the vocab.txt path), with BERT defaults for anything
/// the file does not say.
struct TokenizerConfig {
    NormalizerSettings normalizer;  ///< do_lower_case, strip_accents, tokenize_chinese_chars
    WordPieceSettings wordpiece;    ///< unk_token (the rest are BERT defaults)
    std::string cls_token = "[CLS]";
    std::string sep_token = "[SEP]";
    std::string pad_token = "[PAD]";
    std::string unk_token = "[UNK]";
    std::string mask_token = "[MASK]";
    std::vector<std::string> additional_special_tokens;
    /// The longest input the model takes, in tokens (HF's huge "no limit" values become SIZE_MAX).
    std::size_t model_max_length = 512;

    /// Parses tokenizer_config.json text; `source` names it in errors. Empty text = defaults.
    static TokenizerConfig from_json(std::string_view text, const std::string& source = "tokenizer_config.json");
};

namespace detail {

/// Parses a tokenizer file through the checked-JSON layer (io/json.hpp: depth-limited; no value
/// is ever dumped into a message), keeping this file's "<source>: invalid JSON" wording.
inline nlohmann::json parse_json(std::string_view text, const std::string& source) {
    try {
        return json::parse(text, source);
    } catch (const Error& e) {
        throw Error(ErrorKind::format, source + ": invalid JSON (" + e.message() + ")");
    }
}

/// Reads an optional key of a JSON object with a type check that names file and key.
template <class T>
std::optional<T> json_get(const nlohmann::json& obj, const char* key, const std::string& where) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    bool ok;
    if constexpr (std::is_same_v<T, bool>) {
        ok = it->is_boolean();
    } else if constexpr (std::is_same_v<T, std::string>) {
        ok = it->is_string();
    } else {
        ok = it->is_number_integer() && *it >= 0;
    }
    if (!ok) throw Error(ErrorKind::format, where + "." + key + ": unexpected value " + json::describe(*it));
    return it->get<T>();
}

/// A 32-bit integer from JSON. Refuses floats and out-of-range values: nlohmann's
/// get<int32_t>() casts them, which is undefined for 1e30 and silently wraps 2^32 + 1.
inline std::int32_t json_int32(const nlohmann::json& v, const std::string& where) {
    const bool ok = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT32_MAX)
                                           : v.is_number_integer() && v.get<std::int64_t>() >= INT32_MIN &&
                                                 v.get<std::int64_t>() <= INT32_MAX;
    if (!ok) throw Error(ErrorKind::format, where + ": expected a 32-bit integer, got " + json::describe(v));
    return static_cast<std::int32_t>(v.get<std::int64_t>());
}

/// A special token in tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}.
inline std::optional<std::string> config_token(const nlohmann::json& cfg, const char* key, const std::string& source) {
    const auto it = cfg.find(key);
    if (it == cfg.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        return (*it)["content"].get<std::string>();
    }
    throw Error(ErrorKind::format, source + ": " + key + " must be a string or an object with \"content\"");
}

/// One element of a post-processor template: a special token or a sequence (0 = A, 1 = B).
/// True when a parsed tokenizer.json has exactly BERT's shape, the one the fused WordPiece path
/// below reproduces: model WordPiece (or untyped with a vocab object and no merges); normaliser
/// BertNormalizer or none; pre-tokeniser BertPreTokenizer or none; post-processor
/// TemplateProcessing, BertProcessing or none; no added token matched on normalised text.
/// Everything else (BPE, Unigram, RobertaProcessing, Metaspace, NFC, normalised added tokens,
/// ...) goes to TokenizerPipeline. A malformed part (a type that is not a string, a part that is
/// not an object) counts as BERT-shaped so that the fused loader reports it with its wording.
inline bool has_bert_shape(const nlohmann::json& root) {
    if (!root.is_object()) return true;
    const auto model = root.find("model");
    if (model == root.end() || !model->is_object()) return true;
    if (const auto t = model->find("type"); t != model->end() && !t->is_null()) {
        if (t->is_string() && t->get_ref<const std::string&>() != "WordPiece") return false;
    } else {
        if (model->contains("merges")) return false;
        if (const auto v = model->find("vocab"); v != model->end() && v->is_array()) return false;  // Unigram
    }
    auto part_is = [&](const char* key, std::initializer_list<const char*> allowed) {
        const auto it = root.find(key);
        if (it == root.end() || !it->is_object()) return true;
        const auto t = it->find("type");
        if (t == it->end() || !t->is_string()) return true;
        for (const char* a : allowed) if (t->get_ref<const std::string&>() == a) return true;
        return false;
    };
    if (!part_is("normalizer", {"BertNormalizer"}) || !part_is("pre_tokenizer", {"BertPreTokenizer"}) ||
        !part_is("post_processor", {"TemplateProcessing", "BertProcessing"}))
        return false;
    if (const auto it = root.find("added_tokens"); it != root.end() && it->is_array()) {
        for (const auto& t : *it) {
            if (!t.is_object()) continue;
            const auto special = t.find("special");
            const bool is_special = special != t.end() && special->is_boolean() && special->get<bool>();
            const auto normalized = t.find("normalized");
            // The fused loader's default (and transformers'): normalised unless special.
            const bool is_normalized = normalized != t.end() && normalized->is_boolean() ? normalized->get<bool>() : !is_special;
            if (is_normalized) return false;
        }
    }
    return true;
}

struct TemplatePiece {
    bool is_sequence = false;
    int sequence = 0;
    std::string special;  ///< key into the special-token table
    std::int32_t type_id = 0;
};

/// Per-thread working memory of Tokenizer::encode.
struct EncodeScratch {
    std::vector<NormalizedChar> chars;
    std::vector<WordSpan> words;
    std::vector<WordPiecePiece> pieces;
    std::vector<std::uint32_t> char_pos;
    std::string word;
};

struct TemplateSpecial {
    std::vector<std::int32_t> ids;
    std::vector<std::string> tokens;
};

}  // namespace detail

inline TokenizerConfig TokenizerConfig::from_json(std::string_view text, const std::string& source) {
    TokenizerConfig config;
    if (text.empty()) return config;
    const nlohmann::json cfg = detail::parse_json(text, source);
    if (!cfg.is_object()) throw Error(ErrorKind::format, source + ": expected a JSON object");
    const bool lower = detail::json_get<bool>(cfg, "do_lower_case", source).value_or(true);
    config.normalizer.lowercase = lower;
    config.normalizer.strip_accents = detail::json_get<bool>(cfg, "strip_accents", source).value_or(lower);
    config.normalizer.handle_chinese_chars =
        detail::json_get<bool>(cfg, "tokenize_chinese_chars", source).value_or(true);
    if (auto t = detail::config_token(cfg, "cls_token", source)) config.cls_token = *t;
    if (auto t = detail::config_token(cfg, "sep_token", source)) config.sep_token = *t;
    if (auto t = detail::config_token(cfg, "pad_token", source)) config.pad_token = *t;
    if (auto t = detail::config_token(cfg, "unk_token", source)) config.unk_token = *t;
    if (auto t = detail::config_token(cfg, "mask_token", source)) config.mask_token = *t;
    config.wordpiece.unk_token = config.unk_token;
    if (const auto it = cfg.find("additional_special_tokens"); it != cfg.end() && it->is_array()) {
        for (const auto& t : *it) {
            if (t.is_string()) config.additional_special_tokens.push_back(t.get<std::string>());
            else if (t.is_object() && t.contains("content") && t["content"].is_string())
                config.additional_special_tokens.push_back(t["content"].get<std::string>());
            else throw Error(ErrorKind::format, source + ": additional_special_tokens entry " + json::describe(t) + " is not a token");
        }
    }
    if (const auto it = cfg.find("model_max_length"); it != cfg.end() && !it->is_null()) {
        if (!it->is_number() || it->get<double>() < 0) {
            throw Error(ErrorKind::format, source + ".model_max_length: unexpected value " + json::describe(*it));
        }
        // transformers writes int(1e30) for "no limit"; anything past 2^53 means the same.
        const double value = it->get<double>();
        config.model_max_length = value >= 9.0e15 ? SIZE_MAX : static_cast<std::size_t>(value);
    }
    return config;
}

/// Which engine a Tokenizer runs (Tokenizer::kind()).
enum class TokenizerKind {
    wordpiece,  ///< the fused BERT WordPiece path (vocab.txt, or a tokenizer.json of exactly BERT's shape)
    pipeline,   ///< TokenizerPipeline: every other tokenizer.json (BPE, Unigram, RoBERTa/T5/... templates)
};

/// A Hugging Face fast tokenizer. A vocab.txt or a tokenizer.json of exactly BERT's shape runs
/// the fused WordPiece path (BertTokenizerFast semantics); any other tokenizer.json (RoBERTa,
/// XLM-R, CamemBERT, MPNet, ModernBERT, T5, ...) is delegated to TokenizerPipeline. Both give
/// the same Encoding, truncation and padding, so callers need not know which one runs.
class Tokenizer {
public:
    /// Loads a folder: tokenizer.json when present (plus tokenizer_config.json for
    /// model_max_length and the pad token), else vocab.txt with tokenizer_config.json
    /// (optional; without it, BERT-uncased defaults apply: lower-casing on).
    MINIBERT_COMPILED_INLINE static Tokenizer from_folder(const std::filesystem::path& dir);

    /// Builds a tokenizer from vocab.txt text (one token per line, id = line number) and the
    /// settings of tokenizer_config.json. `source` names the vocabulary in errors.
    MINIBERT_COMPILED_INLINE static Tokenizer from_vocab(std::string_view vocab_text,
                                                         const TokenizerConfig& config = {},
                                                         const std::string& source = "vocab.txt");

    /// Builds a tokenizer from tokenizer.json text and optional tokenizer_config.json text
    /// (model_max_length, pad token). A file of exactly BERT's shape (detail::has_bert_shape)
    /// runs the fused WordPiece path; any other goes to TokenizerPipeline, whose pad token is
    /// the file's `padding.pad_token`, else tokenizer_config.json's `pad_token` (RoBERTa's
    /// tokenizer.json has no padding section). The sources name the files in errors.
    MINIBERT_COMPILED_INLINE static Tokenizer from_tokenizer_json(
        std::string_view json_text, std::string_view config_text = {}, const std::string& source = "tokenizer.json",
        const std::string& config_source = "tokenizer_config.json");

    /// Encodes one text. Throws Error(invalid_input) for invalid UTF-8 (naming the byte).
    MINIBERT_COMPILED_INLINE Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;

    /// Encodes a pair: [CLS] A [SEP] B [SEP] with type ids 0 / 1 (from the template).
    MINIBERT_COMPILED_INLINE Encoding encode_pair(std::string_view text, std::string_view text_pair,
                                                  const EncodeOptions& options = {}) const;

    /// Encodes many texts, then pads them as `padding` says.
    MINIBERT_COMPILED_INLINE std::vector<Encoding> encode_batch(const std::vector<std::string_view>& texts,
                                                                const EncodeOptions& options = {},
                                                                const PaddingOptions& padding = {}) const;

    /// Encodes many pairs, then pads them as `padding` says.
    MINIBERT_COMPILED_INLINE std::vector<Encoding> encode_pair_batch(
        const std::vector<std::pair<std::string_view, std::string_view>>& pairs, const EncodeOptions& options = {},
        const PaddingOptions& padding = {}) const;

    /// Pads encodings with the pad token. Throws Error(config) when the vocabulary has none.
    void pad(std::vector<Encoding>& encodings, const PaddingOptions& padding) const {
        if (padding.strategy == PaddingStrategy::none) return;
        if (pipeline_) {
            if (pipeline_->pad_id() < 0)
                throw Error(ErrorKind::config, source_ + ": no pad token to pad with (neither the file's padding section "
                                                         "nor tokenizer_config.json names one in the vocabulary)");
            return pipeline_->pad(encodings, padding);
        }
        if (pad_id_ < 0) throw Error(ErrorKind::config, source_ + ": no pad token '" + pad_token_ + "' to pad with");
        pad_encodings(encodings, padding, pad_id_, pad_token_, pad_type_id_);
    }

    /// The tokens of `text` without special tokens (normalise, pre-tokenise, WordPiece).
    MINIBERT_COMPILED_INLINE std::vector<std::string> tokenize(std::string_view text) const;

    /// Turns ids back into text with the WordPiece decoder (prefix joins, " ." -> "." etc.,
    /// token by token as the Rust decoder does). Throws Error(invalid_input) for unknown ids.
    MINIBERT_COMPILED_INLINE std::string decode(const std::vector<std::int32_t>& ids,
                                                bool skip_special_tokens = true) const;

    /// The id of `token` (added tokens first, then the vocabulary), or -1.
    std::int32_t token_to_id(std::string_view token) const {
        if (pipeline_) return pipeline_->token_to_id(token);
        for (const AddedToken& t : added_tokens_) if (t.content == token) return t.id;
        return vocab_.find(token);
    }

    /// The token string of `id`; throws Error(invalid_input) for an id with no token.
    const std::string& id_to_token(std::int32_t id) const {
        if (pipeline_) return pipeline_->id_to_token(id);
        if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<std::size_t>(id)]) {
            throw Error(ErrorKind::invalid_input, "unknown token id " + std::to_string(id));
        }
        return id_to_token_[static_cast<std::size_t>(id)];
    }

    /// One past the largest id (the rows a model's word embedding needs).
    std::size_t vocab_size() const noexcept { return pipeline_ ? pipeline_->vocab_size() : id_to_token_.size(); }
    /// Number of special tokens the template adds to a single text (is_pair false) or a pair.
    std::size_t num_special_tokens(bool is_pair) const noexcept {
        if (pipeline_) return is_pair ? pipeline_specials_pair_ : pipeline_specials_single_;
        return count_specials(is_pair ? pair_ : single_);
    }
    /// Which engine runs: the fused WordPiece path or TokenizerPipeline.
    TokenizerKind kind() const noexcept { return pipeline_ ? TokenizerKind::pipeline : TokenizerKind::wordpiece; }
    /// The pipeline this tokenizer delegates to (its model_type(), ...), or nullptr on the fused path.
    const TokenizerPipeline* pipeline() const noexcept { return pipeline_.get(); }
    /// The normaliser settings of the fused path (all off for a pipeline tokenizer, whose
    /// normaliser is the file's own).
    const NormalizerSettings& normalizer() const noexcept { return normalizer_; }
    /// The WordPiece settings of the fused path. For a pipeline tokenizer only
    /// continuing_subword_prefix means something: "##" for a WordPiece model, else empty (BPE
    /// and Unigram tokens carry no continuation prefix), which is what token grouping reads.
    const WordPieceSettings& wordpiece() const noexcept { return pipeline_ ? pipeline_wordpiece_ : wordpiece_.settings(); }
    /// tokenizer_config.json settings (defaults where absent).
    const TokenizerConfig& config() const noexcept { return config_; }
    /// The added tokens matched verbatim in the text (fused path; empty for a pipeline
    /// tokenizer, whose added tokens live in TokenizerPipeline).
    const std::vector<AddedToken>& added_tokens() const noexcept { return added_tokens_; }
    /// Pad token id, or -1 when the vocabulary has no pad token.
    std::int32_t pad_id() const noexcept { return pipeline_ ? pipeline_->pad_id() : pad_id_; }

private:
    Tokenizer() = default;

    /// Builds the delegate for a tokenizer.json that is not BERT-shaped. The pad token: the
    /// file's padding section if it names one, else tokenizer_config.json's pad_token when that
    /// token is in the vocabulary (else padding is refused with an Error when asked for).
    void init_pipeline(const nlohmann::json& root, std::string_view config_text, const std::string& config_source) {
        auto pipeline = std::make_shared<TokenizerPipeline>(TokenizerPipeline::from_json(root, source_));
        if (pipeline->pad_id() < 0 && !config_text.empty()) {
            const nlohmann::json cfg = detail::parse_json(config_text, config_source);
            if (cfg.is_object()) {
                if (const auto pad = detail::config_token(cfg, "pad_token", config_source); pad && pipeline->token_to_id(*pad) >= 0)
                    pipeline->set_pad_token(*pad);
            }
        }
        // The specials the post-processor adds do not depend on the text: count them once.
        pipeline_specials_single_ = pipeline->encode("").size();
        pipeline_specials_pair_ = pipeline->encode_pair("", "").size();
        pipeline_wordpiece_ = WordPieceSettings{};
        if (pipeline->model_type() != "WordPiece") pipeline_wordpiece_.continuing_subword_prefix.clear();
        normalizer_ = NormalizerSettings{false, false, false, false};
        pipeline_ = std::move(pipeline);
    }

    void init_model(detail::StringIdMap vocab, const WordPieceSettings& settings, const std::string& source) {
        vocab_ = std::move(vocab);
        const std::int32_t unk_id = vocab_.find(settings.unk_token);
        if (unk_id < 0) {
            throw Error(ErrorKind::format, source + ": unk_token '" + settings.unk_token + "' is not in the vocabulary");
        }
        wordpiece_ = detail::WordPiece(vocab_, settings, unk_id);
    }

    void load_tokenizer_json(const nlohmann::json& root, const std::string& source) {
        using nlohmann::json;
        // Model.
        const auto model_it = root.find("model");
        if (model_it == root.end() || !model_it->is_object()) throw Error(ErrorKind::format, source + ": missing \"model\" object");
        const json& model = *model_it;
        const std::string where = source + ": model";
        if (auto type = detail::json_get<std::string>(model, "type", where); type && *type != "WordPiece") {
            throw Error(ErrorKind::unsupported, where + ".type '" + *type + "' (only WordPiece is supported)");
        }
        WordPieceSettings settings;
        if (auto v = detail::json_get<std::string>(model, "unk_token", where)) settings.unk_token = *v;
        if (auto v = detail::json_get<std::string>(model, "continuing_subword_prefix", where)) settings.continuing_subword_prefix = *v;
        if (auto v = detail::json_get<std::size_t>(model, "max_input_chars_per_word", where)) {
            // Hugging Face's default is 100. A word longer than the cap is one [UNK]; a cap of
            // 1e12 disables that and, with a hostile vocabulary, costs time per character.
            if (*v == 0 || *v > WordPieceSettings::max_max_input_chars_per_word)
                throw Error(ErrorKind::format, where + ".max_input_chars_per_word: " + std::to_string(*v) + " is outside [1, " +
                                                   std::to_string(WordPieceSettings::max_max_input_chars_per_word) + "]");
            settings.max_input_chars_per_word = *v;
        }
        const auto vocab_it = model.find("vocab");
        if (vocab_it == model.end() || !vocab_it->is_object()) throw Error(ErrorKind::format, where + ".vocab: missing or not an object");
        if (vocab_it->empty()) throw Error(ErrorKind::format, where + ".vocab is empty");
        detail::StringIdMap vocab;
        for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
            if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0 ||
                it.value().get<std::int64_t>() > INT32_MAX) {
                throw Error(ErrorKind::format, where + ".vocab[" + minibert::json::describe(nlohmann::json(it.key())) +
                                                   "]: id must be a non-negative integer, got " + minibert::json::describe(it.value()));
            }
            vocab.insert(it.key(), it.value().get<std::int32_t>());
        }
        init_model(std::move(vocab), settings, where + ".vocab");

        // Normaliser: BertNormalizer or none.
        normalizer_ = NormalizerSettings{false, false, false, false};
        if (const auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
            const std::string w = source + ": normalizer";
            const auto type = detail::json_get<std::string>(*it, "type", w);
            if (type != std::optional<std::string>("BertNormalizer")) {
                throw Error(ErrorKind::unsupported, w + ".type '" + type.value_or("?") + "' (only BertNormalizer is supported)");
            }
            normalizer_.clean_text = detail::json_get<bool>(*it, "clean_text", w).value_or(true);
            normalizer_.handle_chinese_chars = detail::json_get<bool>(*it, "handle_chinese_chars", w).value_or(true);
            normalizer_.lowercase = detail::json_get<bool>(*it, "lowercase", w).value_or(true);
            // null strip_accents follows lowercase, as in BertNormalizer.
            normalizer_.strip_accents = detail::json_get<bool>(*it, "strip_accents", w).value_or(normalizer_.lowercase);
        }
        config_.normalizer = normalizer_;
        config_.wordpiece = settings;
        config_.unk_token = settings.unk_token;

        // Pre-tokeniser: BertPreTokenizer, or none (each text segment is one word).
        bert_pre_tokenizer_ = false;
        if (const auto it = root.find("pre_tokenizer"); it != root.end() && !it->is_null()) {
            const auto type = detail::json_get<std::string>(*it, "type", source + ": pre_tokenizer");
            if (type != std::optional<std::string>("BertPreTokenizer")) {
                throw Error(ErrorKind::unsupported, source + ": pre_tokenizer.type '" + type.value_or("?") +
                                                        "' (only BertPreTokenizer is supported)");
            }
            bert_pre_tokenizer_ = true;
        }

        // Added tokens.
        if (const auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
            if (!it->is_array()) throw Error(ErrorKind::format, source + ": added_tokens must be an array");
            for (std::size_t i = 0; i < it->size(); ++i) {
                const json& t = (*it)[i];
                const std::string w = source + ": added_tokens[" + std::to_string(i) + "]";
                if (!t.is_object()) throw Error(ErrorKind::format, w + " must be an object");
                AddedToken added;
                const auto content = detail::json_get<std::string>(t, "content", w);
                const auto id = detail::json_get<std::size_t>(t, "id", w);
                if (!content || !id || *id > INT32_MAX) throw Error(ErrorKind::format, w + " needs \"content\" and a valid \"id\"");
                added.content = *content;
                added.id = static_cast<std::int32_t>(*id);
                added.special = detail::json_get<bool>(t, "special", w).value_or(false);
                added.single_word = detail::json_get<bool>(t, "single_word", w).value_or(false);
                added.lstrip = detail::json_get<bool>(t, "lstrip", w).value_or(false);
                added.rstrip = detail::json_get<bool>(t, "rstrip", w).value_or(false);
                added.normalized = detail::json_get<bool>(t, "normalized", w).value_or(!added.special);
                if (added.normalized) {
                    throw Error(ErrorKind::unsupported, w + " ('" + added.content +
                                                            "'): added tokens with \"normalized\": true are not supported");
                }
                if (added.content.empty()) continue;  // HF ignores empty added tokens
                added_tokens_.push_back(std::move(added));
            }
        }

        // Post-processor.
        single_.clear();
        pair_.clear();
        specials_.clear();
        if (const auto it = root.find("post_processor"); it != root.end() && !it->is_null()) {
            const std::string w = source + ": post_processor";
            const auto type = detail::json_get<std::string>(*it, "type", w).value_or("?");
            if (type == "TemplateProcessing") {
                load_template(*it, w);
            } else if (type == "BertProcessing") {
                auto special = [&](const char* key) {
                    const auto s = it->find(key);
                    if (s == it->end() || !s->is_array() || s->size() != 2 || !(*s)[0].is_string() ||
                        !(*s)[1].is_number_integer()) {
                        throw Error(ErrorKind::format, w + "." + key + " must be [token, id]");
                    }
                    const std::string token = (*s)[0].get<std::string>();
                    specials_.push_back({token, {{detail::json_int32((*s)[1], w + "." + key)}, {token}}});
                    return token;
                };
                const std::string cls = special("cls"), sep = special("sep");
                using detail::TemplatePiece;
                single_ = {TemplatePiece{false, 0, cls, 0}, TemplatePiece{true, 0, {}, 0}, TemplatePiece{false, 0, sep, 0}};
                pair_ = single_;
                pair_.push_back(TemplatePiece{true, 1, {}, 1});
                pair_.push_back(TemplatePiece{false, 0, sep, 1});
            } else {
                throw Error(ErrorKind::unsupported, w + ".type '" + type + "' (TemplateProcessing or BertProcessing)");
            }
        } else {
            using detail::TemplatePiece;
            single_ = {TemplatePiece{true, 0, {}, 0}};
            pair_ = {TemplatePiece{true, 0, {}, 0}, TemplatePiece{true, 1, {}, 1}};
        }

        // Padding settings stored in the file override tokenizer_config.json's pad token.
        if (const auto it = root.find("padding"); it != root.end() && it->is_object()) {
            const std::string w = source + ": padding";
            if (auto v = detail::json_get<std::string>(*it, "pad_token", w)) config_.pad_token = *v;
            if (auto v = detail::json_get<std::size_t>(*it, "pad_type_id", w)) pad_type_id_ = static_cast<std::int32_t>(*v);
        }
    }

    void load_template(const nlohmann::json& pp, const std::string& w) {
        auto parse = [&](const char* key, std::vector<detail::TemplatePiece>& out) {
            const auto it = pp.find(key);
            if (it == pp.end() || !it->is_array()) throw Error(ErrorKind::format, w + "." + key + " must be an array");
            for (const auto& piece : *it) {
                detail::TemplatePiece p;
                if (piece.contains("Sequence")) {
                    const auto& s = piece["Sequence"];
                    const std::string id = s.at("id").get<std::string>();
                    if (id != "A" && id != "B") throw Error(ErrorKind::format, w + "." + key + ": sequence id '" + id + "'");
                    p.is_sequence = true;
                    p.sequence = id == "A" ? 0 : 1;
                    p.type_id = detail::json_int32(s.at("type_id"), w + "." + key + ": type_id");
                } else if (piece.contains("SpecialToken")) {
                    const auto& s = piece["SpecialToken"];
                    p.special = s.at("id").get<std::string>();
                    p.type_id = detail::json_int32(s.at("type_id"), w + "." + key + ": type_id");
                } else {
                    throw Error(ErrorKind::format, w + "." + key + ": unknown piece " + json::describe(piece));
                }
                out.push_back(std::move(p));
            }
        };
        parse("single", single_);
        parse("pair", pair_);
        if (const auto it = pp.find("special_tokens"); it != pp.end() && it->is_object()) {
            for (auto s = it->begin(); s != it->end(); ++s) {
                detail::TemplateSpecial special;
                const auto& ids = s.value().at("ids");
                if (!ids.is_array()) throw Error(ErrorKind::format, w + ".special_tokens[\"" + s.key() + "\"].ids must be an array");
                for (const auto& id : ids) special.ids.push_back(detail::json_int32(id, w + ".special_tokens[\"" + s.key() + "\"].ids"));
                special.tokens = s.value().at("tokens").get<std::vector<std::string>>();
                if (special.ids.size() != special.tokens.size()) {
                    throw Error(ErrorKind::format, w + ".special_tokens[\"" + s.key() + "\"]: ids and tokens differ in length");
                }
                specials_.push_back({s.key(), std::move(special)});
            }
        }
    }

    /// Checks the template, then builds the id -> token table and the matcher's first bytes.
    void finish(const std::string& source) {
        for (const auto* tmpl : {&single_, &pair_}) {
            for (const auto& piece : *tmpl) {
                if (!piece.is_sequence && find_special(piece.special) == nullptr) {
                    throw Error(ErrorKind::format, source + ": template special token '" + piece.special + "' is not defined");
                }
            }
        }
        std::size_t size = 0;
        vocab_.for_each([&](std::string_view, std::int32_t id) { size = std::max(size, static_cast<std::size_t>(id) + 1); });
        for (const AddedToken& t : added_tokens_) size = std::max(size, static_cast<std::size_t>(t.id) + 1);
        for (const auto& s : specials_) {
            for (std::int32_t id : s.second.ids) {
                if (id < 0) throw Error(ErrorKind::format, source + ": negative id for special token '" + s.first + "'");
                size = std::max(size, static_cast<std::size_t>(id) + 1);
            }
        }
        // Ids index a table: refuse sparse id spaces that would make it absurdly large.
        if (size > 4 * (vocab_.size() + added_tokens_.size()) + 1024) {
            throw Error(ErrorKind::format, source + ": token ids are sparse (largest " + std::to_string(size - 1) +
                                               " for " + std::to_string(vocab_.size()) + " tokens)");
        }
        id_to_token_.assign(size, std::string());
        has_token_.assign(size, false);
        is_special_.assign(size, false);
        // Several tokens may share an id in a hand-made tokenizer.json; keep the smallest
        // string so that the choice does not depend on hash order.
        vocab_.for_each([&](std::string_view token, std::int32_t id) {
            const auto i = static_cast<std::size_t>(id);
            if (!has_token_[i] || token < id_to_token_[i]) id_to_token_[i] = std::string(token);
            has_token_[i] = true;
        });
        for (const AddedToken& t : added_tokens_) {
            const auto i = static_cast<std::size_t>(t.id);
            id_to_token_[i] = t.content;
            has_token_[i] = true;
            if (t.special) is_special_[i] = true;
        }
        for (const auto& s : specials_) {
            for (std::size_t k = 0; k < s.second.ids.size(); ++k) {
                const auto i = static_cast<std::size_t>(s.second.ids[k]);
                if (!has_token_[i]) id_to_token_[i] = s.second.tokens[k];
                has_token_[i] = true;
                is_special_[i] = true;
            }
        }
        for (bool& b : first_byte_) b = false;
        for (const AddedToken& t : added_tokens_) first_byte_[static_cast<unsigned char>(t.content[0])] = true;
        added_trie_ = detail::AddedTokenTrie(added_tokens_);
        pad_token_ = config_.pad_token;
        pad_id_ = token_to_id(pad_token_);
    }

    const detail::TemplateSpecial* find_special(const std::string& name) const {
        for (const auto& s : specials_) if (s.first == name) return &s.second;
        return nullptr;
    }

    std::size_t count_specials(const std::vector<detail::TemplatePiece>& tmpl) const {
        std::size_t n = 0;
        for (const auto& piece : tmpl) {
            if (!piece.is_sequence) n += find_special(piece.special)->ids.size();
        }
        return n;
    }


    /// The Rust engine's early exit for right truncation (huggingface/tokenizers PR #1990; the
    /// engine behind npm `tokenizers` 0.23.2, which made the goldens): with truncation on, a
    /// sequence stops being tokenised once it holds max_length tokens (see encode_sequence).
    /// Truncation then sees that shortened length, which decides which of two long sequences
    /// gets longest_first's odd token, and whether a sequence cut to exactly max_length still
    /// needs cutting. The engine does not shorten the first sequence under only_second (checked
    /// against it: "only_second" errors still count the whole first text). 0: no early exit.
    static std::size_t early_exit_length(const EncodeOptions& options, int sequence) {
        if (sequence == 0 && options.truncation == TruncationStrategy::only_second) return 0;
        return options.max_length;
    }

    /// Tokens a thread's per-call buffers keep between calls (more is freed after the call).
    static constexpr std::size_t scratch_tokens_kept = 8192;

    /// Original bytes normalised per step of encode_sequence: the scratch holds about this many
    /// normalised code points (12 bytes each) plus the word carried over, whatever the text's size.
    static constexpr std::size_t chunk_bytes = 64 * 1024;

    /// Added-token split, normalisation, pre-tokenisation and WordPiece for one text.
    /// `stop_after` > 0: stop after the first pre-token whose WordPiece brings the sequence to at
    /// least `stop_after` tokens, dropping the rest of the text, added tokens included. Added
    /// tokens count towards the length but, as in the engine, do not trigger the stop.
    ///
    /// Memory is bounded by what is kept: added tokens are found one piece at a time, and each
    /// plain piece is normalised and pre-tokenised chunk_bytes at a time. Normalisation works per
    /// code point (basic_tokenizer.hpp), so normalising chunks and joining them is normalising the
    /// whole; the last word of a chunk may go on in the next, so its code points are carried over.
    /// A carried word longer than max_input_chars_per_word becomes one [UNK] whatever follows, so
    /// only its first and last code points are kept (its offsets are all [UNK] needs). A 100 MB
    /// line truncated to 128 tokens normalises one chunk instead of 100 MB (1.78 GB peak before).
    void encode_sequence(std::string_view text, detail::SequenceTokens& out, std::size_t stop_after = 0) const {
        detail::require_valid_utf8(text, "tokenizer input");
        if (text.size() > UINT32_MAX) throw Error(ErrorKind::limit, "tokenizer input longer than 4 GiB");
        // Scratch buffers live per thread so that encoding a short sentence does not pay five
        // allocations; the Tokenizer itself stays immutable and shareable. They stay small (see
        // above); shrink_scratch() hands back what an unusual text made them grow to.
        thread_local detail::EncodeScratch scratch;
        auto& chars = scratch.chars;
        auto& words = scratch.words;
        out.clear();
        std::int32_t word_index = 0;
        detail::AddedTokenSplitter splitter(text, added_tokens_, added_tokens_.empty() ? nullptr : &added_trie_, first_byte_);
        detail::TextSplit split{0, 0, -1};
        const std::size_t max_word = wordpiece_.settings().max_input_chars_per_word;
        const std::int32_t unk_id = wordpiece_.unk_id();
        while (splitter.next(split)) {
            if (split.token >= 0) {
                const AddedToken& t = added_tokens_[static_cast<std::size_t>(split.token)];
                out.ids.push_back(t.id);
                out.tokens.emplace_back(text.substr(split.begin, split.end - split.begin));
                out.offsets.emplace_back(split.begin, split.end);
                out.word_ids.push_back(word_index++);
                continue;
            }
            chars.clear();
            bool carried_overlong = false;  // chars[0..] starts with a collapsed over-long word
            std::size_t pos = split.begin;
            for (;;) {
                std::size_t stop = split.end - pos > chunk_bytes ? pos + chunk_bytes : split.end;
                while (stop < split.end && (static_cast<unsigned char>(text[stop]) & 0xC0) == 0x80) ++stop;
                detail::normalize_append(text, pos, stop, normalizer_, chars);
                pos = stop;
                const bool last_chunk = pos >= split.end;
                words.clear();
                if (bert_pre_tokenizer_) {
                    detail::pre_tokenize_append(chars, 0, words);
                } else if (!chars.empty()) {
                    words.push_back({0, static_cast<std::uint32_t>(chars.size())});
                }
                // A word that touches the end of the chunk may go on in the next one.
                std::size_t complete = words.size();
                if (!last_chunk && complete > 0 && words.back().last == chars.size()) --complete;
                if (carried_overlong && (words.empty() || words.front().first != 0)) carried_overlong = false;
                for (std::size_t k = 0; k < complete; ++k) {
                    const detail::WordSpan w = words[k];
                    if (k == 0 && carried_overlong) {
                        out.ids.push_back(unk_id);
                        out.tokens.push_back(id_to_token_[static_cast<std::size_t>(unk_id)]);
                        out.offsets.emplace_back(chars[w.first].begin, chars[w.last - 1].end);
                        out.word_ids.push_back(word_index);
                    } else {
                        encode_word(chars, w, word_index, scratch, out);
                    }
                    carried_overlong = false;
                    ++word_index;
                    if (stop_after > 0 && out.size() >= stop_after) return;
                }
                if (last_chunk) break;
                // Keep only the unfinished word (if any) for the next chunk.
                const std::size_t keep = complete < words.size() ? words.back().first : chars.size();
                if (complete < words.size() && words.back().last - keep > max_word) {
                    // Over long already: [UNK] from its first code point to wherever it ends.
                    chars[0] = chars[keep];
                    chars[1] = chars[words.back().last - 1];
                    chars.resize(2);
                    carried_overlong = true;
                } else {
                    chars.erase(chars.begin(), chars.begin() + static_cast<std::ptrdiff_t>(keep));
                    if (keep != 0) carried_overlong = false;
                }
            }
        }
    }

    /// WordPiece for one pre-token: appends its pieces to `out` with word id `word_index`.
    void encode_word(const std::vector<detail::NormalizedChar>& chars, detail::WordSpan w, std::int32_t word_index,
                     detail::EncodeScratch& scratch, detail::SequenceTokens& out) const {
        auto& pieces = scratch.pieces;
        auto& char_pos = scratch.char_pos;
        auto& word = scratch.word;
        word.clear();
        char_pos.clear();
        for (std::uint32_t i = w.first; i < w.last; ++i) {
            char_pos.push_back(static_cast<std::uint32_t>(word.size()));
            detail::append_utf8(word, chars[i].cp);
        }
        char_pos.push_back(static_cast<std::uint32_t>(word.size()));
        pieces.clear();
        wordpiece_.tokenize(word, char_pos, pieces);
        for (const detail::WordPiecePiece& p : pieces) {
            out.ids.push_back(p.id);
            out.tokens.push_back(id_to_token_[static_cast<std::size_t>(p.id)]);
            out.offsets.emplace_back(chars[w.first + p.first].begin, chars[w.first + p.last - 1].end);
            out.word_ids.push_back(word_index);
        }
    }

    /// Truncation, then the template: specials, type ids, masks.
    Encoding post_process(detail::SequenceTokens& first, detail::SequenceTokens* second, const EncodeOptions& options) const {
        const auto& tmpl = second ? pair_ : single_;
        if (options.max_length > 0) {
            const std::size_t n_special = options.add_special_tokens ? count_specials(tmpl) : 0;
            if (options.max_length < n_special) {
                throw Error(ErrorKind::invalid_input, "max_length " + std::to_string(options.max_length) +
                                                          " is shorter than the " + std::to_string(n_special) +
                                                          " special tokens the template adds");
            }
            detail::truncate_sequences(first, second, options.max_length - n_special, options.truncation);
        }
        Encoding e;
        const std::size_t total = first.size() + (second ? second->size() : 0) + (options.add_special_tokens ? count_specials(tmpl) : 0);
        e.ids.reserve(total);
        e.type_ids.reserve(total);
        e.special_tokens_mask.reserve(total);
        e.tokens.reserve(total);
        e.offsets.reserve(total);
        e.word_ids.reserve(total);
        e.sequence_ids.reserve(total);
        for (const auto& piece : tmpl) {
            if (piece.is_sequence) {
                detail::SequenceTokens& seq = piece.sequence == 0 ? first : *second;
                if (piece.sequence == 1 && !second) continue;
                e.ids.insert(e.ids.end(), seq.ids.begin(), seq.ids.end());
                e.type_ids.insert(e.type_ids.end(), seq.size(), piece.type_id);
                e.special_tokens_mask.insert(e.special_tokens_mask.end(), seq.size(), 0);
                e.tokens.insert(e.tokens.end(), std::make_move_iterator(seq.tokens.begin()),
                                std::make_move_iterator(seq.tokens.end()));
                e.offsets.insert(e.offsets.end(), seq.offsets.begin(), seq.offsets.end());
                e.word_ids.insert(e.word_ids.end(), seq.word_ids.begin(), seq.word_ids.end());
                e.sequence_ids.insert(e.sequence_ids.end(), seq.size(), piece.sequence);
            } else if (options.add_special_tokens) {
                const detail::TemplateSpecial& s = *find_special(piece.special);
                for (std::size_t k = 0; k < s.ids.size(); ++k) {
                    e.ids.push_back(s.ids[k]);
                    e.type_ids.push_back(piece.type_id);
                    e.special_tokens_mask.push_back(1);
                    e.tokens.push_back(s.tokens[k]);
                    e.offsets.emplace_back(0, 0);
                    e.word_ids.push_back(-1);
                    e.sequence_ids.push_back(-1);
                }
            }
        }
        e.attention_mask.assign(e.ids.size(), 1);
        return e;
    }

    std::string source_;
    TokenizerConfig config_;
    NormalizerSettings normalizer_;
    bool bert_pre_tokenizer_ = true;
    detail::StringIdMap vocab_;
    detail::WordPiece wordpiece_;
    std::vector<AddedToken> added_tokens_;
    detail::AddedTokenTrie added_trie_;  ///< built from added_tokens_ by finish()
    bool first_byte_[256] = {};
    std::vector<detail::TemplatePiece> single_;
    std::vector<detail::TemplatePiece> pair_;
    std::vector<std::pair<std::string, detail::TemplateSpecial>> specials_;
    std::vector<std::string> id_to_token_;
    std::vector<bool> has_token_;
    std::vector<bool> is_special_;
    std::string pad_token_ = "[PAD]";
    std::int32_t pad_id_ = -1;
    std::int32_t pad_type_id_ = 0;
    // Pipeline tokenizers (kind() == pipeline): every public call delegates here. Shared and
    // const once built, so copies of the Tokenizer (pipelines hold one each) share one model.
    std::shared_ptr<const TokenizerPipeline> pipeline_;
    std::size_t pipeline_specials_single_ = 0;
    std::size_t pipeline_specials_pair_ = 0;
    WordPieceSettings pipeline_wordpiece_;
};

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE Tokenizer Tokenizer::from_folder(const std::filesystem::path& dir) {
    // Every file goes through the library's file policy (io/file_open.hpp): a directory, FIFO,
    // device or symlink loop with one of these names is an Error, never a hang or a foreign
    // exception; a name that exists in any form is read (and reported), never skipped.
    if (!is_directory_path(dir.string())) throw Error(ErrorKind::io, dir.string() + ": not a directory");
    const std::string json_path = (dir / "tokenizer.json").string();
    const std::string config_path = (dir / "tokenizer_config.json").string();
    const std::string vocab_path = (dir / "vocab.txt").string();
    std::string config_text;
    if (path_entry_exists(config_path)) config_text = read_text_file(config_path);
    if (path_entry_exists(json_path)) {
        return from_tokenizer_json(read_text_file(json_path), config_text, json_path, config_path);
    }
    if (path_entry_exists(vocab_path)) {
        return from_vocab(read_text_file(vocab_path), TokenizerConfig::from_json(config_text, config_path), vocab_path);
    }
    throw Error(ErrorKind::io, dir.string() + ": holds neither tokenizer.json nor vocab.txt");
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE Tokenizer Tokenizer::from_vocab(std::string_view vocab_text, const TokenizerConfig& config,
                                                         const std::string& source) {
    Tokenizer tok;
    tok.source_ = source;
    if (const std::size_t bad = detail::find_invalid_utf8(vocab_text); bad != std::string_view::npos) {
        throw Error(ErrorKind::format, source + ": invalid UTF-8 at byte " + std::to_string(bad));
    }
    detail::StringIdMap vocab;
    std::int32_t index = 0;
    std::size_t pos = 0;
    while (pos < vocab_text.size()) {
        std::size_t eol = vocab_text.find('\n', pos);
        if (eol == std::string_view::npos) eol = vocab_text.size();
        std::string_view line = vocab_text.substr(pos, eol - pos);
        // Like the Rust loader (line.trim_end()): a trailing '\r' or blank never joins a token.
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.remove_suffix(1);
        }
        vocab.insert(line, index++);  // a repeated token takes its last line's id, as in HF
        pos = eol + 1;
    }
    if (vocab.size() == 0) throw Error(ErrorKind::format, source + ": empty vocabulary");
    tok.normalizer_ = config.normalizer;
    tok.config_ = config;
    tok.init_model(std::move(vocab), config.wordpiece, source);

    // transformers registers the configured special tokens as added tokens (normalized:
    // false), so they are matched verbatim in the text.
    auto add_special = [&](const std::string& token, bool required) {
        const std::int32_t id = tok.vocab_.find(token);
        if (id < 0) {
            if (required) throw Error(ErrorKind::format, source + ": special token '" + token + "' is not in the vocabulary");
            return;
        }
        for (const AddedToken& t : tok.added_tokens_) if (t.content == token) return;
        AddedToken added;
        added.content = token;
        added.id = id;
        tok.added_tokens_.push_back(added);
    };
    add_special(config.unk_token, true);
    add_special(config.sep_token, true);
    add_special(config.pad_token, false);
    add_special(config.cls_token, true);
    add_special(config.mask_token, false);
    for (const std::string& t : config.additional_special_tokens) add_special(t, false);

    using detail::TemplatePiece;
    tok.single_ = {TemplatePiece{false, 0, config.cls_token, 0}, TemplatePiece{true, 0, {}, 0},
                   TemplatePiece{false, 0, config.sep_token, 0}};
    tok.pair_ = tok.single_;
    tok.pair_.push_back(TemplatePiece{true, 1, {}, 1});
    tok.pair_.push_back(TemplatePiece{false, 0, config.sep_token, 1});
    for (const std::string* t : {&config.cls_token, &config.sep_token}) {
        tok.specials_.push_back({*t, {{tok.vocab_.find(*t)}, {*t}}});
    }
    tok.finish(source);
    return tok;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE Tokenizer Tokenizer::from_tokenizer_json(std::string_view json_text,
                                                                  std::string_view config_text,
                                                                  const std::string& source,
                                                                  const std::string& config_source) {
    Tokenizer tok;
    tok.source_ = source;
    tok.config_ = TokenizerConfig::from_json(config_text, config_source);
    const nlohmann::json root = detail::parse_json(json_text, source);
    if (!root.is_object()) throw Error(ErrorKind::format, source + ": expected a JSON object");
    if (!detail::has_bert_shape(root)) {
        tok.init_pipeline(root, config_text, config_source);
        return tok;
    }
    try {
        tok.load_tokenizer_json(root, source);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::format, source + ": " + e.what());
    }
    tok.finish(source);
    return tok;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
    if (pipeline_) return pipeline_->encode(text, options);
    thread_local detail::SequenceTokens first;
    encode_sequence(text, first, early_exit_length(options, 0));
    Encoding e = post_process(first, nullptr, options);
    first.shrink_if_above(scratch_tokens_kept);
    return e;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE Encoding Tokenizer::encode_pair(std::string_view text, std::string_view text_pair,
                                                         const EncodeOptions& options) const {
    if (pipeline_) return pipeline_->encode_pair(text, text_pair, options);
    thread_local detail::SequenceTokens first, second;
    encode_sequence(text, first, early_exit_length(options, 0));
    encode_sequence(text_pair, second, early_exit_length(options, 1));
    Encoding e = post_process(first, &second, options);
    first.shrink_if_above(scratch_tokens_kept);
    second.shrink_if_above(scratch_tokens_kept);
    return e;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string_view>& texts,
                                                                       const EncodeOptions& options,
                                                                       const PaddingOptions& padding) const {
    std::vector<Encoding> out;
    out.reserve(texts.size());
    for (std::string_view t : texts) out.push_back(encode(t, options));
    pad(out, padding);
    return out;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE std::vector<Encoding> Tokenizer::encode_pair_batch(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs, const EncodeOptions& options,
    const PaddingOptions& padding) const {
    std::vector<Encoding> out;
    out.reserve(pairs.size());
    for (const auto& p : pairs) out.push_back(encode_pair(p.first, p.second, options));
    pad(out, padding);
    return out;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
    if (pipeline_) {
        EncodeOptions plain;
        plain.add_special_tokens = false;
        return pipeline_->encode(text, plain).tokens;
    }
    detail::SequenceTokens seq;
    encode_sequence(text, seq);
    return seq.tokens;
}
#endif  // MINIBERT_DEFINE_READERS

#if MINIBERT_DEFINE_READERS
MINIBERT_COMPILED_INLINE std::string Tokenizer::decode(const std::vector<std::int32_t>& ids,
                                                       bool skip_special_tokens) const {
    if (pipeline_) return pipeline_->decode(ids, skip_special_tokens);
    std::string out;
    bool first = true;
    const std::string& prefix = wordpiece_.settings().continuing_subword_prefix;
    for (std::int32_t id : ids) {
        if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() || !has_token_[static_cast<std::size_t>(id)]) {
            throw Error(ErrorKind::invalid_input, "decode: unknown token id " + std::to_string(id));
        }
        if (skip_special_tokens && is_special_[static_cast<std::size_t>(id)]) continue;
        std::string piece = id_to_token_[static_cast<std::size_t>(id)];
        if (!first) {
            if (!prefix.empty() && piece.compare(0, prefix.size(), prefix) == 0) {
                piece.erase(0, prefix.size());
            } else {
                piece.insert(piece.begin(), ' ');
            }
        }
        first = false;
        out += detail::wordpiece_cleanup(piece);  // the Rust decoder's `cleanup` (wordpiece_model.hpp)
    }
    return out;
}
#endif  // MINIBERT_DEFINE_READERS

}  // namespace minibert
