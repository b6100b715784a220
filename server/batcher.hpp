// Batcher: a bounded queue of jobs and the workers that drain it in padding-free batches.
//
// Each worker owns one session (one pipeline object, see model_runner.hpp). A free worker takes
// the oldest job, then adds queued jobs of the same task, oldest first, while the batch stays
// within --max-batch-tokens and --max-batch-requests, waiting at most --max-wait-us for more to
// arrive when the batch is not full. One job heavier than the budget runs alone. The queue holds
// at most --queue-size jobs: submit() refuses more (429 + Retry-After), so overload turns into
// fast refusals instead of unbounded latency and memory.
//
// Results do not depend on batch composition: the library packs sequences end to end without
// padding, dense layers are row-independent and attention runs per sequence, so a text's
// logits are the same bits alone or in any batch (tests/test_batching.cpp for the library,
// server/test_serve.cpp over HTTP).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api_error.hpp"
#include "job.hpp"

namespace minibert::serve {

struct BatchLimits {
    std::size_t max_batch_tokens = 4096;
    std::size_t max_batch_requests = 64;
    std::size_t max_wait_us = 1000;
    std::size_t queue_size = 256;
};

class Batcher {
public:
    /// run(worker, jobs): runs one batch on worker's session and fills each job's answers.
    using RunBatch = std::function<void(std::size_t worker, std::vector<std::shared_ptr<Job>>& jobs)>;

    Batcher(std::size_t workers, BatchLimits limits, RunBatch run) : limits_(limits), run_(std::move(run)) {
        for (std::size_t w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
    }
    Batcher(const Batcher&) = delete;
    Batcher& operator=(const Batcher&) = delete;

    /// Finishes every queued job, then joins the workers.
    ~Batcher() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

    /// Queues a job; ApiError 429 when the queue is full.
    void submit(std::shared_ptr<Job> job) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (queue_.size() >= limits_.queue_size)
                throw ApiError(429, "rate_limit_error",
                               "the queue is full (" + std::to_string(limits_.queue_size) + " requests, --queue-size); retry later", 1);
            job->enqueued = Clock::now();
            queue_.push_back(std::move(job));
        }
        cv_.notify_one();
    }

    std::size_t depth() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return queue_.size();
    }
    const BatchLimits& limits() const noexcept { return limits_; }

private:
    /// Takes an expired or abandoned job off the queue's head with a 504 (caller gone or late).
    static bool expired(Job& job, Clock::time_point now) {
        if (!job.abandoned.load() && now < job.deadline) return false;
        job.error = std::make_exception_ptr(ApiError(504, "timeout_error", "the request's deadline passed while it waited in the queue"));
        job.done.set_value();
        return true;
    }

    void work(std::size_t worker) {
        std::vector<std::shared_ptr<Job>> batch;
        for (;;) {
            batch.clear();
            {
                std::unique_lock<std::mutex> lock(mutex_);
                cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stopping, and nothing left to finish
                std::size_t tokens = 0;
                const Clock::time_point wait_until = Clock::now() + std::chrono::microseconds(limits_.max_wait_us);
                for (;;) {
                    const Clock::time_point now = Clock::now();
                    bool full = false;
                    for (auto it = queue_.begin(); it != queue_.end();) {
                        Job& job = **it;
                        if (expired(job, now)) {
                            it = queue_.erase(it);
                            continue;
                        }
                        const bool fits = batch.empty() ||
                                          (batchable(job.task) && job.task == batch.front()->task &&
                                           tokens + job.tokens <= limits_.max_batch_tokens &&
                                           batch.size() < limits_.max_batch_requests);
                        if (fits) {
                            tokens += job.tokens;
                            batch.push_back(std::move(*it));
                            it = queue_.erase(it);
                            if (!batchable(batch.front()->task) || batch.size() >= limits_.max_batch_requests ||
                                tokens >= limits_.max_batch_tokens) {
                                full = true;
                                break;
                            }
                        } else {
                            ++it;
                        }
                    }
                    if (batch.empty()) break;  // everything queued had expired
                    if (full || stopping_ || now >= wait_until) break;
                    cv_.wait_until(lock, wait_until);
                }
                if (batch.empty()) continue;
            }
            // Another worker may be idle while this one waited: wake it for what is left.
            cv_.notify_one();
            try {
                run_(worker, batch);
            } catch (...) {
                for (auto& job : batch)
                    if (!job->error) job->error = std::current_exception();
            }
            for (auto& job : batch) {
                job->done.set_value();
                if (job->on_done) {
                    try {
                        job->on_done(*job);
                    } catch (...) {  // shadow bookkeeping must never take a worker down
                    }
                }
            }
        }
    }

    BatchLimits limits_;
    RunBatch run_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace minibert::serve
