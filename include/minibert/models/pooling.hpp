// Sentence pooling of one sequence's hidden states, shared by Session::run (mean_pooled,
// sentence_embeddings) and the Embedder (sentence-transformers' 1_Pooling modes), so both
// produce the same bits. Nothing here allocates: Session::run promises no allocation.
//
//   cls            the first token's row
//   mean           sum of the rows / count (fp32 sums in row order: kernels::axpy)
//   max            element-wise max over the rows
//   mean_sqrt_len  sum of the rows / sqrt(count)
//   normalize      x / max(||x||_2, 1e-12), the norm in double (torch's F.normalize eps)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "../kernels/simd.hpp"
#include "../numeric/matrix_view.hpp"

namespace minibert::pooling {

inline void cls(const MatrixView& h, float* out) noexcept { std::copy(h.row(0), h.row(0) + h.cols(), out); }

/// out = sum over the rows of h (h has at least one row).
inline void sum(const MatrixView& h, float* out) noexcept {
    std::fill(out, out + h.cols(), 0.0f);
    for (std::size_t r = 0; r < h.rows(); ++r) kernels::axpy(1.0f, h.row(r), out, h.cols());
}

inline void mean(const MatrixView& h, float* out) noexcept {
    sum(h, out);
    kernels::scale(1.0f / static_cast<float>(h.rows()), out, h.cols());
}

inline void mean_sqrt_len(const MatrixView& h, float* out) noexcept {
    sum(h, out);
    kernels::scale(static_cast<float>(1.0 / std::sqrt(static_cast<double>(h.rows()))), out, h.cols());
}

inline void max(const MatrixView& h, float* out) noexcept {
    std::copy(h.row(0), h.row(0) + h.cols(), out);
    for (std::size_t r = 1; r < h.rows(); ++r) {
        const float* row = h.row(r);
        for (std::size_t c = 0; c < h.cols(); ++c) out[c] = std::max(out[c], row[c]);
    }
}

/// out[0..n) = in / max(||in||, 1e-12); in and out may be the same.
inline void normalize(const float* in, float* out, std::size_t n) noexcept {
    double norm = 0.0;
    for (std::size_t c = 0; c < n; ++c) norm += static_cast<double>(in[c]) * in[c];
    const float inv = static_cast<float>(1.0 / std::max(std::sqrt(norm), 1e-12));
    for (std::size_t c = 0; c < n; ++c) out[c] = in[c] * inv;
}

}  // namespace minibert::pooling
