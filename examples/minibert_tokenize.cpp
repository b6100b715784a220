// minibert-tokenize: JSON Lines in, token ids out, with Hugging Face BertTokenizerFast results.
//
//   minibert-tokenize --model DIR [--max-length N] [--truncation longest_first|only_first|only_second]
//
// Each stdin line is {"text": ..., "text_pair": ... (optional)}; each output line holds ids,
// tokens, type_ids, special_tokens_mask and byte_offsets (the golden files' field names).
// A folder with only the tokenizer files (tokenizer.json or vocab.txt, tokenizer_config.json)
// is enough. Exit status: 0 on success, 1 for a bad line or folder, 2 for bad arguments.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "minibert/tokenizer/tokenizer.hpp"

namespace {

int usage(const char* message) {
    std::fprintf(stderr,
                 "minibert-tokenize: %s\n"
                 "usage: minibert-tokenize --model DIR [--max-length N] "
                 "[--truncation longest_first|only_first|only_second] < input.jsonl\n",
                 message);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_dir;
    minibert::EncodeOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            usage("tokenize JSON Lines read from stdin");
            return 0;
        }
        if (i + 1 >= argc) return usage(("missing value after " + arg).c_str());
        const std::string value = argv[++i];
        if (arg == "--model") {
            model_dir = value;
        } else if (arg == "--max-length") {
            char* end = nullptr;
            const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
            if (value.empty() || *end != '\0' || n == 0) return usage("--max-length needs a positive integer");
            options.max_length = static_cast<std::size_t>(n);
        } else if (arg == "--truncation") {
            if (value == "longest_first") options.truncation = minibert::TruncationStrategy::longest_first;
            else if (value == "only_first") options.truncation = minibert::TruncationStrategy::only_first;
            else if (value == "only_second") options.truncation = minibert::TruncationStrategy::only_second;
            else return usage(("unknown truncation strategy '" + value + "'").c_str());
        } else {
            return usage(("unknown option " + arg).c_str());
        }
    }
    if (model_dir.empty()) return usage("--model DIR is required");

    std::ios::sync_with_stdio(false);
    try {
        const minibert::Tokenizer tokenizer = minibert::Tokenizer::from_folder(model_dir);
        std::string line;
        std::size_t line_number = 0;
        while (std::getline(std::cin, line)) {
            ++line_number;
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            try {
                const nlohmann::json input = nlohmann::json::parse(line);
                if (!input.is_object() || !input.contains("text") || !input["text"].is_string()) {
                    throw minibert::Error(minibert::ErrorKind::invalid_input, "expected an object with a string \"text\"");
                }
                const std::string& text = input["text"].get_ref<const std::string&>();
                minibert::Encoding e;
                if (input.contains("text_pair") && !input["text_pair"].is_null()) {
                    if (!input["text_pair"].is_string()) {
                        throw minibert::Error(minibert::ErrorKind::invalid_input, "\"text_pair\" must be a string");
                    }
                    e = tokenizer.encode_pair(text, input["text_pair"].get_ref<const std::string&>(), options);
                } else {
                    e = tokenizer.encode(text, options);
                }
                nlohmann::json offsets = nlohmann::json::array();
                for (const auto& o : e.offsets) offsets.push_back({o.first, o.second});
                const nlohmann::json out = {{"ids", e.ids},
                                            {"tokens", e.tokens},
                                            {"type_ids", e.type_ids},
                                            {"special_tokens_mask", e.special_tokens_mask},
                                            {"byte_offsets", offsets}};
                std::cout << out.dump() << '\n';
            } catch (const nlohmann::json::exception& err) {
                std::fprintf(stderr, "minibert-tokenize: stdin line %zu: invalid JSON: %s\n", line_number, err.what());
                return 1;
            } catch (const minibert::Error& err) {
                std::fprintf(stderr, "minibert-tokenize: stdin line %zu: %s\n", line_number, err.what());
                return 1;
            }
        }
    } catch (const minibert::Error& err) {
        std::fprintf(stderr, "minibert-tokenize: %s\n", err.what());
        return 1;
    }
    return 0;
}
