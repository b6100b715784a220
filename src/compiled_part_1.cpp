// Piece 1 of minibert's compiled part (kernel_table(), every kernel level): see
// include/minibert/separate_compilation.hpp. CMake's minibert::compiled compiles the three
// pieces side by side; src/minibert_compiled.cpp is all three in one TU.
#define MINIBERT_IMPLEMENTATION
#define MINIBERT_IMPLEMENTATION_PART 1
#include <minibert/minibert.hpp>
