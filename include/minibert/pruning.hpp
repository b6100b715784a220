// What config.json says about a structurally pruned model.
//
// `pruned_heads` (Hugging Face's): {"<layer>": [<head>, ...], ...}, the attention heads
// PreTrainedModel.prune_heads removed from each layer (original head numbers). A pruned
// layer keeps the same head size (hidden / num_attention_heads) with fewer heads: its query, key
// and value have (heads - pruned) * head_dim output rows and its attention output as many input
// columns. Only the count matters to the math (the kept heads are stored contiguously); the
// numbers are still checked, since a duplicate or out-of-range one means the file is not what it
// claims to be.
//
// `intermediate_sizes` (minibert's; transformers has no per-layer FFN width and ignores the key):
// [<width>, ...], one feed-forward width per layer, each at most intermediate_size (the widest,
// which sizes the session's buffers). Declared rather than read from the tensors, so that a
// config whose intermediate_size lies is still refused with the tensor named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "separate_compilation.hpp"

// Only ModelConfig::parse reads these: with separate compilation, only its TU (config.hpp).
#if MINIBERT_DEFINE_READERS
#include "io/json.hpp"

namespace minibert::detail {

/// Heads pruned from each of `layers` layers (all zero when config.json has no pruned_heads).
/// Error(config) for a layer key that is not a canonical index below `layers`, a head that is not
/// an integer below `heads`, a head listed twice, or a layer with every head pruned (which HF
/// allows but which leaves an attention block that is only its output bias; minibert refuses it
/// rather than run a degenerate layer silently).
inline std::vector<std::size_t> parse_pruned_heads(const json::Node& config, std::size_t layers, std::size_t heads) {
    std::vector<std::size_t> pruned(layers, 0);
    const auto node = config.find("pruned_heads");
    if (!node) return pruned;
    node->for_each_member([&](const std::string& key, const json::Node& list) {
        // The canonical decimal spelling only ("0", "11"): "01" and "1" would otherwise both name layer 1.
        std::size_t layer = 0;
        bool canonical = !key.empty() && key.size() <= 9 && (key.size() == 1 || key[0] != '0');
        for (const char c : key) canonical = canonical && c >= '0' && c <= '9';
        if (canonical) layer = std::stoul(key);
        if (!canonical || layer >= layers)
            list.fail_with("names no layer: pruned_heads keys are layer indices in [0, " + std::to_string(layers) + ")");
        std::vector<bool> seen(heads, false);
        list.for_each_element([&](const json::Node& h) {
            const auto head = static_cast<std::size_t>(h.integer(0, static_cast<std::int64_t>(heads) - 1));
            if (seen[head]) h.fail_with("lists head " + std::to_string(head) + " twice");
            seen[head] = true;
        });
        pruned[layer] = list.size();
        if (pruned[layer] == heads)
            list.fail_with("prunes all " + std::to_string(heads) +
                           " heads of the layer; minibert needs at least one head per layer");
    });
    return pruned;
}

/// The feed-forward width of each of `layers` layers: `intermediate_sizes` when present, else
/// `intermediate_size` for every layer. Error(config) for a list of the wrong length or a width
/// outside [1, intermediate_size].
inline std::vector<std::size_t> parse_intermediate_sizes(const json::Node& config, std::size_t layers,
                                                         std::size_t intermediate_size) {
    std::vector<std::size_t> sizes(layers, intermediate_size);
    const auto node = config.find("intermediate_sizes");
    if (!node) return sizes;
    node->require_array();
    if (node->size() != layers)
        node->fail_with("has " + std::to_string(node->size()) + " entries; it needs one per layer (" +
                        std::to_string(layers) + ")");
    for (std::size_t i = 0; i < layers; ++i)
        sizes[i] = static_cast<std::size_t>((*node)[i].integer(1, static_cast<std::int64_t>(intermediate_size)));
    return sizes;
}

}  // namespace minibert::detail
#endif  // MINIBERT_DEFINE_READERS
