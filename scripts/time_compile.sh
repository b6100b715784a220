#!/usr/bin/env bash
# Compiler launcher that records each compile's CPU time and peak memory (GNU time) to
# $MINIBERT_TIME_LOG (default build-times.tsv in the current directory), one line per command:
#   output-file <TAB> user+sys CPU s <TAB> peak RSS MB <TAB> wall s
# Use: cmake -DCMAKE_CXX_COMPILER_LAUNCHER=$PWD/scripts/time_compile.sh ...
set -uo pipefail
log=${MINIBERT_TIME_LOG:-$PWD/build-times.tsv}
out=?
prev=
for a in "$@"; do [ "$prev" = "-o" ] && out=$a; prev=$a; done
tmp=$(mktemp)
/usr/bin/time -f "%U %S %M %e" -o "$tmp" "$@"
rc=$?
read -r u s m e < "$tmp" || true
rm -f "$tmp"
[ -n "${u:-}" ] && awk -v o="$out" -v u="$u" -v s="$s" -v m="$m" -v e="$e" \
  'BEGIN { printf "%s\t%.1f\t%d\t%.1f\n", o, u + s, m / 1024, e }' >> "$log"
exit $rc
