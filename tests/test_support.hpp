// Helpers shared by the model tests: where the test checkpoints and goldens live, and JSON
// goldens -> minibert batches.
#pragma once

#include <minibert/minibert.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace test_support {

inline std::string models_dir() { return MINIBERT_TEST_MODELS_DIR; }
inline std::string model_path(const std::string& name) { return models_dir() + "/" + name; }
inline std::string goldens_dir() { return std::string(MINIBERT_TEST_DATA_DIR) + "/goldens"; }

inline nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
}

inline std::vector<std::int32_t> flatten(const nlohmann::json& rows) {
    std::vector<std::int32_t> out;
    for (const auto& row : rows)
        for (const auto& v : row) out.push_back(v.get<std::int32_t>());
    return out;
}

/// The golden case's padded inputs as a packed Batch.
inline minibert::Batch batch_from_case(const nlohmann::json& c) {
    const auto& ids_rows = c.at("input_ids");
    const std::size_t batch = ids_rows.size(), length = ids_rows.at(0).size();
    const auto ids = flatten(ids_rows);
    std::vector<std::int32_t> mask, types;
    if (c.contains("attention_mask") && !c["attention_mask"].is_null()) mask = flatten(c["attention_mask"]);
    if (c.contains("token_type_ids") && !c["token_type_ids"].is_null()) types = flatten(c["token_type_ids"]);
    return minibert::Batch::from_padded({ids.data(), ids.size()}, {mask.data(), mask.size()},
                                        {types.data(), types.size()}, batch, length);
}

inline float max_abs_diff(const float* a, const std::vector<float>& expected) {
    float worst = 0.0f;
    for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(a[i] - expected[i]));
    return worst;
}

}  // namespace test_support
