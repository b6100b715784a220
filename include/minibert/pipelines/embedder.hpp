// Embedder: sentence embeddings with the pooling and normalisation the model folder declares.
//
// A sentence-transformers folder says how to pool in 1_Pooling/config.json (cls / max / mean /
// mean_sqrt_len tokens; several modes concatenate in that order, as sentence-transformers does)
// and whether to L2-normalise (a Normalize module in modules.json); sentence_bert_config.json's
// max_seq_length caps the input length. A plain Hugging Face folder gets mean pooling, not
// normalised, unless the caller says otherwise.
#pragma once

#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline_base.hpp"

namespace minibert {

struct PoolingConfig {
    bool cls = false;            ///< the first token's hidden state
    bool max = false;            ///< element-wise max over the tokens
    bool mean = true;            ///< mean over the tokens
    bool mean_sqrt_len = false;  ///< sum over the tokens / sqrt(length)
    bool normalize = false;      ///< L2-normalise the result

    std::size_t modes() const noexcept { return cls + max + mean + mean_sqrt_len; }

    /// Reads a sentence-transformers folder's 1_Pooling/config.json and modules.json, if present.
    static PoolingConfig from_folder(const std::string& dir) {
        namespace fs = std::filesystem;
        PoolingConfig p;
        const fs::path modules_path = fs::path(dir) / "modules.json";
        std::string pooling_dir = "1_Pooling";
        if (fs::exists(modules_path)) {
            const auto modules = nlohmann::json::parse(read_text_file(modules_path.string()), nullptr, false);
            if (modules.is_discarded() || !modules.is_array())
                throw Error(ErrorKind::format, "'" + modules_path.string() + "' is not a JSON array");
            for (const auto& m : modules) {
                const std::string type = m.value("type", "");
                if (type.find("Normalize") != std::string::npos) p.normalize = true;
                if (type.find("Pooling") != std::string::npos) pooling_dir = m.value("path", pooling_dir);
            }
        }
        const fs::path pooling_path = fs::path(dir) / pooling_dir / "config.json";
        if (fs::exists(pooling_path)) {
            const auto cfg = nlohmann::json::parse(read_text_file(pooling_path.string()), nullptr, false);
            if (cfg.is_discarded() || !cfg.is_object())
                throw Error(ErrorKind::format, "'" + pooling_path.string() + "' is not a JSON object");
            p.cls = cfg.value("pooling_mode_cls_token", false);
            p.max = cfg.value("pooling_mode_max_tokens", false);
            p.mean = cfg.value("pooling_mode_mean_tokens", false);
            p.mean_sqrt_len = cfg.value("pooling_mode_mean_sqrt_len_tokens", false);
            for (const char* unsupported : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
                if (cfg.value(unsupported, false))
                    throw Error(ErrorKind::unsupported, "'" + pooling_path.string() + "': " + unsupported + " is not supported");
            if (p.modes() == 0) throw Error(ErrorKind::config, "'" + pooling_path.string() + "' enables no pooling mode");
        }
        return p;
    }
};

class Embedder : public detail::PipelineBase {
public:
    /// Loads model, tokenizer and pooling settings from one folder; `pooling` overrides the folder's.
    static Embedder load(const std::string& dir, PipelineOptions options = {},
                         std::optional<PoolingConfig> pooling = std::nullopt) {
        namespace fs = std::filesystem;
        const fs::path st_config = fs::path(dir) / "sentence_bert_config.json";
        if (fs::exists(st_config)) {
            const auto cfg = nlohmann::json::parse(read_text_file(st_config.string()), nullptr, false);
            if (!cfg.is_discarded() && cfg.is_object() && cfg.contains("max_seq_length") &&
                cfg["max_seq_length"].is_number_unsigned()) {
                const auto limit = cfg["max_seq_length"].get<std::size_t>();
                options.max_length = options.max_length ? std::min(options.max_length, limit) : limit;
            }
        }
        Model model = Model::load(dir, options.load);
        return Embedder(std::move(model), Tokenizer::from_folder(dir), pooling ? *pooling : PoolingConfig::from_folder(dir),
                        options);
    }

    Embedder(Model model, Tokenizer tokenizer, PoolingConfig pooling, PipelineOptions options = {})
        : PipelineBase(std::move(model), std::move(tokenizer), options), pooling_(pooling) {
        if (pooling_.modes() == 0) throw Error(ErrorKind::config, "the pooling config enables no pooling mode");
    }

    /// Floats per embedding: hidden size times the number of pooling modes.
    std::size_t dimension() const noexcept { return model_.config().hidden_size * pooling_.modes(); }
    const PoolingConfig& pooling() const noexcept { return pooling_; }

    std::vector<float> embed(std::string_view text) { return embed(std::vector<std::string_view>{text}).front(); }

    /// One embedding per text, in input order.
    std::vector<std::vector<float>> embed(const std::vector<std::string_view>& texts) {
        std::vector<Encoding> encodings;
        encodings.reserve(texts.size());
        for (std::size_t i = 0; i < texts.size(); ++i) encodings.push_back(encode(texts[i], nullptr, i));
        std::vector<std::vector<float>> result;
        result.reserve(texts.size());
        for (std::size_t begin = 0; begin < encodings.size(); begin += max_batch()) {
            const Outputs out = run(encodings, begin, std::min(encodings.size(), begin + max_batch()));
            for (std::size_t b = 0; b < out.batch_size; ++b) result.push_back(pool(out.hidden_states(b)));
        }
        return result;
    }
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) {
        return embed(std::vector<std::string_view>(texts.begin(), texts.end()));
    }

    /// Cosine similarity of two embeddings of the same dimension.
    static float cosine(const std::vector<float>& a, const std::vector<float>& b) {
        if (a.size() != b.size()) throw Error(ErrorKind::invalid_input, "cosine of embeddings of different sizes");
        double dot = 0, na = 0, nb = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            dot += static_cast<double>(a[i]) * b[i];
            na += static_cast<double>(a[i]) * a[i];
            nb += static_cast<double>(b[i]) * b[i];
        }
        return static_cast<float>(dot / std::max(std::sqrt(na) * std::sqrt(nb), 1e-12));
    }

private:
    std::vector<float> pool(const MatrixView& h) const {
        const std::size_t n = h.rows(), d = h.cols();
        std::vector<float> out;
        out.reserve(dimension());
        if (pooling_.cls) out.insert(out.end(), h.row(0), h.row(0) + d);
        if (pooling_.max) {
            std::vector<float> m(h.row(0), h.row(0) + d);
            for (std::size_t t = 1; t < n; ++t)
                for (std::size_t c = 0; c < d; ++c) m[c] = std::max(m[c], h(t, c));
            out.insert(out.end(), m.begin(), m.end());
        }
        if (pooling_.mean || pooling_.mean_sqrt_len) {
            std::vector<double> sum(d, 0.0);
            for (std::size_t t = 0; t < n; ++t)
                for (std::size_t c = 0; c < d; ++c) sum[c] += h(t, c);
            if (pooling_.mean)
                for (std::size_t c = 0; c < d; ++c) out.push_back(static_cast<float>(sum[c] / static_cast<double>(n)));
            if (pooling_.mean_sqrt_len)
                for (std::size_t c = 0; c < d; ++c) out.push_back(static_cast<float>(sum[c] / std::sqrt(static_cast<double>(n))));
        }
        if (pooling_.normalize) {
            double norm = 0.0;
            for (float v : out) norm += static_cast<double>(v) * v;
            const double inv = 1.0 / std::max(std::sqrt(norm), 1e-12);  // torch.nn.functional.normalize's eps
            for (float& v : out) v = static_cast<float>(v * inv);
        }
        return out;
    }

    PoolingConfig pooling_;
};

}  // namespace minibert
