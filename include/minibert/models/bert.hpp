// BERT (model_type "bert": BERT, TinyBERT, MiniLM and the cross-encoders built on them).
//
//   config     hidden_size, num_hidden_layers, ..., type_vocab_size (default 2), layer_norm_eps
//   embeddings LayerNorm(word + token_type + position), positions from 0
//   pooler     tanh(pooler.dense(h[CLS])) in BertModel and BertForSequenceClassification
//   heads      sequence classification: classifier(pooler output); token classification:
//              classifier(h); question answering: qa_outputs(h) -> start, end
#pragma once

#include <string>

#include "family.hpp"

namespace minibert {

/// BERT's per-layer names; RoBERTa and ELECTRA use the same layout under their own prefix.
inline EncoderTensorNames bert_layout_tensor_names(const std::string& prefix) {
    EncoderTensorNames n;
    n.prefix = prefix;
    n.word_embeddings = "embeddings.word_embeddings.weight";
    n.position_embeddings = "embeddings.position_embeddings.weight";
    n.token_type_embeddings = "embeddings.token_type_embeddings.weight";
    n.embeddings_norm = "embeddings.LayerNorm";
    n.layer_prefix = [](std::size_t i) { return "encoder.layer." + std::to_string(i) + "."; };
    n.layer = [](std::size_t i) {
        const std::string p = "encoder.layer." + std::to_string(i) + ".";
        EncoderTensorNames::Layer l;
        l.query = p + "attention.self.query";
        l.key = p + "attention.self.key";
        l.value = p + "attention.self.value";
        l.attention_output = p + "attention.output.dense";
        l.attention_norm = p + "attention.output.LayerNorm";
        l.up = p + "intermediate.dense";
        l.down = p + "output.dense";
        l.output_norm = p + "output.LayerNorm";
        return l;
    };
    return n;
}

inline EncoderTensorNames bert_tensor_names() { return bert_layout_tensor_names("bert."); }

/// BertPooler: tanh(dense(h[CLS])). Present in BertModel and BertForSequenceClassification only.
inline const char* bert_pooler_name() { return "pooler.dense"; }

inline const Family& bert_family() {
    static const Family family = [] {
        Family f;
        f.name = "BERT";
        f.model_types = {"bert"};
        f.architecture_prefixes = {"Bert"};
        f.names = bert_tensor_names();
        f.pooler = bert_pooler_name();
        f.sequence_classifier = {bert_pooler_name(), true, kernels::Activation::tanh, "classifier"};
        return f;
    }();
    return family;
}

}  // namespace minibert
