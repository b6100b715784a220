// What every text-in pipeline shares: a model, its tokenizer, a session, and the length policy.
//
// A pipeline object is for one thread at a time (it owns a Session). Several threads share one
// Model and one Tokenizer by building their own pipeline from them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../model.hpp"
#include "../session.hpp"
#include "../tokenizer/tokenizer.hpp"

namespace minibert {

/// What happens to a text longer than the model takes.
enum class Overflow {
    truncate,  ///< cut it to the longest length the model takes (Hugging Face's truncation=True)
    reject,    ///< throw Error(limit) naming the text and its length
};

struct PipelineOptions {
    std::size_t threads = 1;          ///< threads per forward pass
    std::size_t max_batch = 32;       ///< most texts per forward pass (the session grows to the batches run)
    std::size_t max_length = 0;       ///< tokens per text, specials included; 0: what model and tokenizer allow
    Overflow overflow = Overflow::truncate;
    LoadOptions load;                 ///< how load() reads the weights (e.g. quantised to int8 at load)
};

namespace detail {

class PipelineBase {
public:
    const Model& model() const noexcept { return model_; }
    const Tokenizer& tokenizer() const noexcept { return tokenizer_; }
    /// The longest input in tokens, specials included.
    std::size_t max_length() const noexcept { return max_length_; }
    /// Bytes of the session's workspace now: it grows with the batches actually run, up to
    /// max_batch texts of max_length tokens (Session::workspace_bytes()).
    std::size_t workspace_bytes() const { return session_.workspace_bytes(); }

protected:
    PipelineBase(Model model, Tokenizer tokenizer, PipelineOptions options)
        : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options),
          max_length_(resolve_max_length(model_, tokenizer_, options_)), session_(model_, first_session_options()) {
        if (tokenizer_.vocab_size() > model_.config().vocab_size)
            throw Error(ErrorKind::config, "the tokenizer has " + std::to_string(tokenizer_.vocab_size()) +
                                               " tokens but the model's vocab_size is " +
                                               std::to_string(model_.config().vocab_size));
    }

    /// Encodes a text (or pair) under the length policy.
    Encoding encode(std::string_view text, const std::string_view* pair, std::size_t index) const {
        EncodeOptions options;
        options.max_length = options_.overflow == Overflow::truncate ? max_length_ : 0;
        Encoding e = pair ? tokenizer_.encode_pair(text, *pair, options) : tokenizer_.encode(text, options);
        if (e.size() > max_length_)
            throw Error(ErrorKind::limit, "text " + std::to_string(index) + " has " + std::to_string(e.size()) +
                                              " tokens; the model takes at most " + std::to_string(max_length_) +
                                              " (choose Overflow::truncate to cut it)");
        return e;
    }

    /// Runs encodings [begin, end) (at most max_batch) as one packed batch.
    Outputs run(const std::vector<Encoding>& encodings, std::size_t begin, std::size_t end) {
        batch_.clear();
        // Families without token types (DistilBERT, MPNet) take none, as their Hugging Face
        // tokenizers' model_input_names leave token_type_ids out of what reaches the model.
        const bool types = model_.config().type_vocab_size != 0;
        for (std::size_t i = begin; i < end; ++i)
            batch_.add(encodings[i].ids, types ? encodings[i].type_ids : std::vector<std::int32_t>{});
        reserve(batch_.size(), batch_.tokens());
        return session_.run(batch_);
    }

    /// Memory follows the work: the session starts with room for one text of max_length and
    /// grows (at least doubling, at most max_batch x max_length) only when a batch needs more, so
    /// max_batch 20000 with one short text costs what one text costs. Growing rebuilds the
    /// session (a new workspace and thread pool) a logarithmic number of times; Session::run()
    /// itself still allocates nothing.
    void reserve(std::size_t sequences, std::size_t tokens) {
        const SessionOptions& have = session_.options();
        if (sequences <= have.max_batch && tokens <= have.max_tokens) return;
        SessionOptions s = session_options();
        s.max_batch = std::min(s.max_batch, std::max(sequences, 2 * have.max_batch));
        s.max_tokens = std::min(s.max_tokens, std::max(tokens, 2 * have.max_tokens));
        session_ = Session(model_, s);
    }

    std::size_t max_batch() const noexcept { return options_.max_batch; }

    Model model_;
    Tokenizer tokenizer_;
    PipelineOptions options_;
    std::size_t max_length_;
    Session session_;
    Batch batch_;

private:
    static std::size_t resolve_max_length(const Model& model, const Tokenizer& tokenizer, const PipelineOptions& o) {
        std::size_t limit = std::min(model.config().max_sequence_length(), tokenizer.config().model_max_length);
        if (o.max_length != 0) limit = std::min(limit, o.max_length);
        if (limit < tokenizer.num_special_tokens(true) + 2)
            throw Error(ErrorKind::limit, "max_length " + std::to_string(limit) + " leaves no room for text");
        return limit;
    }
    /// The most a session of this pipeline may need: max_batch texts of max_length tokens.
    SessionOptions session_options() const {
        SessionOptions s;
        s.threads = options_.threads;
        s.max_batch = std::max<std::size_t>(1, options_.max_batch);
        s.max_sequence = max_length_;
        s.max_tokens = s.max_batch * max_length_;
        return s;
    }
    /// The first session: room for one text of max_length; reserve() grows it.
    SessionOptions first_session_options() const {
        SessionOptions s = session_options();
        s.max_batch = 1;
        s.max_tokens = max_length_;
        return s;
    }
};

/// Softmax of a few logits, in double for the exp (labels are few; accuracy is free).
inline std::vector<float> softmax(const float* logits, std::size_t n) {
    std::vector<float> p(n);
    const float top = *std::max_element(logits, logits + n);
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - top));
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(std::exp(static_cast<double>(logits[i] - top)) / sum);
    return p;
}

/// Code points in s[begin, end) of valid UTF-8 (continuation bytes are not counted).
inline std::size_t count_code_points(std::string_view s, std::size_t begin, std::size_t end) {
    std::size_t n = 0;
    for (std::size_t i = begin; i < end && i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace detail
}  // namespace minibert
