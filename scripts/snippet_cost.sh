#!/usr/bin/env bash
# Compile cost of the README's C++ snippet (the first ```cpp block of README.md, wrapped in
# main()), as a user would build it: g++ -O2 -std=c++17, no -m flags (the kernels are dispatched at run time), headers only.
# Prints CPU seconds (user+sys) and peak memory (MB); repeats N times (default 3), then the median.
#   bash scripts/snippet_cost.sh [N]      env CXX (default g++), EXTRA_FLAGS, INCLUDE_DIR (default include;
#                                         e.g. an exported older tree, to compare)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^```cpp/ { f = 1; next } /^```/ { if (f) exit } f' README.md > "$work/block.cpp"
{
  grep '^#include' "$work/block.cpp"
  echo 'int main() {'
  grep -v '^#include' "$work/block.cpp"
  echo '    return first == first ? 0 : 1;'
  echo '}'
} > "$work/snippet.cpp"
cpus=() mbs=()
for _ in $(seq "$n"); do
  # shellcheck disable=SC2086
  /usr/bin/time -f "%U %S %M" -o "$work/t" ${CXX:-g++} -O2 -std=c++17 ${EXTRA_FLAGS:-} \
    -I "${INCLUDE_DIR:-include}" $(pkg-config --cflags eigen3 2>/dev/null || true) -c "$work/snippet.cpp" -o "$work/snippet.o"
  read -r u s m < "$work/t"
  cpus+=("$(echo "$u + $s" | bc)") mbs+=($((m / 1024)))
  echo "snippet: ${cpus[-1]} s CPU, ${mbs[-1]} MB"
done
cpu_med=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
mb_med=$(printf '%s\n' "${mbs[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p")
echo "snippet median of $n: $cpu_med s CPU, $mb_med MB peak ($(${CXX:-g++} --version | head -1))"
