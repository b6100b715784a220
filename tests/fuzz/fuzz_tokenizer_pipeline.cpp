// libFuzzer entry point for fuzz_pipeline::target (tests/fuzz/pipeline_harness.hpp); built and
// run by scripts/fuzz.sh.
#include "pipeline_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_pipeline::target(data, size);
    return 0;
}
