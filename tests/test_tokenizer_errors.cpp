// Bad input must fail loudly with minibert::Error naming the file/position and the problem.
#include <doctest/doctest.h>

#include <string>

#include "minibert/tokenizer/tokenizer.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_tokenizer_errors {

namespace {

const std::string data_dir = std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/";
const std::string tiny_vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n";

// The message of the Error `f` throws, or "" when it throws nothing.
template <class F>
std::string error_of(F&& f, minibert::ErrorKind* kind = nullptr) {
    try {
        f();
    } catch (const minibert::Error& e) {
        if (kind) *kind = e.kind();
        return e.what();
    }
    return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("invalid UTF-8 input names the byte position") {
    const auto tok = minibert::Tokenizer::from_vocab(tiny_vocab);
    struct Case {
        std::string text;
        std::size_t position;
    };
    const Case cases[] = {
        {std::string("hello \xff world"), 6},        // never valid
        {std::string("ab\xc3"), 2},                  // truncated 2-byte sequence
        {std::string("a\xc0\xaf"), 1},               // overlong '/'
        {std::string("xy\xed\xa0\x80"), 2},          // UTF-16 surrogate
        {std::string("\xf4\x90\x80\x80"), 0},        // above U+10FFFF
        {std::string("hello world \x80"), 12},       // stray continuation byte
        {std::string("12345678\xe2\x82"), 8},        // truncated after the 8-byte ASCII skip
    };
    for (const Case& c : cases) {
        minibert::ErrorKind kind{};
        const std::string message = error_of([&] { tok.encode(c.text); }, &kind);
        CHECK(kind == minibert::ErrorKind::invalid_input);
        CHECK_MESSAGE(contains(message, "invalid UTF-8 at byte " + std::to_string(c.position)), message);
        CHECK(contains(error_of([&] { tok.encode_pair("ok", c.text); }), "invalid UTF-8"));
    }
}

TEST_CASE("vocab.txt problems") {
    minibert::ErrorKind kind{};
    CHECK(contains(error_of([] { minibert::Tokenizer::from_vocab("", {}, "my/vocab.txt"); }, &kind),
                   "my/vocab.txt: empty vocabulary"));
    CHECK(kind == minibert::ErrorKind::format);
    CHECK(contains(error_of([] { minibert::Tokenizer::from_vocab("[CLS]\n[SEP]\nhello\n"); }),
                   "unk_token '[UNK]' is not in the vocabulary"));
    CHECK(contains(error_of([] { minibert::Tokenizer::from_vocab("[UNK]\n[SEP]\nhello\n"); }),
                   "special token '[CLS]' is not in the vocabulary"));
    CHECK(contains(error_of([] { minibert::Tokenizer::from_vocab("[UNK]\n\xff\n"); }), "invalid UTF-8 at byte 6"));
}

TEST_CASE("vocab.txt duplicates: the last line wins, as in HF") {
    const auto tok = minibert::Tokenizer::from_vocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nhello\r\n");
    CHECK(tok.token_to_id("hello") == 5);
    CHECK(tok.encode("hello").ids == std::vector<std::int32_t>{2, 5, 3});
    CHECK_THROWS_AS(tok.id_to_token(4), minibert::Error);  // id 4 lost its token
}

TEST_CASE("malformed tokenizer.json") {
    minibert::ErrorKind kind{};
    CHECK(contains(error_of([] { minibert::Tokenizer::from_tokenizer_json("{not json", {}, "x/tokenizer.json"); }, &kind),
                   "x/tokenizer.json: invalid JSON"));
    CHECK(kind == minibert::ErrorKind::format);
    CHECK(contains(error_of([] { minibert::Tokenizer::from_tokenizer_json("[]"); }), "expected a JSON object"));
    CHECK(contains(error_of([] { minibert::Tokenizer::from_tokenizer_json("{}"); }), "missing \"model\""));
    CHECK(contains(error_of([] { minibert::Tokenizer::from_tokenizer_json(R"({"model":{"type":"WordPiece","vocab":{}}})"); }),
                   "model.vocab is empty"));
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(R"({"model":{"type":"WordPiece","vocab":{"a":0}}})");
                   }),
                   "unk_token '[UNK]' is not in the vocabulary"));
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(R"({"model":{"type":"WordPiece","vocab":{"[UNK]":-1}}})");
                   }),
                   "id must be a non-negative integer"));
    // A non-BERT model goes to TokenizerPipeline, whose errors name the file and key too.
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(R"({"model":{"type":"BPE","vocab":{"[UNK]":0}}})", {}, "t.json", "c.json");
                   }, &kind),
                   "t.json.model"));
    CHECK(kind == minibert::ErrorKind::format);
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(R"({"model":{"type":"WordLevel","vocab":{"[UNK]":0}}})", {}, "t.json", "c.json");
                   }, &kind),
                   "model 'WordLevel' is not supported"));
    CHECK(kind == minibert::ErrorKind::unsupported);
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(
                           R"({"model":{"vocab":{"[UNK]":0}},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"a"}}})", {}, "t.json");
                   }, &kind),
                   "pre-tokenizer 'Split' is not supported"));
    CHECK(kind == minibert::ErrorKind::unsupported);
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(
                           R"({"model":{"vocab":{"[UNK]":0}},"normalizer":{"type":"BertNormalizer","lowercase":"yes"}})");
                   }),
                   "normalizer.lowercase: unexpected value \"yes\""));
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(
                           R"({"model":{"vocab":{"[UNK]":0}},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}}],"pair":[],"special_tokens":{}}})");
                   }),
                   "template special token '[CLS]' is not defined"));
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(R"({"model":{"vocab":{"[UNK]":0,"a":99999999}}})");
                   }),
                   "token ids are sparse"));
    CHECK(contains(error_of([] {
                       minibert::Tokenizer::from_tokenizer_json(R"({"model":{"vocab":{"[UNK]":0}}})", "{\"do_lower_case\": 3}", "t.json", "cfg.json");
                   }),
                   "cfg.json.do_lower_case: unexpected value 3"));
}

TEST_CASE("folders") {
    minibert::ErrorKind kind{};
    CHECK(contains(error_of([] { minibert::Tokenizer::from_folder(data_dir + "no-such-folder"); }, &kind), "not a directory"));
    CHECK(kind == minibert::ErrorKind::io);
    CHECK(contains(error_of([] { minibert::Tokenizer::from_folder(data_dir + "goldens"); }), "neither tokenizer.json nor vocab.txt"));
}

TEST_CASE("truncation errors follow the Rust engine") {
    const auto tok = minibert::Tokenizer::from_vocab(tiny_vocab);
    minibert::EncodeOptions options;
    options.max_length = 5;
    options.truncation = minibert::TruncationStrategy::only_second;
    // A single text that needs cutting cannot be cut "only in the second sequence".
    CHECK(contains(error_of([&] { tok.encode("hello world hello world", options); }), "needs a pair"));
    // Fits: nothing to cut, so no error (Rust checks the length first).
    CHECK(tok.encode("hello", options).size() == 3);
    // Second sequence too short to absorb the cut: HF's "Sequence to truncate too short".
    CHECK(contains(error_of([&] { tok.encode_pair("hello world hello world", "hello", options); }), "too short"));
    options.truncation = minibert::TruncationStrategy::only_first;
    CHECK(contains(error_of([&] { tok.encode_pair("hello", "hello world hello world", options); }), "too short"));
    options.max_length = 2;  // fewer than the three specials of a pair
    CHECK(contains(error_of([&] { tok.encode_pair("hello", "world", options); }), "shorter than the 3 special tokens"));
    CHECK_THROWS_AS(tok.decode({999}), minibert::Error);
}

TEST_CASE("padding needs a pad token") {
    const auto tok = minibert::Tokenizer::from_vocab("[UNK]\n[CLS]\n[SEP]\nhello\n");
    minibert::PaddingOptions padding;
    padding.strategy = minibert::PaddingStrategy::longest;
    minibert::ErrorKind kind{};
    CHECK(contains(error_of([&] { tok.encode_batch({"hello", "hello hello"}, {}, padding); }, &kind), "no pad token"));
    CHECK(kind == minibert::ErrorKind::config);
}
}  // namespace minibert_test_tokenizer_errors
