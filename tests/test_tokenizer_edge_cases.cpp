// Edge cases of encoding: empty and blank text, word-length limits, pair truncation
// strategies, padding, batches, word ids, decode, and the multilingual vocabulary.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "minibert/tokenizer/tokenizer.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_tokenizer_edge_cases {

namespace {

const std::string data_dir = std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/";

const minibert::Tokenizer& uncased() {
    static const auto tok = minibert::Tokenizer::from_folder(data_dir + "bert-base-uncased");
    return tok;
}

using Ids = std::vector<std::int32_t>;

}  // namespace

TEST_CASE("empty and blank text give only the specials") {
    for (const char* text : {"", " ", "\t\n\r  ", "\x01\x02", "\xe2\x80\x8b"}) {  // last: U+200B
        const auto e = uncased().encode(text);
        CHECK(e.ids == Ids{101, 102});
        CHECK(e.special_tokens_mask == Ids{1, 1});
        CHECK(e.word_ids == Ids{-1, -1});
    }
    const auto pair = uncased().encode_pair("", "");
    CHECK(pair.ids == Ids{101, 102, 102});
    CHECK(pair.type_ids == Ids{0, 0, 1});
}

TEST_CASE("words of exactly 100 and 101 code points") {
    const auto at_limit = uncased().encode(std::string(100, 'a'));
    CHECK(at_limit.size() == 52);  // [CLS] aaa ##aa x49 ##a [SEP]
    CHECK(at_limit.tokens[1] == "aaa");
    const auto over = uncased().encode(std::string(101, 'a') + " b");
    CHECK(over.tokens == std::vector<std::string>{"[CLS]", "[UNK]", "b", "[SEP]"});
    CHECK(over.offsets[1] == std::pair<std::size_t, std::size_t>{0, 101});
    // The limit counts code points, not bytes: 100 x "é" (200 bytes) is still one word.
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";
    CHECK(uncased().encode(accents).tokens[1] == "ee");
}

TEST_CASE("pair truncation strategies") {
    const std::string a = "one two three four five six seven eight";  // 8 tokens
    const std::string b = "red green blue";                             // 3 tokens
    minibert::EncodeOptions options;
    options.max_length = 10;  // 7 text tokens after [CLS] [SEP] [SEP]

    options.truncation = minibert::TruncationStrategy::longest_first;
    auto e = uncased().encode_pair(a, b, options);
    CHECK(e.size() == 10);
    CHECK(e.tokens == std::vector<std::string>{"[CLS]", "one", "two", "three", "four", "[SEP]", "red", "green", "blue", "[SEP]"});

    options.truncation = minibert::TruncationStrategy::only_first;
    e = uncased().encode_pair(a, b, options);
    CHECK(e.tokens == std::vector<std::string>{"[CLS]", "one", "two", "three", "four", "[SEP]", "red", "green", "blue", "[SEP]"});

    options.truncation = minibert::TruncationStrategy::only_second;
    e = uncased().encode_pair(b, a, options);
    CHECK(e.tokens == std::vector<std::string>{"[CLS]", "red", "green", "blue", "[SEP]", "one", "two", "three", "four", "[SEP]"});
    CHECK(e.type_ids == Ids{0, 0, 0, 0, 0, 1, 1, 1, 1, 1});

    // Both long: the budget is split 3 / 4 (Rust engine: the odd token goes to the longer one).
    options.truncation = minibert::TruncationStrategy::longest_first;
    e = uncased().encode_pair(a, a + " nine", options);
    CHECK(e.tokens == std::vector<std::string>{"[CLS]", "one", "two", "three", "[SEP]", "one", "two", "three", "four", "[SEP]"});

    // Single text: longest_first simply cuts the end, keeping [SEP].
    options.max_length = 4;
    e = uncased().encode(a, options);
    CHECK(e.tokens == std::vector<std::string>{"[CLS]", "one", "two", "[SEP]"});
}

TEST_CASE("truncation sees the engine's early exit") {
    // Expected values come from the Hugging Face engine (npm `tokenizers` 0.23.2). With
    // truncation on, each text stops being tokenised once it holds max_length tokens, at a
    // pre-token boundary: "dog" x31 + "unflinchingly" (un ##fl ##in ##ching ##ly) counts 36,
    // "cat" x40 counts 32, so the first text is the longer one and gets longest_first's odd
    // token, although in full it is the shorter (36 < 40).
    auto repeat = [](const std::string& w, int n) {
        std::string s;
        for (int i = 0; i < n; ++i) s += (i ? " " : "") + w;
        return s;
    };
    minibert::EncodeOptions options;
    options.max_length = 32;
    auto e = uncased().encode_pair(repeat("dog", 31) + " unflinchingly", repeat("cat", 40), options);
    REQUIRE(e.size() == 32);
    CHECK(std::count(e.type_ids.begin(), e.type_ids.end(), 0) == 17);  // [CLS] + 15 + [SEP]
    CHECK(e.tokens[15] == "dog");
    CHECK(e.tokens[16] == "[SEP]");

    // A second text cut to exactly max_length by the early exit fits as it is (no error).
    options.max_length = 10;
    options.add_special_tokens = false;
    options.truncation = minibert::TruncationStrategy::only_first;
    e = uncased().encode_pair("", repeat("cat", 12), options);
    CHECK(e.tokens == std::vector<std::string>(10, "cat"));
    // ... but the first text is not shortened under only_second, so this is still an error.
    options.truncation = minibert::TruncationStrategy::only_second;
    CHECK_THROWS_AS(uncased().encode_pair(repeat("cat", 12), "", options), minibert::Error);

    // No room left after the specials: the engine empties both texts, whatever the strategy.
    options.add_special_tokens = true;
    options.max_length = 3;
    options.truncation = minibert::TruncationStrategy::only_first;
    CHECK(uncased().encode_pair("one two", "three", options).tokens ==
          std::vector<std::string>{"[CLS]", "[SEP]", "[SEP]"});
    options.max_length = 2;
    options.truncation = minibert::TruncationStrategy::only_second;
    CHECK(uncased().encode("one two", options).tokens == std::vector<std::string>{"[CLS]", "[SEP]"});
}

TEST_CASE("padding and batches") {
    minibert::PaddingOptions padding;
    padding.strategy = minibert::PaddingStrategy::longest;
    auto batch = uncased().encode_batch({"hello", "hello world !"}, {}, padding);
    REQUIRE(batch.size() == 2);
    CHECK(batch[0].ids == Ids{101, 7592, 102, 0, 0});
    CHECK(batch[0].attention_mask == Ids{1, 1, 1, 0, 0});
    CHECK(batch[0].special_tokens_mask == Ids{1, 0, 1, 1, 1});
    CHECK(batch[0].type_ids == Ids{0, 0, 0, 0, 0});
    CHECK(batch[0].tokens.back() == "[PAD]");
    CHECK(batch[1].attention_mask == Ids{1, 1, 1, 1, 1});

    padding.strategy = minibert::PaddingStrategy::max_length;
    padding.max_length = 6;
    padding.pad_to_multiple_of = 4;  // 6 rounds up to 8
    const auto pairs = uncased().encode_pair_batch({{"hello", "world"}}, {}, padding);
    CHECK(pairs[0].ids == Ids{101, 7592, 102, 2088, 102, 0, 0, 0});
    CHECK(pairs[0].type_ids == Ids{0, 0, 0, 1, 1, 0, 0, 0});
    CHECK(pairs[0].sequence_ids == Ids{-1, 0, -1, 1, -1, -1, -1, -1});
}

TEST_CASE("word ids, added tokens and offsets") {
    const std::string text = "Unaffable [MASK] x[SEP]y";
    const auto e = uncased().encode(text);
    CHECK(e.tokens == std::vector<std::string>{"[CLS]", "una", "##ffa", "##ble", "[MASK]", "x", "[SEP]", "y", "[SEP]"});
    CHECK(e.word_ids == Ids{-1, 0, 0, 0, 1, 2, 3, 4, -1});
    CHECK(e.special_tokens_mask == Ids{1, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(text.substr(e.offsets[4].first, e.offsets[4].second - e.offsets[4].first) == "[MASK]");
    CHECK(uncased().tokenize("Hello, world!") == std::vector<std::string>{"hello", ",", "world", "!"});
    CHECK_FALSE(uncased().encode("hi", {false}).ids.empty());
    CHECK(uncased().encode("hi", {false}).ids == Ids{7632});
}

TEST_CASE("decode") {
    const auto e = uncased().encode("Unaffable, isn't it?");
    // The Rust decoder cleans up token by token, so " ," and " ?" go but "isn ' t" stays
    // (Python's clean_up_tokenization_spaces would also fix that one on the whole string).
    CHECK(uncased().decode(e.ids) == "unaffable, isn ' t it?");
    CHECK(uncased().decode(e.ids, false) == "[CLS] unaffable, isn ' t it? [SEP]");
}

TEST_CASE("loading from memory equals loading from the folder") {
    auto read = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    const auto from_memory = minibert::Tokenizer::from_tokenizer_json(
        read(data_dir + "bert-base-cased/tokenizer.json"), read(data_dir + "bert-base-cased/tokenizer_config.json"));
    CHECK_FALSE(from_memory.normalizer().lowercase);
    CHECK(from_memory.encode("Hello, world!").ids == Ids{101, 8667, 117, 1362, 106, 102});
    CHECK(from_memory.vocab_size() == 28996);
    CHECK(from_memory.config().model_max_length == 512);
    CHECK(from_memory.pad_id() == 0);
    // A vocab.txt without tokenizer_config.json gets BERT-uncased defaults (lower-casing on).
    const auto vocab_only = minibert::Tokenizer::from_vocab(read(data_dir + "bert-base-uncased/vocab.txt"));
    CHECK(vocab_only.normalizer().lowercase);
    CHECK(vocab_only.encode("HELLO café").ids == Ids{101, 7592, 7668, 102});
}

TEST_CASE("multilingual cased vocabulary") {
    const auto tok = minibert::Tokenizer::from_folder(data_dir + "bert-base-multilingual-cased");
    CHECK(tok.vocab_size() == 119547);
    CHECK_FALSE(tok.normalizer().lowercase);
    CHECK_FALSE(tok.normalizer().strip_accents);
    // Hand-checked against the vocabulary: accents and case are kept, CJK is split per
    // ideograph, and every token is in the vocabulary (no [UNK]).
    const auto fr = tok.encode("Bonjour, café crème!");
    CHECK(fr.tokens.front() == "[CLS]");
    CHECK(std::find(fr.tokens.begin(), fr.tokens.end(), "[UNK]") == fr.tokens.end());
    CHECK(fr.tokens == std::vector<std::string>{"[CLS]", "Bon", "##jou", "##r", ",", "café", "c", "##rème", "!", "[SEP]"});
    const auto zh = tok.encode("我爱北京");
    CHECK(zh.tokens == std::vector<std::string>{"[CLS]", "我", "爱", "北", "京", "[SEP]"});
    CHECK(zh.offsets[2] == std::pair<std::size_t, std::size_t>{3, 6});
    const auto de = tok.encode("Straße in München");
    CHECK(de.tokens == std::vector<std::string>{"[CLS]", "Straße", "in", "München", "[SEP]"});
    CHECK(tok.decode(de.ids) == "Straße in München");
}
}  // namespace minibert_test_tokenizer_edge_cases
