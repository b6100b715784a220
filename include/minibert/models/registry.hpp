// The families minibert runs, and which one a config.json's model_type names. Adding a family:
// write models/<family>.hpp (a Family, see family.hpp), include it here, give it a ModelType
// enumerator and a line in families(). Nothing else names a family.
#pragma once

#include <string>
#include <vector>

#include "bert.hpp"
#include "distilbert.hpp"
#include "electra.hpp"
#include "family.hpp"
#include "mpnet.hpp"
#include "roberta.hpp"
#include "../separate_compilation.hpp"

namespace minibert {

/// The encoder family a config.json names through `model_type` (several spellings may name one
/// family: xlm-roberta and camembert are RoBERTa).
enum class ModelType { bert, distilbert, roberta, electra, mpnet };

struct RegisteredFamily {
    ModelType type;
    const Family* family;
};

/// Every family, in the order error messages list them.
MINIBERT_COMPILED_INLINE const std::vector<RegisteredFamily>& families();

#if MINIBERT_DEFINE_FORWARD
MINIBERT_COMPILED_INLINE const std::vector<RegisteredFamily>& families() {
    static const std::vector<RegisteredFamily> all = {
        {ModelType::bert, &bert_family()},
        {ModelType::distilbert, &distilbert_family()},
        {ModelType::roberta, &roberta_family()},
        {ModelType::electra, &electra_family()},
        {ModelType::mpnet, &mpnet_family()},
    };
    return all;
}
#endif  // MINIBERT_DEFINE_FORWARD

/// The family whose model_types include `model_type`, or nullptr.
inline const RegisteredFamily* find_family(const std::string& model_type) {
    for (const RegisteredFamily& f : families())
        for (const auto& t : f.family->model_types)
            if (t == model_type) return &f;
    return nullptr;
}

/// The family of a ModelType (every enumerator has one).
inline const Family& family_of(ModelType type) {
    for (const RegisteredFamily& f : families())
        if (f.type == type) return *f.family;
    return bert_family();
}

/// "bert, distilbert, roberta, ..." for messages.
inline std::string supported_model_types() {
    std::string s;
    for (const RegisteredFamily& f : families())
        for (const auto& t : f.family->model_types) s += (s.empty() ? "" : ", ") + t;
    return s;
}

inline const char* to_string(ModelType t) noexcept { return family_of(t).model_types.front().c_str(); }

}  // namespace minibert
