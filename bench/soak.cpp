// Soak test (not a CI test): runs many inferences of varying shapes through one Session and a
// shared Tokenizer and prints the process's resident memory (VmRSS) as it goes, to show that it
// stays flat: the session's workspace is sized once, and nothing else accumulates.
//
//   minibert-soak MODEL_DIR [--runs N] [--every N] [--threads N] [--tokenizer DIR]
//
// Built and run by scripts/soak.sh; the figure is in docs/reliability.md.
#include <minibert/minibert.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

/// VmRSS of this process in KiB, from /proc/self/status (0 where there is no /proc).
long resident_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return 0;
}

const char* const words[] = {"the", "quick", "brown", "fox", "naïve", "café", "北京", "unaffable", "[SEP]",
                             "jumps", "over", "lazy", "dogs", "😀", "Zürich", "overlong", ",", "!"};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL_DIR [--runs N] [--every N] [--threads N] [--tokenizer DIR]\n", argv[0]);
        return 2;
    }
    std::string model_dir = argv[1], tokenizer_dir;
    std::size_t runs = 100000, every = 10000, threads = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--runs") runs = std::strtoul(argv[i + 1], nullptr, 10);
        else if (key == "--every") every = std::strtoul(argv[i + 1], nullptr, 10);
        else if (key == "--threads") threads = std::strtoul(argv[i + 1], nullptr, 10);
        else if (key == "--tokenizer") tokenizer_dir = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            return 2;
        }
    }
    try {
        const minibert::Model model = minibert::Model::load(model_dir);
        const auto& cfg = model.config();
        minibert::SessionOptions options;
        options.threads = threads;
        options.max_batch = 8;
        options.max_sequence = std::min<std::size_t>(128, cfg.max_position_embeddings);
        options.max_tokens = options.max_batch * options.max_sequence;
        minibert::Session session(model, options);
        std::optional<minibert::Tokenizer> tokenizer;
        if (!tokenizer_dir.empty()) tokenizer = minibert::Tokenizer::from_folder(tokenizer_dir);

        std::printf("model %s: hidden %zu, %zu layers; session workspace %zu bytes; %zu thread(s)\n", model_dir.c_str(),
                    cfg.hidden_size, cfg.num_layers, session.workspace_bytes(), threads);
        std::printf("%10s %12s %10s\n", "runs", "VmRSS KiB", "seconds");
        std::printf("%10d %12ld %10.1f\n", 0, resident_kib(), 0.0);

        std::mt19937 rng(42);
        std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(cfg.vocab_size) - 1);
        minibert::Batch batch;
        std::vector<std::int32_t> ids, types;
        std::string text;
        long first_rss = 0, lowest = 0, highest = 0;
        double checksum = 0.0;
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t run = 1; run <= runs; ++run) {
            // Varying shapes: 1..max_batch sequences of 1..max_sequence tokens, within max_tokens.
            batch.clear();
            const std::size_t seqs = 1 + rng() % options.max_batch;
            for (std::size_t b = 0; b < seqs; ++b) {
                const std::size_t length = 1 + rng() % (rng() % 4 == 0 ? options.max_sequence : 16);
                ids.resize(length);
                types.assign(length, 0);
                for (auto& v : ids) v = id(rng);
                if (cfg.model_type == minibert::ModelType::bert)
                    for (std::size_t t = length / 2; t < length; ++t) types[t] = 1;
                batch.add(ids, types);
            }
            const minibert::Outputs out = session.run(batch);
            checksum += out.mean_pooled(0, 0);
            if (tokenizer) {
                text.clear();
                for (std::size_t w = rng() % 40; w > 0; --w) (text += words[rng() % std::size(words)]) += ' ';
                minibert::EncodeOptions encode_options;
                encode_options.max_length = 3 + rng() % 64;  // the pair template adds 3 specials
                checksum += static_cast<double>(tokenizer->encode_pair(text, "a second text", encode_options).size());
            }
            if (run % every == 0) {
                const long rss = resident_kib();
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                std::printf("%10zu %12ld %10.1f\n", run, rss, seconds);
                std::fflush(stdout);
                if (first_rss == 0) first_rss = lowest = highest = rss;
                lowest = std::min(lowest, rss);
                highest = std::max(highest, rss);
            }
        }
        std::printf("after the first %zu runs: VmRSS between %ld and %ld KiB (spread %ld KiB) (checksum %g)\n", every,
                    lowest, highest, highest - lowest, checksum);
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
