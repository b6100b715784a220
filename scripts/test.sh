#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, then
#   release  every test, example and bench built with -Wall -Wextra -Werror; ctest
#   asan     the tests again under ASan+UBSan (tests only: the examples' and benches' code is the
#            library's, which the tests drive; -Werror there too)
#            (the release and asan suites also rerun the kernel, parity and model tests once per
#            kernel level the CPU has, forced with MINIBERT_ISA: tests/CMakeLists.txt)
#   tsan     the multi-threaded tests under ThreadSanitizer (scripts/tsan.sh)
#   fuzz     every libFuzzer harness for FUZZ_SECONDS each (scripts/fuzz.sh)
#   docs     the quick runnable shell blocks of README.md and docs/*.md (scripts/check_docs.sh)
#   aarch64  the kernel, parity and quantized-model tests cross-built for aarch64, run under
#            qemu-user with and without dotprod (scripts/test_aarch64.sh)
# and prints one closing line. Each stage's wall time goes to build/stage-times.txt.
#
# Usage: bash scripts/test.sh [--long]
#   --long   local depth, not CI: test_determinism under TSan too, 5 minutes per fuzzer
#            (unless FUZZ_SECONDS says), 30 s stress per thread-safety part, the sanitizer suites
#            with the full shapes (MINIBERT_TEST_LONG=1), and the docs' runnable-long blocks.
# Env: JOBS=N build and ctest parallelism (default nproc), FUZZ_SECONDS=N per fuzzer (default 45).
set -euo pipefail
cd "$(dirname "$0")/.."
long=0
case "${1:-}" in
  --long) long=1 ;;
  "") ;;
  *) echo "usage: bash scripts/test.sh [--long]" >&2; exit 2 ;;
esac
bash scripts/install_deps.sh tests
jobs=${JOBS:-$(nproc)}
python=/usr/bin/python3
# Tests that run a smaller shape under a sanitizer (the release suite runs the full one) run the
# full one here too when this is set.
export MINIBERT_TEST_LONG=$long

mkdir -p build
: > build/stage-times.txt
stage_start=$(date +%s)
stage_done() {  # name: appends the wall time since the previous stage_done
  local now
  now=$(date +%s)
  echo "$1 $((now - stage_start)) s" | tee -a build/stage-times.txt
  stage_start=$now
}

run_suite() {  # name, extra cmake args...   (env TARGETS / TESTS narrow the build / the run)
  local dir=build/$1
  shift
  # Ninja, not Makefiles: Make builds a target only after the targets it links (every program
  # waits for the compiled part's one long TU, one core idle); Ninja compiles their objects
  # meanwhile and waits only to link.
  if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" "$dir/CMakeCache.txt"; then rm -rf "$dir"; fi
  cmake -G Ninja -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DMINIBERT_WERROR=ON -DMINIBERT_PYTHON=$python "$@"
  cmake --build "$dir" -j "$jobs" ${TARGETS:+--target $TARGETS}
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" ${TESTS:+-R "$TESTS"} 2>&1 | tee "$dir/ctest.log"
  stage_done "$(basename "$dir")"
}

run_suite release -DMINIBERT_BUILD_BENCH=ON
# At -O1 plus -fexpensive-optimizations, not Release's -O3: under ASan+UBSan -O3 costs 4x the
# compile time of -O2 and -O2 2x that of -O1 (the compiled part: 507 s of CPU at -O2, 260 s here,
# Zen 3) for the same checks. Plain -O1 is not enough: GCC contracts a*b+c into FMAs in its
# widening-multiply pass, which -fexpensive-optimizations gates (on from -O2), and without FMAs
# the kernels' numbers move past test_attention's accuracy bound (docs/reliability.md).
run_suite asan -DMINIBERT_SANITIZE=ON "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -fexpensive-optimizations -DNDEBUG" \
  -DMINIBERT_INSTALL=OFF -DMINIBERT_BUILD_EXAMPLES=OFF -DMINIBERT_BUILD_BENCH=OFF
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
  stage_done "$name"
}
if [ "$long" = 1 ]; then
  stage tsan env TSAN_JOBS="$jobs" MINIBERT_STRESS_SECONDS=30 bash scripts/tsan.sh test_thread_safety test_batching test_determinism
  stage fuzz env FUZZ_BUILD_JOBS="$jobs" FUZZ_JOBS="$jobs" bash scripts/fuzz.sh "${FUZZ_SECONDS:-300}"
  stage docs bash scripts/check_docs.sh --long
else
  stage tsan env TSAN_JOBS="$jobs" bash scripts/tsan.sh
  stage fuzz env FUZZ_BUILD_JOBS="$jobs" FUZZ_JOBS="$jobs" bash scripts/fuzz.sh "${FUZZ_SECONDS:-45}"
  stage docs bash scripts/check_docs.sh
fi
# aarch64: the kernel, parity and quantized-model tests cross-compiled and run under qemu-user on
# a CPU with the dot product and one without (scripts/test_aarch64.sh; --long: every case).
if [ "$long" = 1 ]; then stage aarch64 env JOBS="$jobs" bash scripts/test_aarch64.sh --long
else stage aarch64 env JOBS="$jobs" bash scripts/test_aarch64.sh; fi

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
