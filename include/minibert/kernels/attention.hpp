// Scaled dot-product attention for one sequence and one head, row by row:
//   out_i = sum_j softmax_j(q_i . k_j * scale) v_j
// It needs only one row of scores (s floats), never an [s x s] (let alone [heads x s x s])
// tensor. Padding never reaches this kernel: batches are packed, so every key is a real token
// and the attention mask is implied by the sequence length.
#pragma once

#include <cstddef>

#include "simd.hpp"
#include "softmax.hpp"

namespace minibert::kernels {

/// q, k, v: row i of each at q + i*ld (head slices of the fused QKV matrix), head_dim d.
/// out: row i at out + i*ldo, d floats. scores: scratch of at least `s` floats.
inline void attention_head(const float* q, const float* k, const float* v, std::size_t ld, std::size_t s,
                           std::size_t d, float scale_factor, float* out, std::size_t ldo, float* scores) noexcept {
    for (std::size_t i = 0; i < s; ++i) {
        const float* qi = q + i * ld;
        for (std::size_t j = 0; j < s; ++j) scores[j] = dot(qi, k + j * ld, d) * scale_factor;
        softmax_inplace(scores, s);
        float* oi = out + i * ldo;
        for (std::size_t c = 0; c < d; ++c) oi[c] = 0.0f;
        for (std::size_t j = 0; j < s; ++j) axpy(scores[j], v + j * ld, oi, d);
    }
}

}  // namespace minibert::kernels
