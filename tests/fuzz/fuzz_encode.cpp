// libFuzzer entry point for fuzz::encode (tests/fuzz/harnesses.hpp); built and run by scripts/fuzz.sh.
#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::encode(data, size);
    return 0;
}
