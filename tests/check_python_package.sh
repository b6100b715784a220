#!/usr/bin/env bash
# The Python package (python/) as a user gets it: installed with Debian's pip offline (no index,
# no build isolation: setuptools from Debian) into a scratch folder, then its pytest suite run
# against that installed copy and the libminibert_c.so under test.
# Usage: check_python_package.sh SOURCE_DIR LIBMINIBERT_C MODELS_DIR TOOLS_DIR
set -euo pipefail
src=$1 lib=$2 models=$3 tools=$4
python=${MINIBERT_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/python" "$work/src"  # pip builds in the folder it is given: not in the source tree
"$python" -m pip install --quiet --no-build-isolation --no-deps --no-index --target "$work/site" "$work/src" 2>&1 |
  grep -v "Running pip as the 'root' user" || true
test -f "$work/site/minibert/__init__.py"
export PYTHONPATH="$work/site" MINIBERT_C_LIBRARY="$lib" MINIBERT_TEST_MODELS_DIR="$models" MINIBERT_TOOLS_DIR="$tools"
export PYTHONDONTWRITEBYTECODE=1
cd "$work"
"$python" -c 'import minibert, sys; sys.exit(0 if minibert.__file__.startswith(sys.argv[1]) else 1)' "$work/site"
"$python" -m pytest -q -p no:cacheprovider "$src/python/tests"
# The Python example (examples/python/classify.py) on the demo model, through the installed package.
"$python" "$src/examples/python/classify.py" "$src/models/sst2-student" | grep "^positive " > /dev/null
