#!/usr/bin/env bash
# Soak benchmark (not a CI test): 100,000 inferences of varying shapes on a small model through
# one Session (plus a shared tokenizer encoding a pair each time), printing VmRSS every 10,000.
#
#   scripts/soak.sh [MODEL_DIR] [extra minibert-soak options: --runs N --every N --threads N]
#
# Default model: the fixture's tinybert-4l-312 shape's little sibling tiny-bert-seqcls (hidden 32,
# 2 layers), written into $SOAK_DIR/test-models if no build has it. Environment: SOAK_DIR
# (default build-soak), CXX (default g++).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOAK_DIR="${SOAK_DIR:-$ROOT/build-soak}"
CXX="${CXX:-g++}"
mkdir -p "$SOAK_DIR"

MODEL="${1:-}"
[ "$#" -gt 0 ] && shift
if [ -z "$MODEL" ]; then
  MODEL="$SOAK_DIR/test-models/tiny-bert-seqcls"
  [ -f "$MODEL/model.safetensors" ] ||
    /usr/bin/python3 "$ROOT/tests/reference/make_checkpoints.py" --out "$SOAK_DIR/test-models" --quiet
fi

BIN="$SOAK_DIR/minibert-soak"
if [ ! -x "$BIN" ] || [ -n "$(find "$ROOT/bench/soak.cpp" "$ROOT/include" -newer "$BIN" -print -quit)" ]; then
  "$CXX" -std=c++17 -O2 -DNDEBUG -mavx2 -mfma -mf16c -I "$ROOT/include" -I /usr/include/eigen3 \
    "$ROOT/bench/soak.cpp" -o "$BIN" -pthread
fi
exec "$BIN" "$MODEL" --tokenizer "$ROOT/tests/data/tokenizer/bert-base-uncased" "$@"
