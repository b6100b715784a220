// Model: an encoder and its head loaded from a Hugging Face model folder, immutable after load.
//
// A Model is a cheap value: copies share the same read-only weights, and any number of threads
// may use it at once, each through its own Session (session.hpp), which owns all scratch memory.
//
// LoadOptions choose the weight type the encoder's linear layers run in (fp32, fp16, int8 with
// dynamic or static activation scales) and how the word embeddings are held; an fp32/fp16/bf16
// folder can be quantised at load, and a folder written by scripts/convert_weights.py --dtype int8
// loads as it is (docs/formats.md, docs/quantization.md).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "config.hpp"
#include "error.hpp"
#include "io/checkpoint.hpp"
#include "io/mapped_file.hpp"
#include "io/safetensors.hpp"
#include "kernels/dispatch.hpp"
#include "models/encoder.hpp"
#include "models/heads.hpp"
#include "models/registry.hpp"
#include "separate_compilation.hpp"

namespace minibert {

/// The weight type of the encoder's linear layers.
enum class WeightType {
    native,        ///< the folder's own: int8 for a converted int8 folder (static when it holds
                   ///< input scales), else fp32 (whatever F32/F16/BF16 the file stores)
    fp32,
    fp16,          ///< IEEE binary16 weights, fp32 math
    int8_dynamic,  ///< int8 weights, activations quantised per token at run time
    int8_static,   ///< int8 weights, calibrated activation scales from the folder (required)
};

/// How the word-embedding table is held: native = fp32, except in a converted int8 folder,
/// where it stays as stored (fp16 or int8).
enum class EmbeddingStorage { native, fp32, fp16, int8 };

struct LoadOptions {
    WeightType weights = WeightType::native;
    EmbeddingStorage embeddings = EmbeddingStorage::native;
    /// Highest kernel level to use (cpu/cpu_info.hpp); native: the host's best. The environment's
    /// MINIBERT_ISA caps it further. A level the host lacks is an Error at load.
    Isa isa = Isa::native;
    /// Accept NaN/Inf weights instead of refusing the tensor that holds one (io/checkpoint.hpp).
    bool allow_non_finite = false;
    /// Read model.safetensors into memory instead of mapping it: a file truncated while the model
    /// loads is then an Error, not SIGBUS, at the cost of holding the whole file during the load
    /// (io/mapped_file.hpp states the mmap contract).
    bool read_file = false;
};

inline const char* to_string(WeightType w) noexcept {
    switch (w) {
        case WeightType::native: return "native";
        case WeightType::fp32: return "fp32";
        case WeightType::fp16: return "fp16";
        case WeightType::int8_dynamic: return "int8-dynamic";
        case WeightType::int8_static: return "int8-static";
    }
    return "?";
}

namespace detail {

/// What a Session needs from a model, whatever the encoder's weight type.
class ModelImpl {
public:
    virtual ~ModelImpl() = default;
    /// out [tokens x hidden] = the embeddings (Encoder<W>::embed); staging: [tokens x hidden] scratch.
    virtual void embed(const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* positions,
                       std::size_t tokens, float* out, float* staging, float* gemm_scratch, ThreadPool* pool) const = 0;
    virtual void run_layers(float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                            const LayerBuffers& buffers, ThreadPool* pool) const = 0;
    /// Floats of GEMM scratch that the largest linear layer needs for `tokens` rows.
    virtual std::size_t gemm_scratch_floats(std::size_t tokens, std::size_t threads) const = 0;
    virtual std::size_t resident_bytes() const noexcept = 0;

    ModelConfig config;
    Heads heads;
    WeightType weight_type = WeightType::fp32;  ///< resolved (never native)
    const kernels::KernelTable* kernels = nullptr;  ///< the level chosen at load
};

template <class W>
class EncoderModel final : public ModelImpl {
public:
    Encoder<W> encoder;

    void embed(const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* positions, std::size_t tokens,
               float* out, float* staging, float* gemm_scratch, ThreadPool* pool) const override {
        encoder.embed(ids, type_ids, positions, tokens, out, staging, gemm_scratch, pool);
    }
    void run_layers(float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                    const LayerBuffers& buffers, ThreadPool* pool) const override {
        encoder.run_layers(h, tokens, seq_offsets, num_seqs, buffers, pool);
    }
    std::size_t gemm_scratch_floats(std::size_t tokens, std::size_t threads) const override {
        std::size_t most = heads.scratch_floats(tokens, threads);
        for (const auto& l : encoder.layers)  // every layer: a pruned model's widths differ per layer
            for (const Linear<W>* linear : {&l.attention.qkv, &l.attention.output, &l.ffn.up, &l.ffn.down})
                most = std::max(most, linear->scratch_floats(tokens, threads));
        if (encoder.has_projection) most = std::max(most, encoder.embeddings_project.scratch_floats(tokens, threads));
        return most;
    }
    std::size_t resident_bytes() const noexcept override { return encoder.resident_bytes() + heads.resident_bytes(); }
};

}  // namespace detail

class Model {
public:
    /// Loads `dir`/config.json and `dir`/model.safetensors (F32, F16 or BF16 tensors, or a
    /// converted int8 folder; read by mmap, packed into the weight type `options` asks for).
    /// Throws Error naming the file, tensor or value at fault.
    static Model load(const std::string& dir, const LoadOptions& options = {}) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw Error(ErrorKind::io, "model folder '" + dir + "' does not exist or is not a folder");
        const std::string config_path = dir + "/config.json";
        if (!path_entry_exists(config_path)) throw Error(ErrorKind::io, "model folder '" + dir + "' has no config.json");
        const std::string weights_path = dir + "/model.safetensors";
        if (!path_entry_exists(weights_path)) {
            if (file_exists(dir + "/pytorch_model.bin"))
                throw Error(ErrorKind::unsupported, "model folder '" + dir +
                                                        "' has only pytorch_model.bin; convert it with scripts/convert_weights.py");
            if (file_exists(dir + "/model.safetensors.index.json"))
                throw Error(ErrorKind::unsupported, "model folder '" + dir + "' holds sharded safetensors, which minibert does not read");
            throw Error(ErrorKind::io, "model folder '" + dir + "' has no model.safetensors");
        }
        const ModelConfig config = ModelConfig::load(config_path);
        return from_parts(config,
                          options.read_file ? SafeTensors::parse(MappedFile::read_into_memory(weights_path))
                                            : SafeTensors::open(weights_path),
                          options);
    }

    /// Loads from config.json text and safetensors bytes already in memory (not copied while loading).
    static Model from_memory(const std::string& config_json, const void* safetensors, std::size_t size,
                             const LoadOptions& options = {}) {
        return from_parts(ModelConfig::parse(config_json, "<config.json in memory>"),
                          SafeTensors::parse(MappedFile::from_memory(safetensors, size, "<safetensors in memory>")),
                          options);
    }

    const ModelConfig& config() const noexcept { return impl_->config; }
    /// Bytes of weights held after load (packed copies; the file mapping is released).
    std::size_t resident_bytes() const noexcept { return impl_->resident_bytes(); }
    /// The weight type the encoder's linear layers run in (never WeightType::native).
    WeightType weight_type() const noexcept { return impl_->weight_type; }
    const detail::ModelImpl& impl() const noexcept { return *impl_; }
    /// The kernel level the model's linear layers were packed for and run with (chosen at load
    /// from the host, LoadOptions::isa and MINIBERT_ISA). to_string() names it.
    Isa kernel_isa() const noexcept { return impl_->kernels ? impl_->kernels->isa : Isa::portable; }

private:
    MINIBERT_COMPILED_INLINE static Model from_parts(const ModelConfig& config, const SafeTensors& tensors,
                                                    const LoadOptions& options);

    template <class W>
    static std::shared_ptr<detail::ModelImpl> build(const Checkpoint& ckpt, const ModelConfig& config,
                                                    const EncoderTensorNames& names, const detail::EncoderLoadPlan& plan) {
        auto impl = std::make_shared<detail::EncoderModel<W>>();
        impl->config = config;
        impl->encoder = Encoder<W>::load(ckpt, config, names, plan);
        impl->heads = Heads::load(ckpt, config);
        return impl;
    }

    std::shared_ptr<const detail::ModelImpl> impl_;
};

// The one place the forward pass of every weight type is instantiated (separate_compilation.hpp).
#if MINIBERT_DEFINE_FORWARD
MINIBERT_COMPILED_INLINE Model Model::from_parts(const ModelConfig& config, const SafeTensors& tensors,
                                             const LoadOptions& options) {
    const EncoderTensorNames& names = config.family->names;
    const Checkpoint ckpt(tensors, names.prefix, options.allow_non_finite);
    const bool int8_folder = ckpt.format_tag() == "int8";
    WeightType weights = options.weights;
    if (weights == WeightType::native) {
        weights = WeightType::fp32;
        if (int8_folder)
            weights = ckpt.encoder_input_scale(names.layer(0).query) > 0.0f ? WeightType::int8_static
                                                                           : WeightType::int8_dynamic;
    }
    detail::EncoderLoadPlan plan;
    plan.static_activations = weights == WeightType::int8_static;
    switch (options.embeddings) {
        case EmbeddingStorage::native: {
            plan.word_embeddings = WordEmbeddingStorage::fp32;
            const TensorInfo* word = ckpt.find_encoder(names.word_embeddings);
            if (int8_folder && word && word->dtype == DType::i8) plan.word_embeddings = WordEmbeddingStorage::int8;
            if (int8_folder && word && word->dtype == DType::f16) plan.word_embeddings = WordEmbeddingStorage::fp16;
            break;
        }
        case EmbeddingStorage::fp32: plan.word_embeddings = WordEmbeddingStorage::fp32; break;
        case EmbeddingStorage::fp16: plan.word_embeddings = WordEmbeddingStorage::fp16; break;
        case EmbeddingStorage::int8: plan.word_embeddings = WordEmbeddingStorage::int8; break;
    }
    // Kernels are chosen once, here: every layer packs for (and later runs) this level.
    const kernels::KernelTable& table = kernels::kernel_table(select_isa(options.isa));
    const kernels::LoadingKernels packing_for(table);
    std::shared_ptr<detail::ModelImpl> impl;
    switch (weights) {
        case WeightType::fp16: impl = build<half>(ckpt, config, names, plan); break;
        case WeightType::int8_dynamic:
        case WeightType::int8_static: impl = build<qint8>(ckpt, config, names, plan); break;
        default: impl = build<float>(ckpt, config, names, plan); break;
    }
    impl->weight_type = weights;
    impl->kernels = &table;
    Model model;
    model.impl_ = std::move(impl);
    return model;
}
#endif  // MINIBERT_DEFINE_FORWARD

}  // namespace minibert
