// minibert's version, as CMake's project(minibert VERSION ...) states it (examples/CMakeLists.txt
// refuses to configure when the two disagree, so a release bumps both).
#pragma once

#define MINIBERT_VERSION_MAJOR 0
#define MINIBERT_VERSION_MINOR 1
#define MINIBERT_VERSION_PATCH 0
#define MINIBERT_VERSION_STRING "0.1.0"
/// One integer that orders releases: major * 10000 + minor * 100 + patch.
#define MINIBERT_VERSION (MINIBERT_VERSION_MAJOR * 10000 + MINIBERT_VERSION_MINOR * 100 + MINIBERT_VERSION_PATCH)
