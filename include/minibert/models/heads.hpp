// Task heads on top of the encoder's last hidden state, loaded and run as the model's family
// describes them (models/family.hpp). They are small, so they stay fp32 whatever the encoder's
// weight type.
//
//   pooler                   tanh(pooler(h[0]))       base models that have one (BERT, RoBERTa, MPNet)
//   sequence classification  out(act(dense(h[0])))   BERT: dense = the pooler (tanh);
//                            DistilBERT: pre_classifier, relu; RoBERTa / MPNet: classifier.dense,
//                            tanh; ELECTRA: classifier.dense, gelu. num_labels = 1 is a raw score
//                            (regression, cross-encoders), exactly as the logits HF returns.
//   token classification     classifier(h) for every token
//   question answering       qa_outputs(h) -> [start, end] logits for every token
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "../config.hpp"
#include "../io/checkpoint.hpp"
#include "../layers/linear.hpp"
#include "../numeric/matrix_view.hpp"
#include "../separate_compilation.hpp"

namespace minibert {

/// Where the heads write (the session's workspace); sizes in Heads::forward's comment.
struct HeadBuffers {
    float* pooled = nullptr;  ///< [batch x hidden]
    float* dense = nullptr;   ///< [batch x hidden]
    float* logits = nullptr;  ///< [tokens x max(labels, 2)]
    float* start = nullptr;   ///< [tokens]
    float* end = nullptr;     ///< [tokens]
};

/// Views of what the heads computed (empty where the model has no such output).
struct HeadOutputs {
    MatrixView pooler_output;  ///< [batch x hidden]
    MatrixView logits;         ///< [batch x labels] or [tokens x labels]
    Span<const float> start_logits, end_logits;  ///< [tokens]
};

struct Heads {
    HeadKind kind = HeadKind::none;
    bool has_pooler = false;
    bool has_pre_classifier = false;  ///< a dense layer of its own before the classifier
    Linear<float> pooler;          ///< hidden -> hidden, tanh
    Linear<float> pre_classifier;  ///< hidden -> hidden, pre_classifier_activation (the classification head's dense)
    kernels::Activation pre_classifier_activation = kernels::Activation::none;
    Linear<float> classifier;      ///< hidden -> labels (qa_outputs: hidden -> 2)

    std::size_t resident_bytes() const noexcept {
        return pooler.resident_bytes() + pre_classifier.resident_bytes() + classifier.resident_bytes();
    }

    /// GEMM scratch floats the heads need for up to `tokens` rows.
    std::size_t scratch_floats(std::size_t tokens, std::size_t threads) const {
        std::size_t most = classifier.scratch_floats(tokens, threads);
        if (has_pooler) most = std::max(most, pooler.scratch_floats(tokens, threads));
        if (has_pre_classifier) most = std::max(most, pre_classifier.scratch_floats(tokens, threads));
        return most;
    }

    MINIBERT_COMPILED_INLINE static Heads load(const Checkpoint& ckpt, const ModelConfig& cfg);

    /// Runs the pooler and the head. hidden: [tokens x hidden] packed sequences (offsets:
    /// seqs + 1 token offsets); first_tokens: [seqs x hidden], each sequence's first row.
    /// Buffers as HeadBuffers says; nothing is allocated.
    MINIBERT_COMPILED_INLINE HeadOutputs forward(const float* hidden, std::size_t width, std::size_t tokens,
                                                 const float* first_tokens, std::size_t seqs, const HeadBuffers& buf,
                                                 float* scratch, ThreadPool* pool) const;
};

#if MINIBERT_DEFINE_FORWARD
MINIBERT_COMPILED_INLINE Heads Heads::load(const Checkpoint& ckpt, const ModelConfig& cfg) {
    const Family& family = *cfg.family;
    const std::size_t h = cfg.hidden_size;
    Heads heads;
    heads.kind = cfg.head;
    auto linear = [&](const std::string& name, std::size_t out, std::size_t in, bool encoder_part) {
        auto w = encoder_part ? ckpt.encoder_f32(name + ".weight", {out, in}) : ckpt.head_f32(name + ".weight", {out, in});
        auto b = encoder_part ? ckpt.encoder_f32(name + ".bias", {out}) : ckpt.head_f32(name + ".bias", {out});
        return Linear<float>(w.data(), out, in, std::move(b));
    };
    const SequenceClassifierSpec& seq = family.sequence_classifier;
    const bool classifies = cfg.head == HeadKind::sequence_classification;
    // The base model's pooler: used when the file has it (a model saved with
    // add_pooling_layer=False, as every task model but BERT's sequence classifier, has none),
    // required when the classification head is built on it.
    if (!family.pooler.empty()) {
        const bool present = ckpt.find_encoder(family.pooler + ".weight") != nullptr;
        if (present || (classifies && seq.dense_is_pooler)) {
            heads.pooler = linear(family.pooler, h, h, true);
            heads.has_pooler = true;
        }
    }
    switch (cfg.head) {
        case HeadKind::none: break;
        case HeadKind::sequence_classification:
            if (!seq.dense_is_pooler) {
                heads.pre_classifier = linear(seq.dense, h, h, false);
                heads.pre_classifier_activation = seq.activation;
                heads.has_pre_classifier = true;
            }
            heads.classifier = linear(seq.out, cfg.num_labels, h, false);
            break;
        case HeadKind::token_classification:
            heads.classifier = linear(family.token_classifier, cfg.num_labels, h, false);
            break;
        case HeadKind::question_answering: heads.classifier = linear(family.qa_outputs, 2, h, false); break;
    }
    return heads;
}
#endif  // MINIBERT_DEFINE_FORWARD

#if MINIBERT_DEFINE_FORWARD
MINIBERT_COMPILED_INLINE HeadOutputs Heads::forward(const float* hidden, std::size_t width, std::size_t tokens,
                                                    const float* first_tokens, std::size_t seqs, const HeadBuffers& buf,
                                                    float* scratch, ThreadPool* pool) const {
    using kernels::Activation;
    HeadOutputs out;
    if (has_pooler) {
        pooler.forward(first_tokens, width, seqs, buf.pooled, width, Activation::tanh, nullptr, 0, scratch, pool);
        out.pooler_output = MatrixView(buf.pooled, seqs, width);
    }
    const std::size_t labels = classifier.out_features();
    switch (kind) {
        case HeadKind::none: break;
        case HeadKind::sequence_classification: {
            const float* features = buf.pooled;  // BERT: the pooler output
            if (has_pre_classifier) {
                pre_classifier.forward(first_tokens, width, seqs, buf.dense, width, pre_classifier_activation, nullptr,
                                       0, scratch, pool);
                features = buf.dense;
            }
            classifier.forward(features, width, seqs, buf.logits, labels, Activation::none, nullptr, 0, scratch, pool);
            out.logits = MatrixView(buf.logits, seqs, labels);
            break;
        }
        case HeadKind::token_classification:
            classifier.forward(hidden, width, tokens, buf.logits, labels, Activation::none, nullptr, 0, scratch, pool);
            out.logits = MatrixView(buf.logits, tokens, labels);
            break;
        case HeadKind::question_answering:
            classifier.forward(hidden, width, tokens, buf.logits, 2, Activation::none, nullptr, 0, scratch, pool);
            for (std::size_t t = 0; t < tokens; ++t) {
                buf.start[t] = buf.logits[2 * t];
                buf.end[t] = buf.logits[2 * t + 1];
            }
            out.start_logits = Span<const float>(buf.start, tokens);
            out.end_logits = Span<const float>(buf.end, tokens);
            break;
    }
    return out;
}
#endif  // MINIBERT_DEFINE_FORWARD

}  // namespace minibert
