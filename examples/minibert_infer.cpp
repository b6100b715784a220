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
// with whatever outputs the model has; values at padded positions are 0. The output is written
// as it is computed (no JSON document is built), so memory is the input and one case's session.
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
                throw minibert::Error(minibert::ErrorKind::invalid_input, "case '" + id + "': " + what + " holds " + v.dump() +
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

private:
    void put(const char* p, std::size_t n) {
        if (std::fwrite(p, 1, n, file_.get()) != n) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + path_ + "'");
    }
    std::string path_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
};

// [B][L][cols] from packed rows, zeros at padded positions.
void per_token(JsonWriter& w, const minibert::MatrixView& m, const minibert::Outputs& out, std::size_t length) {
    w.raw("[");
    for (std::size_t b = 0; b < out.batch_size; ++b) {
        w.raw(b ? ",[" : "[");
        const std::size_t begin = out.offsets[b], count = out.offsets[b + 1] - begin;
        for (std::size_t t = 0; t < length; ++t) {
            if (t) w.raw(",");
            w.row(t < count ? m.row(begin + t) : nullptr, m.cols());
        }
        w.raw("]");
    }
    w.raw("]");
}

void per_token_scalar(JsonWriter& w, minibert::Span<const float> v, const minibert::Outputs& out, std::size_t length) {
    w.raw("[");
    for (std::size_t b = 0; b < out.batch_size; ++b) {
        w.raw(b ? ",[" : "[");
        const std::size_t begin = out.offsets[b], count = out.offsets[b + 1] - begin;
        for (std::size_t t = 0; t < length; ++t) {
            if (t) w.raw(",");
            if (t < count) w.number(v[begin + t]);
            else w.raw("0");
        }
        w.raw("]");
    }
    w.raw("]");
}

void rows(JsonWriter& w, const minibert::MatrixView& m) {
    w.raw("[");
    for (std::size_t r = 0; r < m.rows(); ++r) {
        if (r) w.raw(",");
        w.row(m.row(r), m.cols());
    }
    w.raw("]");
}

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
        const nlohmann::json input = nlohmann::json::parse(minibert::read_text_file(input_path), nullptr, false);
        if (input.is_discarded() || !input.is_object() || !input.contains("cases") || !input["cases"].is_array())
            throw minibert::Error(minibert::ErrorKind::format, "'" + input_path + "' is not {\"cases\": [...]}");

        std::vector<PaddedCase> cases;
        std::size_t max_batch = 1, max_tokens = 1;
        for (std::size_t i = 0; i < input["cases"].size(); ++i) {
            cases.push_back(parse_case(input["cases"][i], i));
            max_batch = std::max(max_batch, cases.back().batch);
            max_tokens = std::max(max_tokens, cases.back().batch * cases.back().length);
        }
        minibert::SessionOptions options;
        options.threads = threads;
        options.max_batch = max_batch;
        options.max_tokens = std::max(max_tokens, model.config().max_position_embeddings);
        minibert::Session session(model, options);

        JsonWriter out_file(output_path);
        out_file.raw("{");
        for (std::size_t c = 0; c < cases.size(); ++c) {
            const PaddedCase& pc = cases[c];
            const minibert::Batch batch = minibert::Batch::from_padded(
                {pc.ids.data(), pc.ids.size()}, {pc.mask.data(), pc.mask.size()}, {pc.types.data(), pc.types.size()},
                pc.batch, pc.length);
            const minibert::Outputs out = session.run(batch);
            out_file.raw((c ? "," : "") + tool::dump(pc.id) + ":{\"last_hidden_state\":");
            per_token(out_file, out.last_hidden_state, out, pc.length);
            out_file.raw(",\"mean_pooled\":");
            rows(out_file, out.mean_pooled);
            if (!out.pooler_output.empty()) {
                out_file.raw(",\"pooler_output\":");
                rows(out_file, out.pooler_output);
            }
            if (out.head == minibert::HeadKind::sequence_classification) {
                out_file.raw(",\"logits\":");
                rows(out_file, out.logits);
            }
            if (out.head == minibert::HeadKind::token_classification) {
                out_file.raw(",\"logits\":");
                per_token(out_file, out.logits, out, pc.length);
            }
            if (out.head == minibert::HeadKind::question_answering) {
                out_file.raw(",\"start_logits\":");
                per_token_scalar(out_file, out.start_logits, out, pc.length);
                out_file.raw(",\"end_logits\":");
                per_token_scalar(out_file, out.end_logits, out, pc.length);
            }
            out_file.raw("}");
        }
        out_file.raw("}");
        out_file.close();
        return 0;
    });
}
