#!/usr/bin/env bash
# Load test of minibert-serve with wrk (Debian), and the same texts through minibert-classify
# --batch in process on the same threads: the HTTP + queueing overhead in one ratio.
#
#   bash bench/serve/run.sh [BUILD_DIR]          (default: build)
#
# Environment: THREADS=2 (server inference threads = minibert-classify --threads), DTYPE=int8,
# MODEL=models/sst2-student, TEXTS=data/glue-sst2/dev.tsv, CONNECTIONS="1 8 32 64",
# DURATION=15 (s per level), WRK_THREADS=1, SESSIONS=1, MAX_WAIT_US=1000, BATCH=32
# (minibert-classify --batch), REPEAT=5 (passes over TEXTS in process), SERVE_ARGS (more flags).
# Output: one JSON line per level, the batch histogram summary, the in-process line and the ratio.
# Needs: bash scripts/install_deps.sh serve.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
THREADS="${THREADS:-2}" DTYPE="${DTYPE:-int8}" MODEL="${MODEL:-$ROOT/models/sst2-student}"
TEXTS="${TEXTS:-$ROOT/data/glue-sst2/dev.tsv}" CONNECTIONS="${CONNECTIONS:-1 8 32 64}" DURATION="${DURATION:-15}"
WRK_THREADS="${WRK_THREADS:-1}" SESSIONS="${SESSIONS:-1}" MAX_WAIT_US="${MAX_WAIT_US:-1000}" BATCH="${BATCH:-32}" REPEAT="${REPEAT:-5}"
serve="$BUILD/server/minibert-serve" classify="$BUILD/examples/minibert-classify"
for f in "$serve" "$classify"; do [ -x "$f" ] || { echo "run.sh: build $f first" >&2; exit 2; }; done
command -v wrk > /dev/null || { echo "run.sh: wrk not found (bash scripts/install_deps.sh serve)" >&2; exit 2; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; load generator on the same host"
# shellcheck disable=SC2086
"$serve" --model "$MODEL" --dtype "$DTYPE" --threads "$THREADS" --sessions "$SESSIONS" --port 0 \
  --max-wait-us "$MAX_WAIT_US" --queue-size 4096 ${SERVE_ARGS:-} > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep listening "$work/out" || { cat "$work/err" >&2; exit 1; }
url="http://127.0.0.1:$(grep -o '127.0.0.1:[0-9]*' "$work/out" | cut -d: -f2)"

wrk -t"$WRK_THREADS" -c32 -d3s -s "$ROOT/bench/serve/classify.lua" "$url" -- "$TEXTS" > /dev/null  # warm-up
curl -s "$url/metrics" > "$work/m0"
for c in $CONNECTIONS; do
  t=$WRK_THREADS; [ "$t" -gt "$c" ] && t=$c
  line=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/serve/classify.lua" "$url" -- "$TEXTS" | grep '^{')
  echo "{\"connections\":$c,${line#\{}"
done
curl -s "$url/metrics" > "$work/m1"
python3 - "$work/m0" "$work/m1" <<'PY'
import re, sys
def read(path):
    out = {}
    for line in open(path):
        m = re.match(r'(minibert_batch_(requests|texts|tokens)_(sum|count))\{[^}]*\} (\S+)', line)
        if m: out[m.group(1)] = float(m.group(4))
        m = re.match(r'minibert_batch_requests_bucket\{[^}]*le="([^"]+)"\} (\S+)', line)
        if m: out['b' + m.group(1)] = float(m.group(2))
    return out
a, b = read(sys.argv[1]), read(sys.argv[2])
d = {k: b.get(k, 0) - a.get(k, 0) for k in b}
n = d.get('minibert_batch_requests_count', 0) or 1
hist, prev = [], 0
for le in ['1', '2', '4', '8', '16', '32', '64', '128', '+Inf']:
    v = d.get('b' + le, 0); hist.append('<=%s: %d' % (le, v - prev)); prev = v
print('{"batches":%d,"mean_requests_per_batch":%.2f,"mean_tokens_per_batch":%.1f,"requests_per_batch":"%s"}' % (
    n, d.get('minibert_batch_requests_sum', 0) / n, d.get('minibert_batch_tokens_sum', 0) / n, ', '.join(hist)))
PY
kill -TERM "$pid"; wait "$pid" || true; pid=

# In process: the same sentences REPEAT times through minibert-classify --batch, load time subtracted.
tail -n +2 "$TEXTS" | cut -f1 > "$work/one"
for _ in $(seq "$REPEAT"); do cat "$work/one"; done > "$work/all"
n=$(wc -l < "$work/all")
elapsed() {  # seconds one minibert-classify run takes over the file $1
  local s e
  s=$(date +%s.%N)
  "$classify" --model "$MODEL" --dtype "$DTYPE" --threads "$THREADS" --batch "$BATCH" - < "$1" > /dev/null
  e=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$s" "$e"
}
head -1 "$work/one" > "$work/first"
t0=$(elapsed "$work/first")
t1=$(elapsed "$work/all")
python3 -c "import sys; n,t0,t1=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print('{\"in_process\":\"minibert-classify --batch $BATCH --threads $THREADS\",\"texts\":%d,\"seconds\":%.2f,\"rps\":%.1f}' % (n, t1-t0, n/(t1-t0)))" "$n" "$t0" "$t1"
