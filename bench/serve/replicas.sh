#!/usr/bin/env bash
# Two minibert-serve replicas behind nginx on loopback; one replica is killed (SIGKILL, no
# drain) while a client keeps sending requests through nginx. Passes when every request got 200.
#
#   bash bench/serve/replicas.sh [BUILD_DIR]     (needs: bash scripts/install_deps.sh serve)
#
# Environment: MODEL (default models/sst2-student), REQUESTS=400 (sent one after another by
# 4 curl loops; replica 1 dies after a quarter of them).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
MODEL="${MODEL:-$ROOT/models/sst2-student}"
REQUESTS="${REQUESTS:-400}"
serve="$BUILD/server/minibert-serve"
[ -x "$serve" ] || { echo "replicas.sh: build $serve first" >&2; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "replicas.sh: nginx not found (bash scripts/install_deps.sh serve)" >&2; exit 2; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ports=()
for i in 1 2; do
  "$serve" --model "$MODEL" --threads 1 --port 0 > "$work/out$i" 2> "$work/err$i" &
  pids+=($!)
done
for i in 1 2; do
  for _ in $(seq 200); do grep -q listening "$work/out$i" 2>/dev/null && break; sleep 0.1; done
  ports+=("$(grep -o '127.0.0.1:[0-9]*' "$work/out$i" | cut -d: -f2)")
done
# A free port for nginx: ask the kernel (bind to 0) through python.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
upstreams="    server 127.0.0.1:${ports[0]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${ports[1]} max_fails=1 fail_timeout=5s;"
user=""; [ "$(id -u)" -eq 0 ] && user="user root;"
python3 - "$ROOT/bench/serve/nginx.conf.in" "$work/nginx.conf" "$work" "$port" "$upstreams" "$user" <<'PY'
import sys
src, dst, work, port, ups, user = sys.argv[1:]
t = open(src).read().replace('@WORK@', work).replace('@PORT@', port).replace('@UPSTREAMS@', ups).replace('@USER@', user)
open(dst, 'w').write(t)
PY
"$NGINX" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2> "$work/nginx.err" &
nginx_pid=$!
pids+=("$nginx_pid")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done

per=$((REQUESTS / 4))
for k in 1 2 3 4; do
  ( for _ in $(seq "$per"); do
      curl -s -o /dev/null -w '%{http_code}\n' -d '{"texts":"a fine film"}' "http://127.0.0.1:$port/classify"
    done > "$work/codes$k" ) &
  loops+=($!)
done
# Kill replica 1 (no drain: the hard case) once a quarter of the requests are through.
while [ "$(cat "$work"/codes* 2>/dev/null | wc -l)" -lt $((REQUESTS / 4)) ]; do sleep 0.05; done
kill -KILL "${pids[0]}"
echo "replicas.sh: killed replica 1 (port ${ports[0]}) after $(cat "$work"/codes* | wc -l) requests"
for l in "${loops[@]}"; do wait "$l"; done
total=$(cat "$work"/codes* | wc -l)
ok=$(grep -c '^200$' "$work"/codes* | awk -F: '{s+=$2} END {print s}')
echo "replicas.sh: $ok of $total requests answered 200 through nginx while a replica died"
[ "$ok" -eq "$total" ] && [ "$total" -eq $((per * 4)) ] || { sort "$work"/codes* | uniq -c >&2; exit 1; }
