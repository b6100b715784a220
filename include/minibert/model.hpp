// Model: an encoder and its head loaded from a Hugging Face model folder, immutable after load.
//
// A Model is a cheap value: copies share the same read-only weights, and any number of threads
// may use it at once, each through its own Session (session.hpp), which owns all scratch memory.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "config.hpp"
#include "error.hpp"
#include "io/checkpoint.hpp"
#include "io/mapped_file.hpp"
#include "io/safetensors.hpp"
#include "models/bert.hpp"
#include "models/distilbert.hpp"
#include "models/encoder.hpp"
#include "models/heads.hpp"

namespace minibert {

namespace detail {

/// What a Session needs from a model, whatever the encoder's weight type.
class ModelImpl {
public:
    virtual ~ModelImpl() = default;
    virtual const Embeddings& embeddings() const noexcept = 0;
    virtual void run_layers(float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                            const LayerBuffers& buffers, ThreadPool* pool) const = 0;
    /// Floats of GEMM scratch that the largest linear layer needs for `tokens` rows.
    virtual std::size_t gemm_scratch_floats(std::size_t tokens, std::size_t threads) const = 0;
    virtual std::size_t resident_bytes() const noexcept = 0;

    ModelConfig config;
    Heads heads;
};

template <class W>
class EncoderModel final : public ModelImpl {
public:
    Encoder<W> encoder;

    const Embeddings& embeddings() const noexcept override { return encoder.embeddings; }
    void run_layers(float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                    const LayerBuffers& buffers, ThreadPool* pool) const override {
        for (const auto& layer : encoder.layers) layer.forward(h, tokens, seq_offsets, num_seqs, buffers, pool);
    }
    std::size_t gemm_scratch_floats(std::size_t tokens, std::size_t threads) const override {
        std::size_t most = heads.classifier.scratch_floats(tokens, threads);
        const auto& l = encoder.layers.front();
        for (const Linear<W>* linear : {&l.attention.qkv, &l.attention.output, &l.ffn.up, &l.ffn.down})
            most = std::max(most, linear->scratch_floats(tokens, threads));
        if (heads.has_pooler) most = std::max(most, heads.pooler.scratch_floats(tokens, threads));
        if (heads.has_pre_classifier) most = std::max(most, heads.pre_classifier.scratch_floats(tokens, threads));
        return most;
    }
    std::size_t resident_bytes() const noexcept override { return encoder.resident_bytes() + heads.resident_bytes(); }
};

}  // namespace detail

class Model {
public:
    /// Loads `dir`/config.json and `dir`/model.safetensors (F32, F16 or BF16 tensors, read by
    /// mmap, packed to fp32). Throws Error naming the file, tensor or value at fault.
    static Model load(const std::string& dir) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw Error(ErrorKind::io, "model folder '" + dir + "' does not exist or is not a folder");
        const std::string config_path = dir + "/config.json";
        if (!file_exists(config_path)) throw Error(ErrorKind::io, "model folder '" + dir + "' has no config.json");
        const std::string weights_path = dir + "/model.safetensors";
        if (!file_exists(weights_path)) {
            if (file_exists(dir + "/pytorch_model.bin"))
                throw Error(ErrorKind::unsupported, "model folder '" + dir +
                                                        "' has only pytorch_model.bin; convert it with scripts/convert_weights.py");
            if (file_exists(dir + "/model.safetensors.index.json"))
                throw Error(ErrorKind::unsupported, "model folder '" + dir + "' holds sharded safetensors, which minibert does not read");
            throw Error(ErrorKind::io, "model folder '" + dir + "' has no model.safetensors");
        }
        const ModelConfig config = ModelConfig::load(config_path);
        return from_parts(config, SafeTensors::open(weights_path));
    }

    /// Loads from config.json text and safetensors bytes already in memory (not copied while loading).
    static Model from_memory(const std::string& config_json, const void* safetensors, std::size_t size) {
        return from_parts(ModelConfig::parse(config_json, "<config.json in memory>"),
                          SafeTensors::parse(MappedFile::from_memory(safetensors, size, "<safetensors in memory>")));
    }

    const ModelConfig& config() const noexcept { return impl_->config; }
    /// Bytes of weights held after load (packed copies; the file mapping is released).
    std::size_t resident_bytes() const noexcept { return impl_->resident_bytes(); }
    const detail::ModelImpl& impl() const noexcept { return *impl_; }

private:
    static Model from_parts(const ModelConfig& config, const SafeTensors& tensors) {
        const EncoderTensorNames names =
            config.model_type == ModelType::bert ? bert_tensor_names() : distilbert_tensor_names();
        const Checkpoint ckpt(tensors, names.prefix);
        auto impl = std::make_shared<detail::EncoderModel<float>>();
        impl->config = config;
        impl->encoder = Encoder<float>::load(ckpt, config, names);
        impl->heads = Heads::load(ckpt, config);
        Model model;
        model.impl_ = std::move(impl);
        return model;
    }

    std::shared_ptr<const detail::ModelImpl> impl_;
};

}  // namespace minibert
