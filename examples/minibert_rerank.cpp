// minibert-rerank: scores passages against a query with a cross-encoder and prints them best first.
//
//   minibert-rerank --model DIR --query "q" "passage" "passage" ...   rank the arguments
//   minibert-rerank --model DIR --query "q" - < passages.txt          rank stdin's lines (blank ones skipped)
//   minibert-rerank --model DIR --jsonl - < requests.jsonl            {"query", "documents": [...], "top_n"?}
//                                                                     per line in, one ranking per line out
// Text output: "rank<TAB>score<TAB>index<TAB>passage" per passage; --json prints one object
// {"query", "results": [{"index", "score", "document"}]}. The score is the model's raw logit
// unless the folder's config.json (sentence-transformers CrossEncoder) or --activation says otherwise.
#include <minibert/minibert.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tool_common.hpp"

namespace tool = minibert::tool;

namespace {

nlohmann::json ranking_json(const std::string& query, const std::vector<std::string>& passages,
                            const std::vector<minibert::RerankResult>& ranked) {
    nlohmann::json results = nlohmann::json::array();
    for (const minibert::RerankResult& r : ranked)
        results.push_back({{"index", r.index}, {"score", r.score}, {"document", passages[r.index]}});
    return {{"query", query}, {"results", std::move(results)}};
}

}  // namespace

int main(int argc, char** argv) {
    return tool::guarded_main("minibert-rerank", [&] {
        tool::Cli cli("minibert-rerank", "Ranks each PASSAGE (or each stdin line with '-') by its relevance to --query.");
        tool::RunArgs run;
        std::string query, activation = "folder";
        std::size_t top_n = 0;
        bool jsonl = false, has_query = false;
        std::vector<std::string> passages;
        CLI::Option* q = nullptr;
        tool::RunHelp help;
        help.batch = "most (query, passage) pairs per forward pass";
        help.max_length = "tokens per pair, specials included (default: the model's limit)";
        help.json = "print the ranking as one JSON object";
        tool::OwnOptions own;
        own.before_dtype = [&] {  // not add_count (1..most): 0 is a value here, "all"
            cli.app()
                .add_option("-n,--top-n", top_n, "print only the best N passages (0: all)")
                ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30))
                ->capture_default_str();
        };
        own.before_json = [&] {
            q = cli.app().add_option("-q,--query", query, "the query the passages are ranked against");
            cli.app()
                .add_option("--activation", activation, "score function: folder (what config.json declares), identity, sigmoid, tanh")
                ->check(CLI::IsMember({"folder", "identity", "sigmoid", "tanh"}));
        };
        own.before_fail_fast = [&] {
            cli.app().add_flag("--jsonl", jsonl, "read JSON Lines requests {\"query\", \"documents\", \"top_n\"} from '-', one ranking per line");
        };
        cli.add_run_options(run, help, own);
        cli.app().add_option("passages", passages, "passages to rank; '-' reads stdin, one per line");
        if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
        has_query = q->count() > 0;

        bool from_stdin = false;
        std::vector<std::string> args;
        for (std::string& p : passages) {
            if (p == "-") from_stdin = true;
            else args.push_back(std::move(p));
        }
        if (jsonl) {
            if (has_query || !args.empty() || !from_stdin) throw tool::UsageError("--jsonl reads requests from '-' only (no --query, no PASSAGE)");
        } else {
            if (!has_query) throw tool::UsageError("--query is required (or --jsonl requests on stdin)");
            if (args.empty() && !from_stdin) throw tool::UsageError("give PASSAGE arguments or '-' for stdin");
        }

        const std::map<std::string, minibert::ScoreActivation> activations{
            {"folder", minibert::ScoreActivation::folder}, {"identity", minibert::ScoreActivation::identity},
            {"sigmoid", minibert::ScoreActivation::sigmoid}, {"tanh", minibert::ScoreActivation::tanh}};
        minibert::Reranker reranker = minibert::Reranker::load(run.model_dir, run.pipeline_options(), {activations.at(activation)});
        if (cli.verbose())
            std::fprintf(stderr, "cross-encoder %s (%s weights, score: %s)\n", run.model_dir.c_str(),
                         minibert::to_string(reranker.model().weight_type()), minibert::to_string(reranker.activation()));

        if (jsonl) {
            // One request per line; a bad line is reported with its number and skipped (or stops
            // the run with --fail-fast), as the other tools do.
            tool::BatchRunner runner("minibert-rerank", 1, run.fail_fast, [&](const std::vector<tool::Input>& inputs) {
                std::vector<std::string> out;
                for (const tool::Input& in : inputs) {
                    const nlohmann::json j = tool::parse_json_line(in.line);
                    const std::string request_query = tool::json_string(j, "query", true);
                    const auto docs = j.find("documents");
                    if (docs == j.end() || !docs->is_array())
                        throw minibert::Error(minibert::ErrorKind::invalid_input, "field \"documents\" must be an array of strings");
                    std::vector<std::string> documents;
                    for (const auto& d : *docs) {
                        if (!d.is_string())
                            throw minibert::Error(minibert::ErrorKind::invalid_input, "field \"documents\" holds a non-string");
                        documents.push_back(d.get<std::string>());
                    }
                    std::size_t n = top_n;
                    if (const auto t = j.find("top_n"); t != j.end() && !t->is_null()) {
                        if (!t->is_number_unsigned())
                            throw minibert::Error(minibert::ErrorKind::invalid_input, "field \"top_n\" must be a non-negative integer");
                        n = t->get<std::size_t>();
                    }
                    out.push_back(tool::dump(ranking_json(request_query, documents, reranker.rerank(request_query, documents, n))));
                }
                return out;
            });
            runner.from_stdin();
            return runner.exit_code();
        }

        if (from_stdin) {
            tool::LineReader reader;
            std::string line;
            while (reader.next(line))
                if (line.find_first_not_of(" \t") != std::string::npos) args.push_back(line);
        }
        const auto ranked = reranker.rerank(query, args, top_n);
        if (run.json) {
            std::printf("%s\n", tool::dump(ranking_json(query, args, ranked)).c_str());
            return 0;
        }
        for (std::size_t r = 0; r < ranked.size(); ++r)
            std::printf("%zu\t%.6g\t%zu\t%s\n", r + 1, ranked[r].score, ranked[r].index, args[ranked[r].index].c_str());
        return 0;
    });
}
