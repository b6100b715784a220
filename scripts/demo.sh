#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: installs what is missing, builds
# minibert-classify and classifies a few sentences with the demo model in models/sst2-student.
# Usage: bash scripts/demo.sh [minibert-classify arguments...]   (env JOBS=N for build parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build/release --target minibert-classify -j "${JOBS:-$(nproc)}" > /dev/null
exec build/release/examples/minibert-classify "$@"
