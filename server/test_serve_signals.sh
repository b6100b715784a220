#!/usr/bin/env bash
# minibert-serve as a process: the startup line, SIGHUP reload, SIGTERM drain (a request in
# flight finishes with 200 and the process exits 0), and a usage error's exit code 2.
#   bash server/test_serve_signals.sh <minibert-serve> <model dir>
set -euo pipefail
serve=$1
model=$2
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "test_serve_signals: $*" >&2; [ -f "$work/err" ] && sed 's/^/  server: /' "$work/err" >&2; exit 1; }

# Usage errors: exit 2 with one line.
set +e
"$serve" --model "$model" --port 99999 > /dev/null 2> "$work/usage"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--port 99999 exited $rc, not 2"
set +e
"$serve" --model "$model" --route "x=nope:1" --port 0 > /dev/null 2> "$work/usage"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a route naming no model exited $rc, not 2"

set +e
"$serve" --model /nonexistent-minibert-model --port 0 > /dev/null 2> "$work/usage"; rc=$?
set -e
[ "$rc" -eq 3 ] || fail "a missing model folder exited $rc, not 3"
grep -q "nonexistent-minibert-model" "$work/usage" || fail "the error does not name the missing folder"

# A batch stays open 1.5 s waiting for company, so a request is surely in flight at SIGTERM.
"$serve" --model "demo=$model" --port 0 --threads 1 --max-wait-us 1500000 --log-format json > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 100); do grep -q '"event":"startup"' "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$work/out" | head -1 | cut -d: -f2)
[ -n "$port" ] || fail "no startup line with the port"

kill -HUP "$pid"
for _ in $(seq 100); do grep -q "reloaded 'demo' (version 2)" "$work/err" && break; sleep 0.1; done
grep -q "reloaded 'demo' (version 2)" "$work/err" || fail "SIGHUP did not reload the model"

curl -s -o "$work/body" -w '%{http_code}' -d '{"texts":"a fine film"}' "http://127.0.0.1:$port/classify" > "$work/code" &
curl_pid=$!
sleep 0.5
kill -TERM "$pid"
wait "$curl_pid" || fail "the in-flight request failed at SIGTERM"
[ "$(cat "$work/code")" = 200 ] || fail "the in-flight request got $(cat "$work/code"), not 200: $(cat "$work/body")"
set +e
wait "$pid"; rc=$?
set -e
pid=
[ "$rc" -eq 0 ] || fail "exit code $rc after SIGTERM, not 0"
grep -q '"path":"/classify"' "$work/err" || fail "no JSON access log line for the request"
grep '"path":"/classify"' "$work/err" | python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); assert r["status"]==200 and r["model"]=="demo", r' \
  || fail "the access log line is not the JSON expected"
echo "test_serve_signals: ok (usage exit 2, missing model exit 3, SIGHUP reload, SIGTERM drain with exit 0, JSON access log)"
