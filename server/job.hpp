// Job: one request's inference work as the batcher sees it: what to run, how many tokens it
// weighs, until when its caller waits, and where the answers go.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include <minibert/pipeline.hpp>

namespace minibert::serve {

/// What a job asks of its model. Only jobs with the same task share a forward pass
/// (classify_pairs encodes differently from classify; each tagging aggregation is its own task).
enum class Task { classify, classify_pairs, embed, tag_none, tag_simple, tag_first, qa, rerank };

/// QA runs one question at a time (its API), a rerank job one query with its documents (the
/// Reranker scores one query's passages per call; its documents are already one batch).
inline bool batchable(Task t) noexcept { return t != Task::qa && t != Task::rerank; }

using Clock = std::chrono::steady_clock;

struct Job {
    Task task = Task::classify;
    std::vector<std::string> texts;                           ///< classify, embed, tag; rerank: the documents
    std::string query;                                        ///< rerank
    std::size_t top_n = 0;                                    ///< rerank: 0 = all
    std::vector<std::pair<std::string, std::string>> pairs;  ///< classify_pairs; qa: one (question, context)
    std::size_t tokens = 0;                                   ///< its weight against --max-batch-tokens
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point enqueued{};
    std::atomic<bool> abandoned{false};  ///< the caller gave up (504): skip it if not started

    // Answers, in input order; the one that matches the task is filled.
    std::vector<Classification> classifications;
    std::vector<std::vector<float>> embeddings;
    std::vector<std::vector<Entity>> entities;
    Answer answer;
    std::vector<RerankResult> ranking;
    std::exception_ptr error;

    std::promise<void> done;                ///< set when the answers (or error) are in
    std::function<void(Job&)> on_done;      ///< optional: runs on the worker after `done` (shadow traffic)

    std::size_t inputs() const noexcept { return task == Task::classify_pairs || task == Task::qa ? pairs.size() : texts.size(); }
};

}  // namespace minibert::serve
