#!/usr/bin/env bash
# Soak: minibert-serve under steady wrk load for DURATION seconds, resident memory sampled every
# 10 s. Prints the wrk summary (non-200 count included) and the RSS samples; fails on any
# non-200 or socket error.
#
#   bash bench/serve/soak.sh [BUILD_DIR]
#
# Environment: DURATION=600, CONNECTIONS=8 (about 80% of the demo model's maximum rate on the
# 2-vCPU host of docs/serving.md), MODEL, DTYPE=int8, THREADS=2, TEXTS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
DURATION="${DURATION:-600}" CONNECTIONS="${CONNECTIONS:-8}" DTYPE="${DTYPE:-int8}" THREADS="${THREADS:-2}"
MODEL="${MODEL:-$ROOT/models/sst2-student}" TEXTS="${TEXTS:-$ROOT/data/glue-sst2/dev.tsv}"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$BUILD/server/minibert-serve" --model "$MODEL" --dtype "$DTYPE" --threads "$THREADS" --port 0 --queue-size 4096 \
  > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$(grep -o '127.0.0.1:[0-9]*' "$work/out" | cut -d: -f2)"
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/serve/classify.lua" "$url" -- "$TEXTS" > "$work/wrk" &
wrk_pid=$!
samples=()
while kill -0 "$wrk_pid" 2>/dev/null; do
  samples+=("$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")")
  sleep 10
done
wait "$wrk_pid"
line=$(grep '^{' "$work/wrk")
echo "$line"
echo "{\"rss_kib_every_10s\":[$(IFS=,; echo "${samples[*]}")]}"
echo "$line" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); sys.exit(1 if r["non200"] or r["socket_errors"] else 0)'
