// libFuzzer entry point for fuzz::json_layer (tests/fuzz/harnesses.hpp); built and run by scripts/fuzz.sh.
#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::json_layer(data, size);
    return 0;
}
