// minibert-infer: run a model folder on token ids from JSON and dump every output as JSON, so a
// converted model can be checked against Python (tests/reference/compare_with_minibert.py).
//
//   minibert-infer --model DIR --input cases.json --output out.json [--threads N] [--dtype fp32|fp16|int8]
//
// cases.json: {"cases": [{"id": "...", "input_ids": [[...], ...], "attention_mask": [[...], ...],
//              "token_type_ids": [[...], ...]}]}; each case is a batch of right-padded sequences,
// the mask and type ids may be missing or null (all ones / all zeros).
// out.json: {"<id>": {"last_hidden_state": [B][L][H], "pooler_output": [B][H], "mean_pooled": [B][H],
//            "logits": [B][labels] or [B][L][labels], "start_logits": [B][L], "end_logits": [B][L]}}
// with whatever outputs the model has; values at padded positions are 0. Memory is bounded by the
// input and a fixed token budget, not by a case's size: a case runs in chunks of at most
// kTokenBudget padded tokens on one session (outputs do not depend on which sequences share a
// run), and the output is written as it is computed, each output kind spooled to a temporary
// file until the case is done (no JSON document is built).
#include <minibert/minibert.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

namespace {

struct PaddedCase {
    std::string id;
    std::size_t batch = 0, length = 0;
    std::vector<std::int32_t> ids, mask, types;
};

std::vector<std::int32_t> flatten(const nlohmann::json& rows, const std::string& what, const std::string& id,
                                  std::size_t batch, std::size_t length) {
    std::vector<std::int32_t> out;
    if (!rows.is_array() || rows.size() != batch)
        throw minibert::Error(minibert::ErrorKind::invalid_input, "case '" + id + "': " + what + " must have " +
                                                                      std::to_string(batch) + " rows");
    for (const auto& row : rows) {
        if (!row.is_array() || row.size() != length)
            throw minibert::Error(minibert::ErrorKind::invalid_input, "case '" + id + "': every " + what + " row must have " +
                                                                          std::to_string(length) + " values, like input_ids");
        for (const auto& v : row) {
            if (!v.is_number_integer() || v.get<std::int64_t>() < INT32_MIN || v.get<std::int64_t>() > INT32_MAX)
                throw minibert::Error(minibert::ErrorKind::invalid_input, "case '" + id + "': " + what + " holds " + minibert::json::describe(v) +
                                                                              ", not a 32-bit integer");
            out.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
        }
    }
    return out;
}

PaddedCase parse_case(const nlohmann::json& c, std::size_t index) {
    PaddedCase pc;
    if (!c.is_object()) throw minibert::Error(minibert::ErrorKind::invalid_input, "case " + std::to_string(index) + " is not an object");
    pc.id = c.contains("id") && c["id"].is_string() ? c["id"].get<std::string>() : std::to_string(index);
    if (!c.contains("input_ids") || !c["input_ids"].is_array() || c["input_ids"].empty() || !c["input_ids"][0].is_array())
        throw minibert::Error(minibert::ErrorKind::invalid_input, "case '" + pc.id + "' has no input_ids [[...], ...]");
    pc.batch = c["input_ids"].size();
    pc.length = c["input_ids"][0].size();
    pc.ids = flatten(c["input_ids"], "input_ids", pc.id, pc.batch, pc.length);
    if (c.contains("attention_mask") && !c["attention_mask"].is_null())
        pc.mask = flatten(c["attention_mask"], "attention_mask", pc.id, pc.batch, pc.length);
    if (c.contains("token_type_ids") && !c["token_type_ids"].is_null())
        pc.types = flatten(c["token_type_ids"], "token_type_ids", pc.id, pc.batch, pc.length);
    return pc;
}

/// Writes JSON to a file as it goes: numbers as %.9g (float round-trips), non-finite as null
/// (as nlohmann's dump() would), every write checked.
class JsonWriter {
public:
    explicit JsonWriter(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb"), &std::fclose) {
        if (!file_) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + path + "'");
        std::setvbuf(file_.get(), nullptr, _IOFBF, 1 << 20);
    }
    /// A spool: an anonymous temporary file (tmpfile(3)), gone when closed.
    JsonWriter() : path_("a temporary file"), file_(std::tmpfile(), &std::fclose) {
        if (!file_) throw minibert::Error(minibert::ErrorKind::io, "cannot create a temporary file");
    }
    /// Copies everything written to this spool onto `out`.
    void append_to(JsonWriter& out) {
        if (std::fflush(file_.get()) != 0 || std::fseek(file_.get(), 0, SEEK_SET) != 0)
            throw minibert::Error(minibert::ErrorKind::io, "cannot read back " + path_);
        char buf[1 << 16];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_.get())) > 0) out.put(buf, n);
        if (std::ferror(file_.get())) throw minibert::Error(minibert::ErrorKind::io, "cannot read back " + path_);
    }
    void raw(const std::string& s) { put(s.data(), s.size()); }
    void number(float v) {
        char buf[32];
        const int n = std::isfinite(v) ? std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v)) : std::snprintf(buf, sizeof buf, "null");
        put(buf, static_cast<std::size_t>(n));
    }
    /// [v0,v1,...] of n floats, or of n zeros when v is null (a padded position).
    void row(const float* v, std::size_t n) {
        raw("[");
        for (std::size_t i = 0; i < n; ++i) {
            if (i) raw(",");
            if (v) number(v[i]);
            else raw("0");
        }
        raw("]");
    }
    void close() {
        raw("\n");
        if (std::fflush(file_.get()) != 0 || std::ferror(file_.get()) || std::fclose(file_.release()) != 0)
            throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + path_ + "' (disk full?)");
    }

    void put(const char* p, std::size_t n) {
        if (std::fwrite(p, 1, n, file_.get()) != n) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + path_ + "'");
    }

private:
    std::string path_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
};

/// One output kind of one case ("logits": [...]), spooled chunk by chunk; `first` tracks commas.
struct Section {
    std::string key;
    JsonWriter spool;
    bool first = true;
    void separator() {
        if (!first) spool.raw(",");
        first = false;
    }
};

// Per sequence b of a chunk: [L][cols] from packed rows, zeros at padded positions.
void per_token(Section& s, const minibert::MatrixView& m, const minibert::Outputs& out, std::size_t length) {
    for (std::size_t b = 0; b < out.batch_size; ++b) {
        s.separator();
        s.spool.raw("[");
        const std::size_t begin = out.offsets[b], count = out.offsets[b + 1] - begin;
        for (std::size_t t = 0; t < length; ++t) {
            if (t) s.spool.raw(",");
            s.spool.row(t < count ? m.row(begin + t) : nullptr, m.cols());
        }
        s.spool.raw("]");
    }
}

void per_token_scalar(Section& s, minibert::Span<const float> v, const minibert::Outputs& out, std::size_t length) {
    for (std::size_t b = 0; b < out.batch_size; ++b) {
        s.separator();
        s.spool.raw("[");
        const std::size_t begin = out.offsets[b], count = out.offsets[b + 1] - begin;
        for (std::size_t t = 0; t < length; ++t) {
            if (t) s.spool.raw(",");
            if (t < count) s.spool.number(v[begin + t]);
            else s.spool.raw("0");
        }
        s.spool.raw("]");
    }
}

void rows(Section& s, const minibert::MatrixView& m) {
    for (std::size_t r = 0; r < m.rows(); ++r) {
        s.separator();
        s.spool.row(m.row(r), m.cols());
    }
}

/// Padded tokens per run: the session's size whatever a case holds (about 13 KB of workspace per
/// token for the 4-layer demo model, 55 MB; 100,000 one-token sequences run as 25 chunks).
constexpr std::size_t kTokenBudget = 4096;

}  // namespace

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-infer", [&] {
        tool::Cli cli("minibert-infer",
                      "Runs every case of --input (a batch of right-padded sequences) and writes all outputs as JSON.");
        std::string model_dir, input_path, output_path;
        std::size_t threads = 1;
        minibert::LoadOptions load;
        cli.add_model(model_dir);
        cli.app().add_option("-i,--input", input_path, "cases.json: {\"cases\": [{\"id\", \"input_ids\", ...}]}")->required();
        cli.app().add_option("-o,--output", output_path, "out.json to write")->required();
        cli.add_threads(threads);
        cli.add_dtype(load);
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
        const minibert::Model model = minibert::Model::load(model_dir, load);
        const nlohmann::json input = minibert::json::parse(minibert::read_text_file(input_path), input_path);  // depth-limited
        if (input.is_discarded() || !input.is_object() || !input.contains("cases") || !input["cases"].is_array())
            throw minibert::Error(minibert::ErrorKind::format, "'" + input_path + "' is not {\"cases\": [...]}");

        std::vector<PaddedCase> cases;
        std::size_t longest = 1;
        for (std::size_t i = 0; i < input["cases"].size(); ++i) {
            cases.push_back(parse_case(input["cases"][i], i));
            longest = std::max(longest, cases.back().length);
        }
        // One session for every chunk: kTokenBudget tokens, or one sequence of the longest case
        // when that is more (a sequence beyond max_position_embeddings is refused by run()).
        minibert::SessionOptions options;
        options.threads = threads;
        options.max_tokens = std::max(kTokenBudget, std::min(longest, model.config().max_position_embeddings));
        options.max_batch = options.max_tokens;
        minibert::Session session(model, options);

        JsonWriter out_file(output_path);
        out_file.raw("{");
        for (std::size_t c = 0; c < cases.size(); ++c) {
            const PaddedCase& pc = cases[c];
            std::vector<std::unique_ptr<Section>> sections;  // made at the first chunk, in output order
            auto section = [&](std::size_t i, const char* key) -> Section& {
                if (sections.size() <= i) sections.push_back(std::make_unique<Section>(Section{key, JsonWriter(), true}));
                return *sections[i];
            };
            const std::size_t rows_per_run = std::max<std::size_t>(1, options.max_tokens / pc.length);
            for (std::size_t b0 = 0; b0 < pc.batch; b0 += rows_per_run) {
                const std::size_t n = std::min(rows_per_run, pc.batch - b0), first = b0 * pc.length, count = n * pc.length;
                auto slice = [&](const std::vector<std::int32_t>& v) {
                    return v.empty() ? minibert::Span<const std::int32_t>() : minibert::Span<const std::int32_t>(v.data() + first, count);
                };
                const minibert::Batch batch =
                    minibert::Batch::from_padded(slice(pc.ids), slice(pc.mask), slice(pc.types), n, pc.length);
                const minibert::Outputs out = session.run(batch);
                std::size_t k = 0;
                per_token(section(k++, "last_hidden_state"), out.last_hidden_state, out, pc.length);
                rows(section(k++, "mean_pooled"), out.mean_pooled);
                if (!out.pooler_output.empty()) rows(section(k++, "pooler_output"), out.pooler_output);
                if (out.head == minibert::HeadKind::sequence_classification) rows(section(k++, "logits"), out.logits);
                if (out.head == minibert::HeadKind::token_classification) per_token(section(k++, "logits"), out.logits, out, pc.length);
                if (out.head == minibert::HeadKind::question_answering) {
                    per_token_scalar(section(k++, "start_logits"), out.start_logits, out, pc.length);
                    per_token_scalar(section(k++, "end_logits"), out.end_logits, out, pc.length);
                }
            }
            out_file.raw((c ? "," : "") + tool::dump(pc.id) + ":{");
            for (std::size_t k = 0; k < sections.size(); ++k) {
                out_file.raw((k ? ",\"" : "\"") + sections[k]->key + "\":[");
                sections[k]->spool.append_to(out_file);
                out_file.raw("]");
            }
            out_file.raw("}");
        }
        out_file.raw("}");
        out_file.close();
        return 0;
    });
}
