#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds with
# -Wall -Wextra -Werror and runs every test (the kernel tests once per kernel level the CPU has,
# forced with MINIBERT_ISA), then again under ASan+UBSan; then the multi-threaded tests under
# ThreadSanitizer, and every libFuzzer harness for a bounded time. The release build compiles
# the benchmarks too (not run here).
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

run_suite release -DMINIBERT_BUILD_BENCH=ON
run_suite asan -DMINIBERT_SANITIZE=ON -DMINIBERT_INSTALL=OFF
# Kernel levels: the release build has no -m flags and picks the host's best level at run time
# (kernels/dispatch.hpp); its ctest entries <test>_isa_<level> (tests/CMakeLists.txt) rerun the
# kernel, parity and model tests with MINIBERT_ISA forcing every lower level the host has, so no
# separate SSE / VNNI / AVX-512 build is needed; test_dispatch names the levels it skips.
suites="release asan"

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
for suite in $suites; do
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "build/$suite/ctest.log" | tail -1)
  total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
  bad=$(echo "$line" | sed -E 's/.*, ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - bad)); failed=$((failed + bad))
done
echo "minibert: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
