// ELECTRA discriminators (model_type "electra").
//
//   config     BERT's keys plus embedding_size (128 when absent, as ElectraConfig; released
//              checkpoints state it)
//   embeddings LayerNorm over embedding_size of word + token_type + position (positions from
//              0), then embeddings_project (embedding_size -> hidden_size) when the two differ
//              (ELECTRA-small: 128 -> 256); the LayerNorm uses the config's eps
//   no pooler; heads: sequence classification (ElectraClassificationHead):
//              out_proj(gelu(dense(h[CLS]))) with the exact (erf) GELU whatever hidden_act says,
//              tensors classifier.dense / classifier.out_proj; token classification:
//              classifier(h); question answering: qa_outputs(h)
//   ElectraForPreTraining (the discriminator checkpoint) loads as the bare encoder.
#pragma once

#include "bert.hpp"
#include "family.hpp"

namespace minibert {

inline const Family& electra_family() {
    static const Family family = [] {
        Family f;
        f.name = "ELECTRA";
        f.model_types = {"electra"};
        f.architecture_prefixes = {"Electra"};
        f.keys.embedding_size = "embedding_size";
        f.keys.default_embedding_size = 128;
        f.names = bert_layout_tensor_names("electra.");
        f.embeddings_project = "embeddings_project";
        f.sequence_classifier = {"classifier.dense", false, kernels::Activation::gelu_erf, "classifier.out_proj"};
        return f;
    }();
    return family;
}

}  // namespace minibert
