#!/usr/bin/env bash
# Installs minibert from BUILD_DIR into a scratch prefix, then builds examples/consumer twice:
# against the installed package (find_package(minibert CONFIG)) and vendored (add_subdirectory),
# and runs both on MODEL_DIR. Usage: check_install.sh SOURCE_DIR BUILD_DIR MODEL_DIR
set -euo pipefail
src=$1 build=$2 model=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
test -f "$work/prefix/include/minibert/minibert.hpp"
cmake -S "$src/examples/consumer" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$work/installed" > /dev/null
"$work/installed/consumer" "$model"
cmake -S "$src/examples/consumer" -B "$work/vendored" -DMINIBERT_SOURCE_DIR="$src" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$work/vendored" > /dev/null
# Vendored: minibert's own tests and examples must not be part of the consumer's build.
if [ -e "$work/vendored/minibert/tests" ] || [ -e "$work/vendored/minibert/examples" ]; then
  echo "vendored build configured minibert's tests or examples" >&2
  exit 1
fi
"$work/vendored/consumer" "$model"
echo "install and vendoring: ok"
