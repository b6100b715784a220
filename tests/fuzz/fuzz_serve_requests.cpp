// libFuzzer entry point for minibert-serve's request parsers (server/requests.hpp) and its
// route specs (server/ab_router.hpp); built and run by scripts/fuzz.sh like the others.
//
// The contract: whatever the bytes, each parser returns a request that keeps its invariants
// (non-empty texts, at most max_inputs of them) or throws ApiError with status 400; a route
// spec parses or throws std::invalid_argument. Anything else aborts.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "../../server/ab_router.hpp"
#include "../../server/requests.hpp"

namespace {

using namespace minibert::serve;

template <class F>
void expect_400(F&& parse) {
    try {
        parse();
    } catch (const ApiError& e) {
        if (e.status() != 400) __builtin_trap();
    }
}

void check_texts(const std::vector<std::string>& texts, const RequestLimits& limits) {
    if (texts.empty() || texts.size() > limits.max_inputs) __builtin_trap();
    for (const auto& t : texts)
        if (t.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    RequestLimits limits;
    limits.max_inputs = 8;
    expect_400([&] { check_texts(parse_embeddings(body, limits).input, limits); });
    expect_400([&] { check_texts(parse_embeddings(body, limits, "inputs").input, limits); });
    expect_400([&] {
        const ClassifyRequest r = parse_classify(body, limits);
        if (r.texts.empty() == r.pairs.empty()) __builtin_trap();  // exactly one of the two
        if (!r.texts.empty()) check_texts(r.texts, limits);
        if (r.pairs.size() > limits.max_inputs) __builtin_trap();
    });
    expect_400([&] { check_texts(parse_tag(body, limits).texts, limits); });
    expect_400([&] {
        const QaRequest r = parse_qa(body);
        if (r.question.empty() || r.context.empty()) __builtin_trap();
    });
    expect_400([&] { check_texts(parse_tokenize(body, limits).texts, limits); });
    expect_400([&] { check_texts(parse_rerank(body, limits).documents, limits); });
    expect_400([&] { parse_admin(body); });
    if (size < 256) {
        AbRouter router;
        const std::string spec(body);
        try {
            router.add_split(spec);
            for (int i = 0; i < 4; ++i) router.resolve(router.route_names().front());
        } catch (const std::invalid_argument&) {
        }
        try {
            router.add_shadow(spec);
        } catch (const std::invalid_argument&) {
        }
    }
    return 0;
}
