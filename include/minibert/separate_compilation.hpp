// Header-only by default; optionally, the few functions that instantiate the kernels and the
// forward pass compiled once per program instead of once per translation unit (the pattern of
// Asio's ASIO_SEPARATE_COMPILATION and spdlog's SPDLOG_COMPILED_LIB).
//
//   header-only (default)   every TU that loads a model compiles the whole library (~20 s of
//                           CPU at -O2 per TU: the six x86 kernel levels and the forward pass of
//                           the three weight types)
//   MINIBERT_SEPARATE_COMPILATION defined in every TU, and exactly one TU also defining
//   MINIBERT_IMPLEMENTATION before including <minibert/minibert.hpp> (or linking CMake's
//   minibert::compiled, whose src/minibert_compiled.cpp is that TU): the other TUs see
//   declarations only for those functions, and the program links their one definition.
//
// Same code, same results either way; only where the compiler meets it changes.
#pragma once

#if defined(MINIBERT_IMPLEMENTATION) && !defined(MINIBERT_SEPARATE_COMPILATION)
#define MINIBERT_SEPARATE_COMPILATION
#endif

// MINIBERT_COMPILED_INLINE prefixes the out-of-line functions (external linkage, one copy in the
// implementation TU, when separate); MINIBERT_COMPILED_CONSTEXPR the generated tables
// (tokenizer/unicode_*tables.hpp: one extern definition there, inline constexpr arrays when
// header-only); MINIBERT_DEFINE_COMPILED says whether this TU sees their definitions.
#if defined(MINIBERT_SEPARATE_COMPILATION)
#define MINIBERT_COMPILED_INLINE
#define MINIBERT_COMPILED_CONSTEXPR extern constexpr
#if defined(MINIBERT_IMPLEMENTATION)
#define MINIBERT_DEFINE_COMPILED 1
#else
#define MINIBERT_DEFINE_COMPILED 0
#endif
#else
#define MINIBERT_COMPILED_INLINE inline
#define MINIBERT_COMPILED_CONSTEXPR inline constexpr
#define MINIBERT_DEFINE_COMPILED 1
#endif
