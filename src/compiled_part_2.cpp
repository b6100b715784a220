// Piece 2 of minibert's compiled part (the forward pass, heads, families): see
// include/minibert/separate_compilation.hpp. CMake's minibert::compiled compiles the three
// pieces side by side; src/minibert_compiled.cpp is all three in one TU.
#define MINIBERT_IMPLEMENTATION
#define MINIBERT_IMPLEMENTATION_PART 2
#include <minibert/minibert.hpp>
