// Classifier: text (or text pair) in, label names and probabilities out.
//
// Labels come from config.json's id2label. Probabilities are a softmax over the logits, or a
// sigmoid per label for a multi-label model (problem_type "multi_label_classification") or a
// single-logit regression-style head, as Hugging Face's text-classification pipeline does.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline_base.hpp"

namespace minibert {

struct Classification {
    std::size_t label_id = 0;          ///< index of the best label
    std::string label;                 ///< its name from id2label
    float score = 0.0f;                ///< its probability
    std::vector<float> probabilities;  ///< one per label
    std::vector<float> logits;         ///< the raw head output, one per label
};

class Classifier : public detail::PipelineBase {
public:
    /// Loads the model and tokenizer from one folder. Throws Error if it is not a sequence classifier.
    static Classifier load(const std::string& dir, PipelineOptions options = {}) {
        Model model = Model::load(dir, options.load);  // model first: its errors are the likelier ones
        return Classifier(std::move(model), Tokenizer::from_folder(dir), options);
    }

    Classifier(Model model, Tokenizer tokenizer, PipelineOptions options = {})
        : PipelineBase(std::move(model), std::move(tokenizer), options) {
        if (model_.config().head != HeadKind::sequence_classification)
            throw Error(ErrorKind::unsupported, "a Classifier needs a *ForSequenceClassification model, not '" +
                                                    model_.config().architecture + "'");
    }

    /// Label names, by id.
    const std::vector<std::string>& labels() const noexcept { return model_.config().id2label; }

    Classification classify(std::string_view text) { return classify(std::vector<std::string_view>{text}).front(); }

    /// Classifies texts, max_batch per forward pass; results in input order.
    std::vector<Classification> classify(const std::vector<std::string_view>& texts) {
        std::vector<Encoding> encodings;
        encodings.reserve(texts.size());
        for (std::size_t i = 0; i < texts.size(); ++i) encodings.push_back(encode(texts[i], nullptr, i));
        return run_all(encodings);
    }
    std::vector<Classification> classify(const std::vector<std::string>& texts) {
        return classify(std::vector<std::string_view>(texts.begin(), texts.end()));
    }

    /// Classifies (text, text_pair) pairs: [CLS] a [SEP] b [SEP] with token types 0 / 1.
    std::vector<Classification> classify_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
        std::vector<Encoding> encodings;
        encodings.reserve(pairs.size());
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const std::string_view second = pairs[i].second;
            encodings.push_back(encode(pairs[i].first, &second, i));
        }
        return run_all(encodings);
    }

private:
    std::vector<Classification> run_all(const std::vector<Encoding>& encodings) {
        std::vector<Classification> results;
        results.reserve(encodings.size());
        for (std::size_t begin = 0; begin < encodings.size(); begin += max_batch()) {
            const std::size_t end = std::min(encodings.size(), begin + max_batch());
            const Outputs out = run(encodings, begin, end);
            for (std::size_t b = 0; b < out.batch_size; ++b) results.push_back(interpret(out.logits.row(b), out.logits.cols()));
        }
        return results;
    }

    Classification interpret(const float* logits, std::size_t n) const {
        Classification c;
        c.logits.assign(logits, logits + n);
        if (model_.config().multi_label || n == 1) {
            c.probabilities.resize(n);
            for (std::size_t i = 0; i < n; ++i) c.probabilities[i] = 1.0f / (1.0f + std::exp(-logits[i]));
        } else {
            c.probabilities = detail::softmax(logits, n);
        }
        c.label_id = static_cast<std::size_t>(std::max_element(c.probabilities.begin(), c.probabilities.end()) -
                                              c.probabilities.begin());
        c.label = labels()[c.label_id];
        c.score = c.probabilities[c.label_id];
        return c;
    }
};

}  // namespace minibert
