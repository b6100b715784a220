// The compiled part of minibert (include/minibert/separate_compilation.hpp): the one translation
// unit that defines the functions instantiating the kernels and the forward pass. Built as
// CMake's minibert::compiled, whose users get MINIBERT_SEPARATE_COMPILATION and link this.
// Without CMake: compile this file once (or define MINIBERT_IMPLEMENTATION in one of your own
// files before including minibert) and define MINIBERT_SEPARATE_COMPILATION everywhere else.
#define MINIBERT_IMPLEMENTATION
#include <minibert/minibert.hpp>
