// The optional Eigen interop header: MatrixView::eigen() and as_eigen() map a view's memory
// (row-major, its row stride) without copying, read-only for MatrixView, writable for
// MutableMatrixView. Built only where Eigen is installed (tests/CMakeLists.txt).
#include <doctest/doctest.h>

#include <minibert/eigen.hpp>
#include <type_traits>
#include <vector>

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_eigen {

TEST_CASE("eigen(): a strided view maps its rows, not the padding between them") {
    // 2 x 3 inside rows of 5 floats: the last two of each row are padding the map must skip.
    std::vector<float> storage = {1, 2, 3, -1, -1, 4, 5, 6, -1, -1};
    const minibert::MatrixView view(storage.data(), 2, 3, 5);
    const auto m = view.eigen();
    static_assert(std::is_const<std::remove_pointer_t<decltype(m.data())>>::value, "a MatrixView maps read-only");
    REQUIRE(m.rows() == 2);
    REQUIRE(m.cols() == 3);
    CHECK(m(0, 0) == 1);
    CHECK(m(0, 2) == 3);
    CHECK(m(1, 0) == 4);
    CHECK(m(1, 2) == 6);
    CHECK(m.sum() == 21);               // the -1 padding is not part of it
    CHECK(m.data() == storage.data());  // no copy
    CHECK(minibert::as_eigen(view).sum() == 21);
}

TEST_CASE("eigen(): a MutableMatrixView's map writes through to the view") {
    std::vector<float> storage(6, 0.0f);
    const minibert::MutableMatrixView view(storage.data(), 2, 3);
    view.eigen().row(1).setConstant(2.5f);
    CHECK(storage[2] == 0.0f);
    CHECK(storage[3] == 2.5f);
    CHECK(storage[5] == 2.5f);
    CHECK(view(1, 1) == 2.5f);
}
}  // namespace minibert_test_eigen
