#!/usr/bin/env bash
# Installs the Debian 12 packages one job needs, and only those, if any is missing.
#
#   bash scripts/install_deps.sh [GROUP...]      default: tests
#
#   demo    build a minibert tool: a C++17 compiler, make, cmake, the library's three
#           header packages (xsimd + its xtl, nlohmann-json) and CLI11 (the tools' parser). What scripts/demo.sh needs.
#   tests   demo + what scripts/test.sh builds and runs: doctest, Google Benchmark (the release
#           suite compiles the benches), Eigen (the optional interop header's test), CLI11 (the
#           tools' argument parser), clang-14 + libFuzzer runtime (scripts/fuzz.sh), python3 with
#           numpy (test checkpoints) and torch (the converter's test), pkg-config (minibert.pc test),
#           pytest, pip, setuptools and wheel (the Python package's offline install and tests),
#           cpp-httplib + curl (minibert-serve and its tests),
#           g++-aarch64-linux-gnu + qemu-user + ninja-build (every CMake build of scripts/test.sh; the aarch64 stage).
#   bench   demo + Google Benchmark
#   serve   demo + what minibert-serve (server/) and bench/serve/ need: cpp-httplib (the HTTP
#           library, libcpp-httplib-dev), curl, wrk (load generator), nginx-light (replicas)
#   peers   bench + python3 torch/onnx and node + npm (bench/peers/run.sh)
#   plot    python3-matplotlib (scripts/plot_compare.py, bench/peers/plot.py)
#   all     every group above
#
# Run as root (or with sudo available). Nothing is downloaded from anywhere but Debian's mirrors
# (bench/peers/run.sh then fetches onnxruntime-node from npm itself).
set -euo pipefail

demo=(g++ make cmake libxsimd-dev xtl-dev nlohmann-json3-dev libcli11-dev)
tests=("${demo[@]}" doctest-dev libbenchmark-dev libeigen3-dev libcli11-dev pkg-config
       clang-14 libclang-rt-14-dev python3 python3-numpy python3-torch python3-tqdm
       python3-pytest python3-pip python3-setuptools python3-wheel libcpp-httplib-dev curl
       g++-aarch64-linux-gnu qemu-user ninja-build)
bench=("${demo[@]}" libbenchmark-dev)
serve=("${demo[@]}" pkg-config libcpp-httplib-dev curl wrk nginx-light)
peers=("${bench[@]}" python3 python3-numpy python3-torch python3-onnx nodejs npm)
plot=(python3 python3-matplotlib)

[ $# -gt 0 ] || set -- tests
packages=()
for group in "$@"; do
  case "$group" in
    demo) packages+=("${demo[@]}") ;;
    tests) packages+=("${tests[@]}") ;;
    bench) packages+=("${bench[@]}") ;;
    serve) packages+=("${serve[@]}") ;;
    peers) packages+=("${peers[@]}") ;;
    plot) packages+=("${plot[@]}") ;;
    all) packages+=("${tests[@]}" "${serve[@]}" "${peers[@]}" "${plot[@]}") ;;
    *) echo "install_deps.sh: unknown group '$group' (demo, tests, bench, serve, peers, plot, all)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  case " ${missing[*]:-} " in *" $p "*) continue ;; esac
  # node and npm may come from elsewhere (nodesource's nodejs bundles npm): a working command is enough.
  if [ "$p" = nodejs ] || [ "$p" = npm ]; then
    command -v "${p/nodejs/node}" > /dev/null && continue
  fi
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
