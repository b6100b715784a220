// ModelRunner: one loaded version of one model folder: the weights (loaded once), its tokenizer,
// a pool of pipeline objects (one Session each) and the Batcher whose workers run them.
//
// The pipeline kind follows the folder's head (config.json's architecture): a sequence
// classifier serves /classify (with one label it is a cross-encoder and serves /rerank), a token classifier /tag, a QA model /qa, a bare encoder /embed
// and /v1/embeddings. Every worker's pipeline is built from the same Model (weights shared, not
// copied) with its own Session. A batch of several jobs is one call of the pipeline's batch API
// on the concatenated texts; each job then takes its rows back.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <minibert/pipeline.hpp>

#include "batcher.hpp"
#include "metrics.hpp"

namespace minibert::serve {

enum class ModelKind { classifier, embedder, tagger, qa, reranker };

inline const char* to_string(ModelKind k) noexcept {
    switch (k) {
        case ModelKind::classifier: return "classifier";
        case ModelKind::embedder: return "embedder";
        case ModelKind::tagger: return "tagger";
        case ModelKind::qa: return "question_answerer";
        case ModelKind::reranker: return "reranker";
    }
    return "?";
}

/// How a model is loaded and run (the command line's --model, --dtype, --threads ...).
struct RunnerOptions {
    LoadOptions load;
    std::size_t sessions = 1;             ///< workers, each with its own session
    std::size_t threads_per_session = 1;  ///< threads per forward pass
    std::size_t max_batch_texts = 256;    ///< most texts per forward pass
    Overflow overflow = Overflow::truncate;
    BatchLimits batch;
};

class ModelRunner {
public:
    /// Loads `dir`; `name` labels its metrics. Throws minibert::Error for a folder it cannot serve.
    ModelRunner(std::string name, std::string dir, const RunnerOptions& options, Metrics* metrics)
        : name_(std::move(name)), dir_(std::move(dir)), options_(options), metrics_(metrics) {
        PipelineOptions p;
        p.threads = options.threads_per_session;
        p.max_batch = options.max_batch_texts;
        p.overflow = options.overflow;
        p.load = options.load;
        Model model = Model::load(dir_, options.load);
        const std::size_t n = std::max<std::size_t>(1, options.sessions);
        switch (model.config().head) {
            case HeadKind::sequence_classification: {
                if (model.config().num_labels == 1) {
                    // A cross-encoder: load() reads the score activation its config.json declares;
                    // the other workers take it from the first and share its weights.
                    kind_ = ModelKind::reranker;
                    auto first = std::make_unique<Reranker>(Reranker::load(dir_, p));
                    RerankOptions ro;
                    ro.activation = first->activation();
                    rerankers_.push_back(std::move(first));
                    for (std::size_t i = 1; i < n; ++i)
                        rerankers_.emplace_back(std::make_unique<Reranker>(rerankers_[0]->model(), rerankers_[0]->tokenizer(), p, ro));
                    base_ = rerankers_.front().get();
                    break;
                }
                kind_ = ModelKind::classifier;
                Tokenizer tok = Tokenizer::from_folder(dir_);
                for (std::size_t i = 0; i < n; ++i) classifiers_.emplace_back(std::make_unique<Classifier>(model, tok, p));
                base_ = classifiers_.front().get();
                break;
            }
            case HeadKind::token_classification: {
                kind_ = ModelKind::tagger;
                Tokenizer tok = Tokenizer::from_folder(dir_);
                for (std::size_t i = 0; i < n; ++i) taggers_.emplace_back(std::make_unique<TokenTagger>(model, tok, p));
                base_ = taggers_.front().get();
                break;
            }
            case HeadKind::question_answering: {
                kind_ = ModelKind::qa;
                Tokenizer tok = Tokenizer::from_folder(dir_);
                for (std::size_t i = 0; i < n; ++i)
                    qas_.emplace_back(std::make_unique<QuestionAnswerer>(model, tok, QuestionAnswererOptions{}, p));
                base_ = qas_.front().get();
                break;
            }
            case HeadKind::none: {
                kind_ = ModelKind::embedder;
                // load() reads sentence-transformers' max_seq_length and pooling; the other
                // workers copy its settings and share its weights.
                auto first = std::make_unique<Embedder>(Embedder::load(dir_, p));
                p.max_length = first->max_length();
                const PoolingConfig pooling = first->pooling();
                embedders_.push_back(std::move(first));
                for (std::size_t i = 1; i < n; ++i)
                    embedders_.emplace_back(std::make_unique<Embedder>(embedders_[0]->model(), embedders_[0]->tokenizer(), pooling, p));
                base_ = embedders_.front().get();
                break;
            }
        }
        batcher_ = std::make_unique<Batcher>(n, options.batch, [this](std::size_t w, std::vector<std::shared_ptr<Job>>& jobs) {
            run(w, jobs);
        });
    }

    const std::string& name() const noexcept { return name_; }
    const std::string& dir() const noexcept { return dir_; }
    ModelKind kind() const noexcept { return kind_; }
    const Model& model() const noexcept { return base_->model(); }
    const Tokenizer& tokenizer() const noexcept { return base_->tokenizer(); }
    std::size_t max_length() const noexcept { return base_->max_length(); }
    const RunnerOptions& options() const noexcept { return options_; }
    std::size_t queue_depth() const { return batcher_->depth(); }
    const std::vector<std::string>& labels() const noexcept { return model().config().id2label; }
    std::size_t dimension() const noexcept { return embedders_.empty() ? 0 : embedders_.front()->dimension(); }

    /// Tokens of a text (or pair) as the pipeline will run it, before any truncation; the same
    /// encoding the pipeline makes (same tokenizer, same specials).
    std::size_t count_tokens(std::string_view text, const std::string_view* pair = nullptr) const {
        return pair ? tokenizer().encode_pair(text, *pair).size() : tokenizer().encode(text).size();
    }

    void submit(std::shared_ptr<Job> job) { batcher_->submit(std::move(job)); }

    /// Stops taking jobs after finishing the queued ones (the destructor does it too).
    ~ModelRunner() { batcher_.reset(); }

private:
    void run(std::size_t w, std::vector<std::shared_ptr<Job>>& jobs) {
        const auto start = Clock::now();
        std::size_t texts = 0, tokens = 0;
        for (const auto& j : jobs) {
            texts += j->inputs();
            tokens += j->tokens;
        }
        try {
            run_together(w, jobs);
        } catch (...) {
            // A batch-wide failure: each job again alone, so one job's error stays its own.
            if (jobs.size() == 1) throw;
            for (auto& j : jobs) {
                std::vector<std::shared_ptr<Job>> one{j};
                try {
                    run_together(w, one);
                } catch (...) {
                    j->error = std::current_exception();
                }
            }
        }
        if (metrics_) {
            const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
            const Labels model{{"model", name_}};
            metrics_->observe("minibert_batch_requests", "Requests per batch", model, double(jobs.size()), count_buckets(1024));
            metrics_->observe("minibert_batch_texts", "Texts per batch", model, double(texts), count_buckets(4096));
            metrics_->observe("minibert_batch_tokens", "Tokens per batch (before truncation)", model, double(tokens), count_buckets(65536));
            metrics_->observe("minibert_inference_seconds", "Time of one batch's forward passes and post-processing", model,
                              seconds, latency_buckets());
        }
    }

    void run_together(std::size_t w, std::vector<std::shared_ptr<Job>>& jobs) {
        const Task task = jobs.front()->task;
        if (task == Task::rerank) {
            for (auto& j : jobs) j->ranking = rerankers_.at(w)->rerank(j->query, j->texts, j->top_n);
            return;
        }
        if (task == Task::qa) {
            for (auto& j : jobs) j->answer = qas_.at(w)->answer(j->pairs.front().first, j->pairs.front().second);
            return;
        }
        if (task == Task::classify_pairs) {
            std::vector<std::pair<std::string, std::string>> all;
            for (auto& j : jobs) all.insert(all.end(), j->pairs.begin(), j->pairs.end());
            auto out = classifiers_.at(w)->classify_pairs(all);
            split(jobs, out, &Job::classifications);
            return;
        }
        std::vector<std::string_view> all;
        for (auto& j : jobs)
            for (const auto& t : j->texts) all.push_back(t);
        switch (task) {
            case Task::classify: {
                auto out = classifiers_.at(w)->classify(all);
                split(jobs, out, &Job::classifications);
                break;
            }
            case Task::embed: {
                auto out = embedders_.at(w)->embed(all);
                split(jobs, out, &Job::embeddings);
                break;
            }
            case Task::tag_none:
            case Task::tag_simple:
            case Task::tag_first: {
                const Aggregation a = task == Task::tag_none     ? Aggregation::none
                                      : task == Task::tag_first ? Aggregation::first
                                                                : Aggregation::simple;
                auto out = taggers_.at(w)->tag(all, a);
                split(jobs, out, &Job::entities);
                break;
            }
            default: break;
        }
    }

    /// Hands each job its rows of the concatenated answers.
    template <class T>
    static void split(std::vector<std::shared_ptr<Job>>& jobs, std::vector<T>& out, std::vector<T> Job::*field) {
        std::size_t at = 0;
        for (auto& j : jobs) {
            const std::size_t n = j->inputs();
            auto& dst = (*j).*field;
            dst.assign(std::make_move_iterator(out.begin() + static_cast<std::ptrdiff_t>(at)),
                       std::make_move_iterator(out.begin() + static_cast<std::ptrdiff_t>(at + n)));
            at += n;
        }
    }

    std::string name_, dir_;
    RunnerOptions options_;
    Metrics* metrics_;
    ModelKind kind_ = ModelKind::embedder;
    std::vector<std::unique_ptr<Classifier>> classifiers_;
    std::vector<std::unique_ptr<Embedder>> embedders_;
    std::vector<std::unique_ptr<TokenTagger>> taggers_;
    std::vector<std::unique_ptr<QuestionAnswerer>> qas_;
    std::vector<std::unique_ptr<Reranker>> rerankers_;
    const detail::PipelineBase* base_ = nullptr;
    std::unique_ptr<Batcher> batcher_;  // last: its workers use everything above
};

}  // namespace minibert::serve
