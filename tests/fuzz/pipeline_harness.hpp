// Fuzz target for minibert::TokenizerPipeline (tokenizer.json families), shared by the
// libFuzzer program fuzz_tokenizer_pipeline.cpp (built and run by scripts/fuzz.sh) and by
// tests/test_tokenizer_families.cpp, which replays the seed corpus and any regression inputs.
//
// Input: the first byte picks the mode.
//   'J' + bytes: the bytes are a tokenizer.json; when it loads, a few fixed texts are encoded
//                (single, pair, truncated pair, decode).
//   anything else: the bytes (valid UTF-8 or not) are encoded by each of the five real
//                pipelines of tests/data/tokenizer/, loaded once.
// Contract: success or minibert::Error; any other exception, sanitizer report or broken
// invariant (offsets outside the text, vectors of different sizes, ids outside the vocabulary)
// aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "minibert/tokenizer/tokenizer_pipeline.hpp"

#ifndef MINIBERT_TEST_DATA_DIR
#error "build with -DMINIBERT_TEST_DATA_DIR=\"<repo>/tests/data\""
#endif

namespace fuzz_pipeline {

inline void check(const minibert::TokenizerPipeline& tok, const minibert::Encoding& e, std::size_t len_a, std::size_t len_b) {
    const std::size_t n = e.ids.size();
    if (e.type_ids.size() != n || e.tokens.size() != n || e.offsets.size() != n || e.special_tokens_mask.size() != n ||
        e.attention_mask.size() != n || e.word_ids.size() != n || e.sequence_ids.size() != n)
        __builtin_trap();
    for (std::size_t i = 0; i < n; ++i) {
        if (e.ids[i] < 0 || static_cast<std::size_t>(e.ids[i]) >= tok.vocab_size()) __builtin_trap();
        const std::size_t limit = e.sequence_ids[i] == 1 ? len_b : len_a;
        if (e.offsets[i].first > e.offsets[i].second || e.offsets[i].second > limit) __builtin_trap();
    }
}

inline void exercise(const minibert::TokenizerPipeline& tok, std::string_view text) {
    try {
        const minibert::Encoding e = tok.encode(text);
        check(tok, e, text.size(), 0);
        (void)tok.decode(e.ids);
        const minibert::Encoding p = tok.encode_pair(text, "second text", {});
        check(tok, p, text.size(), 11);
        minibert::EncodeOptions options;
        options.max_length = 8;
        const minibert::Encoding t = tok.encode_pair(text, "a b c d e f g", options);
        check(tok, t, text.size(), 13);
        if (t.size() > 8) __builtin_trap();
    } catch (const minibert::Error&) {
    }
}

inline const std::vector<minibert::TokenizerPipeline>& real_pipelines() {
    static const std::vector<minibert::TokenizerPipeline> all = [] {
        std::vector<minibert::TokenizerPipeline> out;
        for (const char* name : {"roberta-base", "ModernBERT-base", "sentence-camembert-base", "t5-small", "all-mpnet-base-v2"}) {
            out.push_back(minibert::load_tokenizer_pipeline(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/" + name + "/tokenizer.json"));
        }
        return out;
    }();
    return all;
}

inline void target(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (!bytes.empty() && bytes[0] == 'J') {
        try {
            const auto tok = minibert::TokenizerPipeline::from_json_string(bytes.substr(1), "<fuzz>");
            for (const char* text : {"Hello, world! <s> [MASK] caf\xC3\xA9", "  two  spaces\t\n", "", "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"}) {
                exercise(tok, text);
            }
        } catch (const minibert::Error&) {
        }
        return;
    }
    for (const auto& tok : real_pipelines()) exercise(tok, bytes);
}

}  // namespace fuzz_pipeline
