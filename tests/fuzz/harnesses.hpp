// The fuzz targets, one function per input format, shared by the libFuzzer programs
// (fuzz_<name>.cpp, built by scripts/fuzz.sh) and by the doctest that replays the seed corpora
// and every regression input (tests/test_hostile_configs.cpp).
//
// The contract each target checks: whatever the bytes, the library either succeeds or throws
// minibert::Error. Any other exception escapes and aborts (libFuzzer reports it as a crash),
// as does every sanitizer report and every broken invariant (__builtin_trap).
#pragma once

#include <minibert/minibert.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline_harness.hpp"  // fuzz_pipeline::target (TokenizerPipeline), registered below

#ifndef MINIBERT_TEST_DATA_DIR
#error "build with -DMINIBERT_TEST_DATA_DIR=\"<repo>/tests/data\""
#endif

namespace fuzz {

using Target = void (*)(const std::uint8_t* data, std::size_t size);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// Splits the input at the first NUL byte: (before, after). No NUL: (all, empty).
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view text) {
    const std::size_t nul = text.find('\0');
    if (nul == std::string_view::npos) return {text, {}};
    return {text.substr(0, nul), text.substr(nul + 1)};
}

/// Runs `fn`, swallowing minibert::Error only.
template <class Fn>
void expect_ok_or_error(Fn&& fn) {
    try {
        fn();
    } catch (const minibert::Error&) {
    }
}

/// Exercises a loaded tokenizer on a few fixed texts: encode, pair, pad, decode.
inline void exercise_tokenizer(const minibert::Tokenizer& tok) {
    static const char* const texts[] = {"Hello, world! [CLS] un##affable", "naïve café 北京 \xF0\x9F\x98\x80", "",
                                        "a [SEP] b [MASK]"};
    for (const char* text : texts) {
        expect_ok_or_error([&] {
            minibert::EncodeOptions options;
            options.max_length = 8;
            const minibert::Encoding e = tok.encode(text, options);
            tok.decode(e.ids);
            tok.encode_pair(text, "second text", options);
            std::vector<minibert::Encoding> batch{tok.encode(text)};
            minibert::PaddingOptions padding;
            padding.strategy = minibert::PaddingStrategy::longest;
            padding.pad_to_multiple_of = 8;
            tok.pad(batch, padding);
        });
    }
    for (std::int32_t id : {-1, 0, 1, 2, 3, 100, 1 << 30}) expect_ok_or_error([&] { (void)tok.id_to_token(id); });
}

/// SafeTensors::parse on arbitrary bytes; every tensor's view is then read end to end, so ASan
/// catches a view that points outside the input.
inline void safetensors(const std::uint8_t* data, std::size_t size) {
    expect_ok_or_error([&] {
        const minibert::SafeTensors st = minibert::SafeTensors::parse(minibert::MappedFile::from_memory(data, size, "<fuzz>"));
        unsigned sum = 0;
        for (const minibert::TensorInfo& t : st.tensors()) {
            for (std::size_t i = 0; i < t.byte_size; ++i) sum += t.data[i];
            if (minibert::dtype_size(t.dtype) != 0 && t.numel() * minibert::dtype_size(t.dtype) != t.byte_size)
                __builtin_trap();
            (void)t.shape_string();
            if (st.find(t.name) == nullptr) __builtin_trap();
        }
        for (const auto& [key, value] : st.metadata()) sum += static_cast<unsigned>(key.size() + value.size());
        volatile unsigned sink = sum;
        (void)sink;
    });
}

/// The config model_load uses: a BERT sequence classifier, vocab 16, hidden 8, 2 heads,
/// 1 layer, intermediate 12, 16 positions (tests/fuzz/make_seeds.py writes matching files).
inline const char* tiny_config() {
    return R"({
  "architectures": ["BertForSequenceClassification"],
  "model_type": "bert", "vocab_size": 16, "hidden_size": 8, "num_hidden_layers": 1,
  "num_attention_heads": 2, "intermediate_size": 12, "max_position_embeddings": 16,
  "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "num_labels": 2
})";
}

/// Model::from_memory with tiny_config() and arbitrary safetensors bytes. A model that loads
/// runs one small batch, so a tensor that loaded with a wrong size is caught in the forward pass.
inline void model_load(const std::uint8_t* data, std::size_t size) {
    expect_ok_or_error([&] {
        const minibert::Model model = minibert::Model::from_memory(tiny_config(), data, size);
        minibert::SessionOptions options;
        options.max_batch = 2;
        options.max_tokens = 16;
        minibert::Session session(model, options);
        minibert::Batch batch;
        batch.add(std::vector<std::int32_t>{1, 5, 15, 2}, std::vector<std::int32_t>{0, 0, 1, 1});
        batch.add(std::vector<std::int32_t>{3});
        const minibert::Outputs out = session.run(batch);
        volatile float sink = out.logits(1, 1) + out.pooler_output(0, 0) + out.last_hidden_state(4, 7);
        (void)sink;
    });
}

/// ModelConfig::parse on arbitrary text; a successful parse must keep its promises.
inline void config(const std::uint8_t* data, std::size_t size) {
    expect_ok_or_error([&] {
        const minibert::ModelConfig c = minibert::ModelConfig::parse(std::string(as_text(data, size)), "<fuzz>");
        if (c.num_heads == 0 || c.hidden_size % c.num_heads != 0 || c.id2label.size() != c.num_labels ||
            c.vocab_size == 0 || c.num_layers == 0 || c.intermediate_size == 0 || c.max_position_embeddings == 0)
            __builtin_trap();
    });
}

/// Tokenizer::from_tokenizer_json. Input: tokenizer.json text [NUL tokenizer_config.json text].
inline void tokenizer_json(const std::uint8_t* data, std::size_t size) {
    const auto parts = split_at_nul(as_text(data, size));
    expect_ok_or_error([&] {
        const minibert::Tokenizer tok =
            minibert::Tokenizer::from_tokenizer_json(parts.first, parts.second, "<fuzz tokenizer.json>");
        exercise_tokenizer(tok);
    });
}

/// Tokenizer::from_vocab. Input: vocab.txt text [NUL tokenizer_config.json text].
inline void vocab(const std::uint8_t* data, std::size_t size) {
    const auto parts = split_at_nul(as_text(data, size));
    expect_ok_or_error([&] {
        const minibert::TokenizerConfig cfg = minibert::TokenizerConfig::from_json(parts.second, "<fuzz tokenizer_config.json>");
        const minibert::Tokenizer tok = minibert::Tokenizer::from_vocab(parts.first, cfg, "<fuzz vocab.txt>");
        exercise_tokenizer(tok);
    });
}

/// TokenizerConfig::from_json on arbitrary text.
inline void tokenizer_config(const std::uint8_t* data, std::size_t size) {
    expect_ok_or_error([&] {
        const minibert::TokenizerConfig c = minibert::TokenizerConfig::from_json(as_text(data, size), "<fuzz>");
        volatile std::size_t sink = c.model_max_length + c.additional_special_tokens.size();
        (void)sink;
    });
}

namespace detail {

/// Every typed getter on every value of a document (each either works or throws Error), and
/// describe() stays bounded whatever the value.
inline void walk_json(const minibert::json::Node& n) {
    // 40 bytes of a string, each escaped to at most 6 (\u00XX), plus the size note.
    if (minibert::json::describe(n.raw()).size() > 300) __builtin_trap();
    expect_ok_or_error([&] { (void)n.string(); });
    expect_ok_or_error([&] { (void)n.boolean(); });
    expect_ok_or_error([&] { (void)n.integer(-7, 1 << 20); });
    expect_ok_or_error([&] { (void)n.number(); });
    expect_ok_or_error([&] { (void)n.optional_string("a"); });
    expect_ok_or_error([&] { (void)n.at("b"); });
    expect_ok_or_error([&] { (void)n.optional_integer("c", 0, 9); });
    if (n.is_object()) n.for_each_member([](const std::string&, const minibert::json::Node& child) { walk_json(child); });
    if (n.is_array()) n.for_each_element([](const minibert::json::Node& child) { walk_json(child); });
}

}  // namespace detail

/// The checked-JSON layer (io/json.hpp): parse (first byte odd: refusing duplicate keys), then
/// walk every value with every getter. Depth above the limit must be refused, never parsed.
inline void json_layer(const std::uint8_t* data, std::size_t size) {
    expect_ok_or_error([&] {
        minibert::json::ParseOptions options;
        options.reject_duplicate_keys = size > 0 && (data[0] & 1);
        const nlohmann::json doc = minibert::json::parse(as_text(data, size), "<fuzz>", options);
        detail::walk_json(minibert::json::Node(doc, "<fuzz>"));
    });
}

/// The sentence-transformers files. Input: modules.json text [NUL 1_Pooling/config.json text].
inline void sentence_transformers(const std::uint8_t* data, std::size_t size) {
    const auto parts = split_at_nul(as_text(data, size));
    minibert::PoolingConfig p;
    expect_ok_or_error([&] { (void)p.read_modules_json(parts.first, "<fuzz modules.json>"); });
    expect_ok_or_error([&] {
        p.read_pooling_json(parts.second, "<fuzz config.json>");
        if (p.modes() == 0) __builtin_trap();  // refused, never accepted with no mode
    });
}

namespace detail {

inline const minibert::Tokenizer& data_tokenizer(bool cased) {
    static const minibert::Tokenizer uncased =
        minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/bert-base-uncased");
    static const minibert::Tokenizer with_case =
        minibert::Tokenizer::from_folder(std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/bert-base-cased");
    return cased ? with_case : uncased;
}

/// What encode() promises: every vector has size() entries, offsets lie inside the text they
/// point into, truncation is honoured.
inline void check_encoding(const minibert::Encoding& e, std::string_view a, std::string_view b, std::size_t max_length) {
    const std::size_t n = e.size();
    if (e.type_ids.size() != n || e.attention_mask.size() != n || e.special_tokens_mask.size() != n ||
        e.tokens.size() != n || e.offsets.size() != n || e.word_ids.size() != n || e.sequence_ids.size() != n)
        __builtin_trap();
    if (max_length != 0 && n > max_length) __builtin_trap();
    for (std::size_t i = 0; i < n; ++i) {
        const std::string_view text = e.sequence_ids[i] == 1 ? b : a;
        if (e.offsets[i].first > e.offsets[i].second || e.offsets[i].second > text.size()) __builtin_trap();
    }
}

}  // namespace detail

/// The bert-base-uncased / -cased tokenizers (tests/data) on arbitrary bytes. The first byte
/// picks the tokenizer (bit 0), max_length (bits 1-3), truncation strategy (bits 4-5), no
/// specials (bit 6) and decode's skip_special_tokens (bit 7); the rest splits at the first NUL
/// into text and text pair.
inline void encode(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    const std::uint8_t control = data[0];
    const auto parts = split_at_nul(as_text(data + 1, size - 1));
    const std::string_view text = parts.first, pair = parts.second;
    const minibert::Tokenizer& tok = detail::data_tokenizer(control & 1);
    minibert::EncodeOptions options;
    static const std::size_t lengths[] = {0, 1, 2, 3, 4, 5, 8, 512};
    options.max_length = lengths[(control >> 1) & 7];
    options.truncation = static_cast<minibert::TruncationStrategy>(((control >> 4) & 3) % 3);
    options.add_special_tokens = (control & 0x40) == 0;
    expect_ok_or_error([&] {
        const minibert::Encoding single = tok.encode(text, options);
        detail::check_encoding(single, text, {}, options.max_length);
        tok.decode(single.ids, (control & 0x80) != 0);
    });
    expect_ok_or_error([&] {
        const minibert::Encoding both = tok.encode_pair(text, pair, options);
        detail::check_encoding(both, text, pair, options.max_length);
        tok.decode(both.ids, false);
    });
    expect_ok_or_error([&] { (void)tok.tokenize(text); });
}

/// Every target by the name of its corpus folder (tests/fuzz/corpus/<name>/).
inline const std::vector<std::pair<const char*, Target>>& targets() {
    static const std::vector<std::pair<const char*, Target>> all = {
        {"fuzz_safetensors", safetensors}, {"fuzz_model_load", model_load},
        {"fuzz_config", config},           {"fuzz_tokenizer_json", tokenizer_json},
        {"fuzz_vocab", vocab},             {"fuzz_tokenizer_config", tokenizer_config},
        {"fuzz_encode", encode},           {"fuzz_json", json_layer},
        {"fuzz_sentence_transformers", sentence_transformers},
        {"fuzz_tokenizer_pipeline", fuzz_pipeline::target}};
    return all;
}

}  // namespace fuzz
