// libFuzzer entry point for fuzz::tokenizer_config (tests/fuzz/harnesses.hpp); built and run by scripts/fuzz.sh.
#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::tokenizer_config(data, size);
    return 0;
}
