// minibert-embed: sentence embeddings and their cosine similarities.
//
//   minibert-embed --model DIR "first sentence" "second sentence" [...]
// Prints the embedding size and the cosine similarity of every pair, using the pooling and
// normalisation the folder declares (sentence-transformers folders) or mean pooling.
#include <minibert/minibert.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::string model_dir;
    std::vector<std::string> texts;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--model" && i + 1 < argc) model_dir = argv[++i];
        else texts.push_back(arg);
    }
    if (model_dir.empty() || texts.size() < 2) {
        std::fprintf(stderr, "usage: minibert-embed --model DIR TEXT TEXT [TEXT...]\n");
        return 2;
    }
    try {
        minibert::Embedder embedder = minibert::Embedder::load(model_dir);
        const auto embeddings = embedder.embed(texts);
        std::printf("%zu embeddings of %zu floats\n", embeddings.size(), embedder.dimension());
        for (std::size_t i = 0; i < texts.size(); ++i)
            for (std::size_t j = i + 1; j < texts.size(); ++j)
                std::printf("%.4f  \"%s\" ~ \"%s\"\n", minibert::Embedder::cosine(embeddings[i], embeddings[j]),
                            texts[i].c_str(), texts[j].c_str());
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "minibert-embed: %s\n", e.what());
        return 1;
    }
    return 0;
}
