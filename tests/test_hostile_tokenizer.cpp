// Hostile input, round two (issue #12), tokenizer and thread-pool side: deep JSON in tokenizer
// files, memory bounded by what tokenisation keeps (a 100 MB line, scratch after an outlier),
// added-token matching linear in the text, WordPiece caps, and an all-or-nothing ThreadPool.
// Every crafted input is generated here. Timing and RSS assertions are skipped under sanitizers.
#include <doctest/doctest.h>

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

#include <malloc.h>

#include "minibert/parallel/thread_pool.hpp"
#include "minibert/tokenizer/tokenizer.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_hostile_tokenizer {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HOSTILE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HOSTILE_SANITIZED 1
#endif
#endif
#ifndef HOSTILE_SANITIZED
#define HOSTILE_SANITIZED 0
#endif

namespace {

using minibert::Error;
using minibert::ErrorKind;
using nlohmann::json;

const std::string data_dir = std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/";

template <class Fn>
void expect_error(Fn&& fn, ErrorKind kind, std::initializer_list<const char*> fragments) {
    try {
        fn();
        FAIL("no minibert::Error thrown");
    } catch (const Error& e) {
        INFO("message: " << e.what());
        CHECK(e.kind() == kind);
        for (const char* f : fragments) CHECK(std::string(e.what()).find(f) != std::string::npos);
        CHECK(std::string(e.what()).size() < 2000);  // a bounded summary, never the value
    }
}

std::string deep(std::size_t levels = 100000) { return std::string(levels, '[') + "1" + std::string(levels, ']'); }

/// "kB" fields of /proc/self/status, in bytes (0 where absent).
std::size_t status_bytes(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field))) * 1024;
    }
    return 0;
}

/// Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0); false when not possible.
bool reset_peak_rss() {
    {
        std::ofstream out("/proc/self/clear_refs");
        out << "5";
        out.flush();
        if (!out) return false;
    }
    return status_bytes("VmHWM:") <= status_bytes("VmRSS:") + (1u << 20);
}

/// Checks the instrument itself: after a reset, touching 64 MB must show in the peak.
bool peak_rss_works() {
    if (!reset_peak_rss()) return false;
    const std::size_t before = status_bytes("VmHWM:");
    {
        std::vector<char> block(64u << 20);
        for (std::size_t i = 0; i < block.size(); i += 4096) block[i] = 1;
        volatile char sink = block[block.size() / 2];
        (void)sink;
    }
    return status_bytes("VmHWM:") >= before + (60u << 20);
}

double cpu_ms() { return 1000.0 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

const std::string minimal_vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\na\n##a\nb\n##b\n";

json minimal_tokenizer_json() {
    json vocab = json::object();
    std::int32_t id = 0;
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "a", "##a", "b", "##b"}) vocab[t] = id++;
    return {{"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"vocab", vocab}}},
            {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
            {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
            {"post_processor",
             {{"type", "BertProcessing"}, {"cls", json::array({"[CLS]", 2})}, {"sep", json::array({"[SEP]", 3})}}},
            {"added_tokens", json::array()}};
}

/// The tokens of a text of space-separated ASCII words: the oracle for the chunked encoder (the
/// pre-tokeniser splits on spaces, so words are independent).
std::vector<std::string> tokens_word_by_word(const minibert::Tokenizer& tok, const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos) end = text.size();
        if (end > pos) {
            for (auto& t : tok.tokenize(text.substr(pos, end - pos))) out.push_back(std::move(t));
        }
        pos = end + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("deeply nested JSON in tokenizer.json and tokenizer_config.json is refused by depth") {
    const std::string base = minimal_tokenizer_json().dump();
    CHECK_NOTHROW(minibert::Tokenizer::from_tokenizer_json(base));
    // Where the probe put it: model.type, a vocab value, a template piece, a special_tokens id.
    const std::string cases[] = {
        R"({"model":{"type":)" + deep() + R"(,"vocab":{"[UNK]":0}}})",
        R"({"model":{"vocab":{"[UNK]":)" + deep() + "}}}",
        R"({"model":{"vocab":{"[UNK]":0}},"post_processor":{"type":"TemplateProcessing","single":[)" + deep() +
            R"(],"pair":[],"special_tokens":{}}})",
        R"({"model":{"vocab":{"[UNK]":0}},"post_processor":{"type":"TemplateProcessing","single":[],"pair":[],"special_tokens":{"[CLS]":{"ids":)" +
            deep() + R"(,"tokens":["[CLS]"]}}}})",
    };
    for (const std::string& text : cases) {
        expect_error([&] { minibert::Tokenizer::from_tokenizer_json(text, {}, "t.json"); }, ErrorKind::format,
                     {"t.json", "invalid JSON", "deeper than 64"});
    }
    for (const char* key : {"model_max_length", "additional_special_tokens", "do_lower_case", "cls_token"}) {
        CAPTURE(key);
        const std::string cfg = "{\"" + std::string(key) + "\":" + deep() + "}";
        expect_error([&] { minibert::TokenizerConfig::from_json(cfg, "tc.json"); }, ErrorKind::format, {"tc.json", "deeper than 64"});
        expect_error([&] { minibert::Tokenizer::from_tokenizer_json(base, cfg, "t.json", "tc.json"); }, ErrorKind::format,
                     {"tc.json", "deeper than 64"});
    }
    // Values of the wrong type are described, not dumped: an array of 1 values, not its text.
    json j = minimal_tokenizer_json();
    j["model"]["vocab"]["hello"] = json::parse(std::string(60, '[') + std::string(60, ']'));
    expect_error([&] { minibert::Tokenizer::from_tokenizer_json(j.dump()); }, ErrorKind::format, {"an array of 1 values"});
}

TEST_CASE("WordPiece: max_input_chars_per_word is capped as Hugging Face does, absurd caps refused") {
    json j = minimal_tokenizer_json();
    for (json cap : {json(1e12), json(1000000000000ull), json(0), json(10001), json(-1)}) {
        CAPTURE(cap.dump());
        j["model"]["max_input_chars_per_word"] = cap;
        expect_error([&] { minibert::Tokenizer::from_tokenizer_json(j.dump()); }, ErrorKind::format, {"max_input_chars_per_word"});
    }
    j["model"]["max_input_chars_per_word"] = 10000;
    const auto tok = minibert::Tokenizer::from_tokenizer_json(j.dump());
    // A 9,999-character word of vocabulary pieces (a ##a ##a ...): the scan from each position
    // starts at the longest key, not at the end of the word (which was quadratic).
    const std::string word(9999, 'a');
    const double t0 = cpu_ms();
    const auto tokens = tok.tokenize(word);
    const double ms = cpu_ms() - t0;
    REQUIRE(tokens.size() == 9999);
    CHECK(tokens.front() == "a");
    CHECK(tokens.back() == "##a");
    MESSAGE("9,999-character word: " << ms << " ms");
    if (!HOSTILE_SANITIZED) CHECK(ms < 100);
    // Past the cap: one [UNK] spanning the word.
    const auto unk = tok.encode(std::string(10001, 'a'));
    REQUIRE(unk.tokens.size() == 3);
    CHECK(unk.tokens[1] == "[UNK]");
    CHECK(unk.offsets[1] == std::pair<std::size_t, std::size_t>(0, 10001));
}

TEST_CASE("added tokens: a trie, linear in the text; same matches as the exhaustive search") {
    // 20,000 added tokens sharing a first byte, 1 MB of text made of their prefixes and matches.
    json j = minimal_tokenizer_json();
    const std::size_t n_added = 20000;
    json added = json::array();
    for (std::size_t i = 0; i < n_added; ++i) {
        char content[32];
        std::snprintf(content, sizeof content, "<tok%05zu>", i);
        added.push_back({{"id", 11 + i}, {"content", content}, {"special", true}, {"normalized", false}});
        j["model"]["vocab"][content] = 11 + i;
    }
    j["added_tokens"] = added;
    const auto tok = minibert::Tokenizer::from_tokenizer_json(j.dump());
    std::string text;
    std::size_t expected_matches = 0;
    for (std::size_t i = 0; text.size() < 1000000; ++i) {
        if (i % 4 == 0) {
            char content[32];
            std::snprintf(content, sizeof content, "<tok%05zu>", (i * 7919) % n_added);
            text += content;
            ++expected_matches;
        } else {
            text += "<tok1234 ";  // a prefix of 10 tokens' contents that never completes
        }
    }
    tok.encode("warm up");
    // CPU time: the 2-vCPU build machines are shared, so wall time measures the neighbours too.
    const double t0 = cpu_ms();
    const minibert::Encoding e = tok.encode(text);
    const double ms = cpu_ms() - t0;
    // The same text through a tokenizer without added tokens: what the rest of encode() costs.
    const auto plain = minibert::Tokenizer::from_tokenizer_json(minimal_tokenizer_json().dump());
    const double t1 = cpu_ms();
    const std::size_t plain_tokens = plain.encode(text).ids.size();
    const double plain_ms = cpu_ms() - t1;
    MESSAGE("the same text without added tokens: " << plain_ms << " ms CPU (" << plain_tokens << " tokens)");
    std::size_t matches = 0;
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
        if (e.ids[i] >= 11) {
            ++matches;
            CHECK(e.tokens[i].size() == 10);
        }
    }
    CHECK(matches == expected_matches);
    MESSAGE("1 MB with 20,000 added tokens sharing a first byte: " << ms << " ms CPU (" << e.ids.size() << " tokens)");
    // Linear, judged against the same text without added tokens (here 1.2x of it; the exhaustive
    // search this replaced was quadratic in the matches), not against a fixed number of
    // milliseconds: a fixed bound failed on a loaded 2-vCPU host (187 ms against 100, with the
    // plain encode at 156 ms).
    if (!HOSTILE_SANITIZED) CHECK(ms < 4.0 * plain_ms + 20.0);

    // Exactness: leftmost-longest, first listed among equals, single_word, lstrip, rstrip,
    // against the old exhaustive search on random texts over a small alphabet.
    json small = minimal_tokenizer_json();
    const char* contents[] = {"a", "ab", "abc", "bc", "cab", "b c", "ab"};
    json small_added = json::array();
    for (std::size_t i = 0; i < std::size(contents); ++i) {
        small["model"]["vocab"][std::string("tok") + std::to_string(i)] = 20 + i;
        json t = {{"id", 20 + i}, {"content", contents[i]}, {"special", true}, {"normalized", false}};
        if (i == 3) t["single_word"] = true;
        if (i == 4) t["lstrip"] = true;
        if (i == 5) t["rstrip"] = true;
        small_added.push_back(t);
    }
    small["added_tokens"] = small_added;
    const auto stok = minibert::Tokenizer::from_tokenizer_json(small.dump());
    std::vector<minibert::AddedToken> list = stok.added_tokens();
    bool first_byte[256] = {};
    for (const auto& t : list) first_byte[static_cast<unsigned char>(t.content[0])] = true;
    std::uint32_t state = 12345;
    for (int round = 0; round < 2000; ++round) {
        std::string s;
        const int len = static_cast<int>(state % 24);
        for (int k = 0; k < len; ++k) {
            state = state * 1664525u + 1013904223u;
            s += "abc x"[(state >> 24) % 5];
        }
        // The exhaustive search the trie replaced (longest match at each position, first
        // listed among equal lengths), then the same single_word / strip rules.
        std::vector<std::pair<std::size_t, std::size_t>> want;
        std::size_t pos = 0, plain = 0;
        while (pos < s.size()) {
            int best = -1;
            std::size_t best_len = 0;
            for (std::size_t t = 0; t < list.size(); ++t) {
                if (list[t].content.size() > best_len && s.compare(pos, list[t].content.size(), list[t].content) == 0) {
                    best = static_cast<int>(t);
                    best_len = list[t].content.size();
                }
            }
            if (best < 0) {
                ++pos;
                continue;
            }
            std::size_t start = pos, stop = pos + best_len;
            pos = stop;
            const auto& tk = list[static_cast<std::size_t>(best)];
            auto word = [](char c) { return c != ' '; };
            if (tk.single_word && ((start > 0 && word(s[start - 1])) || (stop < s.size() && word(s[stop])))) continue;
            if (tk.lstrip)
                while (start > plain && s[start - 1] == ' ') --start;
            if (tk.rstrip) {
                while (stop < s.size() && s[stop] == ' ') ++stop;
                pos = stop;
            }
            want.emplace_back(start, stop);
            plain = stop;
        }
        std::vector<std::pair<std::size_t, std::size_t>> got;
        minibert::detail::AddedTokenTrie trie(list);
        minibert::detail::AddedTokenSplitter splitter(s, list, &trie, first_byte);
        minibert::detail::TextSplit piece{0, 0, -1};
        while (splitter.next(piece))
            if (piece.token >= 0) got.emplace_back(piece.begin, piece.end);
        CAPTURE(s);
        CHECK(got == want);
    }
}

TEST_CASE("tokenisation memory is bounded by what it keeps: a 100 MB line, then the scratch") {
    const auto tok = minibert::Tokenizer::from_vocab(minimal_vocab);
    minibert::EncodeOptions truncate;
    truncate.max_length = 128;

    // Exactness across chunk boundaries (64 KiB): words, an over-long word and a 200 KB word
    // straddle them; the oracle tokenises word by word.
    std::string text;
    while (text.size() < 65530) text += "hello a ";
    text += "abababababab ";                           // crosses 65536
    while (text.size() < 131070) text += "world b ";
    text += std::string(150, 'a') + " ";               // over 100 characters, crosses 131072
    text += std::string(200000, 'b') + " hello";       // over long, spans several chunks
    const minibert::Encoding whole = tok.encode(text);
    const std::vector<std::string> want = tokens_word_by_word(tok, text);
    REQUIRE(whole.tokens.size() == want.size() + 2);
    CHECK(std::equal(want.begin(), want.end(), whole.tokens.begin() + 1));
    const std::size_t long_word = text.size() - 200000 - 6;
    const auto it = std::find(whole.offsets.begin(), whole.offsets.end(), std::make_pair(long_word, long_word + 200000));
    CHECK(it != whole.offsets.end());
    CHECK(whole.tokens[static_cast<std::size_t>(it - whole.offsets.begin())] == "[UNK]");
    // Truncated: the same first tokens.
    const minibert::Encoding cut = tok.encode(text, truncate);
    REQUIRE(cut.ids.size() == 128);
    CHECK(std::equal(cut.ids.begin(), cut.ids.end() - 1, whole.ids.begin()));

    // A 100 MB line truncated to 128 tokens (the probe: 1.78 GB peak) and a 100 MB word.
    const bool instrument = !HOSTILE_SANITIZED && peak_rss_works();
    MESSAGE("peak RSS measurable here: " << instrument);
    for (int shape = 0; shape < 2; ++shape) {
        std::string line;
        line.reserve(100u << 20);
        if (shape == 0) {
            while (line.size() < (100u << 20)) line += "Hello WORLD a b ";
        } else {
            line.assign(100u << 20, 'a');
        }
        const bool peak_known = reset_peak_rss();
        const std::size_t before = status_bytes("VmHWM:");
        const minibert::Encoding e = tok.encode(line, truncate);
        const std::size_t peak = status_bytes("VmHWM:");
        CHECK(e.ids.size() == (shape == 0 ? 128u : 3u));
        if (shape == 1) CHECK(e.offsets[1] == std::pair<std::size_t, std::size_t>(0, line.size()));
        MESSAGE("100 MB " << (shape == 0 ? "line" : "word") << ": peak RSS +" << (peak - before) / 1024 << " KiB");
        if (peak_known && instrument) CHECK(peak - before < (8u << 20));  // the target is 100 MB
    }

    // The per-thread scratch hands back what an outlier made it grow to.
    tok.encode("warm up the scratch");
    ::malloc_trim(0);
    const std::size_t rss0 = status_bytes("VmRSS:");
    {
        std::string outlier;
        while (outlier.size() < (8u << 20)) outlier += "hello world a b ";
        const minibert::Encoding big = tok.encode(outlier);
        CHECK(big.ids.size() > 2000000);
    }
    tok.encode("a short one");
    ::malloc_trim(0);
    const std::size_t rss1 = status_bytes("VmRSS:");
    MESSAGE("RSS after an 8 MB text: +" << (rss1 > rss0 ? (rss1 - rss0) / 1024 : 0) << " KiB");
    if (!HOSTILE_SANITIZED) CHECK(rss1 < rss0 + (16u << 20));
}

namespace {
std::size_t live_threads() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
}
std::size_t fail_at = 0;
void fail_on_start(std::size_t index) {
    if (index == fail_at) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again), "thread");
}
}  // namespace

TEST_CASE("a thread pool that cannot start all its threads joins the started ones and says how many") {
    const std::size_t threads_before = live_threads();
    for (std::size_t at : {1, 5, 7}) {
        CAPTURE(at);
        fail_at = at;
        const std::string count = "worker thread " + std::to_string(at) + " of the 7";
        const std::string joined = "the " + std::to_string(at - 1) + " started were joined";
        expect_error([] { minibert::ThreadPool pool(8, fail_on_start); }, ErrorKind::limit, {count.c_str(), joined.c_str()});
        CHECK(live_threads() == threads_before);
    }
    // Nothing is left broken: a pool starts and runs afterwards.
    minibert::ThreadPool pool(4);
    std::vector<int> done(64, 0);
    pool.parallel_for(done.size(), [&](std::size_t t) { done[t] = 1; });
    CHECK(std::count(done.begin(), done.end(), 1) == 64);
}
}  // namespace minibert_test_hostile_tokenizer
