// QuestionAnswerer: the best answer span for a question in a context, long contexts included.
//
// Follows Hugging Face's question-answering pipeline: [CLS] question [SEP] context-window [SEP];
// a context longer than the model takes is cut into windows that overlap by `doc_stride`
// tokens. In each window, start and end logits outside the context (except [CLS]) are masked,
// each is softmaxed, [CLS] is then dropped, and the best span with start <= end and at most
// max_answer_length tokens scores start_prob * end_prob. The best span over all windows wins.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline_base.hpp"

namespace minibert {

struct QuestionAnswererOptions {
    std::size_t max_answer_length = 15;  ///< tokens
    std::size_t doc_stride = 128;        ///< tokens of overlap between context windows
    std::size_t max_seq_length = 384;    ///< tokens per window, specials included (capped by the model)
};

struct Answer {
    std::string text;                          ///< the answer, sliced from the context
    float score = 0.0f;                        ///< start probability x end probability
    std::size_t start = 0, end = 0;            ///< UTF-8 byte span in the context
    std::size_t char_start = 0, char_end = 0;  ///< code-point span in the context
};

class QuestionAnswerer : public detail::PipelineBase {
public:
    static QuestionAnswerer load(const std::string& dir, QuestionAnswererOptions qa = {}, PipelineOptions options = {}) {
        Model model = Model::load(dir, options.load);
        return QuestionAnswerer(std::move(model), Tokenizer::from_folder(dir), qa, options);
    }

    QuestionAnswerer(Model model, Tokenizer tokenizer, QuestionAnswererOptions qa = {}, PipelineOptions options = {})
        : PipelineBase(std::move(model), std::move(tokenizer), with_length(options, qa)), qa_(qa) {
        if (model_.config().head != HeadKind::question_answering)
            throw Error(ErrorKind::unsupported, "a QuestionAnswerer needs a *ForQuestionAnswering model, not '" +
                                                    model_.config().architecture + "'");
        cls_ = tokenizer_.token_to_id(tokenizer_.config().cls_token);
        sep_ = tokenizer_.token_to_id(tokenizer_.config().sep_token);
        if (cls_ < 0 || sep_ < 0) throw Error(ErrorKind::config, "the tokenizer has no [CLS] or [SEP] token");
        if (qa_.max_answer_length == 0) throw Error(ErrorKind::invalid_input, "max_answer_length must be at least 1");
    }

    /// The best answer to `question` in `context`. Throws Error(limit) when the question alone
    /// leaves no room for context in a window.
    Answer answer(std::string_view question, std::string_view context) {
        EncodeOptions raw;
        raw.add_special_tokens = false;
        const Encoding q = tokenizer_.encode(question, raw);
        const Encoding c = tokenizer_.encode(context, raw);
        if (q.size() + 3 >= max_length())
            throw Error(ErrorKind::limit, "the question has " + std::to_string(q.size()) + " tokens; a " +
                                              std::to_string(max_length()) + "-token window leaves no room for the context");
        const std::size_t budget = max_length() - q.size() - 3;
        const std::size_t step = budget > qa_.doc_stride ? budget - qa_.doc_stride : budget;

        // Windows [first, first + budget) of context tokens, as the Rust tokenizer's overflow makes them.
        std::vector<std::size_t> window_starts;
        for (std::size_t first = 0;; first += step) {
            window_starts.push_back(first);
            if (first + budget >= c.size()) break;
        }
        Answer best;
        bool found = false;
        for (std::size_t w0 = 0; w0 < window_starts.size(); w0 += max_batch()) {
            const std::size_t w1 = std::min(window_starts.size(), w0 + max_batch());
            std::vector<Encoding> windows;
            for (std::size_t w = w0; w < w1; ++w) windows.push_back(window(q, c, window_starts[w], budget));
            const Outputs out = run(windows, 0, windows.size());
            for (std::size_t b = 0; b < out.batch_size; ++b) {
                const std::size_t base = out.offsets[b], q_len = q.size();
                const std::size_t first = window_starts[w0 + b], n = windows[b].size() - q_len - 3;  // context tokens here
                Answer a;
                if (best_span(out.start_logits.data() + base, out.end_logits.data() + base, q_len + 2, n, first, c, context, a) &&
                    (!found || a.score > best.score)) {
                    best = a;
                    found = true;
                }
            }
        }
        if (!found) throw Error(ErrorKind::invalid_input, "the context is empty");
        return best;
    }

private:
    static PipelineOptions with_length(PipelineOptions options, const QuestionAnswererOptions& qa) {
        options.max_length = options.max_length ? std::min(options.max_length, qa.max_seq_length) : qa.max_seq_length;
        options.overflow = Overflow::truncate;
        return options;
    }

    Encoding window(const Encoding& q, const Encoding& c, std::size_t first, std::size_t budget) const {
        Encoding e;
        auto push = [&](std::int32_t id, std::int32_t type) {
            e.ids.push_back(id);
            e.type_ids.push_back(type);
        };
        push(cls_, 0);
        for (std::int32_t id : q.ids) push(id, 0);
        push(sep_, 0);
        for (std::size_t t = first; t < std::min(c.size(), first + budget); ++t) push(c.ids[t], 1);
        push(sep_, 1);
        return e;
    }

    /// Best span among the n context tokens at [ctx, ctx + n) of one window.
    bool best_span(const float* start_logits, const float* end_logits, std::size_t ctx, std::size_t n, std::size_t first,
                   const Encoding& c, std::string_view context, Answer& out) const {
        if (n == 0) return false;
        // Softmax over [CLS] and the context tokens (everything else is masked to -10000, whose
        // exp underflows to 0 as in HF), then [CLS] itself is excluded from spans.
        auto probabilities = [&](const float* logits) {
            std::vector<double> p(n + 1);
            double top = logits[0];
            for (std::size_t i = 0; i < n; ++i) top = std::max(top, static_cast<double>(logits[ctx + i]));
            double sum = p[0] = std::exp(logits[0] - top);
            for (std::size_t i = 0; i < n; ++i) sum += p[i + 1] = std::exp(logits[ctx + i] - top);
            for (double& v : p) v /= sum;
            return p;
        };
        const auto ps = probabilities(start_logits), pe = probabilities(end_logits);
        double best = -1.0;
        std::size_t bs = 0, be = 0;
        for (std::size_t s = 0; s < n; ++s)
            for (std::size_t e = s; e < std::min(n, s + qa_.max_answer_length); ++e) {
                const double score = ps[s + 1] * pe[e + 1];
                if (score > best) {
                    best = score;
                    bs = s;
                    be = e;
                }
            }
        out.start = c.offsets[first + bs].first;
        out.end = c.offsets[first + be].second;
        out.text = std::string(context.substr(out.start, out.end - out.start));
        out.score = static_cast<float>(best);
        out.char_start = detail::count_code_points(context, 0, out.start);
        out.char_end = out.char_start + detail::count_code_points(context, out.start, out.end);
        return true;
    }

    QuestionAnswererOptions qa_;
    std::int32_t cls_ = -1, sep_ = -1;
};

}  // namespace minibert
