// The widths of one encoder layer, as config.json declares them for a structurally pruned model
// (pruning.hpp): fewer attention heads in some layers (Hugging Face's pruned_heads) and a
// narrower feed-forward block in some layers (intermediate_sizes). Both are at most the unpruned
// sizes the session's buffers are allocated for.
#pragma once

#include <cstddef>
#include <string>

#include "../config.hpp"
#include "../error.hpp"
#include "../io/checkpoint.hpp"
#include "tensor_names.hpp"

namespace minibert::detail {

struct LayerWidths {
    std::size_t heads = 0;      ///< attention heads the layer keeps
    std::size_t attention = 0;  ///< heads * head_dim: rows of Q, K and V, columns of the attention output
    std::size_t ffn = 0;        ///< feed-forward width: rows of the up projection, columns of the down
};

/// Layer `index`'s widths. A ModelConfig built by hand (without parse) may leave the per-layer
/// lists empty: then the layer is unpruned. A query tensor whose rows disagree with pruned_heads
/// is refused here with both counts named, which the generic shape check would not explain.
inline LayerWidths layer_widths(const Checkpoint& ckpt, const ModelConfig& cfg, const EncoderTensorNames::Layer& n,
                                std::size_t index) {
    LayerWidths w;
    const std::size_t pruned = index < cfg.pruned_heads.size() ? cfg.pruned_heads[index] : 0;
    w.heads = cfg.num_heads - pruned;
    w.attention = w.heads * cfg.head_dim();
    w.ffn = index < cfg.intermediate_sizes.size() ? cfg.intermediate_sizes[index] : cfg.intermediate_size;
    if (const TensorInfo* q = ckpt.find_encoder(n.query + ".weight"); q && q->shape.size() == 2 && q->shape[0] != w.attention)
        throw Error(ErrorKind::shape, "'" + ckpt.path() + "': tensor '" + q->name + "' has " + std::to_string(q->shape[0]) +
                                          " rows, but config.json leaves layer " + std::to_string(index) + " " +
                                          std::to_string(w.heads) + " of " + std::to_string(cfg.num_heads) +
                                          " heads (pruned_heads removes " + std::to_string(pruned) + ") of size " +
                                          std::to_string(cfg.head_dim()) + ", that is " + std::to_string(w.attention) + " rows");
    return w;
}

}  // namespace minibert::detail
