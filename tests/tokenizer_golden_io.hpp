// What the tokenizer golden tests share: reading the JSON Lines goldens and the files beside
// them, and turning offsets into the goldens' form (tests/test_tokenizer_goldens.cpp for the
// BERT files, tests/test_tokenizer_families.cpp for the tokenizer.json families).
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace golden {

inline const std::string data_dir = std::string(MINIBERT_TEST_DATA_DIR) + "/tokenizer/";

/// Every non-empty line of a JSON Lines file, parsed.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    std::vector<nlohmann::json> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
    }
    return lines;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline nlohmann::json offsets_json(const std::vector<std::pair<std::size_t, std::size_t>>& offsets) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& o : offsets) out.push_back({o.first, o.second});
    return out;
}

/// Golden pair offsets count code points; minibert's count bytes of the same text.
inline std::size_t byte_to_char(const std::string& text, std::size_t byte) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++chars;
    }
    return chars;
}

}  // namespace golden
