// Reranker: a cross-encoder scores (query, passage) pairs; passages come back sorted by score.
//
// A cross-encoder is a *ForSequenceClassification model with one label, run on the pair
// "[CLS] query [SEP] passage [SEP]" (or the family's pair template). The score is the raw logit,
// as Hugging Face returns it, unless the folder asks for an activation:
//   - sentence-transformers >= 4 writes config.json {"sentence_transformers": {"activation_fn":
//     "torch.nn.modules.activation.Sigmoid"}};
//   - older sentence-transformers wrote config.json {"sbert_ce_default_activation_function": ...}.
// Identity, Sigmoid and Tanh are understood; any other name is an Error (a score silently
// computed with the wrong function would reorder nothing but mislead every threshold).
// The caller can override the folder with RerankOptions::activation.
//
// Pairs are batched without padding (the session's packed batches), max_batch pairs per pass;
// a long passage is truncated (or refused) by the pipeline's Overflow policy.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../io/file_open.hpp"
#include "../io/json.hpp"
#include "pipeline_base.hpp"

namespace minibert {

/// The function applied to a cross-encoder's logit.
enum class ScoreActivation {
    folder,    ///< what the folder's config.json says; the raw logit when it says nothing
    identity,  ///< the raw logit
    sigmoid,   ///< 1 / (1 + exp(-logit)), a score in (0, 1)
    tanh,      ///< tanh(logit), a score in (-1, 1)
};

inline const char* to_string(ScoreActivation a) noexcept {
    switch (a) {
        case ScoreActivation::folder: return "folder";
        case ScoreActivation::identity: return "identity";
        case ScoreActivation::sigmoid: return "sigmoid";
        case ScoreActivation::tanh: return "tanh";
    }
    return "?";
}

struct RerankOptions {
    ScoreActivation activation = ScoreActivation::folder;
};

struct RerankResult {
    std::size_t index = 0;  ///< the passage's position in the input
    float score = 0.0f;     ///< its score (see ScoreActivation)
};

namespace detail {
/// The activation a sentence-transformers CrossEncoder folder declares in its config.json text;
/// identity when it declares none. `source` names the file in errors.
inline ScoreActivation cross_encoder_activation(std::string_view config_text, const std::string& source) {
    const nlohmann::json doc = json::parse(config_text, source);
    const json::Node root(doc, source);
    root.require_object();
    std::optional<std::string> name;
    if (const auto st = root.find("sentence_transformers")) {
        st->require_object();
        name = st->optional_string("activation_fn");
    }
    if (!name) name = root.optional_string("sbert_ce_default_activation_function");
    if (!name) return ScoreActivation::identity;
    // The last dotted component: torch.nn.modules.activation.Sigmoid -> Sigmoid.
    const std::size_t dot = name->rfind('.');
    const std::string leaf = dot == std::string::npos ? *name : name->substr(dot + 1);
    if (leaf == "Identity") return ScoreActivation::identity;
    if (leaf == "Sigmoid") return ScoreActivation::sigmoid;
    if (leaf == "Tanh") return ScoreActivation::tanh;
    throw Error(ErrorKind::unsupported, source + ": the cross-encoder's activation '" + *name +
                                            "' is not supported (Identity, Sigmoid, Tanh are)");
}
}  // namespace detail

class Reranker : public detail::PipelineBase {
public:
    /// Loads a cross-encoder folder: the model, its tokenizer and the activation its config.json
    /// declares (unless `rerank` overrides it).
    static Reranker load(const std::string& dir, PipelineOptions options = {}, RerankOptions rerank = {}) {
        Model model = Model::load(dir, options.load);
        Tokenizer tokenizer = Tokenizer::from_folder(dir);
        if (rerank.activation == ScoreActivation::folder) {
            const std::string path = (std::filesystem::path(dir) / "config.json").string();
            rerank.activation = detail::cross_encoder_activation(read_text_file(path), path);
        }
        return Reranker(std::move(model), std::move(tokenizer), options, rerank);
    }

    /// From a model and tokenizer already loaded; ScoreActivation::folder means identity here
    /// (there is no folder to read).
    Reranker(Model model, Tokenizer tokenizer, PipelineOptions options = {}, RerankOptions rerank = {})
        : PipelineBase(std::move(model), std::move(tokenizer), options),
          activation_(rerank.activation == ScoreActivation::folder ? ScoreActivation::identity : rerank.activation) {
        const ModelConfig& c = model_.config();
        if (c.head != HeadKind::sequence_classification)
            throw Error(ErrorKind::unsupported, "a Reranker needs a cross-encoder (*ForSequenceClassification with "
                                                "one label), not '" + c.architecture + "'");
        if (c.num_labels != 1)
            throw Error(ErrorKind::unsupported, "a Reranker needs a cross-encoder with one label; this model has " +
                                                    std::to_string(c.num_labels) + " (use a Classifier for pairs)");
    }

    /// The activation applied to the logits.
    ScoreActivation activation() const noexcept { return activation_; }

    /// One score per passage, in input order.
    std::vector<float> score(std::string_view query, const std::vector<std::string_view>& passages) {
        std::vector<Encoding> encodings;
        encodings.reserve(passages.size());
        for (std::size_t i = 0; i < passages.size(); ++i) encodings.push_back(encode(query, &passages[i], i));
        std::vector<float> scores;
        scores.reserve(passages.size());
        for (std::size_t begin = 0; begin < encodings.size(); begin += max_batch()) {
            const std::size_t end = std::min(encodings.size(), begin + max_batch());
            const Outputs out = run(encodings, begin, end);
            for (std::size_t b = 0; b < out.batch_size; ++b) scores.push_back(activate(out.logits(b, 0)));
        }
        return scores;
    }
    std::vector<float> score(std::string_view query, const std::vector<std::string>& passages) {
        return score(query, std::vector<std::string_view>(passages.begin(), passages.end()));
    }

    /// The passages' indices and scores, best first; ties keep input order. top_n = 0: all.
    std::vector<RerankResult> rerank(std::string_view query, const std::vector<std::string_view>& passages,
                                     std::size_t top_n = 0) {
        const std::vector<float> scores = score(query, passages);
        std::vector<RerankResult> results(scores.size());
        for (std::size_t i = 0; i < scores.size(); ++i) results[i] = RerankResult{i, scores[i]};
        std::stable_sort(results.begin(), results.end(),
                         [](const RerankResult& a, const RerankResult& b) { return a.score > b.score; });
        if (top_n != 0 && top_n < results.size()) results.resize(top_n);
        return results;
    }
    std::vector<RerankResult> rerank(std::string_view query, const std::vector<std::string>& passages,
                                     std::size_t top_n = 0) {
        return rerank(query, std::vector<std::string_view>(passages.begin(), passages.end()), top_n);
    }

private:
    float activate(float logit) const noexcept {
        switch (activation_) {
            case ScoreActivation::sigmoid: return 1.0f / (1.0f + std::exp(-logit));
            case ScoreActivation::tanh: return std::tanh(logit);
            default: return logit;
        }
    }

    ScoreActivation activation_;
};

}  // namespace minibert
