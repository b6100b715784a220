// minibert-classify: the README's main job. Classifies text with a sequence-classification
// model folder (default: the demo SST-2 student committed in models/sst2-student).
//
//   minibert-classify                         classify a few built-in sentences
//   minibert-classify "text" "more text"      classify the arguments
//   echo "text" | minibert-classify -         classify stdin, one text per line
//   options: --model DIR --threads N --batch N --max-length N --json
#include <minibert/minibert.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#ifndef MINIBERT_DEFAULT_MODEL_DIR
#define MINIBERT_DEFAULT_MODEL_DIR "models/sst2-student"
#endif

namespace {

void usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: minibert-classify [--model DIR] [--threads N] [--batch N] [--max-length N] [--json] [TEXT... | -]\n"
                 "  classifies each TEXT (or each line of stdin with '-'; a few built-in sentences with none)\n"
                 "  and prints the label and its probability. Default model: %s (or $MINIBERT_MODEL)\n",
                 MINIBERT_DEFAULT_MODEL_DIR);
}

std::size_t parse_count(const char* flag, const std::string& value) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v == 0 || v > 1000000) {
        std::fprintf(stderr, "minibert-classify: %s needs a positive integer, got '%s'\n", flag, value.c_str());
        std::exit(2);
    }
    return static_cast<std::size_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
    const char* env_model = std::getenv("MINIBERT_MODEL");
    std::string model_dir = env_model && *env_model ? env_model : MINIBERT_DEFAULT_MODEL_DIR;
    minibert::PipelineOptions options;
    bool json = false, from_stdin = false;
    std::vector<std::string> texts;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](const char* flag) -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "minibert-classify: %s needs a value\n", flag);
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--model") model_dir = value("--model");
        else if (arg == "--threads") options.threads = parse_count("--threads", value("--threads"));
        else if (arg == "--batch") options.max_batch = parse_count("--batch", value("--batch"));
        else if (arg == "--max-length") options.max_length = parse_count("--max-length", value("--max-length"));
        else if (arg == "--json") json = true;
        else if (arg == "-") from_stdin = true;
        else if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        } else if (arg.size() > 1 && arg[0] == '-' && arg[1] == '-') {
            std::fprintf(stderr, "minibert-classify: unknown option '%s'\n", arg.c_str());
            usage(stderr);
            return 2;
        } else {
            texts.push_back(arg);
        }
    }
    if (from_stdin)
        for (std::string line; std::getline(std::cin, line);)
            if (!line.empty()) texts.push_back(line);
    const bool builtin = texts.empty() && !from_stdin;
    if (builtin)
        texts = {"a gorgeous , witty , seductive movie .", "the acting is dreadful and the plot makes no sense .",
                 "an utterly charming and hilarious film that reminded me of why i love the movies .",
                 "it 's a long , boring slog with nothing to say ."};

    try {
        const auto load_start = std::chrono::steady_clock::now();
        minibert::Classifier classifier = minibert::Classifier::load(model_dir, options);
        const double load_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
        const auto run_start = std::chrono::steady_clock::now();
        const auto results = classifier.classify(texts);
        const double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - run_start).count();

        if (json) {
            for (std::size_t i = 0; i < texts.size(); ++i) {
                nlohmann::json line = {{"text", texts[i]}, {"label", results[i].label}, {"score", results[i].score}};
                nlohmann::json probs = nlohmann::json::object();
                for (std::size_t l = 0; l < results[i].probabilities.size(); ++l)
                    probs[classifier.labels()[l]] = results[i].probabilities[l];
                line["probabilities"] = probs;
                std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
            }
        } else {
            if (builtin) std::printf("model: %s (loaded in %.0f ms)\n", model_dir.c_str(), load_ms);
            for (std::size_t i = 0; i < texts.size(); ++i)
                std::printf("%-10s %.3f  %s\n", results[i].label.c_str(), results[i].score, texts[i].c_str());
            if (builtin)
                std::printf("%zu texts in %.1f ms on %zu thread(s)\n", texts.size(), run_ms, options.threads);
        }
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "minibert-classify: %s\n", e.what());
        return 1;
    }
    return 0;
}
