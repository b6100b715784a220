// Parity with the Hugging Face Rust `tokenizers` engine (BertTokenizerFast): every golden
// line must match exactly (ids, tokens, type ids, special-tokens mask and byte offsets);
// there is no tolerance because tokenisation is discrete.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minibert/tokenizer/tokenizer.hpp"
#include "tokenizer_golden_io.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_tokenizer_goldens {

namespace {

using golden::byte_to_char;
using golden::data_dir;
using golden::offsets_json;
using golden::read_file;
using golden::read_jsonl;

minibert::Tokenizer load(const std::string& name, bool via_tokenizer_json) {
    const std::string dir = data_dir + name + "/";
    if (via_tokenizer_json) {
        minibert::Tokenizer tok = minibert::Tokenizer::from_folder(dir);
        // BERT's tokenizer.json has exactly the shape the fused WordPiece path reproduces: it
        // must stay there (TokenizerPipeline would also be exact, but slower).
        REQUIRE(tok.kind() == minibert::TokenizerKind::wordpiece);
        REQUIRE(tok.pipeline() == nullptr);
        return tok;
    }
    minibert::Tokenizer tok = minibert::Tokenizer::from_vocab(
        read_file(dir + "vocab.txt"),
        minibert::TokenizerConfig::from_json(read_file(dir + "tokenizer_config.json"), dir + "tokenizer_config.json"),
        dir + "vocab.txt");
    REQUIRE(tok.kind() == minibert::TokenizerKind::wordpiece);
    return tok;
}

void check_singles(const minibert::Tokenizer& tok, const std::string& name) {
    const auto lines = read_jsonl(data_dir + "goldens/" + name + ".jsonl");
    REQUIRE(lines.size() == 1173);
    std::size_t matched = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto& g = lines[i];
        const std::string text = g["text"];
        const minibert::Encoding e = tok.encode(text);
        const bool ok = nlohmann::json(e.ids) == g["ids"] && nlohmann::json(e.tokens) == g["tokens"] &&
                        nlohmann::json(e.type_ids) == g["type_ids"] &&
                        nlohmann::json(e.special_tokens_mask) == g["special_tokens_mask"] &&
                        offsets_json(e.offsets) == g["byte_offsets"];
        CHECK_MESSAGE(ok, name << " line " << i + 1 << " " << nlohmann::json(text).dump() << "\n  got    "
                                << nlohmann::json(e.tokens).dump() << " " << offsets_json(e.offsets).dump()
                                << "\n  golden " << g["tokens"].dump() << " " << g["byte_offsets"].dump());
        matched += ok;
    }
    MESSAGE(name << ": " << matched << "/" << lines.size() << " single-text goldens match");
}

// The `truncated` field: the pair cut to max_length 32 with longest_first. When both texts
// are long, which one gets the odd 15th token depends on the engine's early exit (each text
// stops being tokenised once it holds 32 tokens, at a pre-token boundary), not only on the
// full lengths: 14 of these 440 lines tell the two apart.
void check_pairs(const minibert::Tokenizer& tok, const std::string& name) {
    const auto lines = read_jsonl(data_dir + "goldens/" + name + ".pairs.jsonl");
    REQUIRE(lines.size() == 220);
    std::size_t matched = 0, truncated_matched = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto& g = lines[i];
        const std::string a = g["text"], b = g["text_pair"];
        const minibert::Encoding e = tok.encode_pair(a, b);
        nlohmann::json char_offsets = nlohmann::json::array();
        for (std::size_t k = 0; k < e.size(); ++k) {
            const std::string& text = e.sequence_ids[k] == 1 ? b : a;
            char_offsets.push_back({byte_to_char(text, e.offsets[k].first), byte_to_char(text, e.offsets[k].second)});
        }
        const bool ok = nlohmann::json(e.ids) == g["ids"] && nlohmann::json(e.tokens) == g["tokens"] &&
                        nlohmann::json(e.type_ids) == g["type_ids"] &&
                        nlohmann::json(e.special_tokens_mask) == g["special_tokens_mask"] &&
                        char_offsets == g["offsets"];
        CHECK_MESSAGE(ok, name << " pair line " << i + 1 << " " << nlohmann::json(a).dump() << " / "
                                << nlohmann::json(b).dump());
        matched += ok;

        const auto& t = g["truncated"];
        REQUIRE(t["strategy"] == "longest_first");
        minibert::EncodeOptions options;
        options.max_length = t["max_length"];
        options.truncation = minibert::TruncationStrategy::longest_first;
        const minibert::Encoding truncated = tok.encode_pair(a, b, options);
        const bool t_ok = nlohmann::json(truncated.ids) == t["ids"] && nlohmann::json(truncated.type_ids) == t["type_ids"];
        CHECK_MESSAGE(t_ok, name << " truncated pair line " << i + 1 << " got " << nlohmann::json(truncated.ids).dump());
        truncated_matched += t_ok;
    }
    MESSAGE(name << ": " << matched << "/" << lines.size() << " pair goldens match; truncated: " << truncated_matched
                 << "/" << lines.size());
}

}  // namespace

TEST_CASE("goldens: bert-base-uncased via tokenizer.json") {
    const auto tok = load("bert-base-uncased", true);
    check_singles(tok, "bert-base-uncased");
    check_pairs(tok, "bert-base-uncased");
}

TEST_CASE("goldens: bert-base-uncased via vocab.txt + tokenizer_config.json") {
    const auto tok = load("bert-base-uncased", false);
    check_singles(tok, "bert-base-uncased");
    check_pairs(tok, "bert-base-uncased");
}

TEST_CASE("goldens: bert-base-cased via tokenizer.json") {
    const auto tok = load("bert-base-cased", true);
    check_singles(tok, "bert-base-cased");
    check_pairs(tok, "bert-base-cased");
}

TEST_CASE("goldens: bert-base-cased via vocab.txt + tokenizer_config.json") {
    const auto tok = load("bert-base-cased", false);
    check_singles(tok, "bert-base-cased");
    check_pairs(tok, "bert-base-cased");
}
}  // namespace minibert_test_tokenizer_goldens
