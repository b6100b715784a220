// libFuzzer entry point for fuzz::model_load (tests/fuzz/harnesses.hpp); built and run by scripts/fuzz.sh.
#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::model_load(data, size);
    return 0;
}
