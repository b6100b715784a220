// Counts every heap allocation in the process: replaces the global operator new / delete (all
// forms, aligned ones included) and, on glibc without a sanitizer, malloc / calloc / realloc /
// memalign / aligned_alloc / posix_memalign / free as well (so C allocations and the C++
// runtime's own are seen too).
//
// Include this header in exactly ONE .cpp file of a program (it defines the replacement
// functions, which must not be inline). Then:
//
//     alloc_counter::Scope scope;                 // starts counting
//     session.run(batch);
//     CHECK(scope.counted().calls == 0);          // allocations made since, on any thread
//
// Counts are process-wide atomics (relaxed), so allocations made by the session's pool threads
// are counted as well; keep other threads quiet inside a Scope.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <initializer_list>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_MEMORY__)
#define ALLOC_COUNTER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define ALLOC_COUNTER_SANITIZER 1
#endif
#endif

// Sanitizers interpose malloc themselves; a second interposer would fight theirs.
#if defined(__GLIBC__) && !defined(ALLOC_COUNTER_SANITIZER) && !defined(ALLOC_COUNTER_NO_MALLOC_HOOK)
#define ALLOC_COUNTER_HOOKS_MALLOC 1
extern "C" {
// glibc's own allocator entry points, which its malloc/free forward to.
void* __libc_malloc(std::size_t) noexcept;
void* __libc_calloc(std::size_t, std::size_t) noexcept;
void* __libc_realloc(void*, std::size_t) noexcept;
void* __libc_memalign(std::size_t, std::size_t) noexcept;
void __libc_free(void*) noexcept;
}
#endif

namespace alloc_counter {

/// Allocation counts; a difference of two snapshots is what happened in between.
struct Counts {
    std::size_t calls = 0;          ///< allocation calls of every kind
    std::size_t bytes = 0;          ///< bytes they requested
    std::size_t aligned_calls = 0;  ///< operator new with std::align_val_t (AlignedBuffer uses it)
    std::size_t aligned_bytes = 0;  ///< bytes those requested
    std::size_t frees = 0;          ///< deallocation calls (of non-null pointers)
    std::size_t largest = 0;        ///< largest single request (in the innermost Scope, or since start)

    friend Counts operator-(Counts a, const Counts& b) {
        a.calls -= b.calls;
        a.bytes -= b.bytes;
        a.aligned_calls -= b.aligned_calls;
        a.aligned_bytes -= b.aligned_bytes;
        a.frees -= b.frees;
        return a;
    }
};

namespace detail {

struct Totals {
    std::atomic<std::size_t> calls{0}, bytes{0}, aligned_calls{0}, aligned_bytes{0}, frees{0}, largest{0};
    std::atomic<std::size_t> scope_largest{0};  // reset by each Scope
};
inline Totals& totals() noexcept {
    static Totals t;  // constant-initialised: usable before main and from any thread
    return t;
}
// Counting can be paused (e.g. while doctest formats a message) without losing the hook.
inline std::atomic<int>& paused() noexcept {
    static std::atomic<int> p{0};
    return p;
}

inline void note_allocation(std::size_t size, bool aligned) noexcept {
    if (paused().load(std::memory_order_relaxed)) return;
    Totals& t = totals();
    t.calls.fetch_add(1, std::memory_order_relaxed);
    t.bytes.fetch_add(size, std::memory_order_relaxed);
    if (aligned) {
        t.aligned_calls.fetch_add(1, std::memory_order_relaxed);
        t.aligned_bytes.fetch_add(size, std::memory_order_relaxed);
    }
    for (std::atomic<std::size_t>* most : {&t.largest, &t.scope_largest}) {
        std::size_t seen = most->load(std::memory_order_relaxed);
        while (size > seen && !most->compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
        }
    }
}
inline void note_free(const void* p) noexcept {
    if (p && !paused().load(std::memory_order_relaxed)) totals().frees.fetch_add(1, std::memory_order_relaxed);
}

// The allocator underneath the counters (never the hooked malloc, so nothing counts twice).
inline void* raw_malloc(std::size_t n) noexcept {
#ifdef ALLOC_COUNTER_HOOKS_MALLOC
    return __libc_malloc(n);
#else
    return std::malloc(n);
#endif
}
inline void* raw_aligned(std::size_t n, std::size_t align) noexcept {
#ifdef ALLOC_COUNTER_HOOKS_MALLOC
    return __libc_memalign(align, n);
#else
    void* p = nullptr;
    return ::posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, n) == 0 ? p : nullptr;
#endif
}
inline void raw_free(void* p) noexcept {
#ifdef ALLOC_COUNTER_HOOKS_MALLOC
    __libc_free(p);
#else
    std::free(p);
#endif
}

inline void* counted_new(std::size_t n, bool nothrow) {
    note_allocation(n, false);
    for (;;) {
        if (void* p = raw_malloc(n == 0 ? 1 : n)) return p;
        std::new_handler handler = std::get_new_handler();
        if (!handler) {
            if (nothrow) return nullptr;
            throw std::bad_alloc();
        }
        handler();
    }
}
inline void* counted_aligned_new(std::size_t n, std::align_val_t align, bool nothrow) {
    note_allocation(n, true);
    for (;;) {
        if (void* p = raw_aligned(n == 0 ? 1 : n, static_cast<std::size_t>(align))) return p;
        std::new_handler handler = std::get_new_handler();
        if (!handler) {
            if (nothrow) return nullptr;
            throw std::bad_alloc();
        }
        handler();
    }
}
inline void counted_delete(void* p) noexcept {
    note_free(p);
    raw_free(p);
}

}  // namespace detail

/// Totals since the program started.
inline Counts now() noexcept {
    const detail::Totals& t = detail::totals();
    Counts c;
    c.calls = t.calls.load(std::memory_order_relaxed);
    c.bytes = t.bytes.load(std::memory_order_relaxed);
    c.aligned_calls = t.aligned_calls.load(std::memory_order_relaxed);
    c.aligned_bytes = t.aligned_bytes.load(std::memory_order_relaxed);
    c.frees = t.frees.load(std::memory_order_relaxed);
    c.largest = t.largest.load(std::memory_order_relaxed);
    return c;
}

/// True when malloc and friends are counted too (glibc, no sanitizer), not only operator new.
constexpr bool counts_malloc() noexcept {
#ifdef ALLOC_COUNTER_HOOKS_MALLOC
    return true;
#else
    return false;
#endif
}

/// Counts from construction on. `largest` is the largest request since the innermost Scope
/// began (each Scope restarts it, so nested Scopes share it).
class Scope {
public:
    Scope() noexcept {
        detail::totals().scope_largest.store(0, std::memory_order_relaxed);
        start_ = now();
    }
    Counts counted() const noexcept {
        Counts c = now() - start_;
        c.largest = detail::totals().scope_largest.load(std::memory_order_relaxed);
        return c;
    }

private:
    Counts start_;
};

/// Stops counting while alive (for test-framework work inside a Scope).
class Pause {
public:
    Pause() noexcept { detail::paused().fetch_add(1); }
    ~Pause() { detail::paused().fetch_sub(1); }
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;
};

}  // namespace alloc_counter

// ---- replacements (one definition per program: include this header in one .cpp only) --------

void* operator new(std::size_t n) { return alloc_counter::detail::counted_new(n, false); }
void* operator new[](std::size_t n) { return alloc_counter::detail::counted_new(n, false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return alloc_counter::detail::counted_new(n, true);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return alloc_counter::detail::counted_new(n, true);
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t n, std::align_val_t a) { return alloc_counter::detail::counted_aligned_new(n, a, false); }
void* operator new[](std::size_t n, std::align_val_t a) { return alloc_counter::detail::counted_aligned_new(n, a, false); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return alloc_counter::detail::counted_aligned_new(n, a, true);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return alloc_counter::detail::counted_aligned_new(n, a, true);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete[](void* p) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { alloc_counter::detail::counted_delete(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { alloc_counter::detail::counted_delete(p); }

#ifdef ALLOC_COUNTER_HOOKS_MALLOC
// glibc declares these noexcept (__THROW); the replacements must match.
extern "C" {
void* malloc(std::size_t n) noexcept {
    alloc_counter::detail::note_allocation(n, false);
    return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t size) noexcept {
    alloc_counter::detail::note_allocation(count * size, false);
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t n) noexcept {
    alloc_counter::detail::note_allocation(n, false);
    return __libc_realloc(p, n);
}
void* memalign(std::size_t align, std::size_t n) noexcept {
    alloc_counter::detail::note_allocation(n, false);
    return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) noexcept {
    alloc_counter::detail::note_allocation(n, false);
    return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) noexcept {
    if (align % sizeof(void*) != 0 || (align & (align - 1)) != 0) return 22;  // EINVAL
    alloc_counter::detail::note_allocation(n, false);
    void* p = __libc_memalign(align, n);
    if (!p) return 12;  // ENOMEM
    *out = p;
    return 0;
}
void free(void* p) noexcept {
    alloc_counter::detail::note_free(p);
    __libc_free(p);
}
}
#endif
