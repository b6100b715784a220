// minibert-embed: sentence embeddings (the vectors), or the cosine similarities of a few texts.
//
//   minibert-embed --model DIR "text" [...]           one line of floats per text
//   minibert-embed --model DIR - < lines.txt          the same for each stdin line, answered per batch
//   minibert-embed --model DIR --json - < in.jsonl    {"text": ...} in, {"text": ..., "embedding": [...]} out
//   minibert-embed --model DIR --cosine "a" "b" "c"   the cosine similarity of every pair of arguments
// Pooling, Dense modules, normalisation and prompts are what the folder declares (sentence-transformers
// folders), else mean pooling; --prompt-name picks one of the folder's prompts.
#include <minibert/minibert.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-embed", [&] {
        tool::Cli cli("minibert-embed", "Sentence embeddings of each TEXT or each stdin line ('-').");
        tool::RunArgs run;
        std::string prompt_name;
        bool cosine = false;
        std::vector<std::string> texts;
        tool::RunHelp help;
        help.batch = "most texts per forward pass";
        help.max_length = "tokens per text, specials included (default: the model's limit)";
        help.json = "JSON Lines: read {\"text\"} objects, write {\"text\", \"embedding\"}";
        tool::OwnOptions own;
        own.before_fail_fast = [&] {
            cli.app().add_option("--prompt-name", prompt_name, "prepend the folder's prompt of this name (config_sentence_transformers.json; default: the folder's default prompt)");
            cli.app().add_flag("--cosine", cosine, "print the cosine similarity of every pair of TEXT arguments instead");
        };
        cli.add_run_options(run, help, own);
        cli.app().add_option("texts", texts, "texts to embed; '-' reads stdin, one per line");
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;

        bool from_stdin = false;
        std::vector<std::string> args;
        for (std::string& t : texts) {
            if (t == "-") from_stdin = true;
            else args.push_back(std::move(t));
        }
        if (args.empty() && !from_stdin) throw tool::UsageError("give TEXT arguments or '-' for stdin");
        if (cosine && (from_stdin || run.json || args.size() < 2)) throw tool::UsageError("--cosine needs two or more TEXT arguments (no stdin, no --json)");

        minibert::Embedder embedder = minibert::Embedder::load(run.model_dir, run.pipeline_options());
        if (cli.verbose()) std::fprintf(stderr, "%zu-float embeddings from %s\n", embedder.dimension(), run.model_dir.c_str());

        if (cosine) {
            const auto e = embedder.embed(args, prompt_name);
            for (std::size_t i = 0; i < args.size(); ++i)
                for (std::size_t j = i + 1; j < args.size(); ++j)
                    std::printf("%.4f  \"%s\" ~ \"%s\"\n", minibert::Embedder::cosine(e[i], e[j]), args[i].c_str(), args[j].c_str());
            return 0;
        }
        tool::BatchRunner runner("minibert-embed", run.batch, run.fail_fast, [&](const std::vector<tool::Input>& inputs) {
            std::vector<std::string> batch_texts;
            for (const tool::Input& in : inputs)
                batch_texts.push_back(run.json ? tool::json_string(tool::parse_json_line(in.line), "text", true) : in.line);
            const auto vectors = embedder.embed(batch_texts, prompt_name);
            std::vector<std::string> out;
            for (std::size_t i = 0; i < vectors.size(); ++i) {
                if (run.json) {
                    out.push_back(tool::dump({{"text", batch_texts[i]}, {"embedding", vectors[i]}}));
                    continue;
                }
                std::string line;
                char number[32];
                for (std::size_t c = 0; c < vectors[i].size(); ++c) {
                    std::snprintf(number, sizeof number, c ? " %.7g" : "%.7g", vectors[i][c]);
                    line += number;
                }
                out.push_back(std::move(line));
            }
            return out;
        });
        runner.from_arguments(args);
        if (from_stdin) runner.from_stdin();
        return runner.exit_code();
    });
}
