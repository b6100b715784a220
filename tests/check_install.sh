#!/usr/bin/env bash
# Installs minibert from BUILD_DIR into a scratch prefix, then builds examples/consumer three
# ways: against the installed CMake package (find_package(minibert CONFIG)), vendored
# (add_subdirectory), and with plain g++ and the installed minibert.pc (pkg-config), and runs each
# on MODEL_DIR; then minibert::eigen (the optional Eigen interop) where Eigen is installed.
# Usage: check_install.sh SOURCE_DIR BUILD_DIR MODEL_DIR
#
# The consumers are built without optimisation (no CMAKE_BUILD_TYPE, g++ -O0): what is checked
# here is that each way finds the headers and dependencies and links, not the kernels' speed, and
# -O0 compiles the whole library in a third of -O2's time.
set -euo pipefail
src=$1 build=$2 model=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
test -f "$work/prefix/include/minibert/minibert.hpp"
cmake -S "$src/examples/consumer" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/installed" > /dev/null
"$work/installed/consumer" "$model"
cmake -S "$src/examples/consumer" -B "$work/vendored" -DMINIBERT_SOURCE_DIR="$src" > /dev/null
cmake --build "$work/vendored" > /dev/null
# Vendored: minibert's own tests and examples must not be part of the consumer's build.
if [ -e "$work/vendored/minibert/tests" ] || [ -e "$work/vendored/minibert/examples" ]; then
  echo "vendored build configured minibert's tests or examples" >&2
  exit 1
fi
"$work/vendored/consumer" "$model"
# pkg-config: the installed minibert.pc must point into the prefix it was installed to (it is
# relocatable), not at the source tree.
export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
flags=$(pkg-config --cflags --libs minibert)
case "$flags" in
  *"$src/include"*) echo "minibert.pc points at the source tree: $flags" >&2; exit 1 ;;
esac
test "$(pkg-config --variable=includedir minibert)" -ef "$work/prefix/include"
# shellcheck disable=SC2086  # the flags are words
# Separate compilation without CMake, as the README puts it: MINIBERT_SEPARATE_COMPILATION in
# every TU and MINIBERT_IMPLEMENTATION in one of the program's own (every piece of the compiled
# part in that one TU; the project's own build compiles the pieces apart, src/compiled_part_*.cpp).
printf '#define MINIBERT_IMPLEMENTATION\n#include <minibert/minibert.hpp>\n' > "$work/implementation.cpp"
${CXX:-g++} -O0 -mavx2 -mfma -mf16c -DMINIBERT_SEPARATE_COMPILATION "$src/examples/consumer/main.cpp" \
  "$work/implementation.cpp" $flags -o "$work/pkgconfig-consumer"
"$work/pkgconfig-consumer" "$model"
# The optional Eigen interop through the installed package: minibert::eigen, where Eigen is.
mkdir -p "$work/eigen-src"
cat > "$work/eigen-src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(eigen_consumer LANGUAGES CXX)
find_package(minibert CONFIG REQUIRED)
find_package(Eigen3 3.3 QUIET NO_MODULE)
if(TARGET Eigen3::Eigen)
  add_executable(eigen_consumer main.cpp)
  target_link_libraries(eigen_consumer PRIVATE minibert::eigen)
endif()
CMAKE
cat > "$work/eigen-src/main.cpp" <<'CPP'
#include <minibert/eigen.hpp>
#include <vector>
int main() {
    std::vector<float> v{1, 2, 3, 4, 5, 6};
    const minibert::MatrixView m(v.data(), 2, 2, 3);  // rows of 3, 2 used
    return m.eigen().sum() == 1 + 2 + 4 + 5 ? 0 : 1;
}
CPP
cmake -S "$work/eigen-src" -B "$work/eigen" -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/eigen" > /dev/null
if [ -x "$work/eigen/eigen_consumer" ]; then "$work/eigen/eigen_consumer"; echo "minibert::eigen: ok"; fi
# The C API, where it was built (MINIBERT_BUILD_C_API): examples/c/classify.c compiled as C against
# the installed libminibert_c, shared and static through minibert_c.pc, and through the CMake package.
if [ -f "$work/prefix/share/pkgconfig/minibert_c.pc" ]; then
  libdir=$(pkg-config --variable=libdir minibert_c)
  test "$libdir" -ef "$(dirname "$(find "$work/prefix" -name 'libminibert_c.so' | head -1)")"
  # shellcheck disable=SC2046  # the flags are words
  ${CC:-cc} -std=c99 "$src/examples/c/classify.c" $(pkg-config --cflags --libs minibert_c) -o "$work/c-shared"
  LD_LIBRARY_PATH="$libdir" "$work/c-shared" "$src/models/sst2-student" "a gorgeous, witty, seductive movie." | grep "^positive " > /dev/null
  # shellcheck disable=SC2046
  ${CC:-cc} -std=c99 "$src/examples/c/classify.c" $(pkg-config --static --cflags minibert_c) "$libdir/libminibert_c.a" \
    $(pkg-config --static --libs-only-other --libs-only-l minibert_c | sed 's/-lminibert_c//') -o "$work/c-static"
  "$work/c-static" "$src/models/sst2-student" "a gorgeous, witty, seductive movie." | grep "^positive " > /dev/null
  mkdir -p "$work/c-src"
  cp "$src/examples/c/classify.c" "$work/c-src/"
  cat > "$work/c-src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(c_consumer LANGUAGES C CXX)
find_package(minibert CONFIG REQUIRED)
add_executable(c-shared classify.c)
target_link_libraries(c-shared PRIVATE minibert::minibert_c)
add_executable(c-static classify.c)
target_link_libraries(c-static PRIVATE minibert::minibert_c_static)
CMAKE
  cmake -S "$work/c-src" -B "$work/c-cmake" -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
  cmake --build "$work/c-cmake" > /dev/null
  "$work/c-cmake/c-shared" "$src/models/sst2-student" "a gorgeous movie" > /dev/null
  "$work/c-cmake/c-static" "$src/models/sst2-student" "a gorgeous movie" > /dev/null
  echo "libminibert_c (pkg-config shared and static, CMake package): ok"
fi
echo "install, vendoring and pkg-config: ok"
