// minibert-tag: token classification (e.g. NER) with entity spans in the original text.
//
//   minibert-tag --model DIR [--aggregation none|simple|first] "text" [...]
//   minibert-tag --model DIR - < lines.txt            each stdin line, answered per batch
//   minibert-tag --model DIR --json - < in.jsonl      {"text": ...} in, {"text": ..., "entities": [...]} out
#include <minibert/minibert.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-tag", [&] {
        tool::Cli cli("minibert-tag", "Tags entities in each TEXT or each stdin line ('-').");
        std::string model_dir, aggregation_name = "simple";
        std::size_t threads = 1, batch = 32, max_length = 0;
        minibert::LoadOptions load;
        bool json = false, fail_fast = false;
        std::vector<std::string> texts;
        cli.add_model(model_dir);
        cli.add_threads(threads);
        cli.add_count("-b,--batch", batch, "texts answered together (flushed per batch)", 1000000);
        cli.add_count("--max-length", max_length, "tokens per text, specials included (default: the model's limit)", 1u << 20)
            ->default_str("model");
        cli.add_dtype(load);
        cli.app().add_option("--aggregation", aggregation_name, "none (every token), simple or first (entities)")
            ->check(CLI::IsMember({"none", "simple", "first"}))
            ->capture_default_str();
        cli.app().add_flag("--json", json, "JSON Lines: read {\"text\"} objects, write {\"text\", \"entities\"}");
        cli.add_fail_fast(fail_fast);
        cli.app().add_option("texts", texts, "texts to tag; '-' reads stdin, one per line");
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
        const std::map<std::string, minibert::Aggregation> aggregations = {
            {"none", minibert::Aggregation::none}, {"simple", minibert::Aggregation::simple}, {"first", minibert::Aggregation::first}};
        const minibert::Aggregation aggregation = aggregations.at(aggregation_name);

        bool from_stdin = false;
        std::vector<std::string> args;
        for (std::string& t : texts) {
            if (t == "-") from_stdin = true;
            else args.push_back(std::move(t));
        }
        if (args.empty() && !from_stdin) throw tool::UsageError("give TEXT arguments or '-' for stdin");

        minibert::PipelineOptions options;
        options.threads = threads;
        options.max_length = max_length;
        options.load = load;
        minibert::TokenTagger tagger = minibert::TokenTagger::load(model_dir, options);

        tool::BatchRunner runner("minibert-tag", batch, fail_fast, [&](const std::vector<tool::Input>& inputs) {
            // Parse the whole batch first so a bad line fails before any answer is formatted.
            std::vector<std::string> batch_texts;
            for (const tool::Input& in : inputs)
                batch_texts.push_back(json ? tool::json_string(tool::parse_json_line(in.line), "text", true) : in.line);
            std::vector<std::string> out;
            for (const std::string& text : batch_texts) {
                const auto entities = tagger.tag(text, aggregation);
                if (json) {
                    nlohmann::json list = nlohmann::json::array();
                    for (const auto& e : entities)
                        list.push_back({{"label", e.label}, {"score", e.score}, {"word", e.word}, {"start", e.start},
                                        {"end", e.end}, {"char_start", e.char_start}, {"char_end", e.char_end}});
                    out.push_back(tool::dump({{"text", text}, {"entities", list}}));
                    continue;
                }
                std::string block = text;
                char head[96];
                for (const auto& e : entities) {
                    std::snprintf(head, sizeof head, "\n  %-8s %.3f  [%zu, %zu)  ", e.label.c_str(), e.score, e.char_start, e.char_end);
                    block += head + text.substr(e.start, e.end - e.start);
                }
                out.push_back(std::move(block));
            }
            return out;
        });
        runner.from_arguments(args);
        if (from_stdin) runner.from_stdin();
        return runner.exit_code();
    });
}
