#!/usr/bin/env bash
# Builds the thread-safety test and the other fast multi-threaded tests with ThreadSanitizer and
# runs them; any data race (or lock-order inversion) fails the run.
#
#   scripts/tsan.sh [TEST...]       default: test_thread_safety test_batching
#
# (test_determinism also passes under TSan but takes over 10 minutes there; name it to run it.)
#
# Environment: TSAN_BUILD_DIR (default build-tsan), TSAN_JOBS (2), CXX (g++ or clang++; the
# default compiler is fine), MINIBERT_STRESS_SECONDS (how long each part of
# test_thread_safety hammers; default here 3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${TSAN_BUILD_DIR:-$ROOT/build-tsan}"
JOBS="${TSAN_JOBS:-2}"
TESTS=("$@")
[ "${#TESTS[@]}" -gt 0 ] || TESTS=(test_thread_safety test_batching)

# Ninja: the tests' objects compile while the compiled part's TU does (Make would wait for it).
if [ -f "$BUILD/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" "$BUILD/CMakeCache.txt"; then rm -rf "$BUILD"; fi
# -O1 -fexpensive-optimizations -g: half of -O2's compile time for the compiled part, which is this
# stage's critical path (one TU on one core), with the same FMA contraction as -O2 (scripts/test.sh).
cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMINIBERT_WERROR=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -fexpensive-optimizations -g -DNDEBUG" \
  -DMINIBERT_BUILD_EXAMPLES=OFF -DMINIBERT_INSTALL=OFF -DMINIBERT_TEST_UNITY=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target "${TESTS[@]}"

# The random-weight checkpoints the tests read (the ctest fixture make_test_models).
if [ ! -f "$BUILD/test-models/tinybert-4l-312/model.safetensors" ]; then
  /usr/bin/python3 "$ROOT/tests/reference/make_checkpoints.py" --out "$BUILD/test-models" --quiet
fi

export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 exitcode=66 second_deadlock_stack=1 report_signal_unsafe=0}"
export MINIBERT_STRESS_SECONDS="${MINIBERT_STRESS_SECONDS:-3}"
status=0
for t in "${TESTS[@]}"; do
  echo "tsan.sh: $t"
  start=$(date +%s)
  if "$BUILD/tests/$t"; then
    echo "tsan.sh: $t: no race reported ($(( $(date +%s) - start )) s)"
  else
    echo "tsan.sh: $t: FAILED (exit $?)" >&2
    status=1
  fi
done
exit "$status"
