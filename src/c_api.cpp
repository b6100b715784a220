// The C API (include/minibert/c_api.h) over the header-only C++ library: the one translation unit
// of libminibert_c. Each function runs its body in guard(), which turns every exception into a
// status and this thread's last-error message, so nothing C++ crosses the boundary. Handles are
// plain structs holding the C++ objects; pipelines get copies of the model (a shared pointer to
// the weights) and of the tokenizer, so creating one per thread copies no weights.
#include "minibert/c_api.h"

#include <minibert/minibert.hpp>

#include <algorithm>
#include <filesystem>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct minibert_model {
    minibert::Model model;
    std::string dir;  // the folder, for the embedder's sentence-transformers files
};
struct minibert_tokenizer {
    minibert::Tokenizer tokenizer;
};
struct minibert_encoding {
    minibert::Encoding encoding;
    std::vector<std::size_t> offsets;  // flattened [start, end) pairs
};
struct minibert_session {
    minibert::Session session;
    minibert::Batch batch;
    minibert::Outputs outputs;
    bool has_run = false;
};
struct minibert_classifier {
    minibert::Classifier classifier;
};
struct minibert_embedder {
    minibert::Embedder embedder;
};
struct minibert_tagger {
    minibert::TokenTagger tagger;
};
struct minibert_entities {
    std::vector<minibert::Entity> entities;
    std::vector<std::size_t> text;  // which input text each entity came from
};
struct minibert_qa {
    minibert::QuestionAnswerer qa;
};
struct minibert_reranker {
    minibert::Reranker reranker;
};

namespace {

thread_local std::string last_error;

/// A failure of the C boundary itself (a NULL argument, a short buffer), with its status.
struct CError {
    minibert_status status;
    std::string message;
};

minibert_status status_of(minibert::ErrorKind kind) {
    switch (kind) {
        case minibert::ErrorKind::io: return MINIBERT_ERROR_IO;
        case minibert::ErrorKind::format: return MINIBERT_ERROR_FORMAT;
        case minibert::ErrorKind::config: return MINIBERT_ERROR_CONFIG;
        case minibert::ErrorKind::shape: return MINIBERT_ERROR_SHAPE;
        case minibert::ErrorKind::invalid_input: return MINIBERT_ERROR_INVALID_INPUT;
        case minibert::ErrorKind::limit: return MINIBERT_ERROR_LIMIT;
        case minibert::ErrorKind::unsupported: return MINIBERT_ERROR_UNSUPPORTED;
    }
    return MINIBERT_ERROR_INTERNAL;
}

minibert_status fail(minibert_status status, const char* message) noexcept {
    try {
        last_error = message;
    } catch (...) {  // no room for the message: the status still says what class of failure it was
    }
    return status;
}

template <class F>
minibert_status guard(F&& body) noexcept {
    try {
        body();
        return MINIBERT_OK;
    } catch (const minibert::Error& e) {
        return fail(status_of(e.kind()), e.what());
    } catch (const CError& e) {
        return fail(e.status, e.message.c_str());
    } catch (const std::bad_alloc&) {
        return fail(MINIBERT_ERROR_OUT_OF_MEMORY, "minibert: out of memory");
    } catch (const std::exception& e) {
        return fail(MINIBERT_ERROR_INTERNAL, e.what());
    } catch (...) {
        return fail(MINIBERT_ERROR_INTERNAL, "minibert: unknown exception");
    }
}

template <class T>
void require(const T* p, const char* what) {
    if (!p) throw CError{MINIBERT_ERROR_INVALID_ARGUMENT, std::string("minibert: invalid_argument: ") + what + " is NULL"};
}

[[noreturn]] void invalid(const std::string& message) {
    throw CError{MINIBERT_ERROR_INVALID_ARGUMENT, "minibert: invalid_argument: " + message};
}

/// Caller-buffer protocol: reports the size, refuses a short capacity.
void fit(std::size_t need, std::size_t capacity, std::size_t* needed, const void* buffer, const char* what) {
    if (needed) *needed = need;
    if (capacity < need)
        throw CError{MINIBERT_ERROR_BUFFER_TOO_SMALL, "minibert: buffer_too_small: " + std::string(what) + " needs " +
                                                          std::to_string(need) + " elements, capacity is " +
                                                          std::to_string(capacity)};
    if (need > 0) require(buffer, what);
}

minibert_options defaults() {
    minibert_options o{};
    o.struct_size = sizeof(minibert_options);
    o.dtype = MINIBERT_DTYPE_NATIVE;
    o.isa = MINIBERT_ISA_NATIVE;
    o.threads = 1;
    o.max_batch = 32;
    o.max_length = 0;
    o.reject_overflow = 0;
    return o;
}

/// The caller's options, or the defaults; a struct_size from a later ABI (larger) is read up to
/// the fields this one knows, an older (smaller) one is refused.
minibert_options read_options(const minibert_options* options) {
    if (!options) return defaults();
    if (options->struct_size < sizeof(minibert_options))
        invalid("options.struct_size is " + std::to_string(options->struct_size) + "; call minibert_options_init first");
    return *options;
}

minibert::LoadOptions load_options(const minibert_options& o) {
    minibert::LoadOptions l;
    switch (o.dtype) {
        case MINIBERT_DTYPE_NATIVE: l.weights = minibert::WeightType::native; break;
        case MINIBERT_DTYPE_FP32: l.weights = minibert::WeightType::fp32; break;
        case MINIBERT_DTYPE_FP16: l.weights = minibert::WeightType::fp16; break;
        case MINIBERT_DTYPE_INT8_DYNAMIC: l.weights = minibert::WeightType::int8_dynamic; break;
        case MINIBERT_DTYPE_INT8_STATIC: l.weights = minibert::WeightType::int8_static; break;
        default: invalid("options.dtype " + std::to_string(o.dtype) + " is not a minibert_dtype");
    }
    switch (o.isa) {
        case MINIBERT_ISA_NATIVE: l.isa = minibert::Isa::native; break;
        case MINIBERT_ISA_PORTABLE: l.isa = minibert::Isa::portable; break;
        case MINIBERT_ISA_AVX2: l.isa = minibert::Isa::avx2; break;
        case MINIBERT_ISA_AVXVNNI: l.isa = minibert::Isa::avxvnni; break;
        case MINIBERT_ISA_AVX512: l.isa = minibert::Isa::avx512; break;
        case MINIBERT_ISA_AVX512VNNI: l.isa = minibert::Isa::avx512vnni; break;
        default: invalid("options.isa " + std::to_string(o.isa) + " is not a minibert_isa");
    }
    return l;
}

minibert::PipelineOptions pipeline_options(const minibert_options* options) {
    const minibert_options o = read_options(options);
    if (o.threads == 0) invalid("options.threads must be at least 1");
    if (o.max_batch == 0) invalid("options.max_batch must be at least 1");
    minibert::PipelineOptions p;
    p.threads = o.threads;
    p.max_batch = o.max_batch;
    p.max_length = o.max_length;
    p.overflow = o.reject_overflow ? minibert::Overflow::reject : minibert::Overflow::truncate;
    p.load = load_options(o);
    return p;
}

std::string_view text_at(const char* const* texts, const std::size_t* lengths, std::size_t i, const char* what) {
    if (!texts[i] && lengths[i] != 0) invalid(std::string(what) + "[" + std::to_string(i) + "] is NULL");
    return std::string_view(texts[i] ? texts[i] : "", lengths[i]);
}

std::vector<std::string_view> texts_of(const char* const* texts, const std::size_t* lengths, std::size_t n) {
    if (n == 0) return {};
    require(texts, "texts");
    require(lengths, "lengths");
    std::vector<std::string_view> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = text_at(texts, lengths, i, "texts");
    return out;
}

}  // namespace

extern "C" {

uint32_t minibert_abi_version(void) { return MINIBERT_C_ABI_VERSION; }
const char* minibert_version(void) { return MINIBERT_VERSION_STRING; }
const char* minibert_last_error(void) { return last_error.c_str(); }

const char* minibert_status_name(int status) {
    switch (status) {
        case MINIBERT_OK: return "MINIBERT_OK";
        case MINIBERT_ERROR_IO: return "MINIBERT_ERROR_IO";
        case MINIBERT_ERROR_FORMAT: return "MINIBERT_ERROR_FORMAT";
        case MINIBERT_ERROR_CONFIG: return "MINIBERT_ERROR_CONFIG";
        case MINIBERT_ERROR_SHAPE: return "MINIBERT_ERROR_SHAPE";
        case MINIBERT_ERROR_INVALID_INPUT: return "MINIBERT_ERROR_INVALID_INPUT";
        case MINIBERT_ERROR_LIMIT: return "MINIBERT_ERROR_LIMIT";
        case MINIBERT_ERROR_UNSUPPORTED: return "MINIBERT_ERROR_UNSUPPORTED";
        case MINIBERT_ERROR_INVALID_ARGUMENT: return "MINIBERT_ERROR_INVALID_ARGUMENT";
        case MINIBERT_ERROR_BUFFER_TOO_SMALL: return "MINIBERT_ERROR_BUFFER_TOO_SMALL";
        case MINIBERT_ERROR_OUT_OF_MEMORY: return "MINIBERT_ERROR_OUT_OF_MEMORY";
        case MINIBERT_ERROR_INTERNAL: return "MINIBERT_ERROR_INTERNAL";
    }
    return "unknown";
}

minibert_status minibert_options_init(minibert_options* options) {
    return guard([&] {
        require(options, "options");
        *options = defaults();
    });
}

// ---- model ----

minibert_status minibert_model_load(const char* dir, const minibert_options* options, minibert_model** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(dir, "dir");
        const minibert_options o = read_options(options);
        *out = new minibert_model{minibert::Model::load(dir, load_options(o)), dir};
    });
}

void minibert_model_free(minibert_model* model) { delete model; }

minibert_status minibert_model_info(const minibert_model* model, size_t* hidden_size, size_t* num_labels,
                                    size_t* max_position_embeddings) {
    return guard([&] {
        require(model, "model");
        const minibert::ModelConfig& c = model->model.config();
        if (hidden_size) *hidden_size = c.hidden_size;
        if (num_labels) *num_labels = c.id2label.size();
        if (max_position_embeddings) *max_position_embeddings = c.max_position_embeddings;
    });
}

minibert_status minibert_model_label(const minibert_model* model, size_t index, const char** label) {
    return guard([&] {
        require(model, "model");
        require(label, "label");
        const auto& labels = model->model.config().id2label;
        if (index >= labels.size())
            throw minibert::Error(minibert::ErrorKind::invalid_input, "label " + std::to_string(index) + " of " +
                                                                          std::to_string(labels.size()));
        *label = labels[index].c_str();
    });
}

minibert_status minibert_model_kernels(const minibert_model* model, const char** isa, const char** weight_type) {
    return guard([&] {
        require(model, "model");
        if (isa) *isa = minibert::to_string(model->model.kernel_isa());
        if (weight_type) *weight_type = minibert::to_string(model->model.weight_type());
    });
}

// ---- tokenizer ----

minibert_status minibert_tokenizer_load(const char* dir, minibert_tokenizer** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(dir, "dir");
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw minibert::Error(minibert::ErrorKind::io, "tokenizer folder '" + std::string(dir) +
                                                               "' does not exist or is not a folder");
        *out = new minibert_tokenizer{minibert::Tokenizer::from_folder(dir)};
    });
}

void minibert_tokenizer_free(minibert_tokenizer* tokenizer) { delete tokenizer; }

minibert_status minibert_tokenizer_vocab_size(const minibert_tokenizer* tokenizer, size_t* size) {
    return guard([&] {
        require(tokenizer, "tokenizer");
        require(size, "size");
        *size = tokenizer->tokenizer.vocab_size();
    });
}

minibert_status minibert_tokenizer_token_to_id(const minibert_tokenizer* tokenizer, const char* token, size_t token_len,
                                               int32_t* id) {
    return guard([&] {
        require(tokenizer, "tokenizer");
        require(id, "id");
        if (token_len) require(token, "token");
        *id = tokenizer->tokenizer.token_to_id(std::string_view(token ? token : "", token_len));
    });
}

minibert_status minibert_tokenizer_encode(const minibert_tokenizer* tokenizer, const char* text, size_t text_len,
                                          const char* pair, size_t pair_len, int add_special_tokens, size_t max_length,
                                          minibert_encoding** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(tokenizer, "tokenizer");
        if (text_len) require(text, "text");
        minibert::EncodeOptions options;
        options.add_special_tokens = add_special_tokens != 0;
        options.max_length = max_length;
        const std::string_view a(text ? text : "", text_len);
        auto result = std::make_unique<minibert_encoding>();
        result->encoding = pair ? tokenizer->tokenizer.encode_pair(a, std::string_view(pair, pair_len), options)
                                : tokenizer->tokenizer.encode(a, options);
        result->offsets.reserve(2 * result->encoding.size());
        for (const auto& [s, e] : result->encoding.offsets) {
            result->offsets.push_back(s);
            result->offsets.push_back(e);
        }
        *out = result.release();
    });
}

minibert_status minibert_tokenizer_decode(const minibert_tokenizer* tokenizer, const int32_t* ids, size_t n,
                                          int skip_special_tokens, char* text, size_t capacity, size_t* needed) {
    return guard([&] {
        require(tokenizer, "tokenizer");
        if (n) require(ids, "ids");
        const std::vector<std::int32_t> v(ids, ids + n);
        const std::string s = tokenizer->tokenizer.decode(v, skip_special_tokens != 0);
        fit(s.size() + 1, capacity, needed, text, "text");
        std::copy(s.begin(), s.end(), text);
        text[s.size()] = '\0';
    });
}

size_t minibert_encoding_size(const minibert_encoding* encoding) { return encoding ? encoding->encoding.size() : 0; }

minibert_status minibert_encoding_arrays(const minibert_encoding* encoding, const int32_t** ids, const int32_t** type_ids,
                                         const size_t** offsets) {
    return guard([&] {
        require(encoding, "encoding");
        if (ids) *ids = encoding->encoding.ids.data();
        if (type_ids) *type_ids = encoding->encoding.type_ids.data();
        if (offsets) *offsets = encoding->offsets.data();
    });
}

minibert_status minibert_encoding_token(const minibert_encoding* encoding, size_t i, const char** token) {
    return guard([&] {
        require(encoding, "encoding");
        require(token, "token");
        if (i >= encoding->encoding.tokens.size())
            throw minibert::Error(minibert::ErrorKind::invalid_input, "token " + std::to_string(i) + " of an encoding of " +
                                                                          std::to_string(encoding->encoding.size()));
        *token = encoding->encoding.tokens[i].c_str();
    });
}

void minibert_encoding_free(minibert_encoding* encoding) { delete encoding; }

// ---- session ----

minibert_status minibert_session_create(const minibert_model* model, size_t threads, size_t max_batch, size_t max_tokens,
                                        size_t max_sequence, minibert_session** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(model, "model");
        minibert::SessionOptions s;
        s.threads = threads;
        s.max_batch = max_batch;
        s.max_tokens = max_tokens;
        s.max_sequence = max_sequence;
        *out = new minibert_session{minibert::Session(model->model, s), {}, {}, false};
    });
}

void minibert_session_free(minibert_session* session) { delete session; }

minibert_status minibert_session_run(minibert_session* session, const int32_t* ids, const int32_t* type_ids,
                                     const size_t* lengths, size_t n) {
    return guard([&] {
        require(session, "session");
        if (n == 0) throw minibert::Error(minibert::ErrorKind::invalid_input, "the batch holds no sequence");
        require(ids, "ids");
        require(lengths, "lengths");
        session->has_run = false;
        session->batch.clear();
        std::size_t at = 0;
        for (std::size_t i = 0; i < n; ++i) {
            session->batch.add(minibert::Span<const std::int32_t>(ids + at, lengths[i]),
                               type_ids ? minibert::Span<const std::int32_t>(type_ids + at, lengths[i])
                                        : minibert::Span<const std::int32_t>());
            at += lengths[i];
        }
        session->outputs = session->session.run(session->batch);
        session->has_run = true;
    });
}

minibert_status minibert_session_output(const minibert_session* session, int which, float* out,
                                        size_t capacity, size_t* needed, size_t* rows, size_t* cols) {
    return guard([&] {
        require(session, "session");
        if (!session->has_run)
            throw minibert::Error(minibert::ErrorKind::invalid_input, "the session has no outputs: no successful run yet");
        const minibert::Outputs& o = session->outputs;
        minibert::MatrixView m;
        const char* name = "";
        switch (which) {
            case MINIBERT_OUTPUT_LAST_HIDDEN_STATE: m = o.last_hidden_state; name = "last_hidden_state"; break;
            case MINIBERT_OUTPUT_POOLER: m = o.pooler_output; name = "pooler_output"; break;
            case MINIBERT_OUTPUT_MEAN_POOLED: m = o.mean_pooled; name = "mean_pooled"; break;
            case MINIBERT_OUTPUT_LOGITS: m = o.logits; name = "logits"; break;
            case MINIBERT_OUTPUT_START_LOGITS:
            case MINIBERT_OUTPUT_END_LOGITS: {
                const auto s = which == MINIBERT_OUTPUT_START_LOGITS ? o.start_logits : o.end_logits;
                m = minibert::MatrixView(s.data(), s.size(), s.empty() ? 0 : 1);
                name = which == MINIBERT_OUTPUT_START_LOGITS ? "start_logits" : "end_logits";
                break;
            }
            default: invalid("output " + std::to_string(which) + " is not a minibert_output");
        }
        if (m.rows() == 0 || m.cols() == 0)
            throw minibert::Error(minibert::ErrorKind::invalid_input, std::string("this model has no ") + name + " output");
        if (rows) *rows = m.rows();
        if (cols) *cols = m.cols();
        fit(m.rows() * m.cols(), capacity, needed, out, "out");
        for (std::size_t r = 0; r < m.rows(); ++r) std::copy(m.row(r), m.row(r) + m.cols(), out + r * m.cols());
    });
}

// ---- pipelines ----

minibert_status minibert_classifier_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                           const minibert_options* options, minibert_classifier** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(model, "model");
        require(tokenizer, "tokenizer");
        *out = new minibert_classifier{minibert::Classifier(model->model, tokenizer->tokenizer, pipeline_options(options))};
    });
}

void minibert_classifier_free(minibert_classifier* classifier) { delete classifier; }

minibert_status minibert_classifier_classify(minibert_classifier* classifier, const char* const* texts,
                                             const size_t* lengths, const char* const* pairs, const size_t* pair_lengths,
                                             size_t n, float* probabilities, float* logits, size_t* label_ids) {
    return guard([&] {
        require(classifier, "classifier");
        if (n == 0) return;
        std::vector<minibert::Classification> results;
        if (pairs || pair_lengths) {
            require(pairs, "pairs");
            require(pair_lengths, "pair_lengths");
            const std::vector<std::string_view> a = texts_of(texts, lengths, n);
            std::vector<std::pair<std::string, std::string>> p(n);
            for (std::size_t i = 0; i < n; ++i) p[i] = {std::string(a[i]), std::string(text_at(pairs, pair_lengths, i, "pairs"))};
            results = classifier->classifier.classify_pairs(p);
        } else {
            results = classifier->classifier.classify(texts_of(texts, lengths, n));
        }
        const std::size_t labels = classifier->classifier.labels().size();
        for (std::size_t i = 0; i < n; ++i) {
            const minibert::Classification& c = results[i];
            if (probabilities) std::copy(c.probabilities.begin(), c.probabilities.end(), probabilities + i * labels);
            if (logits) std::copy(c.logits.begin(), c.logits.end(), logits + i * labels);
            if (label_ids) label_ids[i] = c.label_id;
        }
    });
}

minibert_status minibert_embedder_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                         const minibert_options* options, int normalize, minibert_embedder** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(model, "model");
        require(tokenizer, "tokenizer");
        if (normalize < -1 || normalize > 1) invalid("normalize is " + std::to_string(normalize) + ", not -1, 0 or 1");
        minibert::PipelineOptions p = pipeline_options(options);
        // As Embedder::load reads a folder: sentence_bert_config.json's max_seq_length caps the length.
        const std::string st_config = (std::filesystem::path(model->dir) / "sentence_bert_config.json").string();
        if (minibert::path_entry_exists(st_config)) {
            const nlohmann::json cfg = minibert::json::parse(minibert::read_text_file(st_config), st_config);
            const minibert::json::Node root(cfg, st_config);
            root.require_object();
            if (const auto limit = root.optional_integer("max_seq_length", 0, INT32_MAX)) {
                const auto len = static_cast<std::size_t>(*limit);
                p.max_length = p.max_length ? std::min(p.max_length, len) : len;
            }
        }
        minibert::PoolingConfig pooling = minibert::PoolingConfig::from_folder(model->dir);
        if (normalize >= 0) pooling.normalize = normalize == 1;
        *out = new minibert_embedder{minibert::Embedder(model->model, tokenizer->tokenizer, pooling, p)};
    });
}

void minibert_embedder_free(minibert_embedder* embedder) { delete embedder; }

minibert_status minibert_embedder_dimension(const minibert_embedder* embedder, size_t* dimension) {
    return guard([&] {
        require(embedder, "embedder");
        require(dimension, "dimension");
        *dimension = embedder->embedder.dimension();
    });
}

minibert_status minibert_embedder_embed(minibert_embedder* embedder, const char* const* texts, const size_t* lengths,
                                        size_t n, float* out, size_t capacity, size_t* needed) {
    return guard([&] {
        require(embedder, "embedder");
        const std::size_t d = embedder->embedder.dimension();
        fit(n * d, capacity, needed, out, "out");
        if (n == 0) return;
        const auto vectors = embedder->embedder.embed(texts_of(texts, lengths, n));
        for (std::size_t i = 0; i < n; ++i) std::copy(vectors[i].begin(), vectors[i].end(), out + i * d);
    });
}

minibert_status minibert_tagger_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                       const minibert_options* options, minibert_tagger** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(model, "model");
        require(tokenizer, "tokenizer");
        *out = new minibert_tagger{minibert::TokenTagger(model->model, tokenizer->tokenizer, pipeline_options(options))};
    });
}

void minibert_tagger_free(minibert_tagger* tagger) { delete tagger; }

minibert_status minibert_tagger_tag(minibert_tagger* tagger, const char* const* texts, const size_t* lengths, size_t n,
                                    int aggregation, minibert_entities** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(tagger, "tagger");
        minibert::Aggregation a;
        switch (aggregation) {
            case MINIBERT_AGGREGATION_NONE: a = minibert::Aggregation::none; break;
            case MINIBERT_AGGREGATION_SIMPLE: a = minibert::Aggregation::simple; break;
            case MINIBERT_AGGREGATION_FIRST: a = minibert::Aggregation::first; break;
            default: invalid("aggregation " + std::to_string(aggregation) + " is not a minibert_aggregation");
        }
        auto result = std::make_unique<minibert_entities>();
        if (n > 0) {
            auto per_text = tagger->tagger.tag(texts_of(texts, lengths, n), a);
            for (std::size_t t = 0; t < per_text.size(); ++t)
                for (auto& e : per_text[t]) {
                    result->entities.push_back(std::move(e));
                    result->text.push_back(t);
                }
        }
        *out = result.release();
    });
}

size_t minibert_entities_count(const minibert_entities* entities) { return entities ? entities->entities.size() : 0; }

minibert_status minibert_entities_get(const minibert_entities* entities, size_t i, minibert_entity* out) {
    return guard([&] {
        require(entities, "entities");
        require(out, "out");
        if (i >= entities->entities.size())
            throw minibert::Error(minibert::ErrorKind::invalid_input, "entity " + std::to_string(i) + " of " +
                                                                          std::to_string(entities->entities.size()));
        const minibert::Entity& e = entities->entities[i];
        out->text = entities->text[i];
        out->label = e.label.c_str();
        out->word = e.word.c_str();
        out->score = e.score;
        out->start = e.start;
        out->end = e.end;
        out->char_start = e.char_start;
        out->char_end = e.char_end;
        out->token_index = e.index;
    });
}

void minibert_entities_free(minibert_entities* entities) { delete entities; }

minibert_status minibert_qa_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                   const minibert_options* options, size_t max_answer_length, size_t doc_stride,
                                   size_t max_seq_length, minibert_qa** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(model, "model");
        require(tokenizer, "tokenizer");
        minibert::QuestionAnswererOptions q;
        if (max_answer_length) q.max_answer_length = max_answer_length;
        if (doc_stride) q.doc_stride = doc_stride;
        if (max_seq_length) q.max_seq_length = max_seq_length;
        *out = new minibert_qa{minibert::QuestionAnswerer(model->model, tokenizer->tokenizer, q, pipeline_options(options))};
    });
}

void minibert_qa_free(minibert_qa* qa) { delete qa; }

minibert_status minibert_qa_answer(minibert_qa* qa, const char* question, size_t question_len, const char* context,
                                   size_t context_len, minibert_answer* out) {
    return guard([&] {
        require(qa, "qa");
        require(out, "out");
        if (question_len) require(question, "question");
        if (context_len) require(context, "context");
        const minibert::Answer a = qa->qa.answer(std::string_view(question ? question : "", question_len),
                                                 std::string_view(context ? context : "", context_len));
        out->score = a.score;
        out->start = a.start;
        out->end = a.end;
        out->char_start = a.char_start;
        out->char_end = a.char_end;
    });
}

minibert_status minibert_reranker_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                         const minibert_options* options, int activation, minibert_reranker** out) {
    return guard([&] {
        require(out, "out");
        *out = nullptr;
        require(model, "model");
        require(tokenizer, "tokenizer");
        minibert::RerankOptions r;
        switch (activation) {
            case -1: {  // as Reranker::load reads the folder (the same function)
                const std::string path = (std::filesystem::path(model->dir) / "config.json").string();
                r.activation = minibert::detail::cross_encoder_activation(minibert::read_text_file(path), path);
                break;
            }
            case 0: r.activation = minibert::ScoreActivation::identity; break;
            case 1: r.activation = minibert::ScoreActivation::sigmoid; break;
            case 2: r.activation = minibert::ScoreActivation::tanh; break;
            default: invalid("activation " + std::to_string(activation) + " is not -1, 0, 1 or 2");
        }
        *out = new minibert_reranker{minibert::Reranker(model->model, tokenizer->tokenizer, pipeline_options(options), r)};
    });
}

void minibert_reranker_free(minibert_reranker* reranker) { delete reranker; }

minibert_status minibert_reranker_score(minibert_reranker* reranker, const char* query, size_t query_len,
                                        const char* const* passages, const size_t* lengths, size_t n, float* scores) {
    return guard([&] {
        require(reranker, "reranker");
        if (query_len) require(query, "query");
        if (n == 0) return;
        require(scores, "scores");
        const auto s = reranker->reranker.score(std::string_view(query ? query : "", query_len), texts_of(passages, lengths, n));
        std::copy(s.begin(), s.end(), scores);
    });
}

minibert_status minibert_reranker_rerank(minibert_reranker* reranker, const char* query, size_t query_len,
                                         const char* const* passages, const size_t* lengths, size_t n, size_t top_n,
                                         size_t* indices, float* scores, size_t capacity, size_t* count) {
    return guard([&] {
        require(reranker, "reranker");
        if (query_len) require(query, "query");
        const std::size_t k = top_n == 0 ? n : std::min(top_n, n);
        fit(k, capacity, count, indices, "indices");
        if (k > 0) require(scores, "scores");
        if (n == 0) return;
        const auto results = reranker->reranker.rerank(std::string_view(query ? query : "", query_len),
                                                       texts_of(passages, lengths, n), top_n);
        for (std::size_t i = 0; i < results.size(); ++i) {
            indices[i] = results[i].index;
            scores[i] = results[i].score;
        }
    });
}

}  // extern "C"
