// DistilBERT's parameter names (DistilBertModel and DistilBertFor*).
// DistilBERT differs from BERT in names, in having no token types and no pooler, and in its
// sequence-classification head (pre_classifier + ReLU + classifier on the first token).
#pragma once

#include <string>

#include "tensor_names.hpp"

namespace minibert {

inline EncoderTensorNames distilbert_tensor_names() {
    EncoderTensorNames n;
    n.prefix = "distilbert.";
    n.word_embeddings = "embeddings.word_embeddings.weight";
    n.position_embeddings = "embeddings.position_embeddings.weight";
    n.embeddings_norm = "embeddings.LayerNorm";
    n.layer_prefix = [](std::size_t i) { return "transformer.layer." + std::to_string(i) + "."; };
    n.layer = [](std::size_t i) {
        const std::string p = "transformer.layer." + std::to_string(i) + ".";
        EncoderTensorNames::Layer l;
        l.query = p + "attention.q_lin";
        l.key = p + "attention.k_lin";
        l.value = p + "attention.v_lin";
        l.attention_output = p + "attention.out_lin";
        l.attention_norm = p + "sa_layer_norm";
        l.up = p + "ffn.lin1";
        l.down = p + "ffn.lin2";
        l.output_norm = p + "output_layer_norm";
        return l;
    };
    return n;
}

}  // namespace minibert
