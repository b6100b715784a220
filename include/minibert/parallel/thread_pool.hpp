// A small persistent thread pool for splitting one kernel call across cores.
//
// The calling thread always takes part, so a pool of size 1 starts no thread and takes no lock:
// one thread means no synchronisation at all. Workers sleep on a condition variable between
// calls (no busy-spinning once the work is done). parallel_for takes a callable by reference and
// type-erases it through a plain function pointer, so a call allocates nothing.
//
// Results never depend on the pool size as long as the kernels give each task the same
// arithmetic whichever thread runs it (they split by output columns or rows, never by K).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace minibert {

class ThreadPool {
public:
    /// A pool that runs work on `threads` threads in total, the caller included (>= 1).
    explicit ThreadPool(std::size_t threads = 1) : size_(threads == 0 ? 1 : threads) {
        workers_.reserve(size_ - 1);
        for (std::size_t i = 1; i < size_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
    }

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    ~ThreadPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
    }

    /// Threads that take part in parallel_for, the caller included.
    std::size_t size() const noexcept { return size_; }

    /// Calls fn(task) for task in [0, tasks), spread over the pool; returns when all are done.
    /// Thread t runs the contiguous block of tasks [t*tasks/size, (t+1)*tasks/size).
    /// The first exception thrown by a task is rethrown here after all threads finish.
    template <class Fn>
    void parallel_for(std::size_t tasks, Fn&& fn) {
        if (tasks == 0) return;
        if (size_ == 1 || tasks == 1) {
            for (std::size_t t = 0; t < tasks; ++t) fn(t);
            return;
        }
        using F = std::remove_reference_t<Fn>;
        Job job;
        job.context = const_cast<void*>(static_cast<const void*>(&fn));
        job.invoke = [](void* ctx, std::size_t task) { (*static_cast<F*>(ctx))(task); };
        job.tasks = tasks;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = job;
            pending_ = size_ - 1;
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        run_share(job, 0);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        if (error_) std::rethrow_exception(error_);
    }

private:
    struct Job {
        void* context = nullptr;
        void (*invoke)(void*, std::size_t) = nullptr;
        std::size_t tasks = 0;
    };

    void run_share(const Job& job, std::size_t index) {
        const std::size_t begin = job.tasks * index / size_;
        const std::size_t end = job.tasks * (index + 1) / size_;
        try {
            for (std::size_t t = begin; t < end; ++t) job.invoke(job.context, t);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }

    void worker_loop(std::size_t index) {
        std::size_t seen = 0;
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                job = job_;
            }
            run_share(job, index);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (--pending_ == 0) done_.notify_one();
            }
        }
    }

    std::size_t size_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    Job job_;
    std::size_t pending_ = 0;
    std::size_t generation_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace minibert
