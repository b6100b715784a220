// Parity with the PyTorch reference (tests/reference/bert_reference.py, run in float64) on the
// random-weight checkpoints that tests/reference/make_checkpoints.py writes: every golden case
// of every model, every output the model has.
//
// Tolerance 1e-4 absolute: minibert computes in fp32 with its own summation order, so each
// GEMM carries a relative error of about sqrt(K) * 2^-24 (~2e-6 at K = 3072) and each LayerNorm
// re-scales it by 1/std of its input. Measured worst cases are around 1e-5 on the BERT-base-wide
// checkpoint at 512 tokens; 1e-4 leaves that margin while still catching any real mistake (a
// wrong eps, a missing bias, the tanh instead of the erf GELU all move outputs by > 1e-3).
#include <doctest/doctest.h>

#include "test_support.hpp"

// A namespace per file: the test files are compiled together (tests/CMakeLists.txt: unity builds).
namespace minibert_test_reference_parity {

namespace {

constexpr float tolerance = 1e-4f;

void check_rows(const char* what, const minibert::MatrixView& actual, const nlohmann::json& expected) {
    REQUIRE(actual.rows() == expected.size());
    for (std::size_t r = 0; r < expected.size(); ++r) {
        const auto want = expected[r].get<std::vector<float>>();
        REQUIRE(actual.cols() == want.size());
        INFO(what << " row " << r);
        CHECK(test_support::max_abs_diff(actual.row(r), want) <= tolerance);
    }
}

void check_model(const std::string& name) {
    const auto golden = test_support::read_json(test_support::goldens_dir() + "/" + name + ".json");
    const minibert::Model model = minibert::Model::load(test_support::model_path(name));
    minibert::SessionOptions options;
    options.max_batch = 8;
    options.max_tokens = 1024;
    minibert::Session session(model, options);

    for (const auto& c : golden.at("cases")) {
        const std::string id = c.at("id").get<std::string>();
        CAPTURE(name);
        CAPTURE(id);
        const minibert::Batch batch = test_support::batch_from_case(c);
        const minibert::Outputs out = session.run(batch);
        const auto& expected = c.at("expected");
        const auto lengths = c.at("lengths").get<std::vector<std::size_t>>();
        REQUIRE(out.batch_size == lengths.size());
        for (std::size_t b = 0; b < lengths.size(); ++b) REQUIRE(out.offsets[b + 1] - out.offsets[b] == lengths[b]);

        const auto& lhs = expected.at("last_hidden_state");
        const auto& positions = lhs.at("positions");
        for (std::size_t i = 0; i < positions.size(); ++i) {
            const std::size_t b = positions[i][0].get<std::size_t>(), t = positions[i][1].get<std::size_t>();
            const auto want = lhs.at("values")[i].get<std::vector<float>>();
            INFO("last_hidden_state batch " << b << " position " << t);
            CHECK(test_support::max_abs_diff(out.hidden_states(b).row(t), want) <= tolerance);
        }
        check_rows("mean_pooled", out.mean_pooled, expected.at("mean_pooled"));
        if (expected.contains("pooler_output")) check_rows("pooler_output", out.pooler_output, expected["pooler_output"]);
        else CHECK(out.pooler_output.empty());

        switch (model.config().head) {
            case minibert::HeadKind::none: break;
            case minibert::HeadKind::sequence_classification:
                check_rows("logits", out.logits, expected.at("logits"));
                break;
            case minibert::HeadKind::token_classification:
                for (std::size_t b = 0; b < lengths.size(); ++b) {
                    const minibert::MatrixView rows(out.logits.row(out.offsets[b]), lengths[b], out.logits.cols());
                    check_rows("token logits", rows, expected.at("logits")[b]);
                }
                break;
            case minibert::HeadKind::question_answering:
                for (std::size_t b = 0; b < lengths.size(); ++b) {
                    INFO("start/end logits of batch row " << b);
                    CHECK(test_support::max_abs_diff(out.start_logits.data() + out.offsets[b],
                                                     expected.at("start_logits")[b].get<std::vector<float>>()) <= tolerance);
                    CHECK(test_support::max_abs_diff(out.end_logits.data() + out.offsets[b],
                                                     expected.at("end_logits")[b].get<std::vector<float>>()) <= tolerance);
                }
                break;
        }
    }
}

}  // namespace

TEST_CASE("BERT matches the reference: bare encoder, F32") { check_model("tiny-bert"); }
TEST_CASE("BERT sequence classification (gelu_new, 3 token types)") { check_model("tiny-bert-seqcls"); }
TEST_CASE("BERT token classification (relu, eps 1e-5, no pooler)") { check_model("tiny-bert-tokcls"); }
TEST_CASE("BERT question answering") { check_model("tiny-bert-qa"); }
TEST_CASE("BERT stored as F16") { check_model("tiny-bert-f16"); }
TEST_CASE("BERT stored as BF16") { check_model("tiny-bert-bf16"); }
TEST_CASE("DistilBERT bare encoder") { check_model("tiny-distilbert"); }
TEST_CASE("DistilBERT sequence classification") { check_model("tiny-distilbert-seqcls"); }
TEST_CASE("DistilBERT token classification") { check_model("tiny-distilbert-tokcls"); }
TEST_CASE("DistilBERT question answering") { check_model("tiny-distilbert-qa"); }
TEST_CASE("BERT pruned: HF pruned_heads and per-layer FFN widths") { check_model("tiny-bert-pruned"); }
TEST_CASE("DistilBERT pruned: HF pruned_heads and per-layer FFN widths") { check_model("tiny-distilbert-pruned"); }
TEST_CASE("TinyBERT-4L-312 shape") { check_model("tinybert-4l-312"); }
TEST_CASE("BERT-base width, 2 layers") { check_model("bert-base-2l"); }
TEST_CASE("DistilBERT-base width, 3 layers, QA") { check_model("distilbert-3l"); }

// The other families (models/<family>.hpp), every head, lengths 1..512 and a padded batch:
// goldens from tests/reference/bert_reference.py's restatement of transformers' modelling code.
TEST_CASE("RoBERTa base model: positions after padding_idx, pooler") { check_model("tiny-roberta"); }
TEST_CASE("XLM-RoBERTa cross-encoder: one label, raw score") { check_model("tiny-xlmr-seqcls"); }
TEST_CASE("RoBERTa sequence classification (gelu_new, dense-tanh-out_proj head)") { check_model("tiny-roberta-seqcls"); }
TEST_CASE("CamemBERT token classification") { check_model("tiny-camembert-tokcls"); }
TEST_CASE("RoBERTa question answering") { check_model("tiny-roberta-qa"); }
TEST_CASE("ELECTRA base model: embeddings_project 16 -> 32") { check_model("tiny-electra"); }
TEST_CASE("ELECTRA sequence classification (relu layers, gelu head)") { check_model("tiny-electra-seqcls"); }
TEST_CASE("ELECTRA cross-encoder without projection: one label") { check_model("tiny-electra-reranker"); }
TEST_CASE("ELECTRA token classification") { check_model("tiny-electra-tokcls"); }
TEST_CASE("ELECTRA question answering") { check_model("tiny-electra-qa"); }
TEST_CASE("MPNet base model: relative position bias, pooler") { check_model("tiny-mpnet"); }
TEST_CASE("MPNet sequence classification") { check_model("tiny-mpnet-seqcls"); }
TEST_CASE("MPNet token classification") { check_model("tiny-mpnet-tokcls"); }
TEST_CASE("MPNet question answering") { check_model("tiny-mpnet-qa"); }
}  // namespace minibert_test_reference_parity
