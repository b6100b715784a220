// libFuzzer entry point for fuzz::vocab (tests/fuzz/harnesses.hpp); built and run by scripts/fuzz.sh.
#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::vocab(data, size);
    return 0;
}
