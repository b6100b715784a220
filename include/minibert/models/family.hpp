// Family: everything that distinguishes one encoder family (BERT, DistilBERT, RoBERTa, ELECTRA,
// MPNet, ...) from another, as data. Each family's file (models/<family>.hpp) fills one in; the
// registry (models/registry.hpp) lists them; config parsing, loading, embeddings, heads and the
// session read only this description, so adding a family does not touch them.
//
// What varies between the families minibert runs:
//   config.json    key names (BERT's hidden_size vs DistilBERT's dim), defaults (pad id, eps,
//                  type_vocab_size), extra keys (ELECTRA's embedding_size, MPNet's buckets)
//   tensor names   the base-model prefix ("bert.", "roberta.") and the per-layer names
//   embeddings     token types or not; position ids from 0, or Hugging Face's
//                  create_position_ids_from_input_ids (RoBERTa, MPNet)
//   encoder        an embedding projection (ELECTRA), a relative position bias (MPNet)
//   heads          the pooler and the sequence-classification head's shape
// The layers themselves (post-LayerNorm attention + FFN) are the same everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/activation_kind.hpp"
#include "tensor_names.hpp"

namespace minibert {

/// Which task head sits on top of the encoder (from `architectures`).
enum class HeadKind { none, sequence_classification, token_classification, question_answering };

/// How position ids are made from a sequence's input ids.
enum class PositionRule {
    from_zero,     ///< 0, 1, 2, ... (BERT, DistilBERT, ELECTRA)
    after_padding  ///< Hugging Face's create_position_ids_from_input_ids: a token that is not the
                   ///< pad id gets padding_idx + (number of non-pad tokens up to and including it),
                   ///< a pad token gets padding_idx (RoBERTa, XLM-R, CamemBERT, MPNet)
};

/// config.json keys and defaults of one family (nullptr: the family has no such key).
struct FamilyConfigKeys {
    const char* hidden_size = "hidden_size";
    const char* num_layers = "num_hidden_layers";
    const char* num_heads = "num_attention_heads";
    const char* intermediate_size = "intermediate_size";
    const char* activation = "hidden_act";
    const char* layer_norm_eps = "layer_norm_eps";  ///< nullptr: default_layer_norm_eps always
    float default_layer_norm_eps = 1e-12f;
    const char* type_vocab_size = "type_vocab_size";  ///< nullptr: no token types
    std::size_t default_type_vocab_size = 2;
    std::size_t default_pad_token_id = 0;
    const char* embedding_size = nullptr;  ///< ELECTRA: embeddings narrower than hidden, projected
    std::size_t default_embedding_size = 0;  ///< when the key is absent; 0: hidden_size
    const char* relative_attention_buckets = nullptr;  ///< MPNet: rows of the relative bias table
    std::size_t default_relative_attention_buckets = 0;
};

/// The sequence-classification head: the first token's hidden state -> dense + activation ->
/// out. BERT's dense is its pooler (tanh), DistilBERT's pre_classifier (relu), RoBERTa's and
/// MPNet's classifier.dense (tanh), ELECTRA's classifier.dense (gelu).
struct SequenceClassifierSpec {
    std::string dense;              ///< "<name>.weight" [hidden x hidden]
    bool dense_is_pooler = false;   ///< the dense layer is the base model's pooler (BERT)
    kernels::Activation activation = kernels::Activation::tanh;
    std::string out;                ///< "<name>.weight" [labels x hidden]
};

struct Family {
    std::string name;                              ///< in messages: "BERT", "RoBERTa"
    std::vector<std::string> model_types;          ///< config.json model_type values
    std::vector<std::string> architecture_prefixes;  ///< "Bert" -> BertModel, BertForSequenceClassification, ...
    FamilyConfigKeys keys;
    PositionRule positions = PositionRule::from_zero;
    EncoderTensorNames names;                      ///< encoder tensors, without names.prefix
    std::string embeddings_project;                ///< ELECTRA: "embeddings_project" [hidden x embedding_size]
    std::string relative_attention_bias;           ///< MPNet: "encoder.relative_attention_bias.weight" [buckets x heads]
    std::string pooler;                            ///< base model's pooler ("pooler.dense"), "" if none
    SequenceClassifierSpec sequence_classifier;
    std::string token_classifier = "classifier";   ///< [labels x hidden], on every token
    std::string qa_outputs = "qa_outputs";         ///< [2 x hidden], start and end logits

    bool has_token_types() const noexcept { return keys.type_vocab_size != nullptr; }
};

namespace detail {

/// Position ids of one sequence (ids[0..n)) under `rule`; `pad` is the config's pad_token_id.
/// after_padding restates transformers' create_position_ids_from_input_ids:
///   mask = ids != pad;  positions = cumsum(mask) * mask + pad
inline void fill_position_ids(PositionRule rule, std::size_t pad, const std::int32_t* ids, std::size_t n,
                              std::int32_t* out) noexcept {
    if (rule == PositionRule::from_zero) {
        for (std::size_t t = 0; t < n; ++t) out[t] = static_cast<std::int32_t>(t);
        return;
    }
    std::size_t count = 0;
    for (std::size_t t = 0; t < n; ++t) {
        const bool real = static_cast<std::size_t>(ids[t]) != pad;
        count += real;
        out[t] = static_cast<std::int32_t>(real ? count + pad : pad);
    }
}

}  // namespace detail

}  // namespace minibert
