// Target regions: how a flagless build compiles one kernel level's intrinsics (kernels/x86/*,
// kernels/arm/*).
//
//   MINIBERT_TARGET_BEGIN("avx,avx2,fma,f16c")   every function defined until MINIBERT_TARGET_END
//   namespace minibert::kernels::isa_avx2 { ... } is compiled for that target, whatever -m flags
//   MINIBERT_TARGET_END                           the translation unit has
//
// GCC takes `#pragma GCC push_options` + `target(...)` (templates defined in the region keep the
// target when instantiated later); clang takes `#pragma clang attribute push(target)`. Each level
// keeps its own namespace, so no inline function is compiled for two targets under one symbol,
// and only the dispatch table (kernels/dispatch.hpp) calls into a region, through a pointer.
// GCC 12's AVX-512 headers trip a false -W(maybe-)uninitialized (PR 105593, the `__Y = __Y`
// idiom of _mm512_undefined_*), so those two warnings are silenced inside regions only.
#pragma once

#define MINIBERT_DETAIL_PRAGMA(text) _Pragma(#text)

#if defined(__clang__)
#define MINIBERT_TARGET_BEGIN(targets) \
    MINIBERT_DETAIL_PRAGMA(clang attribute push(__attribute__((target(targets))), apply_to = function))
#define MINIBERT_TARGET_END MINIBERT_DETAIL_PRAGMA(clang attribute pop)
#elif defined(__GNUC__)
#define MINIBERT_TARGET_BEGIN(targets)                                  \
    MINIBERT_DETAIL_PRAGMA(GCC diagnostic push)                         \
    MINIBERT_DETAIL_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized") \
    MINIBERT_DETAIL_PRAGMA(GCC diagnostic ignored "-Wuninitialized")    \
    MINIBERT_DETAIL_PRAGMA(GCC push_options)                            \
    MINIBERT_DETAIL_PRAGMA(GCC target(targets))
#define MINIBERT_TARGET_END MINIBERT_DETAIL_PRAGMA(GCC pop_options) MINIBERT_DETAIL_PRAGMA(GCC diagnostic pop)
#else
#error "minibert's kernel levels need GCC or clang (target pragmas)"
#endif

// The target strings of the levels (cpu/cpu_info.hpp says which the host has). aarch64's: GCC
// inlines arm_neon.h's SDOT intrinsics only into code for their own target, armv8.2-a+dotprod
// (a bare "+dotprod" on an armv8-a build is a target mismatch); clang takes the feature name.
#define MINIBERT_TARGETS_AVX2 "avx,avx2,fma,f16c"
#define MINIBERT_TARGETS_AVXVNNI "avx,avx2,fma,f16c,avxvnni"
#define MINIBERT_TARGETS_AVX512 "avx,avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl"
#define MINIBERT_TARGETS_AVX512VNNI "avx,avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"
#define MINIBERT_TARGETS_AMX "avx,avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,amx-tile,amx-int8"
#if defined(__clang__)
#define MINIBERT_TARGETS_DOTPROD "dotprod"
#else
#define MINIBERT_TARGETS_DOTPROD "arch=armv8.2-a+dotprod"
#endif
