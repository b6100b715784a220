// BERT's parameter names (BertModel and BertFor*; TinyBERT and MiniLM checkpoints use the same).
#pragma once

#include <string>

#include "tensor_names.hpp"

namespace minibert {

inline EncoderTensorNames bert_tensor_names() {
    EncoderTensorNames n;
    n.prefix = "bert.";
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

/// BertPooler: tanh(dense(h[CLS])). Present in BertModel and BertForSequenceClassification only.
inline const char* bert_pooler_name() { return "pooler.dense"; }

}  // namespace minibert
