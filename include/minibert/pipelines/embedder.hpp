// Embedder: sentence embeddings with the pooling and normalisation the model folder declares.
//
// A sentence-transformers folder says how to pool in 1_Pooling/config.json (cls / max / mean /
// mean_sqrt_len tokens; several modes concatenate in that order, as sentence-transformers does)
// and whether to L2-normalise (a Normalize module in modules.json); Dense modules after the
// pooling project the embedding (dense_module.hpp); sentence_bert_config.json's max_seq_length
// caps the input length; config_sentence_transformers.json's prompts (e5's "query: ") are
// prepended by name, the default one always. A plain Hugging Face folder gets mean pooling, not
// normalised, unless the caller says otherwise.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../io/file_open.hpp"
#include "../io/json.hpp"
#include "../models/pooling.hpp"
#include "dense_module.hpp"
#include "pipeline_base.hpp"

namespace minibert {

struct PoolingConfig {
    bool cls = false;            ///< the first token's hidden state
    bool max = false;            ///< element-wise max over the tokens
    bool mean = true;            ///< mean over the tokens
    bool mean_sqrt_len = false;  ///< sum over the tokens / sqrt(length)
    bool normalize = false;      ///< L2-normalise the result
    bool include_prompt = true;  ///< false: the prompt's tokens are left out of the pooling (not supported with a prompt)

    std::size_t modes() const noexcept { return cls + max + mean + mean_sqrt_len; }

    /// Reads a sentence-transformers folder's modules.json and 1_Pooling/config.json (the folder
    /// modules.json names), if present. Files open under the library's file policy.
    static PoolingConfig from_folder(const std::string& dir) {
        namespace fs = std::filesystem;
        PoolingConfig p;
        const std::string modules_path = (fs::path(dir) / "modules.json").string();
        std::string pooling_dir = "1_Pooling";
        if (path_entry_exists(modules_path)) pooling_dir = p.read_modules_json(read_text_file(modules_path), modules_path);
        const std::string pooling_path = (fs::path(dir) / pooling_dir / "config.json").string();
        if (path_entry_exists(pooling_path)) p.read_pooling_json(read_text_file(pooling_path), pooling_path);
        return p;
    }

    /// Applies modules.json text (a Normalize module turns `normalize` on); returns the Pooling
    /// module's folder ("1_Pooling" when none is named). Through the checked-JSON layer: a wrong
    /// type (modules.json = [1, 2]) is Error(format) naming `source` and the key.
    std::string read_modules_json(std::string_view text, const std::string& source) {
        const nlohmann::json modules = json::parse(text, source);
        std::string pooling_dir = "1_Pooling";
        json::Node(modules, source).for_each_element([&](const json::Node& m) {
            const std::string type = m.optional_string("type").value_or("");
            if (type.find("Normalize") != std::string::npos) normalize = true;
            if (type.find("Pooling") != std::string::npos) pooling_dir = m.optional_string("path").value_or(pooling_dir);
        });
        return pooling_dir;
    }

    /// Applies 1_Pooling/config.json text. sentence-transformers writes every mode as true or
    /// false; null or any other type is Error(format) naming the key.
    void read_pooling_json(std::string_view text, const std::string& source) {
        const nlohmann::json cfg = json::parse(text, source);
        json::Node(cfg, source).require_object();
        auto mode = [&](const char* key) {
            const auto it = cfg.find(key);
            return it != cfg.end() && json::Node(*it, source, key).boolean();
        };
        cls = mode("pooling_mode_cls_token");
        max = mode("pooling_mode_max_tokens");
        mean = mode("pooling_mode_mean_tokens");
        mean_sqrt_len = mode("pooling_mode_mean_sqrt_len_tokens");
        if (const auto it = cfg.find("include_prompt"); it != cfg.end()) include_prompt = json::Node(*it, source, "include_prompt").boolean();
        for (const char* unsupported : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
            if (mode(unsupported)) throw Error(ErrorKind::unsupported, "'" + source + "': " + unsupported + " is not supported");
        if (modes() == 0) throw Error(ErrorKind::config, "'" + source + "' enables no pooling mode");
    }
};

class Embedder : public detail::PipelineBase {
public:
    /// Loads model, tokenizer and pooling settings from one folder; `pooling` overrides the folder's.
    static Embedder load(const std::string& dir, PipelineOptions options = {},
                         std::optional<PoolingConfig> pooling = std::nullopt) {
        namespace fs = std::filesystem;
        const std::string st_config = (fs::path(dir) / "sentence_bert_config.json").string();
        if (path_entry_exists(st_config)) {
            const nlohmann::json cfg = json::parse(read_text_file(st_config), st_config);
            const json::Node root(cfg, st_config);
            root.require_object();
            if (const auto limit = root.optional_integer("max_seq_length", 0, INT32_MAX)) {
                const auto n = static_cast<std::size_t>(*limit);
                options.max_length = options.max_length ? std::min(options.max_length, n) : n;
            }
        }
        Model model = Model::load(dir, options.load);
        Embedder e(std::move(model), Tokenizer::from_folder(dir), pooling ? *pooling : PoolingConfig::from_folder(dir), options);
        e.read_modules(dir);
        return e;
    }

    Embedder(Model model, Tokenizer tokenizer, PoolingConfig pooling, PipelineOptions options = {})
        : PipelineBase(std::move(model), std::move(tokenizer), options), pooling_(pooling) {
        if (pooling_.modes() == 0) throw Error(ErrorKind::config, "the pooling config enables no pooling mode");
    }

    /// Floats per embedding: hidden size times the number of pooling modes, or the last Dense
    /// module's out_features.
    std::size_t dimension() const noexcept {
        return dense_.empty() ? pooled_dimension() : dense_.back().out_features();
    }
    const PoolingConfig& pooling() const noexcept { return pooling_; }
    /// The folder's Dense modules, in the order they run.
    const std::vector<DenseModule>& dense_modules() const noexcept { return dense_; }
    /// The folder's prompts by name (config_sentence_transformers.json), and the one used when
    /// none is named ("" if none).
    const std::map<std::string, std::string>& prompts() const noexcept { return prompts_; }
    const std::string& default_prompt_name() const noexcept { return default_prompt_name_; }

    std::vector<float> embed(std::string_view text) { return embed(std::vector<std::string_view>{text}).front(); }

    /// One embedding per text, in input order; the default prompt (if the folder names one) is
    /// prepended to each text.
    std::vector<std::vector<float>> embed(const std::vector<std::string_view>& texts) {
        return embed(texts, std::string_view());
    }
    /// The same with the prompt called `prompt_name` prepended to each text (as
    /// sentence-transformers' encode(prompt_name=...) does); "" means the default prompt.
    /// An unknown name is Error(invalid_input) listing the known ones.
    std::vector<std::vector<float>> embed(const std::vector<std::string_view>& texts, std::string_view prompt_name) {
        const std::string& prompt = prompt_text(prompt_name);
        if (!prompt.empty() && !pooling_.include_prompt)
            throw Error(ErrorKind::unsupported, "the pooling config sets include_prompt false (prompt tokens left out of the "
                                                "pooling), which minibert does not support");
        std::vector<Encoding> encodings;
        encodings.reserve(texts.size());
        std::string prompted;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            if (prompt.empty()) {
                encodings.push_back(encode(texts[i], nullptr, i));
            } else {
                prompted.assign(prompt).append(texts[i]);
                encodings.push_back(encode(prompted, nullptr, i));
            }
        }
        std::vector<std::vector<float>> result;
        result.reserve(texts.size());
        for (std::size_t begin = 0; begin < encodings.size(); begin += max_batch()) {
            const Outputs out = run(encodings, begin, std::min(encodings.size(), begin + max_batch()));
            for (std::size_t b = 0; b < out.batch_size; ++b) result.push_back(finish(pool(out.hidden_states(b))));
        }
        return result;
    }
    std::vector<std::vector<float>> embed(const std::vector<std::string>& texts, std::string_view prompt_name = {}) {
        return embed(std::vector<std::string_view>(texts.begin(), texts.end()), prompt_name);
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
    std::size_t pooled_dimension() const noexcept { return model_.config().hidden_size * pooling_.modes(); }

    const std::string& prompt_text(std::string_view name) const {
        static const std::string none;
        const std::string& chosen = name.empty() ? default_prompt_name_ : std::string(name);
        if (chosen.empty()) return none;
        const auto it = prompts_.find(chosen);
        if (it == prompts_.end()) {
            std::string known;
            for (const auto& [n, text] : prompts_) known += (known.empty() ? "'" : ", '") + n + "'";
            throw Error(ErrorKind::invalid_input, "no prompt named '" + chosen + "' (" +
                                                      (known.empty() ? std::string("the folder declares none") : "known: " + known) + ")");
        }
        return it->second;
    }

    /// Reads modules.json's Dense modules and config_sentence_transformers.json's prompts.
    void read_modules(const std::string& dir) {
        namespace fs = std::filesystem;
        const std::string modules_path = (fs::path(dir) / "modules.json").string();
        if (path_entry_exists(modules_path)) {
            const nlohmann::json modules = json::parse(read_text_file(modules_path), modules_path);
            bool normalized = false;
            json::Node(modules, modules_path).for_each_element([&](const json::Node& m) {
                const std::string type = m.optional_string("type").value_or("");
                if (type.find("Normalize") != std::string::npos) normalized = true;
                if (type.find("Dense") == std::string::npos) return;
                if (normalized)
                    throw Error(ErrorKind::unsupported, "'" + modules_path + "': a Dense module after Normalize is not supported");
                const std::string path = m.optional_string("path").value_or("");
                if (path.empty() || path.find("..") != std::string::npos || path.front() == '/')
                    throw Error(ErrorKind::config, "'" + modules_path + "': the Dense module's path '" + path + "' is not a folder inside the model folder");
                const std::size_t in = dense_.empty() ? pooled_dimension() : dense_.back().out_features();
                dense_.push_back(DenseModule::load((fs::path(dir) / path).string(), in));
            });
        }
        const std::string st_path = (fs::path(dir) / "config_sentence_transformers.json").string();
        if (path_entry_exists(st_path)) {
            const nlohmann::json cfg = json::parse(read_text_file(st_path), st_path);
            const json::Node root(cfg, st_path);
            root.require_object();
            if (const auto prompts = root.find("prompts"); prompts && !prompts->is_null()) {
                prompts->require_object();
                prompts->for_each_member([&](const std::string& name, const json::Node& text) { prompts_[name] = text.string(); });
            }
            if (const auto name = root.find("default_prompt_name"); name && !name->is_null()) {
                default_prompt_name_ = name->string();
                if (!prompts_.count(default_prompt_name_))
                    throw Error(ErrorKind::config, "'" + st_path + "': default_prompt_name '" + default_prompt_name_ +
                                                       "' is not among its prompts");
            }
        }
    }

    /// The post-pooling modules: Dense projections, then the L2 normalisation.
    std::vector<float> finish(std::vector<float> v) const {
        for (const DenseModule& d : dense_) v = d.apply(v);
        if (pooling_.normalize) pooling::normalize(v.data(), v.data(), v.size());
        return v;
    }

    /// The modes in sentence-transformers' order, by models/pooling.hpp (Session's own pooling).
    std::vector<float> pool(const MatrixView& h) const {
        const std::size_t d = h.cols();
        std::vector<float> out(pooled_dimension());
        float* next = out.data();
        if (pooling_.cls) pooling::cls(h, next), next += d;
        if (pooling_.max) pooling::max(h, next), next += d;
        if (pooling_.mean) pooling::mean(h, next), next += d;
        if (pooling_.mean_sqrt_len) pooling::mean_sqrt_len(h, next), next += d;
        return out;
    }

    PoolingConfig pooling_;
    std::vector<DenseModule> dense_;
    std::map<std::string, std::string> prompts_;
    std::string default_prompt_name_;
};

}  // namespace minibert
