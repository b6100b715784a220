// TokenTagger: token classification (NER and the like) with entity spans in the original text.
//
// Follows Hugging Face's token-classification pipeline:
//   none    one result per word piece whose best label is not "O";
//   simple  consecutive pieces merged into entities by their B-/I- tags, score = mean;
//   first   pieces first merged into words (a word takes its first piece's label and score),
//           then words merged into entities as in simple.
// A piece continues the previous word when its token is longer than the text it covers (the
// "##" prefix), except [UNK], as the fast-tokenizer path of that pipeline decides. Offsets are
// UTF-8 bytes [start, end) and code points [char_start, char_end) of the input text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeline_base.hpp"

namespace minibert {

enum class Aggregation { none, simple, first };

struct Entity {
    std::string label;        ///< entity type ("PER") when aggregated, the full tag ("B-PER") for none
    float score = 0.0f;       ///< probability of the label (mean over pieces for simple)
    std::string word;         ///< the pieces joined as the tokenizer's decoder joins them
    std::size_t start = 0, end = 0;            ///< UTF-8 byte span in the text
    std::size_t char_start = 0, char_end = 0;  ///< code-point span in the text
    std::size_t index = 0;    ///< token index in the encoding ([CLS] = 0); first piece's when aggregated
};

class TokenTagger : public detail::PipelineBase {
public:
    static TokenTagger load(const std::string& dir, PipelineOptions options = {}) {
        Model model = Model::load(dir, options.load);
        return TokenTagger(std::move(model), Tokenizer::from_folder(dir), options);
    }

    TokenTagger(Model model, Tokenizer tokenizer, PipelineOptions options = {})
        : PipelineBase(std::move(model), std::move(tokenizer), options) {
        if (model_.config().head != HeadKind::token_classification)
            throw Error(ErrorKind::unsupported, "a TokenTagger needs a *ForTokenClassification model, not '" +
                                                    model_.config().architecture + "'");
    }

    std::vector<Entity> tag(std::string_view text, Aggregation aggregation = Aggregation::simple) {
        return tag(std::vector<std::string_view>{text}, aggregation).front();
    }

    /// Entities of each text, in input order.
    std::vector<std::vector<Entity>> tag(const std::vector<std::string_view>& texts, Aggregation aggregation = Aggregation::simple) {
        std::vector<Encoding> encodings;
        encodings.reserve(texts.size());
        for (std::size_t i = 0; i < texts.size(); ++i) encodings.push_back(encode(texts[i], nullptr, i));
        std::vector<std::vector<Entity>> result;
        result.reserve(texts.size());
        for (std::size_t begin = 0; begin < encodings.size(); begin += max_batch()) {
            const std::size_t end = std::min(encodings.size(), begin + max_batch());
            const Outputs out = run(encodings, begin, end);
            for (std::size_t b = 0; b < out.batch_size; ++b) {
                const MatrixView logits(out.logits.row(out.offsets[b]), out.offsets[b + 1] - out.offsets[b], out.logits.cols());
                result.push_back(aggregate(texts[begin + b], encodings[begin + b], logits, aggregation));
            }
        }
        return result;
    }

    /// The entities of one encoded text from its token logits [tokens x labels] (rows in
    /// encoding order, [CLS] included): the aggregation step alone, for callers who run the
    /// model themselves.
    std::vector<Entity> entities(std::string_view text, const Encoding& enc, const MatrixView& logits,
                                 Aggregation aggregation) const {
        if (logits.rows() != enc.size() || logits.cols() != model_.config().id2label.size())
            throw Error(ErrorKind::invalid_input, "token logits of shape [" + std::to_string(logits.rows()) + " x " +
                                                      std::to_string(logits.cols()) + "] do not fit the encoding");
        return aggregate(text, enc, logits, aggregation);
    }

private:
    struct Piece {
        std::size_t index;
        std::vector<float> scores;
        std::string token;
        std::size_t start, end;
        bool is_subword;
    };

    static std::pair<char, std::string> split_tag(const std::string& label) {
        if (label.rfind("B-", 0) == 0) return {'B', label.substr(2)};
        if (label.rfind("I-", 0) == 0) return {'I', label.substr(2)};
        return {'I', label};  // "O" and untagged labels group like I- tags (HF's get_tag)
    }

    std::string join_tokens(const std::vector<std::string>& tokens) const {
        // BERT's convert_tokens_to_string: " ".join(tokens).replace(" ##", "").strip()
        const std::string& prefix = tokenizer_.wordpiece().continuing_subword_prefix;
        std::string out;
        for (const auto& t : tokens) {
            if (!out.empty() && !prefix.empty() && t.compare(0, prefix.size(), prefix) == 0) out += t.substr(prefix.size());
            else out += (out.empty() ? "" : " ") + t;
        }
        return out;
    }

    Entity make_entity(std::string_view text, const std::string& label, float score, const std::vector<std::string>& tokens,
                       std::size_t start, std::size_t end, std::size_t index) const {
        Entity e;
        e.label = label;
        e.score = score;
        e.word = join_tokens(tokens);
        e.start = start;
        e.end = end;
        e.char_start = detail::count_code_points(text, 0, start);
        e.char_end = e.char_start + detail::count_code_points(text, start, end);
        e.index = index;
        return e;
    }

    std::vector<Entity> aggregate(std::string_view text, const Encoding& enc, const MatrixView& logits,
                                  Aggregation aggregation) const {
        const auto& labels = model_.config().id2label;
        const std::int32_t unk = tokenizer_.token_to_id(tokenizer_.config().unk_token);
        std::vector<Piece> pieces;
        for (std::size_t t = 0; t < enc.size(); ++t) {
            if (enc.special_tokens_mask[t]) continue;
            Piece p;
            p.index = t;
            p.scores = detail::softmax(logits.row(t), logits.cols());
            p.token = enc.tokens[t];
            p.start = enc.offsets[t].first;
            p.end = enc.offsets[t].second;
            const std::size_t covered = detail::count_code_points(text, p.start, p.end);
            p.is_subword = enc.ids[t] != unk && detail::count_code_points(p.token, 0, p.token.size()) != covered;
            if (enc.ids[t] == unk) p.token = std::string(text.substr(p.start, p.end - p.start));
            pieces.push_back(std::move(p));
        }
        auto best = [](const std::vector<float>& s) {
            return static_cast<std::size_t>(std::max_element(s.begin(), s.end()) - s.begin());
        };

        // Labelled units (pieces, or words for `first`) before grouping.
        struct Unit {
            std::string label;
            float score;
            std::vector<std::string> tokens;
            std::size_t start, end, index;
        };
        std::vector<Unit> units;
        if (aggregation == Aggregation::first) {
            for (std::size_t i = 0; i < pieces.size();) {
                std::size_t j = i + 1;
                while (j < pieces.size() && pieces[j].is_subword) ++j;
                const std::size_t label = best(pieces[i].scores);
                Unit u{labels[label], pieces[i].scores[label], {}, pieces[i].start, pieces[j - 1].end, pieces[i].index};
                for (std::size_t k = i; k < j; ++k) u.tokens.push_back(pieces[k].token);
                units.push_back(std::move(u));
                i = j;
            }
        } else {
            for (const Piece& p : pieces) {
                const std::size_t label = best(p.scores);
                units.push_back(Unit{labels[label], p.scores[label], {p.token}, p.start, p.end, p.index});
            }
        }

        std::vector<Entity> out;
        if (aggregation == Aggregation::none) {
            for (const Unit& u : units)
                if (u.label != "O") out.push_back(make_entity(text, u.label, u.score, u.tokens, u.start, u.end, u.index));
            return out;
        }
        // Group consecutive units: a unit joins the open group when it has the same entity type
        // and is not a B- tag (HF's group_entities).
        std::size_t open = 0;
        auto close_group = [&](std::size_t from, std::size_t to) {
            const std::string type = split_tag(units[from].label).second;
            if (type == "O") return;
            double score = 0.0;
            std::vector<std::string> tokens;
            for (std::size_t k = from; k < to; ++k) {
                score += units[k].score;
                tokens.insert(tokens.end(), units[k].tokens.begin(), units[k].tokens.end());
            }
            out.push_back(make_entity(text, type, static_cast<float>(score / static_cast<double>(to - from)), tokens,
                                      units[from].start, units[to - 1].end, units[from].index));
        };
        for (std::size_t i = 1; i <= units.size(); ++i) {
            if (i < units.size()) {
                const auto [bi, tag] = split_tag(units[i].label);
                if (tag == split_tag(units[i - 1].label).second && bi != 'B') continue;
            }
            if (!units.empty()) close_group(open, i);
            open = i;
        }
        return out;
    }
};

}  // namespace minibert
