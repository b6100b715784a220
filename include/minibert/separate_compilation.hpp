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

// The compiled part in three pieces, so that a build compiles them side by side (CMake's
// minibert::compiled does: src/compiled_part_{1,2,3}.cpp; one core compiling the whole part was
// the critical path of the sanitizer, fuzz and cross builds). An implementation TU that also
// defines MINIBERT_IMPLEMENTATION_PART as 1, 2 or 3 defines only that piece:
//   1  MINIBERT_DEFINE_KERNELS  kernel_table(): every kernel level (kernels/dispatch.hpp)
//   2  MINIBERT_DEFINE_FORWARD  Model::from_parts (the forward pass of every weight type), the
//                               heads, the family registry
//   3  MINIBERT_DEFINE_READERS  JSON, config.json, safetensors, the pruning plan, the tokenizer
//                               and its Unicode tables
// Three TUs, one per piece, make the same program as one TU without MINIBERT_IMPLEMENTATION_PART.
#if MINIBERT_DEFINE_COMPILED && defined(MINIBERT_IMPLEMENTATION_PART)
#if MINIBERT_IMPLEMENTATION_PART < 1 || MINIBERT_IMPLEMENTATION_PART > 3
#error "MINIBERT_IMPLEMENTATION_PART must be 1, 2 or 3 (include/minibert/separate_compilation.hpp)"
#endif
#define MINIBERT_DEFINE_KERNELS (MINIBERT_IMPLEMENTATION_PART == 1)
#define MINIBERT_DEFINE_FORWARD (MINIBERT_IMPLEMENTATION_PART == 2)
#define MINIBERT_DEFINE_READERS (MINIBERT_IMPLEMENTATION_PART == 3)
#else
#define MINIBERT_DEFINE_KERNELS MINIBERT_DEFINE_COMPILED
#define MINIBERT_DEFINE_FORWARD MINIBERT_DEFINE_COMPILED
#define MINIBERT_DEFINE_READERS MINIBERT_DEFINE_COMPILED
#endif
