// Linear<W>: y = act(x W^T + b) (+ residual), the layer every projection in the encoder is.
//
// W is the stored weight type: float here; half and qint8 specialise the same interface. The
// weights are packed once at load into the GEMM's panel layout (a copy: `resident_bytes()` says
// what it costs), and bias, activation and residual are fused into the GEMM's epilogue so each
// output is written once.
#pragma once

#include <cstddef>
#include <vector>

#include "../kernels/gemm_f32.hpp"
#include "../parallel/thread_pool.hpp"

namespace minibert {

template <class W>
class Linear;

template <>
class Linear<float> {
public:
    Linear() = default;

    /// weight: [out x in] row-major (PyTorch's nn.Linear layout); bias: [out] or empty.
    Linear(const float* weight, std::size_t out_features, std::size_t in_features, std::vector<float> bias)
        : weights_(weight, out_features, in_features), bias_(std::move(bias)) {}

    std::size_t in_features() const noexcept { return weights_.cols(); }
    std::size_t out_features() const noexcept { return weights_.rows(); }
    std::size_t resident_bytes() const noexcept { return weights_.bytes() + bias_.size() * sizeof(float); }

    /// Scratch floats forward() needs for m rows on `threads` threads.
    std::size_t scratch_floats(std::size_t m, std::size_t threads) const {
        return kernels::gemm_f32_scratch_floats(m, in_features(), threads);
    }

    /// y[m x out] (row stride ldy) = act(x[m x in] (row stride ldx) W^T + b) + residual[m x out].
    void forward(const float* x, std::size_t ldx, std::size_t m, float* y, std::size_t ldy,
                 kernels::Activation act, const float* residual, std::size_t ldr, float* scratch,
                 ThreadPool* pool) const {
        kernels::Epilogue epilogue;
        epilogue.bias = bias_.empty() ? nullptr : bias_.data();
        epilogue.activation = act;
        epilogue.residual = residual;
        epilogue.ldr = ldr;
        kernels::gemm_f32(x, ldx, m, weights_, y, ldy, epilogue, scratch, pool);
    }

private:
    kernels::PackedWeightsF32 weights_;
    std::vector<float> bias_;
};

}  // namespace minibert
