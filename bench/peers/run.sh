#!/usr/bin/env bash
# minibert beside ONNX Runtime and PyTorch on the same checkpoints and inputs: one table of
# P50/P95 latency, throughput, peak resident memory and load time.
#
#   bash bench/peers/run.sh [--quick] [--json FILE] [--rounds N] [--models "bench-bert-base ..."]
#                           [--threads "1 2"] [--engines "minibert minibert-python onnxruntime pytorch"]
#                           [--dtypes "fp32 int8-dynamic ..."] [--shapes "1x16 1x128 8x128"]
#
# --dtypes (default fp32) runs every engine at every listed dtype it supports: minibert all of
# minibert-bench's (fp32 fp16 int8-dynamic int8-static native), ONNX Runtime and PyTorch fp32 and
# int8-dynamic (ORT: MODEL.int8.onnx from quantize_onnx.py, checked against the fp32 graph when
# written; PyTorch: torch.quantization.quantize_dynamic on its nn.Linear layers).
# Engine onnxruntime-noamx is ONNX Runtime run under deny_amx.py (AMX tiles refused by seccomp, so
# MLAS's int8 GEMM falls back to AVX-512 VNNI): a diagnostic for AMX hosts, not in the default set.
#
# Engine minibert-python is minibert through its Python package (python/, ctypes over
# libminibert_c; bench/peers/python_bench.py): Model.forward on the same ids as minibert-bench, so
# the row beside "minibert" is the package's overhead (report.py prints the ratios).
#
# Every measurement is its own process (peak RSS is per engine). Engines run interleaved, one
# shape at a time, for --rounds rounds (default 2; --quick: 1 round, fewer iterations); the table
# shows medians over rounds. Needs: a build with examples (MINIBERT_BUILD, default build-perf),
# /usr/bin/python3 with torch and onnx, node + bench/peers/node_modules (installed on first run
# with ONNXRUNTIME_NODE_INSTALL=skip: the CPU library ships in the package).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
bash "$ROOT/scripts/install_deps.sh" peers  # torch, onnx, node + npm (onnxruntime-node: npm ci below)
BUILD=${MINIBERT_BUILD:-$ROOT/build-perf}
PY=/usr/bin/python3
QUICK=0 JSON="" ROUNDS=2
MODELS="bench-tinybert-4l-312 bench-distilbert-base bench-bert-base"
THREADS="1 2"
ENGINES="minibert minibert-python onnxruntime pytorch"
DTYPES="fp32"
SHAPES="1x16 1x128 8x128"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=1 ;;
    --json) JSON=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --models) MODELS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --engines) ENGINES=$2; shift ;;
    --dtypes) DTYPES=$2; shift ;;  # fp32 fp16 int8-dynamic ... (each engine runs those it supports)
    --shapes) SHAPES=$2; shift ;;  # BATCHxSEQ ...
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

MODELS_DIR=$BUILD/bench-models
ONNX_DIR=$BUILD/peers
mkdir -p "$ONNX_DIR"
if [ ! -x "$BUILD/examples/minibert-bench" ] || { [[ " $ENGINES " == *" minibert-python "* ]] && [ ! -f "$BUILD/libminibert_c.so" ]; }; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" --target minibert-bench minibert_c -j"${MINIBERT_JOBS:-2}"
fi
$PY "$ROOT/tests/reference/make_checkpoints.py" --out "$MODELS_DIR" --only $MODELS --quiet
ort=0; [[ " $ENGINES " == *" onnxruntime"* ]] && ort=1  # ONNX files and node only for ONNX Runtime rows
if [ $ort = 1 ] && [ ! -d "$ROOT/bench/peers/node_modules/onnxruntime-node" ]; then
  (cd "$ROOT/bench/peers" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null)
fi
for m in $MODELS; do
  [ $ort = 0 ] || [ -f "$ONNX_DIR/$m.onnx" ] || $PY "$ROOT/bench/peers/export_onnx.py" "$MODELS_DIR/$m" "$ONNX_DIR/$m.onnx" 2>/dev/null
  if [[ " $ENGINES " == *" onnxruntime"* && " $DTYPES " == *" int8-dynamic "* && ! -f "$ONNX_DIR/$m.int8.onnx" ]]; then
    $PY "$ROOT/bench/peers/quantize_onnx.py" "$ONNX_DIR/$m.onnx" "$ONNX_DIR/$m.int8.onnx.tmp" --check >&2
    mv "$ONNX_DIR/$m.int8.onnx.tmp" "$ONNX_DIR/$m.int8.onnx"
  fi
done
supports() {  # engine dtype
  case $1 in
    minibert|minibert-python) return 0 ;;
    onnxruntime|onnxruntime-noamx|pytorch) [ "$2" = fp32 ] || [ "$2" = int8-dynamic ] ;;
    *) return 1 ;;
  esac
}

RAW=$(mktemp /tmp/minibert-peers.XXXXXX.jsonl)
# iterations: latency shapes need enough samples for a P95; batch 8 x 128 is throughput.
iters() {  # batch seq
  if [ "$1" -gt 1 ]; then [ $QUICK = 1 ] && echo 2 || echo 4
  elif [ "$2" -le 16 ]; then [ $QUICK = 1 ] && echo 20 || echo 60
  else [ $QUICK = 1 ] && echo 6 || echo 20; fi
}
run_one() {  # engine model threads batch seq dtype
  local engine=$1 model=$2 t=$3 b=$4 s=$5 dtype=$6 n w line bert
  n=$(iters "$b" "$s"); w=$(( b > 1 ? 1 : 3 ))
  bert=$(grep -q '"model_type": "bert"' "$MODELS_DIR/$model/config.json" && echo 1 || echo 0)
  case $engine in
    minibert) line=$("$BUILD/examples/minibert-bench" --model "$MODELS_DIR/$model" --dtype "$dtype" --batch "$b" \
                      --seq "$s" --threads "$t" --iters "$n" --warmup "$w" --json) ;;
    minibert-python)
             line=$(MINIBERT_C_LIBRARY="$BUILD/libminibert_c.so" $PY "$ROOT/bench/peers/python_bench.py" \
                      --model "$MODELS_DIR/$model" --dtype "$dtype" --batch "$b" --seq "$s" --threads "$t" \
                      --iters "$n" --warmup "$w") ;;
    onnxruntime|onnxruntime-noamx)
                 line=$($([ "$engine" = onnxruntime-noamx ] && echo "$PY $ROOT/bench/peers/deny_amx.py") \
                      node "$ROOT/bench/peers/ort_bench.js" --engine "$engine" --bert "$bert" --dtype "$dtype" \
                      --model "$ONNX_DIR/$model$([ "$dtype" = int8-dynamic ] && echo .int8).onnx" \
                      --batch "$b" --seq "$s" --threads "$t" --iters "$n" --warmup "$w") ;;
    pytorch) line=$(OMP_WAIT_POLICY=PASSIVE $PY "$ROOT/bench/peers/torch_bench.py" --model "$MODELS_DIR/$model" \
                      --dtype "$dtype" --batch "$b" --seq "$s" --threads "$t" --iters "$n" --warmup "$w") ;;
  esac
  echo "{\"model\":\"$model\",${line#\{}" >> "$RAW"
}

echo "machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq 1 "$ROUNDS"); do
  for m in $MODELS; do
    for t in $THREADS; do
      for shape in $SHAPES; do
        set -- ${shape/x/ }
        echo "round $round/$ROUNDS  $m  threads $t  batch $1 x $2" >&2
        for d in $DTYPES; do
          for e in $ENGINES; do
            if supports "$e" "$d"; then run_one "$e" "$m" "$t" "$1" "$2" "$d"; fi
          done
        done
      done
    done
  done
done
$PY "$ROOT/bench/peers/report.py" "$RAW" ${JSON:+--json "$JSON"}
echo "raw rows: $RAW" >&2
