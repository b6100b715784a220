#!/usr/bin/env bash
# aarch64 without an ARM machine: cross-compiles the test files with Debian's g++-aarch64-linux-gnu
# (cmake/aarch64-linux-gnu.cmake) and runs the kernel, dispatch, parity and quantized-model tests
# under qemu-user on two emulated CPUs:
#   max         has the dot product: the selected level is dotprod (int8 by SDOT,
#               kernels/arm/dotprod_i8.hpp), fp32 by xsimd's NEON
#   cortex-a53  Armv8.0, no dotprod: the portable level (NEON fp32, the exact scalar int8 tile)
# test_dispatch checks that each CPU shows exactly the levels it should (MINIBERT_TEST_EXPECT_LEVELS),
# so detection by HWCAP is tested too. qemu runs the code, not its speed: no timing here.
#
# Usage: bash scripts/test_aarch64.sh [--long]
#   default  small shapes: the parity test without its two BERT-base-wide checkpoints, the
#            quantized-model test without its three-real-shapes case (~2 min on 2 cores)
#   --long   (or MINIBERT_TEST_LONG=1) every test case, and the forced-level ctest entries
# Env: JOBS=N build parallelism (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
long=${MINIBERT_TEST_LONG:-0}
case "${1:-}" in
  --long) long=1 ;;
  "") ;;
  *) echo "usage: bash scripts/test_aarch64.sh [--long]" >&2; exit 2 ;;
esac
jobs=${JOBS:-$(nproc)}
dir=build/aarch64
tests=(test_gemm_f32 test_gemm_f16 test_gemm_i8 test_attention test_dispatch test_reference_parity test_quantized_models)

# The test files compiled as in the release suite (unity groups, one program, minibert_tests; each
# test runs with doctest's --source-file filter, as its ctest entry does): two large TUs cost
# less than the seven files apart (each instantiates doctest and the library's templates).
# Ninja: the TUs compile in parallel (CMake's Makefiles would wait for the compiled part).
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" "$dir/CMakeCache.txt"; then rm -rf "$dir"; fi
cmake -G Ninja -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release \
  -DMINIBERT_WERROR=ON -DMINIBERT_BUILD_EXAMPLES=OFF -DMINIBERT_INSTALL=OFF -DMINIBERT_TEST_UNITY=ON \
  -DMINIBERT_PYTHON=/usr/bin/python3 >/dev/null
cmake --build "$dir" -j "$jobs" --target minibert_tests
ctest --test-dir "$dir" -R '^make_test_models$' --output-on-failure >/dev/null  # the random-weight checkpoints

export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
run_cpu() {  # qemu cpu, levels test_dispatch must see: runs every test, logs to $dir/qemu-<cpu>.log
  local cpu=$1 levels=$2 log=$dir/qemu-$1.log failed=0 t
  : > "$log"
  for t in "${tests[@]}"; do
    local args=()
    if [ "$long" != 1 ]; then
      case $t in
        test_reference_parity) args=(-tce="BERT-base width*,DistilBERT-base width*") ;;
        test_quantized_models) args=(-tce="fp16 and int8 models stay close to fp32 on all three shapes") ;;
      esac
    fi
    # A filter that matched no test case (a renamed file) fails, as in the ctest entries.
    if QEMU_CPU=$cpu MINIBERT_TEST_EXPECT_LEVELS=$levels qemu-aarch64 "$dir/tests/minibert_tests" \
         "--source-file=*/$t.cpp" "${args[@]}" > "$log.one" 2>&1 && ! grep -Eq "test cases: +0 \|" "$log.one"; then
      cat "$log.one" >> "$log"
      echo "aarch64 $cpu: $t passed"
    else
      cat "$log.one" >> "$log"
      echo "aarch64 $cpu: $t FAILED (see $log)"; failed=1
    fi
  done
  return $failed
}
status=0
run_cpu max "portable dotprod" > "$dir/qemu-max.summary" &
max_pid=$!
run_cpu cortex-a53 "portable" > "$dir/qemu-cortex-a53.summary" || status=1
wait "$max_pid" || status=1
cat "$dir/qemu-max.summary" "$dir/qemu-cortex-a53.summary"
grep -h "levels run" "$dir/qemu-max.log" "$dir/qemu-cortex-a53.log" | sed 's/.*MESSAGE: /aarch64: /' || true
if [ "$long" = 1 ]; then  # the forced-level entries (MINIBERT_ISA=portable on the dotprod CPU)
  regex="^($(IFS='|'; echo "${tests[*]}"))_isa_portable$"
  QEMU_CPU=max ctest --test-dir "$dir" -R "$regex" -j "$jobs" --output-on-failure || status=1
fi
[ "$status" = 0 ] && echo "aarch64: all passed" || echo "aarch64: FAILED"
exit $status
