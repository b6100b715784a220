// libFuzzer entry point for fuzz::sentence_transformers (tests/fuzz/harnesses.hpp); built and run by scripts/fuzz.sh.
#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::sentence_transformers(data, size);
    return 0;
}
