#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs only what building one minibert program
# needs (scripts/install_deps.sh demo: compiler, make, cmake, xsimd/xtl and nlohmann-json headers, CLI11),
# builds minibert-classify (tests off, so doctest is not needed) and classifies a few sentences
# with the demo model in models/sst2-student.
# Usage: bash scripts/demo.sh [minibert-classify arguments...]   (env JOBS=N for build parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh demo
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DMINIBERT_BUILD_TESTS=OFF > /dev/null
cmake --build build/demo --target minibert-classify -j "${JOBS:-$(nproc)}" > /dev/null
exec build/demo/examples/minibert-classify "$@"
