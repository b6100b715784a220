// RoBERTa, XLM-RoBERTa and CamemBERT (model_type "roberta", "xlm-roberta", "camembert"): one
// family, since transformers' XLMRoberta* and Camembert* classes are RoBERTa's code under other
// names (their base_model_prefix is "roberta" too).
//
//   config     BERT's keys; pad_token_id (1 in every released checkpoint) matters: it is the
//              position embedding's padding_idx; type_vocab_size is 1; layer_norm_eps from the
//              config (1e-5 in released checkpoints, 1e-12 when absent, as RobertaConfig)
//   embeddings LayerNorm(word + token_type[0] + position), position ids by
//              create_position_ids_from_input_ids (PositionRule::after_padding): the first
//              real token is at padding_idx + 1, so a sequence may hold at most
//              max_position_embeddings - padding_idx - 1 tokens (512 of 514)
//   pooler     RobertaModel: tanh(pooler.dense(h[<s>])); the task models have none
//   heads      sequence classification (RobertaClassificationHead):
//              out_proj(tanh(dense(h[<s>]))), tensors classifier.dense / classifier.out_proj;
//              token classification: classifier(h); question answering: qa_outputs(h)
#pragma once

#include "bert.hpp"
#include "family.hpp"

namespace minibert {

inline const Family& roberta_family() {
    static const Family family = [] {
        Family f;
        f.name = "RoBERTa";
        f.model_types = {"roberta", "xlm-roberta", "camembert"};
        f.architecture_prefixes = {"Roberta", "XLMRoberta", "Camembert"};
        f.keys.default_type_vocab_size = 2;  // RobertaConfig's default; checkpoints say 1
        f.keys.default_pad_token_id = 1;
        f.positions = PositionRule::after_padding;
        f.names = bert_layout_tensor_names("roberta.");
        f.pooler = "pooler.dense";
        f.sequence_classifier = {"classifier.dense", false, kernels::Activation::tanh, "classifier.out_proj"};
        return f;
    }();
    return family;
}

}  // namespace minibert
