// The activation a layer applies, as a plain enum: what config.hpp reads from config.json and the
// layers pass down. Its own header so that naming an activation does not pull in xsimd (the
// kernels that compute them are in activations.hpp).
#pragma once

namespace minibert::kernels {

enum class Activation { none, gelu_erf, gelu_tanh, relu, tanh };

}  // namespace minibert::kernels
