// minibert-qa: extractive question answering; long contexts are read in overlapping windows.
//
//   minibert-qa --model DIR --question "..." --context "..."   one answer
//   minibert-qa --model DIR - < pairs.tsv                       "question<TAB>context" per stdin line
//   minibert-qa --model DIR --json - < in.jsonl                 {"question", "context"} in, one object out per line
#include <minibert/minibert.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-qa", [&] {
        tool::Cli cli("minibert-qa", "Answers --question from --context, or each stdin line ('-').");
        tool::RunArgs run;
        std::string question, context;
        minibert::QuestionAnswererOptions qa;
        bool from_stdin = false;
        tool::RunHelp help;
        help.batch = "context windows per forward pass; answers are flushed per batch of lines";
        help.batch_default = 8;
        help.batch_most = 100000;
        help.json = "JSON Lines: read {\"question\", \"context\"}, write one object per line";
        // No --max-length (help.max_length empty): windows are --max-seq-length tokens.
        tool::OwnOptions own;
        own.before_json = [&] {
            cli.app().add_option("-q,--question", question, "the question");
            cli.app().add_option("-c,--context", context, "the text to find the answer in");
            cli.add_count("--max-answer-length", qa.max_answer_length, "longest answer, in tokens", 1u << 20);
            cli.app().add_option("--stride", qa.doc_stride, "tokens of overlap between context windows")->capture_default_str();
            cli.add_count("--max-seq-length", qa.max_seq_length, "tokens per window, specials included", 1u << 20);
        };
        cli.add_run_options(run, help, own);
        std::vector<std::string> inputs;
        cli.app().add_option("input", inputs, "'-': read stdin, QUESTION<TAB>CONTEXT per line (JSON objects with --json)");
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
        for (const std::string& in : inputs) {
            if (in != "-") throw tool::UsageError("unexpected argument '" + in + "' (questions go in --question)");
            from_stdin = true;
        }
        const bool one = !question.empty() || !context.empty();
        if (one == from_stdin) throw tool::UsageError("give --question and --context, or '-' for stdin");
        if (one && (question.empty() || context.empty())) throw tool::UsageError("--question and --context go together");

        minibert::QuestionAnswerer answerer = minibert::QuestionAnswerer::load(run.model_dir, qa, run.pipeline_options());
        if (one) {
            const minibert::Answer a = answerer.answer(question, context);
            if (run.json)
                std::printf("%s\n", tool::dump({{"question", question}, {"answer", a.text}, {"score", a.score},
                                                {"char_start", a.char_start}, {"char_end", a.char_end}})
                                        .c_str());
            else
                std::printf("answer: %s\nscore: %.4f\nspan: [%zu, %zu) characters\n", a.text.c_str(), a.score, a.char_start,
                            a.char_end);
            return 0;
        }
        tool::BatchRunner runner("minibert-qa", run.batch, run.fail_fast, [&](const std::vector<tool::Input>& inputs) {
            std::vector<std::pair<std::string, std::string>> items;
            for (const tool::Input& in : inputs) {
                if (run.json) {
                    const nlohmann::json j = tool::parse_json_line(in.line);
                    items.emplace_back(tool::json_string(j, "question", true), tool::json_string(j, "context", true));
                } else {
                    const auto tab = in.line.find('\t');
                    if (tab == std::string::npos)
                        throw minibert::Error(minibert::ErrorKind::invalid_input, "no TAB between question and context");
                    items.emplace_back(in.line.substr(0, tab), in.line.substr(tab + 1));
                }
            }
            std::vector<std::string> out;
            for (const auto& [q, c] : items) {
                const minibert::Answer a = answerer.answer(q, c);
                if (run.json) {
                    out.push_back(tool::dump({{"question", q}, {"answer", a.text}, {"score", a.score},
                                              {"char_start", a.char_start}, {"char_end", a.char_end}}));
                } else {
                    char tail[96];
                    std::snprintf(tail, sizeof tail, "\t%.4f\t%zu\t%zu", a.score, a.char_start, a.char_end);
                    out.push_back(a.text + tail);
                }
            }
            return out;
        });
        runner.from_stdin();
        return runner.exit_code();
    });
}
