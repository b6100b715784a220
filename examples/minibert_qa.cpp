// minibert-qa: extractive question answering; long contexts are read in overlapping windows.
//
//   minibert-qa --model DIR --question "..." --context "..." [--max-answer-length N] [--stride N]
#include <minibert/minibert.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    std::string model_dir, question, context;
    minibert::QuestionAnswererOptions qa;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i], value = argv[i + 1];
        if (arg == "--model") model_dir = value;
        else if (arg == "--question") question = value;
        else if (arg == "--context") context = value;
        else if (arg == "--max-answer-length") qa.max_answer_length = std::strtoul(value.c_str(), nullptr, 10);
        else if (arg == "--stride") qa.doc_stride = std::strtoul(value.c_str(), nullptr, 10);
        else {
            std::fprintf(stderr, "minibert-qa: unknown option '%s'\n", arg.c_str());
            return 2;
        }
    }
    if (model_dir.empty() || question.empty() || context.empty()) {
        std::fprintf(stderr, "usage: minibert-qa --model DIR --question TEXT --context TEXT [--max-answer-length N] [--stride N]\n");
        return 2;
    }
    try {
        minibert::QuestionAnswerer answerer = minibert::QuestionAnswerer::load(model_dir, qa);
        const minibert::Answer a = answerer.answer(question, context);
        std::printf("answer: %s\nscore: %.4f\nspan: [%zu, %zu) characters\n", a.text.c_str(), a.score, a.char_start, a.char_end);
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "minibert-qa: %s\n", e.what());
        return 1;
    }
    return 0;
}
