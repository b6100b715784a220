// The one translation unit that holds doctest's main(); every tests/test_*.cpp links it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
