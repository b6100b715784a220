// ModelConfig: what config.json says about the encoder's shape and head.
//
// `model_type` picks the family (models/registry.hpp); the family's file says which keys hold
// the sizes (BERT's hidden_size, DistilBERT's dim, ...), their defaults and its extra keys. Every
// size is range-checked before anything is allocated from it, so a hostile config cannot ask for
// 10^9 floats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "io/file_open.hpp"
#include "kernels/activation_kind.hpp"
#include "models/registry.hpp"
#include "pruning.hpp"
#include "separate_compilation.hpp"

// JSON is read by ModelConfig::parse only: with separate compilation, only in its TU.
#if MINIBERT_DEFINE_READERS
#include <nlohmann/json.hpp>

#include "io/json.hpp"
#endif

namespace minibert {

namespace detail {
/// a * b, or Error(config) naming `what` when the product does not fit in size_t.
inline std::size_t checked_product(std::size_t a, std::size_t b, const std::string& what) {
    if (a != 0 && b > SIZE_MAX / a) throw Error(ErrorKind::config, what + " overflows size_t");
    return a * b;
}
}  // namespace detail

struct ModelConfig {
    ModelType model_type = ModelType::bert;
    const Family* family = &bert_family();  ///< what the family's file says (models/family.hpp)
    std::string architecture;  ///< e.g. "BertForSequenceClassification"; empty = bare encoder
    HeadKind head = HeadKind::none;

    std::size_t vocab_size = 0;
    std::size_t hidden_size = 0;
    std::size_t num_layers = 0;
    std::size_t num_heads = 0;
    std::size_t intermediate_size = 0;
    std::size_t max_position_embeddings = 0;
    std::size_t type_vocab_size = 0;  ///< 0: no token types (DistilBERT, MPNet)
    std::size_t embedding_size = 0;   ///< width of the embedding tables (ELECTRA: may be < hidden_size)
    std::size_t relative_attention_buckets = 0;  ///< MPNet: rows of the relative position table; 0: none
    std::size_t num_labels = 0;       ///< for heads with labels
    std::size_t pad_token_id = 0;
    float layer_norm_eps = 1e-12f;
    kernels::Activation hidden_act = kernels::Activation::gelu_erf;
    std::string hidden_act_name = "gelu";
    std::vector<std::string> id2label;  ///< num_labels names ("LABEL_i" when config.json has none)
    bool multi_label = false;  ///< problem_type "multi_label_classification": sigmoid per label, not softmax
    std::vector<std::size_t> pruned_heads;        ///< heads removed per layer (HF pruned_heads; pruning.hpp)
    std::vector<std::size_t> intermediate_sizes;  ///< FFN width per layer (intermediate_sizes; pruning.hpp)

    std::size_t head_dim() const noexcept { return hidden_size / num_heads; }

    /// Longest sequence the position table allows: max_position_embeddings, less padding_idx + 1
    /// where positions start after the padding index (RoBERTa's 514 rows hold 512 tokens).
    std::size_t max_sequence_length() const noexcept {
        if (family->positions == PositionRule::after_padding) return max_position_embeddings - pad_token_id - 1;
        return max_position_embeddings;
    }

    /// Weights of the encoder these sizes imply (embeddings + layers, no head), computed with
    /// overflow checks; throws Error(config) naming `source` when it does not fit in size_t.
    std::size_t parameter_count(const std::string& source = "config.json") const {
        const std::string what = "'" + source + "': the parameter count implied by the sizes";
        auto mul = [&](std::size_t a, std::size_t b) { return detail::checked_product(a, b, what); };
        auto add = [&](std::size_t a, std::size_t b) {
            if (b > SIZE_MAX - a) throw Error(ErrorKind::config, what + " overflows size_t");
            return a + b;
        };
        const std::size_t h = hidden_size, e = embedding_size ? embedding_size : hidden_size;
        std::size_t embeddings = add(add(mul(vocab_size, e), mul(max_position_embeddings, e)), mul(type_vocab_size, e));
        embeddings = add(embeddings, mul(2, e));
        if (e != h) embeddings = add(embeddings, add(mul(e, h), h));  // ELECTRA's embeddings_project
        // Q, K, V, output: 4 (h x h + h); FFN: h x inner + inner + inner x h + h; two LayerNorms: 4 h.
        std::size_t layer = mul(4, add(mul(h, h), h));
        layer = add(layer, add(mul(2, mul(h, intermediate_size)), add(intermediate_size, h)));
        layer = add(layer, mul(4, h));
        return add(embeddings, mul(num_layers, layer));
    }

    /// Parses config.json text; `source` names the file in error messages.
    MINIBERT_COMPILED_INLINE static ModelConfig parse(const std::string& json_text,
                                                      const std::string& source = "config.json");
    /// Reads and parses a config.json file.
    static ModelConfig load(const std::string& path) { return parse(read_text_file(path), path); }
};

#if MINIBERT_DEFINE_READERS
namespace detail {

inline std::size_t config_size(const json::Node& j, const char* key, std::size_t min_value, std::size_t max_value,
                               const std::size_t* fallback = nullptr) {
    const std::optional<json::Node> value = j.find(key);
    if (!value) {
        if (fallback) return *fallback;
        j.at(key);  // throws "has no '<key>'"
    }
    // Floats (768.0), strings ("768") and booleans are refused, not converted: a config that
    // spells a size oddly is more likely corrupt than meant.
    const nlohmann::json& v = value->raw();
    if (!v.is_number_integer()) value->fail("an integer");
    const bool negative = !v.is_number_unsigned() && v.get<std::int64_t>() < 0;
    if (negative || v.get<std::uint64_t>() < min_value || v.get<std::uint64_t>() > max_value)
        value->fail_with("= " + json::describe(v) + " is outside [" + std::to_string(min_value) + ", " +
                         std::to_string(max_value) + "]");
    return static_cast<std::size_t>(v.get<std::uint64_t>());
}

/// An id2label key: the canonical decimal spelling of a non-negative integer ("0", "17"; not
/// " 0", "+0", "00" or "0x1", which std::stoul would all read, letting "00" replace "0").
inline bool canonical_index(const std::string& key, std::size_t& index) {
    if (key.empty() || key.size() > 9 || (key.size() > 1 && key[0] == '0')) return false;
    std::size_t value = 0;
    for (const char c : key) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    index = value;
    return true;
}

inline kernels::Activation parse_hidden_act(const std::string& name, const std::string& source) {
    // Hugging Face's ACT2FN names: "gelu" is the exact erf form; the tanh approximations go by
    // several names that all compute 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    if (name == "gelu" || name == "gelu_python") return kernels::Activation::gelu_erf;
    if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return kernels::Activation::gelu_tanh;
    if (name == "relu") return kernels::Activation::relu;
    throw Error(ErrorKind::unsupported, "'" + source + "': hidden_act '" + name +
                                            "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu)");
}

}  // namespace detail

MINIBERT_COMPILED_INLINE ModelConfig ModelConfig::parse(const std::string& json_text, const std::string& source) {
    nlohmann::json doc;
    try {
        doc = json::parse(json_text, source);
    } catch (const Error& e) {
        throw Error(ErrorKind::format, "'" + source + "' is not a JSON object (" + e.message() + ")");
    }
    if (!doc.is_object()) throw Error(ErrorKind::format, "'" + source + "' is not a JSON object");
    const json::Node j(doc, source, {}, ErrorKind::config);
    ModelConfig c;

    const auto type_node = j.find("model_type");
    if (!type_node || !type_node->is_string()) throw Error(ErrorKind::config, "'" + source + "' has no string 'model_type'");
    const RegisteredFamily* registered = find_family(type_node->string());
    if (!registered)
        throw Error(ErrorKind::unsupported, "'" + source + "': model_type " + json::describe(type_node->raw()) +
                                                " is not supported (" + supported_model_types() + ")");
    const Family* family = registered->family;
    const FamilyConfigKeys& keys = family->keys;
    c.family = family;
    c.model_type = registered->type;

    // Limits: far above any released checkpoint, far below what would exhaust memory in a check.
    constexpr std::size_t max_width = 1u << 16, max_layers = 256, max_vocab = 1u << 24, max_positions = 1u << 16;
    c.vocab_size = detail::config_size(j, "vocab_size", 1, max_vocab);
    c.hidden_size = detail::config_size(j, keys.hidden_size, 1, max_width);
    c.num_layers = detail::config_size(j, keys.num_layers, 1, max_layers);
    c.num_heads = detail::config_size(j, keys.num_heads, 1, max_width);
    c.intermediate_size = detail::config_size(j, keys.intermediate_size, 1, 4 * max_width);
    c.max_position_embeddings = detail::config_size(j, "max_position_embeddings", 1, max_positions);
    c.type_vocab_size =
        keys.type_vocab_size ? detail::config_size(j, keys.type_vocab_size, 1, 1024, &keys.default_type_vocab_size) : 0;
    c.pad_token_id = detail::config_size(j, "pad_token_id", 0, max_vocab, &keys.default_pad_token_id);
    c.embedding_size = c.hidden_size;
    if (keys.embedding_size) {
        const std::size_t fallback = keys.default_embedding_size ? keys.default_embedding_size : c.hidden_size;
        c.embedding_size = detail::config_size(j, keys.embedding_size, 1, max_width, &fallback);
        // The embeddings are summed in the session's hidden-state buffer before the projection.
        if (c.embedding_size > c.hidden_size)
            throw Error(ErrorKind::unsupported, "'" + source + "': " + keys.embedding_size + " " +
                                                    std::to_string(c.embedding_size) + " is wider than hidden_size " +
                                                    std::to_string(c.hidden_size) + ", which minibert does not run");
    }
    if (keys.relative_attention_buckets) {
        c.relative_attention_buckets = detail::config_size(j, keys.relative_attention_buckets, 1, 1024,
                                                           &keys.default_relative_attention_buckets);
        // transformers computes the buckets with num_buckets = 32 whatever the config says, so a
        // smaller table would be indexed out of range there: refused here.
        if (c.relative_attention_buckets < 32)
            throw Error(ErrorKind::config, "'" + source + "': " + keys.relative_attention_buckets + " " +
                                               std::to_string(c.relative_attention_buckets) +
                                               " is below the 32 buckets the relative position bias uses");
    }
    if (family->positions == PositionRule::after_padding && c.max_position_embeddings <= c.pad_token_id + 1)
        throw Error(ErrorKind::config, "'" + source + "': max_position_embeddings " +
                                           std::to_string(c.max_position_embeddings) + " leaves no position after " +
                                           "padding_idx (pad_token_id " + std::to_string(c.pad_token_id) +
                                           "): " + family->name + " positions start at padding_idx + 1");
    if (c.hidden_size % c.num_heads != 0)
        throw Error(ErrorKind::config, "'" + source + "': hidden size " + std::to_string(c.hidden_size) +
                                           " is not divisible by the " + std::to_string(c.num_heads) + " attention heads");
    c.pruned_heads = detail::parse_pruned_heads(j, c.num_layers, c.num_heads);
    c.intermediate_sizes = detail::parse_intermediate_sizes(j, c.num_layers, c.intermediate_size);
    // MPNet's relative position bias has a row per original head; after pruning the kept heads
    // are renumbered, so the bias rows would no longer match them.
    if (!family->relative_attention_bias.empty())
        for (std::size_t l = 0; l < c.num_layers; ++l)
            if (c.pruned_heads[l])
                throw Error(ErrorKind::unsupported, "'" + source + "': pruned_heads on a " + family->name +
                                                        " model (its relative position bias is per original head) is not supported");
    // The loader sizes nothing from these values until a tensor of that shape has been found in
    // the file, but the products it compares against must still be representable (they are, by
    // the limits above, wherever size_t has 64 bits; this keeps 32-bit builds honest).
    (void)c.parameter_count(source);

    c.layer_norm_eps = keys.default_layer_norm_eps;
    if (keys.layer_norm_eps) {
        if (const auto eps = j.find(keys.layer_norm_eps)) {
            const nlohmann::json& v = eps->raw();
            if (!v.is_number() || !(v.get<double>() > 0.0) || v.get<double>() > 1.0)
                throw Error(ErrorKind::config, "'" + source + "': layer_norm_eps must be a number in (0, 1], got " +
                                                   json::describe(v));
            // The LayerNorm kernels add eps in fp32: a value that rounds to 0 or to a denormal
            // (1e-50 did) would silently drop the guard against a zero variance.
            const float f = static_cast<float>(v.get<double>());
            if (!(f >= std::numeric_limits<float>::min()))
                throw Error(ErrorKind::config, "'" + source + "': layer_norm_eps " + json::describe(v) +
                                                   " is 0 or denormal in fp32 (the smallest normal is 1.17549e-38)");
            c.layer_norm_eps = f;
        }
    }
    const char* act_key = keys.activation;
    if (const auto act = j.find(act_key)) {
        if (!act->is_string()) throw Error(ErrorKind::config, "'" + source + "': '" + act_key + "' must be a string");
        c.hidden_act_name = act->string();
    }
    c.hidden_act = detail::parse_hidden_act(c.hidden_act_name, source);

    if (const auto archs = j.find("architectures"); archs && archs->is_array() && archs->size() > 0 && (*archs)[0].is_string())
        c.architecture = (*archs)[0].string();
    bool known = c.architecture.empty();
    for (const std::string& prefix : family->architecture_prefixes) {
        if (c.architecture == prefix + "Model") known = true;
        else if (c.architecture == prefix + "ForSequenceClassification") known = true, c.head = HeadKind::sequence_classification;
        else if (c.architecture == prefix + "ForTokenClassification") known = true, c.head = HeadKind::token_classification;
        else if (c.architecture == prefix + "ForQuestionAnswering") known = true, c.head = HeadKind::question_answering;
        else if (c.architecture == prefix + "ForMaskedLM" || c.architecture == prefix + "ForPreTraining")
            known = true;  // the encoder is used; the LM / discriminator head is not
    }
    if (!known)
        throw Error(ErrorKind::unsupported, "'" + source + "': architecture " + json::describe(nlohmann::json(c.architecture)) +
                                                " is not supported for model_type " + json::describe(type_node->raw()));

    const auto problem = j.find("problem_type");
    c.multi_label = problem && problem->is_string() && problem->string() == "multi_label_classification";

    // Labels: num_labels, else the size of id2label, else 2 (Hugging Face's default).
    std::size_t labels = 2;
    const auto id2label = j.find("id2label");
    if (id2label && id2label->is_object() && id2label->size() > 0) labels = id2label->size();
    labels = detail::config_size(j, "num_labels", 1, 1u << 20, &labels);
    if (c.head == HeadKind::question_answering) labels = 2;
    c.num_labels = labels;
    c.id2label.resize(labels);
    for (std::size_t i = 0; i < labels; ++i) c.id2label[i] = "LABEL_" + std::to_string(i);
    if (id2label && id2label->is_object() && c.head != HeadKind::question_answering) {
        id2label->for_each_member([&](const std::string& key, const json::Node& value) {
            const std::string shown = json::describe(nlohmann::json(key));
            std::size_t index = 0;
            if (!detail::canonical_index(key, index))
                throw Error(ErrorKind::config, "'" + source + "': id2label key " + shown +
                                                   " is not an index (a non-negative integer without sign, spaces or leading zeros)");
            if (index >= labels || !value.is_string())
                throw Error(ErrorKind::config, "'" + source + "': id2label entry " + shown + " is out of range or not a string");
            c.id2label[index] = value.string();
        });
    }
    return c;
}
#endif  // MINIBERT_DEFINE_READERS

}  // namespace minibert
