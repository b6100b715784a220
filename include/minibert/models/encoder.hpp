// Encoder<W>: embeddings + N encoder layers, loaded from a checkpoint through a family's names.
//
// W is the weight type of the encoder's linear layers (Q|K|V fused, attention output, FFN up and
// down): float, half or qint8. LayerNorms, biases, position and token-type embeddings stay fp32;
// the word embeddings (a fifth of BERT-base) may be kept fp16 or int8 per row (EncoderLoadPlan).
// What a family adds around the layers is read from its Family: ELECTRA's embedding projection
// (fp32, small) and MPNet's relative position bias (one table for all layers).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "../config.hpp"
#include "../io/checkpoint.hpp"
#include "../layers/embeddings.hpp"
#include "../layers/encoder_layer.hpp"
#include "../layers/relative_position.hpp"
#include "layer_widths.hpp"
#include "tensor_names.hpp"

namespace minibert {

namespace detail {

inline LayerNorm load_layer_norm(const Checkpoint& ckpt, const std::string& name, std::size_t hidden, float eps) {
    LayerNorm norm;
    norm.gamma = ckpt.encoder_f32(name + ".weight", {hidden});
    norm.beta = ckpt.encoder_f32(name + ".bias", {hidden});
    norm.eps = eps;
    return norm;
}

/// Reads the word-embedding table into the storage asked for (int8: the file's I8 codes as they
/// are, or fp32 values quantised per row; fp16: rounded, with a range check).
inline void load_word_embeddings(const Checkpoint& ckpt, const std::string& name, std::size_t vocab, std::size_t hidden,
                                 WordEmbeddingStorage storage, Embeddings& emb) {
    emb.storage = storage;
    if (storage == WordEmbeddingStorage::int8 && ckpt.is_quantized(name)) {
        ckpt.encoder_i8(name, {vocab, hidden}, emb.word_i8, emb.word_scales);
        return;
    }
    std::vector<float> table = ckpt.encoder_f32(name, {vocab, hidden});
    switch (storage) {
        case WordEmbeddingStorage::fp32: emb.word = std::move(table); break;
        case WordEmbeddingStorage::fp16:
            emb.word_f16.resize(table.size());
            for (std::size_t i = 0; i < table.size(); ++i) {
                if (!(std::fabs(table[i]) <= 65504.0f))
                    throw Error(ErrorKind::unsupported, "'" + ckpt.path() + "': tensor '" + name + "' holds " +
                                                            std::to_string(table[i]) + ", outside the fp16 range");
                emb.word_f16[i] = half::from_float(table[i]);
            }
            break;
        case WordEmbeddingStorage::int8:
            emb.word_i8.resize(table.size());
            emb.word_scales.resize(vocab);
            quantize_rows_symmetric(table.data(), vocab, hidden, emb.word_i8.data(), emb.word_scales.data());
            break;
    }
}

/// How the encoder's linear layers and word embeddings are built from the file.
struct EncoderLoadPlan {
    bool static_activations = false;  ///< qint8 only: read `<name>.input_scale` (required)
    WordEmbeddingStorage word_embeddings = WordEmbeddingStorage::fp32;
};

/// Weights of one linear layer as stored: fp32 values, or int8 codes with per-row scales.
struct StoredLinear {
    std::vector<float> weight;        ///< [out x in] fp32 (empty when quantised)
    std::vector<std::int8_t> codes;   ///< [out x in] codes, when the file stores I8
    std::vector<float> scales;        ///< [out]
};

/// Builds Linear<W> from fp32 weights (narrowed or quantised as W requires).
template <class W>
Linear<W> make_linear(const Checkpoint& ckpt, const std::vector<std::string>& names, std::vector<float> weight,
                      std::size_t out, std::size_t in, std::vector<float> bias, float input_scale) {
    (void)input_scale;
    if constexpr (std::is_same_v<W, half>) {
        for (std::size_t i = 0; i < weight.size(); ++i)
            if (!(std::fabs(weight[i]) <= 65504.0f))
                throw Error(ErrorKind::unsupported, "'" + ckpt.path() + "': tensor '" + names.at(i / (weight.size() / names.size())) +
                                                        ".weight' holds " + std::to_string(weight[i]) +
                                                        ", outside the fp16 range; load it as fp32 or int8");
        return Linear<half>(weight.data(), out, in, std::move(bias));
    } else if constexpr (std::is_same_v<W, qint8>) {
        return Linear<qint8>(weight.data(), out, in, std::move(bias), input_scale);
    } else {
        return Linear<W>(weight.data(), out, in, std::move(bias));
    }
}

/// Loads [out x in] weights of several linear layers and stacks them into one Linear<W> (the
/// fused QKV projection); with one name it is a plain linear layer. Int8 codes in the file are
/// used as they are for W = qint8 and dequantised otherwise; fp32 weights are quantised per
/// output channel for W = qint8. The stacked layers share their input, so their static input
/// scales (equal when the converter wrote them) combine by max.
template <class W>
Linear<W> load_stacked_linear(const Checkpoint& ckpt, const std::vector<std::string>& names, std::size_t out_each,
                              std::size_t in, const EncoderLoadPlan& plan = {}) {
    bool all_quantized = true;
    for (const auto& name : names) all_quantized = all_quantized && ckpt.is_quantized(name + ".weight");
    // Nothing is reserved from config.json's sizes until a tensor has passed its shape check:
    // hidden 65536 would otherwise reserve 48 GiB before the file is consulted.
    std::vector<float> bias;
    float input_scale = 0.0f;
    if (std::is_same_v<W, qint8> && plan.static_activations) {
        for (const auto& name : names) {
            const float s = ckpt.encoder_input_scale(name);
            if (s == 0.0f)
                throw Error(ErrorKind::format, "'" + ckpt.path() + "' has no static activation scale '" + name +
                                                   ".input_scale'; calibrate with scripts/convert_weights.py --dtype int8 "
                                                   "--calibrate FILE, or load with int8 dynamic");
            input_scale = std::max(input_scale, s);
        }
    }
    for (const auto& name : names) {
        const auto b = ckpt.encoder_f32(name + ".bias", {out_each});
        if (bias.empty()) bias.reserve(names.size() * b.size());
        bias.insert(bias.end(), b.begin(), b.end());
    }
    if constexpr (std::is_same_v<W, qint8>) {
        if (all_quantized) {  // the file's codes, as they are: no second rounding
            std::vector<std::int8_t> codes;
            std::vector<float> scales;
            for (const auto& name : names) {
                std::vector<std::int8_t> c;
                std::vector<float> s;
                ckpt.encoder_i8(name + ".weight", {out_each, in}, c, s);
                if (codes.empty()) {
                    codes.reserve(names.size() * c.size());
                    scales.reserve(names.size() * s.size());
                }
                codes.insert(codes.end(), c.begin(), c.end());
                scales.insert(scales.end(), s.begin(), s.end());
            }
            return Linear<qint8>(codes.data(), scales.data(), names.size() * out_each, in, std::move(bias), input_scale);
        }
    }
    std::vector<float> weight;
    for (const auto& name : names) {
        const auto w = ckpt.encoder_f32(name + ".weight", {out_each, in});
        if (weight.empty()) weight.reserve(names.size() * w.size());
        weight.insert(weight.end(), w.begin(), w.end());
    }
    return make_linear<W>(ckpt, names, std::move(weight), names.size() * out_each, in, std::move(bias), input_scale);
}

}  // namespace detail

template <class W>
struct Encoder {
    Embeddings embeddings;
    bool has_projection = false;
    Linear<float> embeddings_project;     ///< ELECTRA: embedding_size -> hidden_size
    RelativePositionBias position_bias;   ///< MPNet; empty otherwise
    std::vector<EncoderLayer<W>> layers;

    std::size_t resident_bytes() const noexcept {
        std::size_t bytes = embeddings.resident_bytes() + embeddings_project.resident_bytes() + position_bias.resident_bytes();
        for (const auto& l : layers) bytes += l.resident_bytes();
        return bytes;
    }

    /// out [tokens x hidden] = the embeddings of the ids (projected where the family projects);
    /// staging [tokens x hidden] holds the narrower embeddings before the projection.
    void embed(const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* positions, std::size_t tokens,
               float* out, float* staging, float* gemm_scratch, ThreadPool* pool) const {
        if (!has_projection) return embeddings.forward(ids, type_ids, positions, tokens, out, pool);
        embeddings.forward(ids, type_ids, positions, tokens, staging, pool);
        embeddings_project.forward(staging, embeddings.hidden, tokens, out, embeddings_project.out_features(),
                                   kernels::Activation::none, nullptr, 0, gemm_scratch, pool);
    }

    /// Runs every layer over h [tokens x hidden] in place.
    void run_layers(float* h, std::size_t tokens, const std::size_t* seq_offsets, std::size_t num_seqs,
                    LayerBuffers buffers, ThreadPool* pool) const {
        buffers.position_bias = position_bias.empty() ? nullptr : &position_bias;
        for (const auto& layer : layers) layer.forward(h, tokens, seq_offsets, num_seqs, buffers, pool);
    }

    /// Builds the embeddings and layers from `ckpt`; W is the linear layers' weight type.
    static Encoder load(const Checkpoint& ckpt, const ModelConfig& cfg, const EncoderTensorNames& names,
                        const detail::EncoderLoadPlan& plan = {}) {
        const std::size_t h = cfg.hidden_size;
        const std::size_t e = cfg.embedding_size ? cfg.embedding_size : h;
        const Family& family = *cfg.family;
        Encoder enc;
        enc.embeddings.hidden = e;
        detail::load_word_embeddings(ckpt, names.word_embeddings, cfg.vocab_size, e, plan.word_embeddings, enc.embeddings);
        enc.embeddings.position = ckpt.encoder_f32(names.position_embeddings, {cfg.max_position_embeddings, e});
        if (!names.token_type_embeddings.empty())
            enc.embeddings.token_type = ckpt.encoder_f32(names.token_type_embeddings, {cfg.type_vocab_size, e});
        enc.embeddings.norm = detail::load_layer_norm(ckpt, names.embeddings_norm, e, cfg.layer_norm_eps);
        if (!family.embeddings_project.empty() && e != h) {  // ELECTRA: nn.Linear only when the widths differ
            auto w = ckpt.encoder_f32(family.embeddings_project + ".weight", {h, e});
            enc.embeddings_project = Linear<float>(w.data(), h, e, ckpt.encoder_f32(family.embeddings_project + ".bias", {h}));
            enc.has_projection = true;
        }
        if (!family.relative_attention_bias.empty()) {  // MPNet: [buckets x heads], expanded per distance
            const auto table = ckpt.encoder_f32(family.relative_attention_bias, {cfg.relative_attention_buckets, cfg.num_heads});
            enc.position_bias = RelativePositionBias::expand(table, cfg.num_heads, cfg.max_position_embeddings);
        }

        enc.layers.reserve(cfg.num_layers);
        for (std::size_t i = 0; i < cfg.num_layers; ++i) {
            const EncoderTensorNames::Layer n = names.layer(i);
            EncoderLayer<W> layer;
            const detail::LayerWidths w = detail::layer_widths(ckpt, cfg, n, i);
            layer.attention.qkv = detail::load_stacked_linear<W>(ckpt, {n.query, n.key, n.value}, w.attention, h, plan);
            layer.attention.output = detail::load_stacked_linear<W>(ckpt, {n.attention_output}, h, w.attention, plan);
            layer.attention.heads = w.heads;
            layer.attention_norm = detail::load_layer_norm(ckpt, n.attention_norm, h, cfg.layer_norm_eps);
            layer.ffn.up = detail::load_stacked_linear<W>(ckpt, {n.up}, w.ffn, h, plan);
            layer.ffn.down = detail::load_stacked_linear<W>(ckpt, {n.down}, h, w.ffn, plan);
            layer.ffn.activation = cfg.hidden_act;
            layer.output_norm = detail::load_layer_norm(ckpt, n.output_norm, h, cfg.layer_norm_eps);
            enc.layers.push_back(std::move(layer));
        }
        // A config that declares fewer layers than the file holds would silently drop some.
        const EncoderTensorNames::Layer extra = names.layer(cfg.num_layers);
        if (const TensorInfo* t = ckpt.find_encoder(extra.query + ".weight"))
            throw Error(ErrorKind::shape, "'" + ckpt.path() + "': tensor '" + t->name + "' belongs to layer " +
                                              std::to_string(cfg.num_layers) + " but config.json declares " +
                                              std::to_string(cfg.num_layers) + " layers");
        return enc;
    }
};

}  // namespace minibert
