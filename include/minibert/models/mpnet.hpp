// MPNet (model_type "mpnet": all-mpnet-base-v2 and the other MPNet sentence-transformers).
//
//   config     BERT's keys, no type_vocab_size; pad_token_id 1; relative_attention_num_buckets
//              (32) rows in the relative position table; layer_norm_eps from the config
//   embeddings LayerNorm(word + position), no token types, position ids by
//              create_position_ids_from_input_ids (PositionRule::after_padding)
//   attention  scores / sqrt(d) + a relative position bias: one table
//              encoder.relative_attention_bias [buckets x heads] shared by all layers, indexed by
//              T5's bidirectional bucket of (key position - query position) with 32 buckets and
//              max_distance 128 (MPNetEncoder.compute_position_bias passes num_buckets=32 whatever
//              the config says; layers/relative_position.hpp)
//   layers     attention.attn.{q,k,v,o}, attention.LayerNorm, intermediate.dense, output.dense,
//              output.LayerNorm: BERT's post-LayerNorm layer under other names
//   pooler     MPNetModel: tanh(pooler.dense(h[<s>])); the task models have none
//   heads      sequence classification (MPNetClassificationHead, as RoBERTa's):
//              out_proj(tanh(dense(h[<s>]))); token classification: classifier(h);
//              question answering: qa_outputs(h)
#pragma once

#include <string>

#include "family.hpp"

namespace minibert {

inline const Family& mpnet_family() {
    static const Family family = [] {
        Family f;
        f.name = "MPNet";
        f.model_types = {"mpnet"};
        f.architecture_prefixes = {"MPNet"};
        f.keys.type_vocab_size = nullptr;
        f.keys.default_pad_token_id = 1;
        f.keys.relative_attention_buckets = "relative_attention_num_buckets";
        f.keys.default_relative_attention_buckets = 32;
        f.positions = PositionRule::after_padding;
        EncoderTensorNames& n = f.names;
        n.prefix = "mpnet.";
        n.word_embeddings = "embeddings.word_embeddings.weight";
        n.position_embeddings = "embeddings.position_embeddings.weight";
        n.embeddings_norm = "embeddings.LayerNorm";
        n.layer_prefix = [](std::size_t i) { return "encoder.layer." + std::to_string(i) + "."; };
        n.layer = [](std::size_t i) {
            const std::string p = "encoder.layer." + std::to_string(i) + ".";
            EncoderTensorNames::Layer l;
            l.query = p + "attention.attn.q";
            l.key = p + "attention.attn.k";
            l.value = p + "attention.attn.v";
            l.attention_output = p + "attention.attn.o";
            l.attention_norm = p + "attention.LayerNorm";
            l.up = p + "intermediate.dense";
            l.down = p + "output.dense";
            l.output_norm = p + "output.LayerNorm";
            return l;
        };
        f.relative_attention_bias = "encoder.relative_attention_bias.weight";
        f.pooler = "pooler.dense";
        f.sequence_classifier = {"classifier.dense", false, kernels::Activation::tanh, "classifier.out_proj"};
        return f;
    }();
    return family;
}

}  // namespace minibert
