// minibert-tag: token classification (e.g. NER) with entity spans in the original text.
//
//   minibert-tag --model DIR [--aggregation none|simple|first] "text" [...]
#include <minibert/minibert.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::string model_dir;
    minibert::Aggregation aggregation = minibert::Aggregation::simple;
    std::vector<std::string> texts;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--model" && i + 1 < argc) model_dir = argv[++i];
        else if (arg == "--aggregation" && i + 1 < argc) {
            const std::string a = argv[++i];
            if (a == "none") aggregation = minibert::Aggregation::none;
            else if (a == "simple") aggregation = minibert::Aggregation::simple;
            else if (a == "first") aggregation = minibert::Aggregation::first;
            else {
                std::fprintf(stderr, "minibert-tag: unknown aggregation '%s' (none, simple, first)\n", a.c_str());
                return 2;
            }
        } else texts.push_back(arg);
    }
    if (model_dir.empty() || texts.empty()) {
        std::fprintf(stderr, "usage: minibert-tag --model DIR [--aggregation none|simple|first] TEXT [TEXT...]\n");
        return 2;
    }
    try {
        minibert::TokenTagger tagger = minibert::TokenTagger::load(model_dir);
        for (const std::string& text : texts) {
            std::printf("%s\n", text.c_str());
            for (const auto& e : tagger.tag(text, aggregation))
                std::printf("  %-8s %.3f  [%zu, %zu)  %s\n", e.label.c_str(), e.score, e.char_start, e.char_end,
                            text.substr(e.start, e.end - e.start).c_str());
        }
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "minibert-tag: %s\n", e.what());
        return 1;
    }
    return 0;
}
