// DistilBERT (model_type "distilbert").
//
//   config     its own key names: dim, n_layers, n_heads, hidden_dim, activation; LayerNorm eps
//              is hard-coded 1e-12 (no config key); sinusoidal_pos_embds tables are saved in the
//              checkpoint like learned ones
//   embeddings LayerNorm(word + position), no token types, positions from 0
//   no pooler; sequence classification: classifier(relu(pre_classifier(h[CLS])))
#pragma once

#include <string>

#include "family.hpp"

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

inline const Family& distilbert_family() {
    static const Family family = [] {
        Family f;
        f.name = "DistilBERT";
        f.model_types = {"distilbert"};
        f.architecture_prefixes = {"DistilBert"};
        f.keys.hidden_size = "dim";
        f.keys.num_layers = "n_layers";
        f.keys.num_heads = "n_heads";
        f.keys.intermediate_size = "hidden_dim";
        f.keys.activation = "activation";
        f.keys.layer_norm_eps = nullptr;  // nn.LayerNorm(dim, eps=1e-12) in every layer
        f.keys.type_vocab_size = nullptr;
        f.names = distilbert_tensor_names();
        f.sequence_classifier = {"pre_classifier", false, kernels::Activation::relu, "classifier"};
        return f;
    }();
    return family;
}

}  // namespace minibert
