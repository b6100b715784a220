// Eigen interop: MatrixView::eigen() and as_eigen(view) give an Eigen::Map over a view's memory
// (row-major, the view's row stride, no copy). The only minibert header that includes Eigen, so
// Eigen stays optional: include this one (and link Eigen3::Eigen, or minibert::eigen in CMake)
// where you want Eigen math on minibert's outputs.
#pragma once

#include <Eigen/Core>
#include <type_traits>

#include "numeric/matrix_view.hpp"

namespace minibert {

/// The dense row-major Eigen matrix type a view of T maps as.
template <class T>
using EigenRowMajor = Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Eigen::Map over a BasicMatrixView<T>: read-only for MatrixView, writable for MutableMatrixView.
template <class T>
using EigenMap = Eigen::Map<std::conditional_t<std::is_const<T>::value, const EigenRowMajor<T>, EigenRowMajor<T>>, 0,
                            Eigen::OuterStride<>>;

template <class T>
EigenMap<T> as_eigen(const BasicMatrixView<T>& view) {
    return EigenMap<T>(view.data(), static_cast<Eigen::Index>(view.rows()), static_cast<Eigen::Index>(view.cols()),
                       Eigen::OuterStride<>(static_cast<Eigen::Index>(view.stride())));
}

namespace detail {
template <>
struct EigenMapOf<float> {
    static EigenMap<float> make(const BasicMatrixView<float>& view) { return as_eigen(view); }
};
template <>
struct EigenMapOf<const float> {
    static EigenMap<const float> make(const BasicMatrixView<const float>& view) { return as_eigen(view); }
};
}  // namespace detail

}  // namespace minibert
