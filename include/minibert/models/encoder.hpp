// Encoder<W>: embeddings + N encoder layers, loaded from a checkpoint through a family's names.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../io/checkpoint.hpp"
#include "../layers/embeddings.hpp"
#include "../layers/encoder_layer.hpp"
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

/// Loads [out x in] weights of several linear layers and stacks them into one Linear<W> (the
/// fused QKV projection); with one name it is a plain linear layer.
template <class W>
Linear<W> load_stacked_linear(const Checkpoint& ckpt, const std::vector<std::string>& names, std::size_t out_each,
                              std::size_t in) {
    std::vector<float> weight, bias;
    weight.reserve(names.size() * out_each * in);
    bias.reserve(names.size() * out_each);
    for (const auto& name : names) {
        const auto w = ckpt.encoder_f32(name + ".weight", {out_each, in});
        const auto b = ckpt.encoder_f32(name + ".bias", {out_each});
        weight.insert(weight.end(), w.begin(), w.end());
        bias.insert(bias.end(), b.begin(), b.end());
    }
    return Linear<W>(weight.data(), names.size() * out_each, in, std::move(bias));
}

}  // namespace detail

template <class W>
struct Encoder {
    Embeddings embeddings;
    std::vector<EncoderLayer<W>> layers;

    std::size_t resident_bytes() const noexcept {
        std::size_t bytes = embeddings.resident_bytes();
        for (const auto& l : layers) bytes += l.resident_bytes();
        return bytes;
    }

    static Encoder load(const Checkpoint& ckpt, const ModelConfig& cfg, const EncoderTensorNames& names) {
        const std::size_t h = cfg.hidden_size, inner = cfg.intermediate_size;
        Encoder enc;
        enc.embeddings.hidden = h;
        enc.embeddings.word = ckpt.encoder_f32(names.word_embeddings, {cfg.vocab_size, h});
        enc.embeddings.position = ckpt.encoder_f32(names.position_embeddings, {cfg.max_position_embeddings, h});
        if (!names.token_type_embeddings.empty())
            enc.embeddings.token_type = ckpt.encoder_f32(names.token_type_embeddings, {cfg.type_vocab_size, h});
        enc.embeddings.norm = detail::load_layer_norm(ckpt, names.embeddings_norm, h, cfg.layer_norm_eps);

        enc.layers.reserve(cfg.num_layers);
        for (std::size_t i = 0; i < cfg.num_layers; ++i) {
            const EncoderTensorNames::Layer n = names.layer(i);
            EncoderLayer<W> layer;
            layer.attention.qkv = detail::load_stacked_linear<W>(ckpt, {n.query, n.key, n.value}, h, h);
            layer.attention.output = detail::load_stacked_linear<W>(ckpt, {n.attention_output}, h, h);
            layer.attention.heads = cfg.num_heads;
            layer.attention_norm = detail::load_layer_norm(ckpt, n.attention_norm, h, cfg.layer_norm_eps);
            layer.ffn.up = detail::load_stacked_linear<W>(ckpt, {n.up}, inner, h);
            layer.ffn.down = detail::load_stacked_linear<W>(ckpt, {n.down}, h, inner);
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
