#!/usr/bin/env bash
# libminibert_c's exports against include/minibert/c_api.h: the shared library exports exactly the
# minibert_* functions the header declares (nothing C++: src/c_api.map), and tests/test_c_api.c
# calls every one of them.
# Usage: check_c_api_exports.sh SOURCE_DIR LIBMINIBERT_C_SO
set -euo pipefail
src=$1 lib=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort)
declared=$(grep -oE 'MINIBERT_C_EXPORT [^(]*\b(minibert_[a-z0-9_]+)\(' "$src/include/minibert/c_api.h" |
           grep -oE 'minibert_[a-z0-9_]+\($' | tr -d '(' | sort)
if [ "$exported" != "$declared" ]; then
  echo "exported but not declared, or declared but not exported:" >&2
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  exit 1
fi
untested=0
for f in $declared; do
  grep -q "\b$f(" "$src/tests/test_c_api.c" || { echo "tests/test_c_api.c never calls $f" >&2; untested=1; }
done
[ "$untested" = 0 ]
echo "libminibert_c: $(echo "$declared" | wc -l) functions, all declared, exported and tested; nothing else exported"
