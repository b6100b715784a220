// The Hugging Face parameter names one encoder family uses, without the "bert."/"distilbert."
// prefix. bert.hpp and distilbert.hpp fill this in; the loader reads through it.
#pragma once

#include <cstddef>
#include <string>

namespace minibert {

struct EncoderTensorNames {
    std::string prefix;  ///< "bert." or "distilbert.", tried before the bare name
    std::string word_embeddings, position_embeddings, token_type_embeddings;  ///< token type empty: none
    std::string embeddings_norm;  ///< "<name>.weight" / "<name>.bias"

    struct Layer {
        std::string query, key, value, attention_output, attention_norm, up, down, output_norm;  ///< + ".weight"/".bias"
    };
    Layer (*layer)(std::size_t index) = nullptr;
    std::string (*layer_prefix)(std::size_t index) = nullptr;  ///< to detect layers the config does not declare
};

}  // namespace minibert
