// Checkpoint: Hugging Face parameter names -> checked fp32 tensors.
//
// A model folder's safetensors file names its tensors as the PyTorch module that saved it did:
// "bert.encoder.layer.0..." for BertFor*, "encoder.layer.0..." for a bare BertModel, and the same
// with "distilbert." for DistilBERT. Lookups here try the prefixed and the bare name (and the old
// TF-converted LayerNorm "gamma"/"beta" spellings), check the shape against what config.json
// implies, and widen F16/BF16/F64 to fp32. Errors name the file and tensor.
//
// Quantised folders (docs/formats.md) store a linear weight as I8 codes `<name>.weight` with
// `<name>.weight_scale` (F32 [out]) and, for static activation quantisation, `<name>.input_scale`
// (F32 scalar); encoder_i8() reads and checks them (dtype, shape, finite non-negative scales,
// codes in [-127, 127]); to_f32() dequantises such a weight when fp32 is asked for.
//
// Every tensor is copied out of the mapped file exactly once, and its pages are released right
// after the copy, so the file never sits in resident memory as a whole while the model loads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "../numeric/half.hpp"
#include "safetensors.hpp"

namespace minibert {

class Checkpoint {
public:
    /// `allow_non_finite`: accept NaN/Inf weights (LoadOptions::allow_non_finite); by default a
    /// tensor holding one is refused at load, naming the tensor and the element.
    Checkpoint(const SafeTensors& tensors, std::string encoder_prefix, bool allow_non_finite = false)
        : tensors_(&tensors), prefix_(std::move(encoder_prefix)), allow_non_finite_(allow_non_finite) {}

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

    /// The folder's format tag ("minibert_dtype" in the safetensors metadata: "fp32", "fp16",
    /// "int8"), or "" when absent (a plain Hugging Face file).
    std::string format_tag() const {
        const auto& meta = tensors_->metadata();
        const auto it = meta.find("minibert_dtype");
        return it == meta.end() ? std::string() : it->second;
    }

    /// True when the encoder weight `name` (e.g. "...query.weight") is stored as I8 codes.
    bool is_quantized(const std::string& name) const {
        const TensorInfo* t = find_encoder(name);
        return t && t->dtype == DType::i8;
    }

    /// Int8 codes [shape] of an encoder weight and its per-row scales [shape[0]]
    /// (`<name>_scale`, F32). Throws Error naming the tensor for a wrong dtype or shape, a
    /// negative or non-finite scale, or a code of -128 (the GEMM keeps codes in [-127, 127]).
    void encoder_i8(const std::string& name, const std::vector<std::size_t>& shape, std::vector<std::int8_t>& codes,
                    std::vector<float>& scales) const {
        const TensorInfo* t = find_encoder(name);
        if (!t) throw Error(ErrorKind::shape, "'" + tensors_->path() + "' has no tensor '" + prefix_ + name + "' (or '" + name + "')");
        check_shape(*t, shape);
        if (t->dtype != DType::i8)
            throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + t->name + "' has dtype " + t->dtype_name +
                                               "; expected I8 codes");
        const auto* bytes = reinterpret_cast<const std::int8_t*>(t->data);
        codes.assign(bytes, bytes + t->numel());
        tensors_->release(*t);
        std::int8_t lowest = 0;  // a min-reduction vectorises; the slow search runs only on error
        for (const std::int8_t c : codes) lowest = std::min(lowest, c);
        if (lowest == -128) {
            const auto at = std::find(codes.begin(), codes.end(), std::int8_t(-128)) - codes.begin();
            throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + t->name + "' holds the code -128 at element " +
                                               std::to_string(at) + "; symmetric int8 codes must be in [-127, 127]");
        }
        const std::string scale_name = t->name + "_scale";
        const TensorInfo* s = tensors_->find(scale_name);
        if (!s) throw Error(ErrorKind::format, "'" + tensors_->path() + "': I8 tensor '" + t->name + "' has no scales '" + scale_name + "'");
        if (s->dtype != DType::f32)  // docs/formats.md: scales are F32 (an F16 scale loses precision)
            throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + scale_name + "' has dtype " + s->dtype_name +
                                               "; int8 scales must be F32");
        scales = f32_tensor(*s, {shape.at(0)}, /*scales=*/true);  // checked below, always
        for (float v : scales)
            if (!std::isfinite(v) || v < 0.0f)
                throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + scale_name + "' holds the scale " +
                                                   std::to_string(v) + "; scales must be finite and >= 0");
    }

    /// The static activation scale `<name>.input_scale` of an encoder linear layer (F32, shape []
    /// or [1], finite and > 0), or 0 when the file has none.
    float encoder_input_scale(const std::string& name) const {
        const std::string full = name + ".input_scale";
        const TensorInfo* t = find_encoder(full);
        if (!t) return 0.0f;
        if (t->dtype != DType::f32 || t->numel() != 1 || t->shape.size() > 1)
            throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + t->name + "' is " + t->dtype_name + " " +
                                               t->shape_string() + "; an input scale is one F32 value (shape [] or [1])");
        float v;
        std::memcpy(&v, t->data, sizeof v);
        if (!std::isfinite(v) || v <= 0.0f)
            throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + t->name + "' holds the scale " +
                                               std::to_string(v) + "; an input scale must be finite and > 0");
        return v;
    }

    /// Checks `t`'s shape, then widens its elements to fp32 (I8 codes: dequantised with their
    /// per-row `_scale` tensor).
    std::vector<float> to_f32(const TensorInfo& t, const std::vector<std::size_t>& shape) const {
        check_shape(t, shape);
        if (t.dtype == DType::i8 && shape.size() == 2) {
            std::vector<std::int8_t> codes;
            std::vector<float> scales;
            const std::string bare = t.name.compare(0, prefix_.size(), prefix_) == 0 ? t.name.substr(prefix_.size()) : t.name;
            encoder_i8(bare, shape, codes, scales);
            std::vector<float> out(codes.size());
            for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(codes[i]) * scales[i / shape[1]];
            return out;
        }
        return f32_tensor(t, shape);
    }

    const std::string& path() const noexcept { return tensors_->path(); }

private:
    void check_shape(const TensorInfo& t, const std::vector<std::size_t>& shape) const {
        if (t.shape != shape) {
            TensorInfo expected;
            expected.shape = shape;
            throw Error(ErrorKind::shape, "'" + tensors_->path() + "': tensor '" + t.name + "' has shape " + t.shape_string() +
                                              " but config.json implies " + expected.shape_string());
        }
    }

    /// Widens `t` to fp32 and, unless non-finite values are allowed, refuses a NaN or Inf among
    /// the results (`scales`: the caller checks them itself, finite whatever the options). The check runs on the fp32 values,
    /// so it covers every storage type at once: F32/F16/BF16 NaN and Inf, and an F64 value that
    /// overflows fp32 (1e300 narrows to inf).
    std::vector<float> f32_tensor(const TensorInfo& t, const std::vector<std::size_t>& shape, bool scales = false) const {
        check_shape(t, shape);
        const std::size_t n = t.numel();
        std::vector<float> out(n);
        if (t.dtype != DType::f32 && t.dtype != DType::f16 && t.dtype != DType::bf16 && t.dtype != DType::f64)
            throw Error(ErrorKind::unsupported, "'" + tensors_->path() + "': tensor '" + t.name + "' has dtype " +
                                                    t.dtype_name + "; expected F32, F16, BF16 or F64");
        const bool check = !scales && !allow_non_finite_;
        // Converted and checked a block at a time, so the check reads values still in L1 instead
        // of a second pass over the whole tensor from memory (that pass cost ~20% of a load).
        constexpr std::size_t block = 4096;
        float* o = out.data();
        for (std::size_t b = 0; b < n; b += block) {
            const std::size_t e = std::min(n, b + block);
            switch (t.dtype) {
                case DType::f32:  // memcpy: the file need not be aligned
                    std::memcpy(o + b, t.data + 4 * b, (e - b) * sizeof(float));
                    break;
                case DType::f16:
                    for (std::size_t i = b; i < e; ++i) o[i] = half::from_bits(load_u16(t.data + 2 * i)).to_float();
                    break;
                case DType::bf16:
                    for (std::size_t i = b; i < e; ++i) o[i] = bfloat16{load_u16(t.data + 2 * i)}.to_float();
                    break;
                default:  // f64
                    for (std::size_t i = b; i < e; ++i) {
                        double d;
                        std::memcpy(&d, t.data + 8 * i, sizeof d);
                        // Beyond fp32's range (rounding to nearest would exceed FLT_MAX) the cast
                        // is undefined behaviour; make it the Inf that IEEE rounding gives.
                        constexpr double limit = 0x1.ffffffp127;  // FLT_MAX + half an ulp
                        o[i] = std::isnan(d) || std::fabs(d) < limit ? static_cast<float>(d)
                                                                     : std::copysign(std::numeric_limits<float>::infinity(),
                                                                                     static_cast<float>(d > 0 ? 1 : -1));
                    }
                    break;
            }
            if (check && !all_finite(o + b, e - b)) report_non_finite(t, out);
        }
        tensors_->release(t);  // copied: its file pages need not stay resident (io/mapped_file.hpp)
        return out;
    }

    /// True when no value in [v, v + n) is NaN or Inf (an exponent of all ones). Integer
    /// compares and an OR-reduction vectorise; no early exit, so no branch per element.
    static bool all_finite(const float* v, std::size_t n) noexcept {
        std::uint32_t any = 0;
        for (std::size_t i = 0; i < n; ++i) {
            std::uint32_t bits;
            std::memcpy(&bits, v + i, sizeof bits);
            any |= static_cast<std::uint32_t>((bits & 0x7F800000u) == 0x7F800000u);
        }
        return any == 0;
    }

    /// Error(format) naming the tensor, the first non-finite element and its stored value.
    [[noreturn]] void report_non_finite(const TensorInfo& t, const std::vector<float>& values) const {
        const float* v = values.data();
        const std::size_t n = values.size();
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(v[i])) {
                std::string stored;
                if (t.dtype == DType::f64) {
                    double d;
                    std::memcpy(&d, t.data + 8 * i, sizeof d);
                    char buf[40];
                    std::snprintf(buf, sizeof buf, "%g", d);
                    stored = std::string(" (stored as F64 ") + buf + ", beyond fp32's range)";
                }
                throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + t.name + "' holds " +
                                                   (std::isnan(v[i]) ? "NaN" : (v[i] > 0 ? "+Inf" : "-Inf")) +
                                                   " at element " + std::to_string(i) + stored +
                                                   " (LoadOptions::allow_non_finite accepts such weights)");
            }
        }
        throw Error(ErrorKind::format, "'" + tensors_->path() + "': tensor '" + t.name + "' holds a non-finite value");
    }

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
    bool allow_non_finite_ = false;
};

}  // namespace minibert
