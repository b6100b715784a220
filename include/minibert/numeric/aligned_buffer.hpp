// A small owning buffer whose storage starts on a 64-byte boundary (one cache line, and the
// widest SIMD load on any target minibert builds for), so kernels may use aligned loads and
// packed panels never straddle cache lines more than their layout requires.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace minibert {

/// Owning, move-only array of `size()` trivially copyable T, value-initialised (zeroed), whose
/// data() is aligned to `AlignedBuffer::alignment` bytes.
template <class T>
class AlignedBuffer {
    static_assert(std::is_trivially_copyable<T>::value, "AlignedBuffer holds plain data only");

public:
    static constexpr std::size_t alignment = 64;

    AlignedBuffer() = default;

    /// Allocates `count` zeroed elements; throws std::bad_alloc when memory runs out.
    explicit AlignedBuffer(std::size_t count) : size_(count) {
        if (count == 0) return;
        data_ = static_cast<T*>(::operator new[](count * sizeof(T), std::align_val_t{alignment}));
        std::fill_n(data_, count, T{});
    }

    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;

    AlignedBuffer(AlignedBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

    AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }

    ~AlignedBuffer() { release(); }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t bytes() const noexcept { return size_ * sizeof(T); }

    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    void release() noexcept {
        if (data_) ::operator delete[](data_, std::align_val_t{alignment});
        data_ = nullptr;
        size_ = 0;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace minibert
