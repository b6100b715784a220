#!/usr/bin/env bash
# Builds the libFuzzer harnesses in tests/fuzz/ with clang++-14 (ASan + UBSan) and runs each for
# a bounded time on one core (FUZZ_JOBS of them at once, one per core).
#
#   scripts/fuzz.sh [SECONDS_EACH] [FUZZER...]     default: 60 s each, every fuzzer
#
# FUZZER is a name such as fuzz_safetensors (see tests/fuzz/fuzz_*.cpp). Environment:
#   FUZZ_DIR=build-fuzz      binaries, the growing corpora (seeded from tests/fuzz/corpus/ and
#                            tests/fuzz/regressions/) and crash artifacts
#   FUZZ_BUILD_JOBS=2        parallel compiles
#   FUZZ_JOBS=1              fuzzers run at the same time, each single-threaded for SECONDS_EACH
#                            of wall time: set it to the number of idle cores, no more, or each
#                            fuzzer gets less than its seconds of CPU
#   CXX_FUZZ=clang++-14      the compiler
# Exit status: 0 when every fuzzer ran its time without a finding, 1 otherwise (each finding's
# input is under $FUZZ_DIR/artifacts/<fuzzer>/; add it to tests/fuzz/regressions/<fuzzer>/,
# where tests/test_hostile_configs.cpp replays it, and fix the bug).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
FUZZ_DIR="${FUZZ_DIR:-$ROOT/build-fuzz}"
JOBS="${FUZZ_BUILD_JOBS:-2}"
CXX_FUZZ="${CXX_FUZZ:-clang++-14}"
FUZZ_SRC="$ROOT/tests/fuzz"

if [ "$#" -gt 0 ]; then
  FUZZERS=("$@")
else
  FUZZERS=()
  for f in "$FUZZ_SRC"/fuzz_*.cpp; do FUZZERS+=("$(basename "$f" .cpp)"); done
fi

command -v "$CXX_FUZZ" >/dev/null || { echo "fuzz.sh: $CXX_FUZZ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
mkdir -p "$FUZZ_DIR/bin"

# The library's compiled part (include/minibert/separate_compilation.hpp: the forward pass,
# kernels, loaders and tokenizer entry points) is compiled once, in its three pieces
# (src/compiled_part_*.cpp, queued first so that both cores share them), into
# $FUZZ_DIR/bin/compiled_part_*.o and linked into every harness (each harness TU compiled the
# whole library before: 13-27 s of CPU apiece). -fsanitize=fuzzer-no-link gives its code the same
# coverage instrumentation as the harnesses', so libFuzzer's guidance inside the library is
# unchanged.
COMMON=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all -I "$ROOT/include"
        -DMINIBERT_SEPARATE_COMPILATION)
CXXFLAGS=("${COMMON[@]}" -fsanitize=fuzzer,address,undefined "-DMINIBERT_TEST_DATA_DIR=\"$ROOT/tests/data\"")
PARTS=(compiled_part_1 compiled_part_2 compiled_part_3)

# Rebuild a fuzzer when its source, the harnesses, any library header or server/ (whose request
# parsers fuzz_serve_requests includes) or src/ is newer than it; a piece of the compiled part when a
# header or its source is newer than its object.
to_build=()
for name in "${FUZZERS[@]}"; do
  src="$FUZZ_SRC/$name.cpp"
  [ -f "$src" ] || { echo "fuzz.sh: no $src" >&2; exit 2; }
  bin="$FUZZ_DIR/bin/$name"
  if [ ! -x "$bin" ] || [ -n "$(find "$src" "$FUZZ_SRC/harnesses.hpp" "$ROOT/include" "$ROOT/src" "$ROOT/server" -newer "$bin" -print -quit)" ]; then
    to_build+=("$name")
  fi
done
if [ "${#to_build[@]}" -gt 0 ]; then
  jobs_list=()
  for part in "${PARTS[@]}"; do
    obj="$FUZZ_DIR/bin/$part.o"
    if [ ! -f "$obj" ] || [ -n "$(find "$ROOT/include" "$ROOT/src/$part.cpp" -newer "$obj" -print -quit)" ]; then
      jobs_list+=("part:$part")
    fi
  done
  for name in "${to_build[@]}"; do jobs_list+=("fuzzer:$name"); done
  echo "fuzz.sh: building ${jobs_list[*]} ($JOBS at a time)"
  export CXX_FUZZ FUZZ_DIR FUZZ_SRC ROOT
  export COMMON_STR="$(printf '%q ' "${COMMON[@]}")" CXXFLAGS_STR="$(printf '%q ' "${CXXFLAGS[@]}")"
  # shellcheck disable=SC2016
  printf '%s\n' "${jobs_list[@]}" | xargs -P "$JOBS" -I{} bash -c '
    job={}; name=${job#*:}
    if [ "${job%%:*}" = part ]; then
      eval "flags=($COMMON_STR)"
      "$CXX_FUZZ" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$ROOT/src/$name.cpp" \
        -o "$FUZZ_DIR/bin/$name.o.tmp" && mv "$FUZZ_DIR/bin/$name.o.tmp" "$FUZZ_DIR/bin/$name.o"
    else
      eval "flags=($CXXFLAGS_STR)"
      "$CXX_FUZZ" "${flags[@]}" -c "$FUZZ_SRC/$name.cpp" -o "$FUZZ_DIR/bin/$name.o"
    fi'
  lib_objs=()
  for part in "${PARTS[@]}"; do lib_objs+=("$FUZZ_DIR/bin/$part.o"); done
  for name in "${to_build[@]}"; do
    "$CXX_FUZZ" -fsanitize=fuzzer,address,undefined "$FUZZ_DIR/bin/$name.o" "${lib_objs[@]}" -o "$FUZZ_DIR/bin/$name.tmp"
    mv "$FUZZ_DIR/bin/$name.tmp" "$FUZZ_DIR/bin/$name"
  done
fi

run_one() {  # name: runs one fuzzer, writes its summary line to $FUZZ_DIR/$name.summary
  local name=$1 work artifacts log seeds dict rc execs cov units
  work="$FUZZ_DIR/corpus/$name"
  artifacts="$FUZZ_DIR/artifacts/$name"
  log="$FUZZ_DIR/$name.log"
  mkdir -p "$work" "$artifacts"
  seeds=("$FUZZ_SRC/corpus/$name")
  [ -d "$FUZZ_SRC/regressions/$name" ] && seeds+=("$FUZZ_SRC/regressions/$name")
  dict=()
  case "$name" in
    fuzz_encode|fuzz_model_load) ;;
    *) dict=("-dict=$FUZZ_SRC/json.dict") ;;
  esac
  echo "fuzz.sh: $name for ${SECONDS_EACH}s (log: $log)"
  set +e
  # -malloc_limit_mb: a single allocation over 512 MiB is a finding (hostile sizes must be
  # refused before anything is allocated from them).
  "$FUZZ_DIR/bin/$name" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')"
  units="$(ls "$work" | wc -l)"
  if [ "$rc" -ne 0 ]; then
    echo "$name: FAILED (exit $rc) after $execs runs; see $log and $artifacts/" > "$FUZZ_DIR/$name.summary"
    grep -E 'ERROR|SUMMARY|runtime error|terminate|Test unit written' "$log" | head -20 >&2 || true
    return 1
  fi
  echo "$name: ok, $execs runs in ${SECONDS_EACH}s, coverage $cov edges, corpus $units inputs" > "$FUZZ_DIR/$name.summary"
}

status=0
summary=()
parallel="${FUZZ_JOBS:-1}"
pids=()
for name in "${FUZZERS[@]}"; do
  run_one "$name" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$parallel" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for name in "${FUZZERS[@]}"; do summary+=("$(cat "$FUZZ_DIR/$name.summary")"); done
printf '%s\n' "${summary[@]}"
exit "$status"
