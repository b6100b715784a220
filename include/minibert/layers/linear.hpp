// Linear<W>: y = act(x W^T + b) (+ residual), the layer every projection in the encoder is.
//
// W is the stored weight type: float (fp32), half (fp16, widened to fp32 in the GEMM) or qint8
// (int8 codes with one scale per output channel; the input is quantised per row at run time, or
// with one calibrated static scale). The weights are packed once at load into the GEMM's panel
// layout (a copy: `resident_bytes()` says what it costs), and bias, activation and residual are
// fused into the GEMM's epilogue so each output is written once. Inputs and outputs are fp32 for
// every W, so the layers above are the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../kernels/gemm_f16.hpp"
#include "../kernels/gemm_f32.hpp"
#include "../kernels/gemm_i8.hpp"
#include "../numeric/half.hpp"
#include "../numeric/qint8.hpp"
#include "../parallel/thread_pool.hpp"

namespace minibert {

template <class W>
class Linear;

namespace detail {
inline kernels::Epilogue make_epilogue(const std::vector<float>& bias, kernels::Activation act, const float* residual,
                                       std::size_t ldr) {
    kernels::Epilogue epilogue;
    epilogue.bias = bias.empty() ? nullptr : bias.data();
    epilogue.activation = act;
    epilogue.residual = residual;
    epilogue.ldr = ldr;
    return epilogue;
}
}  // namespace detail

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
    /// The kernel level the weights were packed for (kernels/dispatch.hpp).
    const kernels::KernelTable& kernels() const noexcept { return weights_.kernels(); }

    /// Scratch floats forward() needs for m rows on `threads` threads.
    std::size_t scratch_floats(std::size_t m, std::size_t threads) const {
        return kernels::gemm_f32_scratch_floats(m, in_features(), threads);
    }

    /// y[m x out] (row stride ldy) = act(x[m x in] (row stride ldx) W^T + b) + residual[m x out].
    void forward(const float* x, std::size_t ldx, std::size_t m, float* y, std::size_t ldy,
                 kernels::Activation act, const float* residual, std::size_t ldr, float* scratch,
                 ThreadPool* pool) const {
        kernels::gemm_f32(x, ldx, m, weights_, y, ldy, detail::make_epilogue(bias_, act, residual, ldr), scratch, pool);
    }

private:
    kernels::PackedWeightsF32 weights_;
    std::vector<float> bias_;
};

/// fp16 weights (IEEE binary16), fp32 math: the same FMA chains as Linear<float> on the
/// fp16-rounded weights. Half the resident weight bytes.
template <>
class Linear<half> {
public:
    Linear() = default;

    /// weight: [out x in] fp16 values; bias: [out] fp32 or empty.
    Linear(const half* weight, std::size_t out_features, std::size_t in_features, std::vector<float> bias)
        : weights_(weight, out_features, in_features), bias_(std::move(bias)) {}

    /// weight: [out x in] fp32, rounded to the nearest fp16 (ties to even). The caller checks the
    /// range (|w| <= 65504) at the API edge.
    Linear(const float* weight, std::size_t out_features, std::size_t in_features, std::vector<float> bias)
        : Linear(narrow(weight, out_features * in_features).data(), out_features, in_features, std::move(bias)) {}

    std::size_t in_features() const noexcept { return weights_.cols(); }
    std::size_t out_features() const noexcept { return weights_.rows(); }
    std::size_t resident_bytes() const noexcept { return weights_.bytes() + bias_.size() * sizeof(float); }
    const kernels::KernelTable& kernels() const noexcept { return weights_.kernels(); }

    std::size_t scratch_floats(std::size_t m, std::size_t threads) const {
        return kernels::gemm_f32_scratch_floats(m, in_features(), threads);
    }

    /// As Linear<float>::forward.
    void forward(const float* x, std::size_t ldx, std::size_t m, float* y, std::size_t ldy,
                 kernels::Activation act, const float* residual, std::size_t ldr, float* scratch,
                 ThreadPool* pool) const {
        kernels::gemm_f16(x, ldx, m, weights_, y, ldy, detail::make_epilogue(bias_, act, residual, ldr), scratch, pool);
    }

private:
    static std::vector<half> narrow(const float* w, std::size_t n) {
        std::vector<half> out(n);
        for (std::size_t i = 0; i < n; ++i) out[i] = half::from_float(w[i]);
        return out;
    }

    kernels::PackedWeightsF16 weights_;
    std::vector<float> bias_;
};

/// int8 weights, symmetric, one fp32 scale per output channel; int32 accumulation; fp32 in and
/// out. input_scale == 0: dynamic (each input row quantised with its own max|x| / 127);
/// input_scale > 0: static (every row with this calibrated scale, values beyond 127 * scale clip).
template <>
class Linear<qint8> {
public:
    Linear() = default;

    /// Quantises fp32 weights [out x in] per output channel.
    Linear(const float* weight, std::size_t out_features, std::size_t in_features, std::vector<float> bias,
           float input_scale = 0.0f)
        : weights_(kernels::PackedWeightsI8::quantize(weight, out_features, in_features)), bias_(std::move(bias)),
          input_scale_(input_scale) {}

    /// Already-quantised weights: codes [out x in] in [-127, 127] and scales [out] (checked by the
    /// loader, which names the tensor at fault).
    Linear(const std::int8_t* codes, const float* scales, std::size_t out_features, std::size_t in_features,
           std::vector<float> bias, float input_scale = 0.0f)
        : weights_(codes, scales, out_features, in_features), bias_(std::move(bias)), input_scale_(input_scale) {}

    std::size_t in_features() const noexcept { return weights_.cols(); }
    std::size_t out_features() const noexcept { return weights_.rows(); }
    std::size_t resident_bytes() const noexcept { return weights_.bytes() + bias_.size() * sizeof(float); }
    /// The static activation scale, or 0 for dynamic quantisation.
    float input_scale() const noexcept { return input_scale_; }
    const kernels::PackedWeightsI8& weights() const noexcept { return weights_; }
    const kernels::KernelTable& kernels() const noexcept { return weights_.kernels(); }

    /// Scratch floats forward() needs for m rows (the quantised rows; any thread count).
    std::size_t scratch_floats(std::size_t m, std::size_t /*threads*/) const {
        return (kernels::gemm_i8_scratch_bytes(m, in_features()) + sizeof(float) - 1) / sizeof(float);
    }

    /// As Linear<float>::forward; x is quantised into the scratch first.
    void forward(const float* x, std::size_t ldx, std::size_t m, float* y, std::size_t ldy,
                 kernels::Activation act, const float* residual, std::size_t ldr, float* scratch,
                 ThreadPool* pool) const {
        kernels::gemm_i8(x, ldx, m, weights_, input_scale_, y, ldy, detail::make_epilogue(bias_, act, residual, ldr),
                         scratch, pool);
    }

private:
    kernels::PackedWeightsI8 weights_;
    std::vector<float> bias_;
    float input_scale_ = 0.0f;
};

}  // namespace minibert
