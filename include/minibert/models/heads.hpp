// Task heads on top of the encoder's last hidden state. They are small, so they stay fp32
// whatever the encoder's weight type.
//
//   BERT pooler              tanh(W h[CLS] + b)                      (BertModel, BertForSequenceClassification)
//   sequence classification  BERT: classifier(pooler);  DistilBERT: classifier(relu(pre_classifier(h[CLS])))
//   token classification     classifier(h) for every token
//   question answering       qa_outputs(h) -> [start, end] logits for every token
#pragma once

#include <cstddef>
#include <string>

#include "../config.hpp"
#include "../io/checkpoint.hpp"
#include "../layers/linear.hpp"
#include "bert.hpp"

namespace minibert {

struct Heads {
    HeadKind kind = HeadKind::none;
    bool has_pooler = false;
    bool has_pre_classifier = false;
    Linear<float> pooler;          ///< hidden -> hidden, tanh
    Linear<float> pre_classifier;  ///< DistilBERT: hidden -> hidden, relu
    Linear<float> classifier;      ///< hidden -> labels (qa_outputs: hidden -> 2)

    std::size_t resident_bytes() const noexcept {
        return pooler.resident_bytes() + pre_classifier.resident_bytes() + classifier.resident_bytes();
    }

    static Heads load(const Checkpoint& ckpt, const ModelConfig& cfg) {
        const std::size_t h = cfg.hidden_size;
        Heads heads;
        heads.kind = cfg.head;
        auto linear = [&](const std::string& name, std::size_t out, std::size_t in, bool encoder_part) {
            auto w = encoder_part ? ckpt.encoder_f32(name + ".weight", {out, in}) : ckpt.head_f32(name + ".weight", {out, in});
            auto b = encoder_part ? ckpt.encoder_f32(name + ".bias", {out}) : ckpt.head_f32(name + ".bias", {out});
            return Linear<float>(w.data(), out, in, std::move(b));
        };
        if (cfg.model_type == ModelType::bert) {
            // BertModel has a pooler unless saved with add_pooling_layer=False; the token and QA
            // heads never have one; sequence classification needs it.
            const std::string pooler = bert_pooler_name();
            const bool present = ckpt.find_encoder(pooler + ".weight") != nullptr;
            if (present || cfg.head == HeadKind::sequence_classification) {
                heads.pooler = linear(pooler, h, h, true);
                heads.has_pooler = true;
            }
        }
        switch (cfg.head) {
            case HeadKind::none: break;
            case HeadKind::sequence_classification:
                if (cfg.model_type == ModelType::distilbert) {
                    heads.pre_classifier = linear("pre_classifier", h, h, false);
                    heads.has_pre_classifier = true;
                }
                heads.classifier = linear("classifier", cfg.num_labels, h, false);
                break;
            case HeadKind::token_classification: heads.classifier = linear("classifier", cfg.num_labels, h, false); break;
            case HeadKind::question_answering: heads.classifier = linear("qa_outputs", 2, h, false); break;
        }
        return heads;
    }
};

}  // namespace minibert
