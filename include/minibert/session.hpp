// Session: one thread's way to run a shared Model. It owns every byte of scratch memory,
// sized once at construction for the limits in SessionOptions, so run() allocates nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "batch.hpp"
#include "error.hpp"
#include "model.hpp"
#include "models/pooling.hpp"
#include "numeric/aligned_buffer.hpp"
#include "numeric/matrix_view.hpp"
#include "parallel/thread_pool.hpp"

namespace minibert {

struct SessionOptions {
    std::size_t threads = 1;       ///< threads per run (the caller's included)
    std::size_t max_batch = 64;    ///< most sequences in one run
    std::size_t max_tokens = 0;    ///< most tokens in one run, all sequences together; 0: max(1024, max_sequence)
    std::size_t max_sequence = 0;  ///< longest sequence; 0: the model's ModelConfig::max_sequence_length()
};

/// How a sentence embedding is made from the last hidden state.
enum class Pooling { cls, mean };

/// Results of one run: views into the session's workspace, valid until its next run().
struct Outputs {
    HeadKind head = HeadKind::none;
    std::size_t batch_size = 0;
    Span<const std::size_t> offsets;  ///< batch_size + 1 token offsets of the packed sequences
    MatrixView last_hidden_state;     ///< [tokens x hidden]
    MatrixView pooler_output;         ///< [batch x hidden] (BERT with a pooler), else empty
    MatrixView mean_pooled;           ///< [batch x hidden], mean of each sequence's hidden states
    MatrixView logits;                ///< [batch x labels] (sequence cls) or [tokens x labels] (token cls)
    Span<const float> start_logits;   ///< [tokens] (question answering)
    Span<const float> end_logits;     ///< [tokens] (question answering)

    /// The hidden states of sequence b: [length_b x hidden].
    MatrixView hidden_states(std::size_t b) const noexcept {
        return MatrixView(last_hidden_state.row(offsets[b]), offsets[b + 1] - offsets[b], last_hidden_state.cols(),
                          last_hidden_state.stride());
    }
};

class Session {
public:
    /// Sizes the workspace for `options` (limits are checked against the model) and starts the
    /// threads. Throws Error(limit) naming the option for a zero or too-large limit, or when the
    /// workspace (workspace_bytes()) cannot be allocated.
    explicit Session(Model model, SessionOptions options = {}) : model_(std::move(model)), options_(options) {
        options_ = resolve(model_, options_);
        pool_ = std::make_unique<ThreadPool>(options_.threads);

        const Sizes s = sizes(model_, options_);
        // Every byte the session will ever use is allocated here (workspace_bytes() counts exactly
        // these five buffers); run() only carves views out of them.
        try {
            // The float block (by far the largest) first: when it cannot be had, nothing has been
            // zero-filled yet (the small id buffers first touched ~1.5 GB before a 1 TB refusal).
            floats_ = AlignedBuffer<float>(s.total_floats);
            ids_ = AlignedBuffer<std::int32_t>(s.tokens);
            type_ids_ = AlignedBuffer<std::int32_t>(s.tokens);
            positions_ = AlignedBuffer<std::int32_t>(s.tokens);
            offsets_ = AlignedBuffer<std::size_t>(s.batch + 1);
        } catch (const std::bad_alloc&) {
            throw Error(ErrorKind::limit, "cannot allocate the session's " + std::to_string(bytes_of(s)) +
                                              "-byte workspace (SessionOptions max_tokens " +
                                              std::to_string(options_.max_tokens) + ", max_batch " +
                                              std::to_string(options_.max_batch) + ", max_sequence " +
                                              std::to_string(options_.max_sequence) + ", threads " +
                                              std::to_string(options_.threads) + ")");
        }
        float* p = floats_.data();
        auto carve = [&](std::size_t n) {
            float* start = p;
            p += round_up(n);
            return start;
        };
        hidden_ = carve(s.tokens * s.hidden);
        buffers_.qkv = carve(s.tokens * 3 * s.hidden);
        buffers_.context = carve(s.tokens * s.hidden);
        buffers_.sum = carve(s.tokens * s.hidden);
        buffers_.intermediate = carve(s.tokens * s.inner);
        buffers_.scores_stride = round_up(s.scores);  // per thread: attention_scratch_floats()
        buffers_.scores = carve(s.threads * buffers_.scores_stride);
        buffers_.gemm_scratch = carve(s.gemm);
        cls_ = carve(s.batch * s.hidden);
        pooled_ = carve(s.batch * s.hidden);
        pre_classifier_ = carve(s.batch * s.hidden);
        mean_ = carve(s.batch * s.hidden);
        embeddings_ = carve(s.batch * s.hidden);
        logits_ = carve(s.tokens * s.labels);
        start_ = carve(s.tokens);
        end_ = carve(s.tokens);
    }

    Session(Session&&) noexcept = default;
    Session& operator=(Session&&) noexcept = default;

    const Model& model() const noexcept { return model_; }
    const SessionOptions& options() const noexcept { return options_; }

    /// Exact bytes of scratch memory a session with these options allocates at construction and
    /// holds until destroyed (every byte run() touches besides the model and the caller's batch).
    /// The options are resolved as the constructor resolves them; throws the same Error(limit).
    /// Not counted: the Session object itself and, with threads > 1, the pool's worker threads
    /// (their stacks and a few hundred bytes of bookkeeping each).
    static std::size_t workspace_bytes(const Model& model, SessionOptions options) {
        return bytes_of(sizes(model, resolve(model, options)));
    }
    /// workspace_bytes() of a session for batches of up to `max_batch` sequences of up to
    /// `max_sequence` tokens each (max_tokens = max_batch x max_sequence) on `threads` threads.
    static std::size_t workspace_bytes(const Model& model, std::size_t max_batch, std::size_t max_sequence,
                                       std::size_t threads = 1) {
        return workspace_bytes(model, options_for(max_batch, max_sequence, threads));
    }
    /// SessionOptions for batches of up to `max_batch` sequences of up to `max_sequence` tokens.
    static SessionOptions options_for(std::size_t max_batch, std::size_t max_sequence, std::size_t threads = 1) {
        SessionOptions o;
        o.threads = threads;
        o.max_batch = max_batch;
        o.max_sequence = max_sequence;
        if (max_sequence != 0 && max_batch > SIZE_MAX / max_sequence)
            throw Error(ErrorKind::limit, "max_batch " + std::to_string(max_batch) + " x max_sequence " +
                                              std::to_string(max_sequence) + " overflows");
        o.max_tokens = max_batch * max_sequence;
        return o;
    }
    std::size_t workspace_bytes() const { return workspace_bytes(model_, options_); }

    /// Runs the encoder and the model's head on a packed batch. Checks every id against the
    /// vocabulary, every type id against type_vocab_size, and lengths against the limits;
    /// allocates nothing. The returned views live until the next run().
    Outputs run(const Batch& batch) {
        const ModelConfig& cfg = model_.config();
        const detail::ModelImpl& impl = model_.impl();
        validate(batch, cfg);
        const std::size_t seqs = batch.size(), tokens = batch.tokens(), hidden = cfg.hidden_size;
        ThreadPool* pool = pool_.get();

        for (std::size_t b = 0; b <= seqs; ++b) offsets_[b] = batch.offsets()[b];
        std::copy(batch.ids().data(), batch.ids().data() + tokens, ids_.data());
        std::copy(batch.type_ids().data(), batch.type_ids().data() + tokens, type_ids_.data());
        for (std::size_t b = 0; b < seqs; ++b)  // the family's rule (models/family.hpp)
            detail::fill_position_ids(cfg.family->positions, cfg.pad_token_id, ids_.data() + offsets_[b],
                                      offsets_[b + 1] - offsets_[b], positions_.data() + offsets_[b]);

        impl.embed(ids_.data(), type_ids_.data(), positions_.data(), tokens, hidden_, buffers_.sum, buffers_.gemm_scratch,
                   pool);
        impl.run_layers(hidden_, tokens, offsets_.data(), seqs, buffers_, pool);

        Outputs out;
        out.head = cfg.head;
        out.batch_size = seqs;
        out.offsets = Span<const std::size_t>(offsets_.data(), seqs + 1);
        out.last_hidden_state = MatrixView(hidden_, tokens, hidden);

        for (std::size_t b = 0; b < seqs; ++b) {
            const MatrixView h = out.hidden_states(b);
            pooling::cls(h, cls_ + b * hidden);
            pooling::mean(h, mean_ + b * hidden);
        }
        out.mean_pooled = MatrixView(mean_, seqs, hidden);

        HeadBuffers head_buffers;
        head_buffers.pooled = pooled_;
        head_buffers.dense = pre_classifier_;
        head_buffers.logits = logits_;
        head_buffers.start = start_;
        head_buffers.end = end_;
        const HeadOutputs heads = impl.heads.forward(hidden_, hidden, tokens, cls_, seqs, head_buffers, buffers_.gemm_scratch, pool);
        out.pooler_output = heads.pooler_output;
        out.logits = heads.logits;
        out.start_logits = heads.start_logits;
        out.end_logits = heads.end_logits;
        last_ = out;
        return out;
    }

    /// Sentence embeddings [batch x hidden] of the last run: the first token's hidden state
    /// (cls) or the mean over each sequence's tokens, L2-normalised when asked.
    MatrixView sentence_embeddings(Pooling pooling, bool normalize) {
        const std::size_t seqs = last_.batch_size, hidden = model_.config().hidden_size;
        const float* source = pooling == Pooling::cls ? cls_ : mean_;
        for (std::size_t b = 0; b < seqs; ++b) {
            const float* in = source + b * hidden;
            float* out = embeddings_ + b * hidden;
            // sentence-transformers' Normalize divides by max(||x||, 1e-12)
            if (normalize) pooling::normalize(in, out, hidden);
            else std::copy(in, in + hidden, out);
        }
        return MatrixView(embeddings_, seqs, hidden);
    }

private:
    struct Sizes {
        std::size_t threads, tokens, batch, sequence, hidden, inner, labels, gemm, scores, total_floats;
    };
    static std::size_t round_up(std::size_t n) { return (n + 15) / 16 * 16; }  // keep each buffer 64-byte aligned

    /// Most tokens and threads a session accepts: far above any real use, low enough that every
    /// size below is computed without overflow (tokens x the widest row fits in 64 bits).
    static constexpr std::size_t max_session_tokens = std::size_t{1} << 31;
    static constexpr std::size_t max_session_threads = 1024;

    /// The options as a session applies them: defaults filled in, each limit checked.
    static SessionOptions resolve(const Model& model, SessionOptions o) {
        const ModelConfig& cfg = model.config();
        if (o.threads == 0) o.threads = 1;
        if (o.threads > max_session_threads)
            throw Error(ErrorKind::limit, "threads " + std::to_string(o.threads) + " exceeds " +
                                              std::to_string(max_session_threads) + " (SessionOptions::threads)");
        if (o.max_sequence == 0) o.max_sequence = cfg.max_sequence_length();
        if (o.max_sequence > cfg.max_sequence_length())
            throw Error(ErrorKind::limit, "max_sequence " + std::to_string(o.max_sequence) +
                                              " exceeds the model's longest sequence " + std::to_string(cfg.max_sequence_length()) +
                                              " (max_position_embeddings " + std::to_string(cfg.max_position_embeddings) +
                                              ") (SessionOptions::max_sequence)");
        if (o.max_tokens == 0) o.max_tokens = std::max<std::size_t>(1024, o.max_sequence);
        if (o.max_tokens > max_session_tokens)
            throw Error(ErrorKind::limit, "max_tokens " + std::to_string(o.max_tokens) + " exceeds " +
                                              std::to_string(max_session_tokens) + " (SessionOptions::max_tokens)");
        if (o.max_batch == 0) throw Error(ErrorKind::limit, "max_batch must be at least 1 (SessionOptions::max_batch)");
        o.max_batch = std::min(o.max_batch, o.max_tokens);
        return o;
    }

    static std::size_t bytes_of(const Sizes& s) {
        return s.total_floats * sizeof(float) + 3 * s.tokens * sizeof(std::int32_t) + (s.batch + 1) * sizeof(std::size_t);
    }

    /// Buffer sizes for resolved options. With tokens <= 2^31, threads <= 1024 and the config's
    /// limits (hidden <= 2^16, intermediate <= 2^18, labels <= 2^20) no product here overflows
    /// 64 bits; the workspace may still be too large to allocate, which the constructor reports.
    static Sizes sizes(const Model& model, const SessionOptions& o) {
        static_assert(sizeof(std::size_t) >= 8, "session sizes assume a 64-bit size_t");
        const ModelConfig& cfg = model.config();
        Sizes s{};
        s.threads = o.threads;
        s.tokens = o.max_tokens;
        s.batch = o.max_batch;
        s.sequence = o.max_sequence;
        s.hidden = cfg.hidden_size;
        s.inner = cfg.intermediate_size;
        s.labels = std::max<std::size_t>(2, model.impl().heads.classifier.out_features());
        s.gemm = model.impl().gemm_scratch_floats(s.tokens, s.threads);
        s.scores = kernels::attention_scratch_floats(s.sequence, cfg.head_dim());
        s.total_floats = round_up(s.tokens * s.hidden) * 3 + round_up(s.tokens * 3 * s.hidden) +
                         round_up(s.tokens * s.inner) + round_up(s.threads * round_up(s.scores)) + round_up(s.gemm) +
                         5 * round_up(s.batch * s.hidden) + round_up(s.tokens * s.labels) + 2 * round_up(s.tokens);
        return s;
    }

    void validate(const Batch& batch, const ModelConfig& cfg) const {
        if (batch.size() == 0) throw Error(ErrorKind::invalid_input, "the batch is empty");
        if (batch.size() > options_.max_batch)
            throw Error(ErrorKind::limit, "the batch has " + std::to_string(batch.size()) + " sequences; this session allows " +
                                              std::to_string(options_.max_batch) + " (SessionOptions::max_batch)");
        if (batch.tokens() > options_.max_tokens)
            throw Error(ErrorKind::limit, "the batch has " + std::to_string(batch.tokens()) + " tokens; this session allows " +
                                              std::to_string(options_.max_tokens) + " (SessionOptions::max_tokens)");
        for (std::size_t b = 0; b < batch.size(); ++b) {
            const std::size_t length = batch.length(b);
            if (length == 0) throw Error(ErrorKind::invalid_input, "sequence " + std::to_string(b) + " is empty");
            if (length > cfg.max_sequence_length())
                throw Error(ErrorKind::limit, "sequence " + std::to_string(b) + " has " + std::to_string(length) +
                                                  " tokens; the model's max_position_embeddings is " +
                                                  std::to_string(cfg.max_position_embeddings) +
                                                  (cfg.max_sequence_length() == cfg.max_position_embeddings
                                                       ? std::string()
                                                       : ", of which " + std::to_string(cfg.max_sequence_length()) +
                                                             " hold tokens (positions start after padding_idx " +
                                                             std::to_string(cfg.pad_token_id) + ")"));
            if (length > options_.max_sequence)
                throw Error(ErrorKind::limit, "sequence " + std::to_string(b) + " has " + std::to_string(length) +
                                                  " tokens; this session allows " + std::to_string(options_.max_sequence) +
                                                  " (SessionOptions::max_sequence)");
            for (std::size_t t = batch.offsets()[b]; t < batch.offsets()[b + 1]; ++t) {
                const std::int32_t id = batch.ids()[t], type = batch.type_ids()[t];
                const std::size_t pos = t - batch.offsets()[b];
                if (id < 0 || static_cast<std::size_t>(id) >= cfg.vocab_size)
                    throw Error(ErrorKind::invalid_input, "token id " + std::to_string(id) + " at sequence " + std::to_string(b) +
                                                              ", position " + std::to_string(pos) + " is outside the vocabulary [0, " +
                                                              std::to_string(cfg.vocab_size) + ")");
                const bool types = cfg.type_vocab_size != 0;
                if (types ? (type < 0 || static_cast<std::size_t>(type) >= cfg.type_vocab_size) : type != 0)
                    throw Error(ErrorKind::invalid_input,
                                "token type id " + std::to_string(type) + " at sequence " + std::to_string(b) + ", position " +
                                    std::to_string(pos) +
                                    (types ? " is outside [0, " + std::to_string(cfg.type_vocab_size) + ")"
                                           : " is not 0 (" + cfg.family->name + " has no token types)"));
            }
        }
    }

    Model model_;
    SessionOptions options_;
    std::unique_ptr<ThreadPool> pool_;
    AlignedBuffer<std::int32_t> ids_, type_ids_, positions_;
    AlignedBuffer<std::size_t> offsets_;
    AlignedBuffer<float> floats_;
    float* hidden_ = nullptr;
    LayerBuffers buffers_;
    float *cls_ = nullptr, *pooled_ = nullptr, *pre_classifier_ = nullptr, *mean_ = nullptr, *embeddings_ = nullptr;
    float *logits_ = nullptr, *start_ = nullptr, *end_ = nullptr;
    Outputs last_;
};

}  // namespace minibert
