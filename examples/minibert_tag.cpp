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
        tool::RunArgs run;
        std::string aggregation_name = "simple";
        std::vector<std::string> texts;
        tool::RunHelp help;
        help.batch = "texts answered together (flushed per batch)";
        help.max_length = "tokens per text, specials included (default: the model's limit)";
        help.json = "JSON Lines: read {\"text\"} objects, write {\"text\", \"entities\"}";
        tool::OwnOptions own;
        own.before_json = [&] {
            cli.app().add_option("--aggregation", aggregation_name, "none (every token), simple or first (entities)")
                ->check(CLI::IsMember({"none", "simple", "first"}))
                ->capture_default_str();
        };
        cli.add_run_options(run, help, own);
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

        // The tagger is called one text at a time (below), so its session never holds more than
        // one text whatever max_batch (--batch) is: --batch only groups the answers' flushes.
        minibert::TokenTagger tagger = minibert::TokenTagger::load(run.model_dir, run.pipeline_options());

        tool::BatchRunner runner("minibert-tag", run.batch, run.fail_fast, [&](const std::vector<tool::Input>& inputs) {
            // Parse the whole batch first so a bad line fails before any answer is formatted.
            std::vector<std::string> batch_texts;
            for (const tool::Input& in : inputs)
                batch_texts.push_back(run.json ? tool::json_string(tool::parse_json_line(in.line), "text", true) : in.line);
            std::vector<std::string> out;
            for (const std::string& text : batch_texts) {
                const auto entities = tagger.tag(text, aggregation);
                if (run.json) {
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
