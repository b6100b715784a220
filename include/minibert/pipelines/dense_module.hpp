// A sentence-transformers Dense module: embedding -> activation(W * embedding + b).
//
// Some sentence-transformers models project the pooled embedding after pooling (LaBSE, GTR,
// the e5/instructor-style "2_Dense" folders): modules.json lists a
// sentence_transformers.models.Dense module whose folder holds config.json
// {"in_features", "out_features", "bias", "activation_function"} and the weights as
// model.safetensors ("linear.weight" [out x in], "linear.bias" [out]). Older folders hold only
// pytorch_model.bin, which minibert does not unpickle: that is an Error naming the file.
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../io/checkpoint.hpp"
#include "../io/file_open.hpp"
#include "../io/json.hpp"
#include "../io/safetensors.hpp"

namespace minibert {

class DenseModule {
public:
    enum class Activation { identity, tanh, sigmoid, relu };

    /// Reads the module folder `dir` (config.json + model.safetensors); `in_features` is what
    /// the module receives (the pooled size, or the previous module's out_features).
    static DenseModule load(const std::string& dir, std::size_t in_features) {
        namespace fs = std::filesystem;
        DenseModule d;
        const std::string config_path = (fs::path(dir) / "config.json").string();
        const nlohmann::json cfg = json::parse(read_text_file(config_path), config_path);
        const json::Node root(cfg, config_path);
        root.require_object();
        d.in_ = static_cast<std::size_t>(root.at("in_features").integer(1, 1 << 20));
        d.out_ = static_cast<std::size_t>(root.at("out_features").integer(1, 1 << 20));
        if (d.in_ != in_features)
            throw Error(ErrorKind::shape, "'" + config_path + "': the Dense module takes " + std::to_string(d.in_) +
                                              " features but receives " + std::to_string(in_features));
        const bool has_bias = root.optional_bool("bias").value_or(true);
        d.activation_ = parse_activation(
            root.optional_string("activation_function").value_or("torch.nn.modules.activation.Tanh"), config_path);

        const std::string weights_path = (fs::path(dir) / "model.safetensors").string();
        if (!path_entry_exists(weights_path)) {
            const std::string bin = (fs::path(dir) / "pytorch_model.bin").string();
            throw Error(ErrorKind::unsupported,
                        path_entry_exists(bin) ? "'" + bin + "': a Dense module's weights must be model.safetensors (minibert does not read pickles)"
                                               : "the Dense module folder '" + dir + "' has no model.safetensors");
        }
        const SafeTensors tensors = SafeTensors::open(weights_path);
        const Checkpoint checkpoint(tensors, "");
        d.weight_ = checkpoint.head_f32("linear.weight", {d.out_, d.in_});
        d.bias_ = has_bias ? checkpoint.head_f32("linear.bias", {d.out_}) : std::vector<float>(d.out_, 0.0f);
        return d;
    }

    std::size_t in_features() const noexcept { return in_; }
    std::size_t out_features() const noexcept { return out_; }
    Activation activation() const noexcept { return activation_; }

    /// activation(W x + b); x has in_features() floats.
    std::vector<float> apply(const std::vector<float>& x) const {
        if (x.size() != in_)
            throw Error(ErrorKind::shape, "a Dense module takes " + std::to_string(in_) + " floats; the pooled embedding has " +
                                              std::to_string(x.size()));
        std::vector<float> y(out_);
        for (std::size_t o = 0; o < out_; ++o) {
            const float* w = weight_.data() + o * in_;
            double sum = bias_[o];
            for (std::size_t i = 0; i < in_; ++i) sum += static_cast<double>(w[i]) * x[i];
            y[o] = activate(static_cast<float>(sum));
        }
        return y;
    }

private:
    static Activation parse_activation(const std::string& name, const std::string& source) {
        const std::size_t dot = name.rfind('.');
        const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
        if (leaf == "Identity") return Activation::identity;
        if (leaf == "Tanh") return Activation::tanh;
        if (leaf == "Sigmoid") return Activation::sigmoid;
        if (leaf == "ReLU") return Activation::relu;
        throw Error(ErrorKind::unsupported, "'" + source + "': the Dense module's activation_function '" + name +
                                                "' is not supported (Identity, Tanh, Sigmoid, ReLU are)");
    }
    float activate(float v) const noexcept {
        switch (activation_) {
            case Activation::tanh: return std::tanh(v);
            case Activation::sigmoid: return 1.0f / (1.0f + std::exp(-v));
            case Activation::relu: return v > 0.0f ? v : 0.0f;
            default: return v;
        }
    }

    std::size_t in_ = 0, out_ = 0;
    Activation activation_ = Activation::tanh;
    std::vector<float> weight_, bias_;
};

}  // namespace minibert
