#!/usr/bin/env bash
# Installs the Debian 12 packages minibert's build, tests and demo need, if any is missing.
# Run as root (or with sudo available). Nothing is downloaded from anywhere but Debian's mirrors.
set -euo pipefail

packages=(
  build-essential cmake
  libxsimd-dev xtl-dev libeigen3-dev nlohmann-json3-dev   # the library's own dependencies
  doctest-dev libbenchmark-dev                            # tests and benches
  clang-14 libclang-rt-14-dev                             # libFuzzer harnesses (scripts/fuzz.sh)
  python3 python3-numpy python3-torch python3-tqdm        # checkpoints, reference, converter
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
