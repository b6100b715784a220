// minibert-tokenize: JSON Lines in, token ids out, with Hugging Face fast-tokenizer results
// (BERT WordPiece, and through TokenizerPipeline byte-level BPE, Unigram, RoBERTa/T5 templates).
//
//   minibert-tokenize --model DIR [--max-length N] [--truncation longest_first|only_first|only_second]
//
// Each stdin line is {"text": ..., "text_pair": ... (optional)}; each output line holds ids,
// tokens, type_ids, special_tokens_mask and byte_offsets (the golden files' field names).
// A folder with only the tokenizer files (tokenizer.json or vocab.txt, tokenizer_config.json)
// is enough. A bad line is reported with its number and skipped (exit 5 at the end), or stops
// the run with --fail-fast (exit 3); exit codes are tool_common.hpp's.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/tokenizer/tokenizer.hpp"
#include "tool_common.hpp"

namespace tool = minibert::tool;

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-tokenize", [&] {
        tool::Cli cli("minibert-tokenize", "Tokenizes JSON Lines {\"text\", \"text_pair\"} read from stdin.");
        std::string model_dir, truncation = "longest_first";
        std::size_t max_length = 0, batch = 64;
        bool fail_fast = false;
        cli.add_model(model_dir);
        cli.add_count("--max-length", max_length, "tokens per encoding, specials included (default: no limit)", std::size_t{1} << 31)
            ->default_str("none");
        cli.app().add_option("--truncation", truncation, "which text of a pair is cut first")
            ->check(CLI::IsMember({"longest_first", "only_first", "only_second"}))
            ->capture_default_str();
        cli.add_count("-b,--batch", batch, "lines answered together (flushed per batch)", 1000000);
        cli.add_fail_fast(fail_fast);
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
        const std::map<std::string, minibert::TruncationStrategy> strategies = {
            {"longest_first", minibert::TruncationStrategy::longest_first},
            {"only_first", minibert::TruncationStrategy::only_first},
            {"only_second", minibert::TruncationStrategy::only_second}};
        minibert::EncodeOptions options;
        options.max_length = max_length;
        options.truncation = strategies.at(truncation);

        const minibert::Tokenizer tokenizer = minibert::Tokenizer::from_folder(model_dir);
        tool::BatchRunner runner("minibert-tokenize", batch, fail_fast, [&](const std::vector<tool::Input>& inputs) {
            std::vector<std::string> out;
            for (const tool::Input& in : inputs) {
                const nlohmann::json input = tool::parse_json_line(in.line);
                const std::string text = tool::json_string(input, "text", true);
                const auto pair = input.find("text_pair");
                const minibert::Encoding e = pair != input.end() && !pair->is_null()
                                                 ? tokenizer.encode_pair(text, tool::json_string(input, "text_pair", true), options)
                                                 : tokenizer.encode(text, options);
                nlohmann::json offsets = nlohmann::json::array();
                for (const auto& o : e.offsets) offsets.push_back({o.first, o.second});
                out.push_back(tool::dump({{"ids", e.ids},
                                          {"tokens", e.tokens},
                                          {"type_ids", e.type_ids},
                                          {"special_tokens_mask", e.special_tokens_mask},
                                          {"byte_offsets", offsets}}));
            }
            return out;
        });
        runner.from_stdin();
        return runner.exit_code();
    });
}
