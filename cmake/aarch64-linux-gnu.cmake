# Cross build for aarch64 with Debian's g++-aarch64-linux-gnu, tests run under qemu-user:
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#   QEMU_CPU=max ctest --test-dir build/aarch64      (QEMU_CPU=cortex-a53: a CPU without dotprod)
# (scripts/test.sh's aarch64 stage does this for the kernel, parity and quantized-model tests.)
#
# minibert's dependencies are header-only (xsimd, xtl, nlohmann_json, doctest), so the host's
# Debian packages serve: their CMake packages are found on the host, and Debian's cross g++
# searches /usr/include only after its own aarch64 headers (so no aarch64 copies are needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# GCC's note that passing std::pair<double, double> changed ABI in GCC 10.1 (-Wpsabi) concerns
# linking against code built by GCC < 10, which nothing here does.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# Debian ships xsimd's (header-only) CMake package under the host's multiarch directory.
if(NOT xsimd_DIR AND EXISTS /usr/lib/x86_64-linux-gnu/cmake/xsimd/xsimdConfig.cmake)
  set(xsimd_DIR /usr/lib/x86_64-linux-gnu/cmake/xsimd CACHE PATH "xsimd's CMake package (header-only)")
endif()

# ctest runs the test programs through qemu, with the cross glibc as their loader's root; the
# CPU model comes from the environment (QEMU_CPU), so one build runs on several emulated CPUs.
find_program(MINIBERT_QEMU_AARCH64 qemu-aarch64 qemu-aarch64-static)
if(MINIBERT_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MINIBERT_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
endif()
