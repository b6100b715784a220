// Non-owning views handed across the public API: Span<T> (pointer + size, C++17's stand-in for
// std::span) and MatrixView (row-major pointer + rows + cols + row stride).
//
// Views into a Session's workspace stay valid until that session's next run().
//
// Eigen is optional: MatrixView::eigen() needs <minibert/eigen.hpp>, the one header that includes
// Eigen, so code that does not use Eigen never parses it.
#pragma once

#include <cassert>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace minibert {

namespace detail {
/// How eigen() builds its Eigen::Map: specialised in <minibert/eigen.hpp>. Without that header,
/// calling eigen() stops at the static_assert below instead of at an unknown Eigen name.
template <class T>
struct EigenMapOf {
    static_assert(sizeof(T) == 0, "MatrixView::eigen() needs #include <minibert/eigen.hpp> (and Eigen)");
};
}  // namespace detail

template <class T>
class Span {
public:
    constexpr Span() noexcept = default;
    constexpr Span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <class U, class A>
    Span(const std::vector<U, A>& v) noexcept : data_(v.data()), size_(v.size()) {}  // NOLINT: implicit by design
    template <class U, class A>
    Span(std::vector<U, A>& v) noexcept : data_(v.data()), size_(v.size()) {}  // NOLINT
    template <std::size_t N>
    constexpr Span(T (&array)[N]) noexcept : data_(array), size_(N) {}  // NOLINT

    constexpr T* data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T* begin() const noexcept { return data_; }
    constexpr T* end() const noexcept { return data_ + size_; }
    constexpr T& operator[](std::size_t i) const noexcept {
        assert(i < size_);
        return data_[i];
    }
    constexpr Span subspan(std::size_t offset, std::size_t count) const noexcept {
        assert(offset + count <= size_);
        return Span(data_ + offset, count);
    }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Row-major matrix of floats. Eigen users include <minibert/eigen.hpp> and take `view.eigen()`.
template <class T>
class BasicMatrixView {
public:
    constexpr BasicMatrixView() noexcept = default;
    constexpr BasicMatrixView(T* data, std::size_t rows, std::size_t cols, std::size_t stride = 0) noexcept
        : data_(data), rows_(rows), cols_(cols), stride_(stride ? stride : cols) {}

    constexpr T* data() const noexcept { return data_; }
    constexpr std::size_t rows() const noexcept { return rows_; }
    constexpr std::size_t cols() const noexcept { return cols_; }
    constexpr std::size_t stride() const noexcept { return stride_; }
    constexpr bool empty() const noexcept { return rows_ == 0 || cols_ == 0; }
    constexpr T* row(std::size_t r) const noexcept {
        assert(r < rows_);
        return data_ + r * stride_;
    }
    constexpr T& operator()(std::size_t r, std::size_t c) const noexcept {
        assert(r < rows_ && c < cols_);
        return data_[r * stride_ + c];
    }
    Span<T> row_span(std::size_t r) const noexcept { return Span<T>(row(r), cols_); }

    /// An Eigen::Map over the same memory (no copy); needs <minibert/eigen.hpp>.
    template <class U = T>
    auto eigen() const {
        return detail::EigenMapOf<U>::make(*this);
    }

private:
    T* data_ = nullptr;
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::size_t stride_ = 0;
};

using MatrixView = BasicMatrixView<const float>;
using MutableMatrixView = BasicMatrixView<float>;

}  // namespace minibert
