// Bounded memory: a Session allocates exactly workspace_bytes() when it is built (counted with
// the operator new / malloc hook of alloc_counter.hpp) and nothing at all afterwards, whatever
// the batch shape, thread count or head.
#include <doctest/doctest.h>

#include <random>

#include "alloc_counter.hpp"
#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_no_allocation {

namespace {

using minibert::Model;
using minibert::Session;
using minibert::SessionOptions;

std::vector<std::int32_t> random_ids(std::mt19937& rng, std::size_t vocab, std::size_t length) {
    std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
    std::vector<std::int32_t> ids(length);
    for (auto& v : ids) v = id(rng);
    return ids;
}

/// Batches of 1..max_batch sequences of 1..max_sequence tokens (total within max_tokens).
std::vector<minibert::Batch> varied_batches(const Model& model, const SessionOptions& o, std::size_t count) {
    std::mt19937 rng(7);
    std::vector<minibert::Batch> out;
    for (std::size_t i = 0; i < count; ++i) {
        minibert::Batch batch;
        const std::size_t seqs = 1 + rng() % o.max_batch;
        std::size_t budget = o.max_tokens;
        for (std::size_t b = 0; b < seqs && budget > 0; ++b) {
            const std::size_t length = 1 + rng() % std::min(budget, o.max_sequence);
            std::vector<std::int32_t> types(length, 0);
            if (model.config().model_type == minibert::ModelType::bert)
                for (std::size_t t = length / 2; t < length; ++t) types[t] = 1;
            batch.add(random_ids(rng, model.config().vocab_size, length), types);
            budget -= length;
        }
        out.push_back(std::move(batch));
    }
    // The largest shapes the limits allow: one sequence of max_sequence, max_batch of length 1.
    minibert::Batch longest;
    longest.add(random_ids(rng, model.config().vocab_size, std::min(o.max_sequence, o.max_tokens)));
    out.push_back(std::move(longest));
    minibert::Batch widest;
    for (std::size_t b = 0; b < o.max_batch; ++b) widest.add(random_ids(rng, model.config().vocab_size, 1));
    out.push_back(std::move(widest));
    return out;
}

SessionOptions options(std::size_t threads, std::size_t max_batch, std::size_t max_tokens, std::size_t max_sequence) {
    SessionOptions o;
    o.threads = threads;
    o.max_batch = max_batch;
    o.max_tokens = max_tokens;
    o.max_sequence = max_sequence;
    return o;
}

const char* const all_models[] = {"tiny-bert",        "tiny-bert-seqcls",       "tiny-bert-tokcls",       "tiny-bert-qa",
                                  "tiny-distilbert",  "tiny-distilbert-seqcls", "tiny-distilbert-tokcls", "tiny-distilbert-qa",
                                  "tinybert-4l-312",  "small-bert-qa"};

}  // namespace

TEST_CASE("the hook counts: a vector, an aligned buffer and malloc are seen") {
    alloc_counter::Scope scope;
    {
        std::vector<int> v(100);
        minibert::AlignedBuffer<float> b(33);
        if (alloc_counter::counts_malloc()) {
            void* volatile p = std::malloc(10);
            std::free(p);
        }
    }
    const alloc_counter::Counts c = scope.counted();
    CHECK(c.aligned_calls == 1);
    CHECK(c.aligned_bytes == 33 * sizeof(float));
    CHECK(c.calls == (alloc_counter::counts_malloc() ? 3u : 2u));
    CHECK(c.bytes == 100 * sizeof(int) + 33 * sizeof(float) + (alloc_counter::counts_malloc() ? 10u : 0u));
    CHECK(c.frees == c.calls);
}

TEST_CASE("Session construction allocates exactly workspace_bytes() (plus the pool object)") {
    for (const char* name : all_models) {
        const Model model = Model::load(test_support::model_path(name));
        const std::size_t max_pos = model.config().max_position_embeddings;
        for (const SessionOptions& o : {SessionOptions{}, options(1, 1, 1, 1), options(1, 8, 256, 64),
                                        options(1, 3, 100, 0), options(2, 4, 512, 128), options(4, 64, 0, 0),
                                        Session::options_for(5, max_pos, 3)}) {
            CAPTURE(name);
            CAPTURE(o.threads);
            CAPTURE(o.max_batch);
            CAPTURE(o.max_tokens);
            CAPTURE(o.max_sequence);
            const std::size_t expected = Session::workspace_bytes(model, o);
            alloc_counter::Counts c;
            {
                alloc_counter::Scope scope;
                Session session(model, o);
                c = scope.counted();
                alloc_counter::Pause pause;
                CHECK(session.workspace_bytes() == expected);
            }
            // The workspace is the five aligned buffers: exactly what workspace_bytes() says.
            CHECK(c.aligned_bytes == expected);
            CHECK(c.aligned_calls == 5);
            if (o.threads <= 1) {
                // Besides the workspace, one thread allocates only the ThreadPool object.
                CHECK(c.calls - c.aligned_calls == 1);
                CHECK(c.bytes - c.aligned_bytes == sizeof(minibert::ThreadPool));
            }
        }
    }
}

TEST_CASE("workspace_bytes(model, max_batch, max_sequence) equals the session built from those limits") {
    const Model model = Model::load(test_support::model_path("tinybert-4l-312"));
    for (std::size_t batch : {1u, 4u, 32u})
        for (std::size_t seq : {1u, 16u, 128u, 512u}) {
            CAPTURE(batch);
            CAPTURE(seq);
            const std::size_t bytes = Session::workspace_bytes(model, batch, seq);
            alloc_counter::Scope scope;
            Session session(model, Session::options_for(batch, seq));
            const alloc_counter::Counts c = scope.counted();
            CHECK(c.aligned_bytes == bytes);
            CHECK(session.options().max_tokens == batch * seq);
        }
    // It grows with each limit.
    CHECK(Session::workspace_bytes(model, 1, 128) < Session::workspace_bytes(model, 2, 128));
    CHECK(Session::workspace_bytes(model, 2, 64) < Session::workspace_bytes(model, 2, 128));
    CHECK(Session::workspace_bytes(model, 2, 64, 1) < Session::workspace_bytes(model, 2, 64, 4));
}

TEST_CASE("run() and sentence_embeddings() allocate nothing, from the first run on") {
    for (const char* name : all_models) {
        const Model model = Model::load(test_support::model_path(name));
        for (std::size_t threads = 1; threads <= 4; ++threads) {
            CAPTURE(name);
            CAPTURE(threads);
            const SessionOptions o = options(threads, 6, 300, std::min<std::size_t>(128, model.config().max_position_embeddings));
            Session session(model, o);
            const std::vector<minibert::Batch> batches = varied_batches(model, session.options(), 12);
            std::size_t allocations = 0, bytes = 0;
            for (const minibert::Batch& batch : batches) {
                alloc_counter::Scope scope;
                const minibert::Outputs out = session.run(batch);
                (void)session.sentence_embeddings(minibert::Pooling::mean, true);
                (void)session.sentence_embeddings(minibert::Pooling::cls, false);
                allocations += scope.counted().calls;
                bytes += scope.counted().bytes;
                alloc_counter::Pause pause;
                REQUIRE(out.batch_size == batch.size());
            }
            CHECK(allocations == 0);
            CHECK(bytes == 0);
        }
    }
}

TEST_CASE("refused inputs allocate only their error message") {
    const Model model = Model::load(test_support::model_path("tiny-bert"));
    Session session(model, options(1, 2, 16, 8));
    minibert::Batch too_long;
    too_long.add(std::vector<std::int32_t>(9, 1));
    alloc_counter::Scope scope;
    CHECK_THROWS_AS(session.run(too_long), minibert::Error);
    // The Error's strings and the exception object; never anything sized by the input.
    CHECK(scope.counted().largest < 4096);
}
}  // namespace minibert_test_no_allocation
