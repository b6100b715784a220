// minibert-classify: the README's main job. Classifies texts (or text pairs) with a
// sequence-classification model folder (default: the demo SST-2 student, installed under
// <prefix>/share/minibert/models/sst2-student).
//
//   minibert-classify                         classify a few built-in sentences
//   minibert-classify "text" "more text"      classify the arguments
//   minibert-classify - < lines.txt           classify stdin, one text per line, answered per batch
//   minibert-classify --json - < in.jsonl     {"text": ..., "text_pair": ...} in, one JSON object out per line
//   minibert-classify --tab-pairs - < pairs   "text<TAB>text_pair" per line
#include <minibert/minibert.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-classify", [&] {
        tool::Cli cli("minibert-classify", "Classifies each TEXT, each stdin line with '-', or a few built-in sentences.");
        tool::RunArgs run;
        bool tab_pairs = false;
        std::vector<std::string> texts;
        tool::RunHelp help;
        help.batch = "most texts per forward pass (memory follows the texts actually batched)";
        help.max_length = "tokens per text, specials included (default: the model's limit)";
        help.json = "JSON Lines: read {\"text\", \"text_pair\"} objects, write one object per text";
        help.default_model = tool::default_model_dir(argv[0]);
        tool::OwnOptions own;
        own.before_fail_fast = [&] {
            cli.app().add_flag("--tab-pairs", tab_pairs, "each input is TEXT<TAB>TEXT_PAIR (a sentence pair)");
        };
        cli.add_run_options(run, help, own);
        cli.app().add_option("texts", texts, "texts to classify; '-' reads stdin, one per line");
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;

        bool from_stdin = false;
        std::vector<std::string> args;
        for (std::string& t : texts) {
            if (t == "-") from_stdin = true;
            else args.push_back(std::move(t));
        }
        const bool builtin = args.empty() && !from_stdin;
        if (builtin) {
            if (run.json || tab_pairs) throw tool::UsageError("--json and --tab-pairs need TEXT arguments or '-'");
            args = {"a gorgeous , witty , seductive movie .", "the acting is dreadful and the plot makes no sense .",
                    "an utterly charming and hilarious film that reminded me of why i love the movies .",
                    "it 's a long , boring slog with nothing to say ."};
        }

        const auto load_start = std::chrono::steady_clock::now();
        minibert::Classifier classifier = minibert::Classifier::load(run.model_dir, run.pipeline_options());
        const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
        if (builtin || cli.verbose())
            std::fprintf(stderr, "model: %s (%s weights, loaded in %.0f ms, %zu thread(s))\n", run.model_dir.c_str(),
                         minibert::to_string(classifier.model().weight_type()), load_ms, run.threads);

        // One input line -> (text, pair?); throws Error(invalid_input) for a malformed line.
        struct Item {
            std::string text, pair;
            bool has_pair = false;
        };
        auto parse = [&](const std::string& line) {
            Item it;
            if (run.json) {
                const nlohmann::json j = tool::parse_json_line(line);
                it.text = tool::json_string(j, "text", true);
                const auto p = j.find("text_pair");
                it.has_pair = p != j.end() && !p->is_null();
                if (it.has_pair) it.pair = tool::json_string(j, "text_pair", true);
            } else if (tab_pairs) {
                const auto tab = line.find('\t');
                if (tab == std::string::npos) throw minibert::Error(minibert::ErrorKind::invalid_input, "no TAB between text and text_pair");
                it.text = line.substr(0, tab);
                it.pair = line.substr(tab + 1);
                it.has_pair = true;
            } else {
                it.text = line;
            }
            return it;
        };
        tool::BatchRunner runner("minibert-classify", run.batch, run.fail_fast, [&](const std::vector<tool::Input>& inputs) {
            std::vector<Item> items;
            for (const tool::Input& in : inputs) items.push_back(parse(in.line));
            // Singles and pairs cannot share a forward pass's API call; each group keeps input order.
            std::vector<std::string> singles;
            std::vector<std::pair<std::string, std::string>> pairs;
            for (const Item& it : items) {
                if (it.has_pair) pairs.emplace_back(it.text, it.pair);
                else singles.push_back(it.text);
            }
            const auto single_results = classifier.classify(singles);
            const auto pair_results = classifier.classify_pairs(pairs);
            std::vector<std::string> out;
            std::size_t s = 0, p = 0;
            for (const Item& it : items) {
                const minibert::Classification& r = it.has_pair ? pair_results[p++] : single_results[s++];
                if (run.json) {
                    nlohmann::json line = {{"text", it.text}};
                    if (it.has_pair) line["text_pair"] = it.pair;
                    line["label"] = r.label;
                    line["score"] = r.score;
                    nlohmann::json probs = nlohmann::json::object();
                    for (std::size_t l = 0; l < r.probabilities.size(); ++l) probs[classifier.labels()[l]] = r.probabilities[l];
                    line["probabilities"] = probs;
                    out.push_back(tool::dump(line));
                } else {
                    char head[64];
                    std::snprintf(head, sizeof head, "%-10s %.3f  ", r.label.c_str(), r.score);
                    out.push_back(head + it.text + (it.has_pair ? "\t" + it.pair : std::string()));
                }
            }
            return out;
        });
        const auto run_start = std::chrono::steady_clock::now();
        runner.from_arguments(args);
        if (from_stdin) runner.from_stdin();
        if (builtin || cli.verbose())
            std::fprintf(stderr, "classified in %.1f ms\n",
                         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - run_start).count());
        return runner.exit_code();
    });
}
