// minibert-infer: run a model folder on token ids from JSON and dump every output as JSON, so a
// converted model can be checked against Python (tests/reference/compare_with_minibert.py).
//
//   minibert-infer --model DIR --input cases.json --output out.json [--threads N]
//
// cases.json: {"cases": [{"id": "...", "input_ids": [[...], ...], "attention_mask": [[...], ...],
//              "token_type_ids": [[...], ...]}]}; each case is a batch of right-padded sequences,
// the mask and type ids may be missing or null (all ones / all zeros).
// out.json: {"<id>": {"last_hidden_state": [B][L][H], "pooler_output": [B][H], "mean_pooled": [B][H],
//            "logits": [B][labels] or [B][L][labels], "start_logits": [B][L], "end_logits": [B][L]}}
// with whatever outputs the model has; values at padded positions are 0.
#include <minibert/minibert.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

void usage() {
    std::fprintf(stderr,
                 "usage: minibert-infer --model DIR --input cases.json --output out.json [--threads N]\n"
                 "  runs every case (a batch of right-padded sequences) and writes all outputs as JSON\n");
}

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

// [B][L][cols] from packed rows, zeros at padded positions.
nlohmann::json per_token(const minibert::MatrixView& m, const minibert::Outputs& out, std::size_t length) {
    nlohmann::json batch = nlohmann::json::array();
    for (std::size_t b = 0; b < out.batch_size; ++b) {
        nlohmann::json seq = nlohmann::json::array();
        const std::size_t begin = out.offsets[b], count = out.offsets[b + 1] - begin;
        for (std::size_t t = 0; t < length; ++t) {
            if (t < count) seq.push_back(std::vector<float>(m.row(begin + t), m.row(begin + t) + m.cols()));
            else seq.push_back(std::vector<float>(m.cols(), 0.0f));
        }
        batch.push_back(std::move(seq));
    }
    return batch;
}

nlohmann::json per_token_scalar(minibert::Span<const float> v, const minibert::Outputs& out, std::size_t length) {
    nlohmann::json batch = nlohmann::json::array();
    for (std::size_t b = 0; b < out.batch_size; ++b) {
        std::vector<float> row(length, 0.0f);
        const std::size_t begin = out.offsets[b], count = out.offsets[b + 1] - begin;
        for (std::size_t t = 0; t < count; ++t) row[t] = v[begin + t];
        batch.push_back(row);
    }
    return batch;
}

nlohmann::json rows(const minibert::MatrixView& m) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t r = 0; r < m.rows(); ++r) out.push_back(std::vector<float>(m.row(r), m.row(r) + m.cols()));
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_dir, input_path, output_path;
    std::size_t threads = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--model") model_dir = value();
        else if (arg == "--input") input_path = value();
        else if (arg == "--output") output_path = value();
        else if (arg == "--threads") threads = static_cast<std::size_t>(std::strtoul(value().c_str(), nullptr, 10));
        else if (arg == "-h" || arg == "--help") {
            usage();
            return 0;
        } else {
            std::fprintf(stderr, "minibert-infer: unknown argument '%s'\n", arg.c_str());
            usage();
            return 2;
        }
    }
    if (model_dir.empty() || input_path.empty() || output_path.empty()) {
        usage();
        return 2;
    }
    try {
        const minibert::Model model = minibert::Model::load(model_dir);
        const nlohmann::json input = minibert::json::parse(minibert::read_text_file(input_path), input_path);  // depth-limited
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

        nlohmann::json result = nlohmann::json::object();
        for (const PaddedCase& pc : cases) {
            const minibert::Batch batch = minibert::Batch::from_padded(
                {pc.ids.data(), pc.ids.size()}, {pc.mask.data(), pc.mask.size()}, {pc.types.data(), pc.types.size()},
                pc.batch, pc.length);
            const minibert::Outputs out = session.run(batch);
            nlohmann::json o = nlohmann::json::object();
            o["last_hidden_state"] = per_token(out.last_hidden_state, out, pc.length);
            o["mean_pooled"] = rows(out.mean_pooled);
            if (!out.pooler_output.empty()) o["pooler_output"] = rows(out.pooler_output);
            if (out.head == minibert::HeadKind::sequence_classification) o["logits"] = rows(out.logits);
            if (out.head == minibert::HeadKind::token_classification) o["logits"] = per_token(out.logits, out, pc.length);
            if (out.head == minibert::HeadKind::question_answering) {
                o["start_logits"] = per_token_scalar(out.start_logits, out, pc.length);
                o["end_logits"] = per_token_scalar(out.end_logits, out, pc.length);
            }
            result[pc.id] = std::move(o);
        }
        std::ofstream file(output_path);
        if (!file) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + output_path + "'");
        file << result.dump() << '\n';
        if (!file) throw minibert::Error(minibert::ErrorKind::io, "cannot write '" + output_path + "'");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "minibert-infer: %s\n", e.what());
        return 1;
    }
    return 0;
}
