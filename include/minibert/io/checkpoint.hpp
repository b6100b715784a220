// Checkpoint: Hugging Face parameter names -> checked fp32 tensors.
//
// A model folder's safetensors file names its tensors as the PyTorch module that saved it did:
// "bert.encoder.layer.0..." for BertFor*, "encoder.layer.0..." for a bare BertModel, and the same
// with "distilbert." for DistilBERT. Lookups here try the prefixed and the bare name (and the old
// TF-converted LayerNorm "gamma"/"beta" spellings), check the shape against what config.json
// implies, and widen F16/BF16/F64 to fp32. Errors name the file and tensor.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "../numeric/half.hpp"
#include "safetensors.hpp"

namespace minibert {

class Checkpoint {
public:
    Checkpoint(const SafeTensors& tensors, std::string encoder_prefix)
        : tensors_(&tensors), prefix_(std::move(encoder_prefix)) {}

    /// The tensor for an encoder parameter (`name` without the bert./distilbert. prefix), or null.
    const TensorInfo* find_encoder(const std::string& name) const {
        for (const std::string& candidate : spellings(name)) {
            if (const TensorInfo* t = tensors_->find(prefix_ + candidate)) return t;
            if (const TensorInfo* t = tensors_->find(candidate)) return t;
        }
        return nullptr;
    }
    /// The tensor for a head parameter (named as the head module saves it), or null.
    const TensorInfo* find_head(const std::string& name) const { return tensors_->find(name); }

    /// Reads an encoder parameter as fp32, checking that its shape is `shape`.
    std::vector<float> encoder_f32(const std::string& name, const std::vector<std::size_t>& shape) const {
        const TensorInfo* t = find_encoder(name);
        if (!t) throw Error(ErrorKind::shape, "'" + tensors_->path() + "' has no tensor '" + prefix_ + name + "' (or '" + name + "')");
        return to_f32(*t, shape);
    }
    /// Reads a head parameter as fp32, checking that its shape is `shape`.
    std::vector<float> head_f32(const std::string& name, const std::vector<std::size_t>& shape) const {
        const TensorInfo* t = find_head(name);
        if (!t) throw Error(ErrorKind::shape, "'" + tensors_->path() + "' has no tensor '" + name + "' that the head needs");
        return to_f32(*t, shape);
    }

    /// Checks `t`'s shape, then widens its elements to fp32.
    std::vector<float> to_f32(const TensorInfo& t, const std::vector<std::size_t>& shape) const {
        if (t.shape != shape) {
            TensorInfo expected;
            expected.shape = shape;
            throw Error(ErrorKind::shape, "'" + tensors_->path() + "': tensor '" + t.name + "' has shape " + t.shape_string() +
                                              " but config.json implies " + expected.shape_string());
        }
        const std::size_t n = t.numel();
        std::vector<float> out(n);
        switch (t.dtype) {
            case DType::f32:
                if (n) std::memcpy(out.data(), t.data, n * sizeof(float));  // memcpy: the file need not be aligned
                break;
            case DType::f16:
                for (std::size_t i = 0; i < n; ++i) out[i] = half::from_bits(load_u16(t.data + 2 * i)).to_float();
                break;
            case DType::bf16:
                for (std::size_t i = 0; i < n; ++i) out[i] = bfloat16{load_u16(t.data + 2 * i)}.to_float();
                break;
            case DType::f64:
                for (std::size_t i = 0; i < n; ++i) {
                    double d;
                    std::memcpy(&d, t.data + 8 * i, sizeof d);
                    out[i] = static_cast<float>(d);
                }
                break;
            default:
                throw Error(ErrorKind::unsupported, "'" + tensors_->path() + "': tensor '" + t.name + "' has dtype " +
                                                        t.dtype_name + "; expected F32, F16, BF16 or F64");
        }
        return out;
    }

    const std::string& path() const noexcept { return tensors_->path(); }

private:
    static std::uint16_t load_u16(const std::uint8_t* p) noexcept {
        return static_cast<std::uint16_t>(p[0] | (p[1] << 8));  // safetensors is little-endian
    }
    static std::vector<std::string> spellings(const std::string& name) {
        std::vector<std::string> out{name};
        auto replace_suffix = [&](const char* from, const char* to) {
            const std::size_t len = std::strlen(from);
            if (name.size() > len && name.compare(name.size() - len, len, from) == 0)
                out.push_back(name.substr(0, name.size() - len) + to);
        };
        replace_suffix("LayerNorm.weight", "LayerNorm.gamma");
        replace_suffix("LayerNorm.bias", "LayerNorm.beta");
        return out;
    }

    const SafeTensors* tensors_;
    std::string prefix_;
};

}  // namespace minibert
