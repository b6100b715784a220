// The smallest useful minibert program: load a model folder, run three token ids, print the
// first hidden values. Built by tests/check_install.sh against the installed and the vendored
// library to prove both ways of consuming it work.
#include <minibert/minibert.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: consumer MODEL_DIR\n");
        return 2;
    }
    try {
        const minibert::Model model = minibert::Model::load(argv[1]);
        minibert::Session session(model);
        minibert::Batch batch;
        batch.add({1, 2, 3});
        const minibert::Outputs out = session.run(batch);
        std::printf("hidden[0][0..2] = %.6f %.6f %.6f\n", out.last_hidden_state(0, 0), out.last_hidden_state(0, 1),
                    out.last_hidden_state(0, 2));
    } catch (const minibert::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
