#!/usr/bin/env bash
# Runs the shell blocks the docs mark as runnable, so the commands in docs/ and README.md keep
# working as written. A block is runnable when its fence is
#
#   ```sh runnable         quick: run by scripts/test.sh (CI) after the release build
#   ```sh runnable-long    slow (benchmarks, training, downloads): run with --long only
#
# Plain ```sh blocks are illustrations (placeholders such as /path/to/hf-folder) and are not run.
# Each block runs on its own in bash -euo pipefail from the repository root, with the release
# build at build/release (scripts/test.sh makes it first), bounded by DOCS_TIMEOUT seconds
# (default 300). Exit status: the number of failed blocks (0 = all ran).
#
#   bash scripts/check_docs.sh [--long] [--list] [FILE.md...]   default files: README.md docs/*.md
set -uo pipefail
cd "$(dirname "$0")/.."
long=0 list=0
files=()
for a in "$@"; do
  case "$a" in
    --long) long=1 ;;
    --list) list=1 ;;
    *) files+=("$a") ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=(README.md docs/*.md)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Split every marked block into $work/NNN.sh with a first line naming file:line.
n=0
for f in "${files[@]}"; do
  tag=$(echo "$f" | tr -c 'A-Za-z0-9\n' '_')
  awk -v f="$f" -v tag="$tag" -v long="$long" -v dir="$work" '
    /^```sh runnable(-long)?[ \t]*$/ {
      if ($2 == "runnable" || long == 1) { n = sprintf("%s/%s_%05d.sh", dir, tag, NR); print "# " f ":" NR > n; on = 1 }
      next
    }
    /^```/ { if (on) close(n); on = 0; next }
    on { print > n }
  ' "$f"
done
blocks=("$work"/*.sh)
[ -e "${blocks[0]}" ] || { echo "check_docs: no runnable blocks"; exit 0; }

if [ "$list" = 1 ]; then
  for b in "${blocks[@]}"; do sed -n '1s/^# //p' "$b"; sed '1d' "$b" | sed 's/^/    /'; done
  exit 0
fi

failed=0
for b in "${blocks[@]}"; do
  where=$(sed -n '1s/^# //p' "$b")
  start=$(date +%s)
  if timeout "${DOCS_TIMEOUT:-300}" bash -euo pipefail "$b" > "$b.log" 2>&1; then
    echo "check_docs: $where: ok ($(( $(date +%s) - start )) s)"
  else
    echo "check_docs: $where: FAILED (exit $?); the block and its last output:" >&2
    sed '1d' "$b" | sed 's/^/    $ /' >&2
    tail -20 "$b.log" | sed 's/^/    | /' >&2
    failed=$((failed + 1))
  fi
done
echo "check_docs: ${#blocks[@]} blocks, $failed failed"
exit "$failed"
