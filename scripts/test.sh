#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds with
# -Wall -Wextra -Werror and runs every test, then again under ASan+UBSan; then the kernels in a
# plain SSE2 build (proves the xsimd code builds for other ISAs), the multi-threaded tests under
# ThreadSanitizer, and every libFuzzer harness for a bounded time.
# Usage: bash scripts/test.sh   (env JOBS=N build parallelism, FUZZ_SECONDS=N per fuzzer, default 45)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
jobs=${JOBS:-$(nproc)}
python=/usr/bin/python3

run_suite() {  # name, extra cmake args...   (env TARGETS / TESTS narrow the build / the run)
  local dir=build/$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DMINIBERT_WERROR=ON -DMINIBERT_PYTHON=$python "$@"
  cmake --build "$dir" -j "$jobs" ${TARGETS:+--target $TARGETS}
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" ${TESTS:+-R "$TESTS"} 2>&1 | tee "$dir/ctest.log"
}

run_suite release
run_suite asan -DMINIBERT_SANITIZE=ON -DMINIBERT_INSTALL=OFF
# The kernels' tests without AVX2 (xsimd falls back to SSE2; the int8/fp16 kernels to portable code).
TARGETS="test_gemm_f32 test_gemm_f16 test_gemm_i8 test_attention test_batching test_reference_parity" \
TESTS="make_test_models|test_gemm_f32|test_gemm_f16|test_gemm_i8|test_attention|test_batching|test_reference_parity" \
  run_suite sse -DMINIBERT_ARCH_FLAGS="" -DMINIBERT_BUILD_EXAMPLES=OFF -DMINIBERT_INSTALL=OFF

# Counted as one test each after the ctest suites.
extra_passed=0 extra_failed=0
stage() {  # name, command...
  local name=$1
  shift
  echo "== $name"
  if "$@"; then extra_passed=$((extra_passed + 1)); else extra_failed=$((extra_failed + 1)); echo "== $name FAILED"; fi
}
stage tsan env TSAN_JOBS="$jobs" bash scripts/tsan.sh
stage fuzz env FUZZ_BUILD_JOBS="$jobs" bash scripts/fuzz.sh "${FUZZ_SECONDS:-45}"

# One closing line for everything.
passed=$extra_passed failed=$extra_failed
for log in build/release/ctest.log build/asan/ctest.log build/sse/ctest.log; do
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
  bad=$(echo "$line" | sed -E 's/.*, ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - bad)); failed=$((failed + bad))
done
echo "minibert: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
