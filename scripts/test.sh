#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds with
# -Wall -Wextra -Werror and runs every test, then builds and runs it again under ASan+UBSan.
# Usage: bash scripts/test.sh   (env JOBS=N to set build parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
jobs=${JOBS:-$(nproc)}
python=/usr/bin/python3

run_suite() {  # name, extra cmake args...
  local dir=build/$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DMINIBERT_WERROR=ON -DMINIBERT_PYTHON=$python "$@"
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" 2>&1 | tee "$dir/ctest.log"
}

run_suite release
run_suite asan -DMINIBERT_SANITIZE=ON -DMINIBERT_INSTALL=OFF

# One closing line for both suites.
passed=0 failed=0
for log in build/release/ctest.log build/asan/ctest.log; do
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
  total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
  bad=$(echo "$line" | sed -E 's/.*, ([0-9]+) tests failed.*/\1/')
  passed=$((passed + total - bad)); failed=$((failed + bad))
done
echo "minibert: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
