// A small persistent thread pool for splitting one kernel call across cores.
//
// The calling thread always takes part, so a pool of size 1 starts no thread and takes no lock:
// one thread means no synchronisation at all. Between calls a worker first spins briefly
// (kSpinMicros, with the CPU's pause hint) watching for the next call, then sleeps on a condition
// variable; the caller likewise spins briefly before sleeping until the workers finish. A forward
// pass makes dozens of calls a few tens of microseconds apart (the int8 GEMMs on AMX take ~20-50
// us each), and a futex wake-up on a VM costs about as much: on the 2-vCPU Intel Xeon host, BERT-base
// int8 s128 on 2 threads took 24.6 ms sleeping and 19.5 ms spinning (1 thread: ~30 ms), and
// 23.8 / 18.3 ms with two nice-19 busy loops on both vCPUs (docs/kernels.md). Yielding inside the
// spin lost under that load (32.3 ms: the yield hands the CPU to the busy loops). The spin is
// bounded, so an idle pool still costs no CPU. ONNX Runtime's pool spins by default. parallel_for takes a callable by reference and
// type-erases it through a plain function pointer, so a call allocates nothing.
//
// Tasks are claimed one at a time from an atomic counter by whichever participating thread is
// free, the caller included. On a dedicated machine that is the same split as one contiguous block
// per thread; on a shared one (this project's 2-vCPU VM, where another process may hold the
// second vCPU for a whole time slice) the caller runs the tasks a sleeping worker has not claimed
// yet instead of waiting milliseconds for it to be scheduled. Results never depend on the pool
// size or on which thread ran a task, because kernels give each task index fixed work and fixed
// arithmetic (they split by output columns or rows, never by K, and index scratch by task).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "../error.hpp"

namespace minibert {

class ThreadPool {
public:
    /// Called before worker `index` (1-based) is started; a test hook that may throw what a
    /// failing thread creation throws (std::system_error).
    using BeforeStart = void (*)(std::size_t index);

    /// A pool that runs work on `threads` threads in total, the caller included (>= 1).
    /// All or nothing: when a thread cannot be started (std::system_error from an address-space
    /// or pids limit), every worker already started is stopped and joined before the constructor
    /// throws Error(limit) naming the count. Unwinding with workers still waiting on the
    /// condition variable (what happened before) destroyed it under them and hung.
    explicit ThreadPool(std::size_t threads = 1, BeforeStart before_start = nullptr) : size_(threads == 0 ? 1 : threads) {
        try {
            workers_.reserve(size_ - 1);
            for (std::size_t i = 1; i < size_; ++i) {
                if (before_start) before_start(i);
                workers_.emplace_back([this] { worker_loop(); });
            }
        } catch (const std::system_error& e) {
            const std::size_t started = workers_.size();
            stop_and_join();
            throw Error(ErrorKind::limit, "cannot start worker thread " + std::to_string(started + 1) + " of the " +
                                              std::to_string(size_ - 1) + " a " + std::to_string(size_) +
                                              "-thread pool needs (" + e.what() + "); the " + std::to_string(started) +
                                              " started were joined. Use fewer threads or raise the process limits");
        } catch (...) {
            stop_and_join();
            throw;
        }
    }

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    ~ThreadPool() { stop_and_join(); }

    /// Threads that take part in parallel_for, the caller included.
    std::size_t size() const noexcept { return size_; }

    /// Calls fn(task) for task in [0, tasks), spread over the pool; returns when all are done.
    /// Each task runs exactly once, on the caller or a worker (see the file comment).
    /// The first exception thrown by a task is rethrown here after all threads finish.
    /// How long a waiting thread spins before it sleeps (see the file comment).
    static constexpr std::chrono::microseconds kSpinMicros{100};

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
            next_task_.store(0, std::memory_order_relaxed);
            finished_tasks_.store(0, std::memory_order_relaxed);
            error_ = nullptr;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        const std::size_t mine = run_tasks(job);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            finished_tasks_.fetch_add(mine, std::memory_order_relaxed);
        }
        auto all_done = [&] {
            return finished_tasks_.load(std::memory_order_acquire) == tasks && active_.load(std::memory_order_acquire) == 0;
        };
        spin_until(all_done);
        std::unique_lock<std::mutex> lock(mutex_);
        // Every task done, and no worker still inside this job (one that picked it up registered
        // in active_ under the lock). Then close the job so a late-waking worker finds nothing.
        done_.wait(lock, all_done);
        job_ = Job{};
        if (error_) std::rethrow_exception(error_);
    }

private:
    /// Spins up to kSpinMicros until ready() (atomics only; the caller rechecks under the lock).
    template <class Ready>
    static void spin_until(Ready&& ready) noexcept {
        const auto until = std::chrono::steady_clock::now() + kSpinMicros;
        for (unsigned i = 1;; ++i) {
            if (ready()) return;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#elif defined(__aarch64__)
            __asm__ __volatile__("yield");
#endif
            if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return;
        }
    }

    void stop_and_join() noexcept {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_.store(true, std::memory_order_release);
        }
        wake_.notify_all();
        for (auto& w : workers_)
            if (w.joinable()) w.join();
        workers_.clear();
    }

    struct Job {
        void* context = nullptr;
        void (*invoke)(void*, std::size_t) = nullptr;
        std::size_t tasks = 0;
    };

    /// Claims and runs tasks of `job` until none is left; returns how many this thread ran.
    std::size_t run_tasks(const Job& job) {
        std::size_t ran = 0;
        for (;;) {
            const std::size_t t = next_task_.fetch_add(1, std::memory_order_relaxed);
            if (t >= job.tasks) return ran;
            try {
                job.invoke(job.context, t);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            ++ran;
        }
    }

    void worker_loop() {
        std::size_t seen = 0;
        for (;;) {
            Job job;
            auto woken = [&] {
                return stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
            };
            spin_until(woken);
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, woken);
                if (stopping_.load(std::memory_order_relaxed)) return;
                seen = generation_.load(std::memory_order_relaxed);
                if (job_.tasks == 0) continue;  // woke after the caller finished that job alone
                job = job_;
                active_.fetch_add(1, std::memory_order_relaxed);
            }
            const std::size_t ran = run_tasks(job);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                // release: a caller spinning on these sees the task's results written
                const std::size_t finished = finished_tasks_.fetch_add(ran, std::memory_order_release) + ran;
                const std::size_t active = active_.fetch_sub(1, std::memory_order_release) - 1;
                if (active == 0 && finished == job.tasks) done_.notify_one();
            }
        }
    }

    std::size_t size_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    Job job_;                              // the current job; tasks == 0 when none is open
    std::atomic<std::size_t> next_task_{0};  // next unclaimed task of job_
    // Written under mutex_; atomic so the spins can read them without it.
    std::atomic<std::size_t> finished_tasks_{0};  // tasks of job_ done
    std::atomic<std::size_t> active_{0};          // workers inside job_
    std::atomic<std::size_t> generation_{0};
    std::atomic<bool> stopping_{false};
    std::exception_ptr error_;
};

}  // namespace minibert
