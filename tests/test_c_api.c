/* The C API (include/minibert/c_api.h) from C, compiled as C99: every function, its error paths
 * (NULL arguments, bad enums, short buffers, missing folders, wrong heads, invalid UTF-8), the
 * thread-local last error, and one model shared by four pthreads whose results must equal the
 * single-threaded ones bit for bit.
 *
 * Usage: test_c_api MODELS_DIR TOKENIZER_DIR DEMO_MODEL_DIR
 *   MODELS_DIR      the test fixture's checkpoints (tinybert-4l-312, small-bert-tokcls, small-bert-qa,
 *                   small-bert-rerank)
 *   TOKENIZER_DIR   tests/data/tokenizer/bert-base-uncased
 *   DEMO_MODEL_DIR  models/sst2-student (a folder with its own tokenizer)
 */
#include <minibert/c_api.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        ++checks;                                                                      \
        if (!(cond)) {                                                                 \
            ++failures;                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, __LINE__, #cond, \
                    minibert_last_error());                                            \
        }                                                                              \
    } while (0)
#define CHECK_OK(call) CHECK((call) == MINIBERT_OK)
/* A failing call: its status, and a last-error message holding `fragment`. */
#define CHECK_FAILS(call, status, fragment)                                            \
    do {                                                                               \
        minibert_status s_ = (call);                                                   \
        CHECK(s_ == (status));                                                         \
        CHECK(strstr(minibert_last_error(), (fragment)) != NULL);                      \
    } while (0)

static char path_buf[4096];
static const char* join(const char* dir, const char* name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

static const char* texts[] = {"the film is a delight", "a dull, lifeless and tedious mess", "ok"};
static size_t lengths[3];

static void test_library(void) {
    minibert_options o;
    CHECK(minibert_abi_version() == MINIBERT_C_ABI_VERSION);
    CHECK(strlen(minibert_version()) >= 5);
    CHECK(strcmp(minibert_status_name(MINIBERT_ERROR_IO), "MINIBERT_ERROR_IO") == 0);
    CHECK(strcmp(minibert_status_name(MINIBERT_OK), "MINIBERT_OK") == 0);
    CHECK(strcmp(minibert_status_name(99), "unknown") == 0);
    CHECK_OK(minibert_options_init(&o));
    CHECK(o.struct_size == sizeof o && o.threads == 1 && o.max_batch == 32 && o.dtype == MINIBERT_DTYPE_NATIVE);
    CHECK_FAILS(minibert_options_init(NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "options is NULL");
}

static void test_model(const char* models) {
    minibert_model* m = (minibert_model*)1;
    minibert_options o;
    size_t hidden = 0, labels = 0, positions = 0;
    const char* label = NULL;
    const char* isa = NULL;
    const char* weights = NULL;

    CHECK_FAILS(minibert_model_load("/nonexistent/minibert-model", NULL, &m), MINIBERT_ERROR_IO,
                "'/nonexistent/minibert-model' does not exist");
    CHECK(m == NULL); /* *out is cleared on failure */
    CHECK_FAILS(minibert_model_load(NULL, NULL, &m), MINIBERT_ERROR_INVALID_ARGUMENT, "dir is NULL");
    CHECK_FAILS(minibert_model_load(models, NULL, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAILS(minibert_model_load(models, NULL, &m), MINIBERT_ERROR_IO, "has no config.json");

    minibert_options_init(&o);
    o.dtype = 42;
    CHECK_FAILS(minibert_model_load(join(models, "tinybert-4l-312"), &o, &m), MINIBERT_ERROR_INVALID_ARGUMENT,
                "options.dtype 42");
    minibert_options_init(&o);
    o.isa = -3;
    CHECK_FAILS(minibert_model_load(join(models, "tinybert-4l-312"), &o, &m), MINIBERT_ERROR_INVALID_ARGUMENT,
                "options.isa -3");
    minibert_options_init(&o);
    o.struct_size = 4;
    CHECK_FAILS(minibert_model_load(join(models, "tinybert-4l-312"), &o, &m), MINIBERT_ERROR_INVALID_ARGUMENT,
                "struct_size");
    /* An int8-static load of a folder without calibrated scales is the library's own error. */
    minibert_options_init(&o);
    o.dtype = MINIBERT_DTYPE_INT8_STATIC;
    CHECK(minibert_model_load(join(models, "tinybert-4l-312"), &o, &m) != MINIBERT_OK);
    CHECK(strncmp(minibert_last_error(), "minibert: ", 10) == 0);

    /* The portable kernel cap and fp16 weights load and report themselves. */
    minibert_options_init(&o);
    o.dtype = MINIBERT_DTYPE_FP16;
    o.isa = MINIBERT_ISA_PORTABLE;
    CHECK_OK(minibert_model_load(join(models, "tinybert-4l-312"), &o, &m));
    CHECK_OK(minibert_model_kernels(m, &isa, &weights));
    CHECK(isa && strcmp(isa, "portable") == 0);
    CHECK(weights && strcmp(weights, "fp16") == 0);
    CHECK_OK(minibert_model_info(m, &hidden, &labels, &positions));
    CHECK(hidden == 312 && labels == 2 && positions == 512);
    CHECK_OK(minibert_model_info(m, NULL, NULL, NULL));
    CHECK_OK(minibert_model_label(m, 1, &label));
    CHECK(label && strcmp(label, "POSITIVE") == 0);
    CHECK_FAILS(minibert_model_label(m, 2, &label), MINIBERT_ERROR_INVALID_INPUT, "label 2 of 2");
    CHECK_FAILS(minibert_model_label(m, 0, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "label is NULL");
    CHECK_FAILS(minibert_model_info(NULL, &hidden, NULL, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "model is NULL");
    CHECK_FAILS(minibert_model_kernels(NULL, &isa, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "model is NULL");
    minibert_model_free(m);
    minibert_model_free(NULL);
}

static void test_tokenizer(const char* tokenizer_dir) {
    minibert_tokenizer* t = NULL;
    minibert_encoding* e = NULL;
    size_t vocab = 0, needed = 0, n;
    int32_t id = 0;
    const int32_t* ids = NULL;
    const int32_t* types = NULL;
    const size_t* offsets = NULL;
    const char* token = NULL;
    char small[4];
    char text[128];
    const char bad_utf8[] = "caf\xc3 x";

    CHECK_FAILS(minibert_tokenizer_load("/nonexistent/tok", &t), MINIBERT_ERROR_IO, "'/nonexistent/tok'");
    CHECK(t == NULL);
    CHECK_FAILS(minibert_tokenizer_load(NULL, &t), MINIBERT_ERROR_INVALID_ARGUMENT, "dir is NULL");
    CHECK_OK(minibert_tokenizer_load(tokenizer_dir, &t));
    CHECK_OK(minibert_tokenizer_vocab_size(t, &vocab));
    CHECK(vocab == 30522);
    CHECK_FAILS(minibert_tokenizer_vocab_size(t, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "size is NULL");
    CHECK_OK(minibert_tokenizer_token_to_id(t, "[CLS]", 5, &id));
    CHECK(id == 101);
    CHECK_OK(minibert_tokenizer_token_to_id(t, "no-such-token", 13, &id));
    CHECK(id == -1);
    CHECK_FAILS(minibert_tokenizer_token_to_id(t, NULL, 3, &id), MINIBERT_ERROR_INVALID_ARGUMENT, "token is NULL");

    /* "hello world": [CLS] hello world [SEP] = 101 7592 2088 102, offsets into the text. */
    CHECK_OK(minibert_tokenizer_encode(t, "hello world", 11, NULL, 0, 1, 0, &e));
    n = minibert_encoding_size(e);
    CHECK(n == 4);
    CHECK_OK(minibert_encoding_arrays(e, &ids, &types, &offsets));
    CHECK(ids[0] == 101 && ids[1] == 7592 && ids[2] == 2088 && ids[3] == 102);
    CHECK(types[0] == 0 && types[3] == 0);
    CHECK(offsets[2] == 0 && offsets[3] == 5 && offsets[4] == 6 && offsets[5] == 11 && offsets[0] == 0 && offsets[1] == 0);
    CHECK_OK(minibert_encoding_arrays(e, NULL, NULL, NULL));
    CHECK_OK(minibert_encoding_token(e, 1, &token));
    CHECK(strcmp(token, "hello") == 0);
    CHECK_FAILS(minibert_encoding_token(e, 4, &token), MINIBERT_ERROR_INVALID_INPUT, "token 4");

    /* Decode with the size query, then a short buffer, then the right one. */
    CHECK_FAILS(minibert_tokenizer_decode(t, ids, n, 1, NULL, 0, &needed), MINIBERT_ERROR_BUFFER_TOO_SMALL, "needs 12");
    CHECK(needed == 12);
    CHECK_FAILS(minibert_tokenizer_decode(t, ids, n, 1, small, sizeof small, &needed), MINIBERT_ERROR_BUFFER_TOO_SMALL,
                "capacity is 4");
    CHECK_OK(minibert_tokenizer_decode(t, ids, n, 1, text, sizeof text, &needed));
    CHECK(strcmp(text, "hello world") == 0);
    CHECK_OK(minibert_tokenizer_decode(t, ids, n, 0, text, sizeof text, NULL));
    CHECK(strcmp(text, "[CLS] hello world [SEP]") == 0);
    CHECK_FAILS(minibert_tokenizer_decode(t, NULL, 2, 1, text, sizeof text, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "ids is NULL");
    minibert_encoding_free(e);

    /* A pair: type ids 1 for the second text; max_length truncates; no specials without the template. */
    CHECK_OK(minibert_tokenizer_encode(t, "hello", 5, "world", 5, 1, 0, &e));
    CHECK(minibert_encoding_size(e) == 5);
    CHECK_OK(minibert_encoding_arrays(e, NULL, &types, NULL));
    CHECK(types[1] == 0 && types[3] == 1 && types[4] == 1);
    minibert_encoding_free(e);
    CHECK_OK(minibert_tokenizer_encode(t, "hello world again", 17, NULL, 0, 1, 3, &e));
    CHECK(minibert_encoding_size(e) == 3);
    minibert_encoding_free(e);
    CHECK_OK(minibert_tokenizer_encode(t, "hello world", 11, NULL, 0, 0, 0, &e));
    CHECK(minibert_encoding_size(e) == 2);
    minibert_encoding_free(e);
    CHECK_OK(minibert_tokenizer_encode(t, NULL, 0, NULL, 0, 1, 0, &e)); /* empty text: the specials */
    CHECK(minibert_encoding_size(e) == 2);
    minibert_encoding_free(e);

    e = (minibert_encoding*)1;
    CHECK_FAILS(minibert_tokenizer_encode(t, bad_utf8, strlen(bad_utf8), NULL, 0, 1, 0, &e), MINIBERT_ERROR_INVALID_INPUT,
                "UTF-8");
    CHECK(e == NULL);
    CHECK_FAILS(minibert_tokenizer_encode(NULL, "x", 1, NULL, 0, 1, 0, &e), MINIBERT_ERROR_INVALID_ARGUMENT, "tokenizer is NULL");
    CHECK(minibert_encoding_size(NULL) == 0);
    CHECK_FAILS(minibert_encoding_arrays(NULL, &ids, NULL, NULL), MINIBERT_ERROR_INVALID_ARGUMENT, "encoding is NULL");
    minibert_encoding_free(NULL);
    minibert_tokenizer_free(t);
    minibert_tokenizer_free(NULL);
}

static void test_session(const char* models) {
    minibert_model* m = NULL;
    minibert_session* s = NULL;
    const int32_t ids[] = {101, 7592, 2088, 102, 101, 7592, 102};
    const size_t lens[] = {4, 3};
    size_t needed = 0, rows = 0, cols = 0;
    float* hidden;
    float logits[4];
    float one[1];

    CHECK_OK(minibert_model_load(join(models, "tinybert-4l-312"), NULL, &m));
    CHECK_FAILS(minibert_session_create(m, 1, 0, 0, 0, &s), MINIBERT_ERROR_LIMIT, "max_batch must be at least 1");
    CHECK_FAILS(minibert_session_create(m, 1, 2, 0, 100000, &s), MINIBERT_ERROR_LIMIT, "max_sequence 100000");
    CHECK(s == NULL);
    CHECK_FAILS(minibert_session_create(NULL, 1, 2, 0, 0, &s), MINIBERT_ERROR_INVALID_ARGUMENT, "model is NULL");
    CHECK_OK(minibert_session_create(m, 1, 2, 0, 0, &s));
    CHECK_FAILS(minibert_session_output(s, MINIBERT_OUTPUT_LOGITS, logits, 4, NULL, NULL, NULL), MINIBERT_ERROR_INVALID_INPUT,
                "no successful run");
    CHECK_OK(minibert_session_run(s, ids, NULL, lens, 2));
    CHECK_FAILS(minibert_session_output(s, MINIBERT_OUTPUT_LOGITS, NULL, 0, &needed, &rows, &cols),
                MINIBERT_ERROR_BUFFER_TOO_SMALL, "needs 4");
    CHECK(needed == 4 && rows == 2 && cols == 2);
    CHECK_OK(minibert_session_output(s, MINIBERT_OUTPUT_LOGITS, logits, 4, &needed, &rows, &cols));
    CHECK(isfinite(logits[0]) && isfinite(logits[3]) && logits[0] != logits[2]);
    CHECK(minibert_session_output(s, MINIBERT_OUTPUT_LAST_HIDDEN_STATE, NULL, 0, &needed, &rows, &cols) ==
          MINIBERT_ERROR_BUFFER_TOO_SMALL);
    CHECK(rows == 7 && cols == 312 && needed == 7 * 312);
    hidden = (float*)malloc(needed * sizeof(float));
    CHECK_OK(minibert_session_output(s, MINIBERT_OUTPUT_LAST_HIDDEN_STATE, hidden, needed, NULL, NULL, NULL));
    CHECK(isfinite(hidden[7 * 312 - 1]));
    free(hidden);
    CHECK_FAILS(minibert_session_output(s, MINIBERT_OUTPUT_START_LOGITS, one, 1, NULL, NULL, NULL),
                MINIBERT_ERROR_INVALID_INPUT, "no start_logits output");
    CHECK_FAILS(minibert_session_output(s, 17, one, 1, NULL, NULL, NULL), MINIBERT_ERROR_INVALID_ARGUMENT,
                "output 17");
    /* Type ids past the model's type vocabulary; valid type ids; a batch larger than the
     * session's; an id past the vocabulary; no sequences. */
    CHECK(minibert_session_run(s, ids, ids, lens, 1) == MINIBERT_ERROR_INVALID_INPUT);
    {
        const int32_t types[] = {0, 0, 1, 1, 0, 0, 0};
        CHECK_OK(minibert_session_run(s, ids, types, lens, 2));
    }
    {
        const size_t three[] = {2, 2, 3};
        CHECK_FAILS(minibert_session_run(s, ids, NULL, three, 3), MINIBERT_ERROR_LIMIT, "");
    }
    {
        const int32_t big[] = {101, 40000, 102};
        const size_t len3[] = {3};
        CHECK_FAILS(minibert_session_run(s, big, NULL, len3, 1), MINIBERT_ERROR_INVALID_INPUT, "40000");
        /* A failed run leaves no outputs behind to be mistaken for its own. */
        CHECK_FAILS(minibert_session_output(s, MINIBERT_OUTPUT_LOGITS, logits, 4, NULL, NULL, NULL),
                    MINIBERT_ERROR_INVALID_INPUT, "no successful run");
    }
    CHECK_FAILS(minibert_session_run(s, ids, NULL, lens, 0), MINIBERT_ERROR_INVALID_INPUT, "no sequence");
    CHECK_FAILS(minibert_session_run(s, NULL, NULL, lens, 1), MINIBERT_ERROR_INVALID_ARGUMENT, "ids is NULL");
    CHECK_FAILS(minibert_session_run(NULL, ids, NULL, lens, 1), MINIBERT_ERROR_INVALID_ARGUMENT, "session is NULL");
    minibert_session_free(s);
    minibert_session_free(NULL);
    minibert_model_free(m);
}

/* ---- pipelines, and one model shared by threads ---- */

struct shared {
    const minibert_model* model;
    const minibert_tokenizer* tokenizer;
    const float* expected; /* [3 x 2] probabilities from the main thread */
    int ok;
};

static void* classify_thread(void* arg) {
    struct shared* sh = (struct shared*)arg;
    minibert_classifier* c = NULL;
    float p[6];
    int i, round;
    sh->ok = 0;
    if (minibert_classifier_create(sh->model, sh->tokenizer, NULL, &c) != MINIBERT_OK) return NULL;
    sh->ok = 1;
    for (round = 0; round < 5; ++round) {
        if (minibert_classifier_classify(c, texts, lengths, NULL, NULL, 3, p, NULL, NULL) != MINIBERT_OK) sh->ok = 0;
        for (i = 0; i < 6; ++i)
            if (memcmp(&p[i], &sh->expected[i], sizeof(float)) != 0) sh->ok = 0;
    }
    /* This thread's failure is this thread's last error, whatever the others do. */
    if (minibert_classifier_classify(c, texts, NULL, NULL, NULL, 3, p, NULL, NULL) != MINIBERT_ERROR_INVALID_ARGUMENT ||
        strstr(minibert_last_error(), "lengths is NULL") == NULL)
        sh->ok = 0;
    minibert_classifier_free(c);
    return NULL;
}

static void test_classifier(const char* models, const char* tokenizer_dir) {
    minibert_model* m = NULL;
    minibert_tokenizer* t = NULL;
    minibert_classifier* c = NULL;
    minibert_options o;
    float p[6], logits[6], pair_p[2];
    size_t label_ids[3];
    const char* second[] = {"and the cast shines"};
    const size_t second_len[] = {19};
    const char* bad[] = {"caf\xc3"};
    const size_t bad_len[] = {4};
    pthread_t threads[4];
    struct shared sh[4];
    int i;

    CHECK_OK(minibert_model_load(join(models, "tinybert-4l-312"), NULL, &m));
    CHECK_OK(minibert_tokenizer_load(tokenizer_dir, &t));
    minibert_options_init(&o);
    o.threads = 0;
    CHECK_FAILS(minibert_classifier_create(m, t, &o, &c), MINIBERT_ERROR_INVALID_ARGUMENT, "threads must be at least 1");
    o.threads = 1;
    o.max_batch = 0;
    CHECK_FAILS(minibert_classifier_create(m, t, &o, &c), MINIBERT_ERROR_INVALID_ARGUMENT, "max_batch");
    CHECK_FAILS(minibert_classifier_create(m, NULL, NULL, &c), MINIBERT_ERROR_INVALID_ARGUMENT, "tokenizer is NULL");
    minibert_options_init(&o);
    o.max_batch = 2; /* three texts run as two batches */
    CHECK_OK(minibert_classifier_create(m, t, &o, &c));
    CHECK_OK(minibert_classifier_classify(c, texts, lengths, NULL, NULL, 3, p, logits, label_ids));
    for (i = 0; i < 3; ++i) {
        CHECK(fabsf(p[2 * i] + p[2 * i + 1] - 1.0f) < 1e-5f);
        CHECK(label_ids[i] == (p[2 * i + 1] > p[2 * i] ? 1u : 0u));
    }
    CHECK(logits[0] != logits[2]);
    CHECK_OK(minibert_classifier_classify(c, texts, lengths, NULL, NULL, 0, NULL, NULL, NULL)); /* nothing to do */
    CHECK_OK(minibert_classifier_classify(c, texts, lengths, second, second_len, 1, pair_p, NULL, NULL));
    CHECK(pair_p[0] != p[0]);
    CHECK_FAILS(minibert_classifier_classify(c, texts, lengths, second, NULL, 1, pair_p, NULL, NULL),
                MINIBERT_ERROR_INVALID_ARGUMENT, "pair_lengths is NULL");
    CHECK_FAILS(minibert_classifier_classify(c, bad, bad_len, NULL, NULL, 1, pair_p, NULL, NULL), MINIBERT_ERROR_INVALID_INPUT,
                "UTF-8");
    CHECK_FAILS(minibert_classifier_classify(NULL, texts, lengths, NULL, NULL, 1, p, NULL, NULL), MINIBERT_ERROR_INVALID_ARGUMENT,
                "classifier is NULL");

    /* Four threads, one model and one tokenizer, a classifier each: the same probabilities, bit for bit. */
    for (i = 0; i < 4; ++i) {
        sh[i].model = m;
        sh[i].tokenizer = t;
        sh[i].expected = p;
        sh[i].ok = 0;
        CHECK(pthread_create(&threads[i], NULL, classify_thread, &sh[i]) == 0);
    }
    for (i = 0; i < 4; ++i) {
        pthread_join(threads[i], NULL);
        CHECK(sh[i].ok == 1);
    }
    /* The threads' failures did not touch this thread's last error. */
    CHECK(strstr(minibert_last_error(), "classifier is NULL") != NULL);

    minibert_classifier_free(c);
    minibert_classifier_free(NULL);
    minibert_tokenizer_free(t);
    minibert_model_free(m);
}

static void test_embedder(const char* models, const char* tokenizer_dir) {
    minibert_model* m = NULL;
    minibert_tokenizer* t = NULL;
    minibert_embedder* e = NULL;
    minibert_embedder* en = NULL;
    size_t d = 0, needed = 0, i;
    float *plain, *unit;
    double norm = 0.0, dot = 0.0;

    CHECK_OK(minibert_model_load(join(models, "tinybert-4l-312"), NULL, &m));
    CHECK_OK(minibert_tokenizer_load(tokenizer_dir, &t));
    CHECK_FAILS(minibert_embedder_create(m, t, NULL, 2, &e), MINIBERT_ERROR_INVALID_ARGUMENT, "normalize is 2");
    CHECK_OK(minibert_embedder_create(m, t, NULL, -1, &e)); /* the folder has no pooling files: mean, not normalised */
    CHECK_OK(minibert_embedder_create(m, t, NULL, 1, &en));
    CHECK_OK(minibert_embedder_dimension(e, &d));
    CHECK(d == 312);
    CHECK_FAILS(minibert_embedder_dimension(NULL, &d), MINIBERT_ERROR_INVALID_ARGUMENT, "embedder is NULL");
    CHECK_FAILS(minibert_embedder_embed(e, texts, lengths, 3, NULL, 0, &needed), MINIBERT_ERROR_BUFFER_TOO_SMALL, "needs 936");
    CHECK(needed == 3 * 312);
    plain = (float*)malloc(needed * sizeof(float));
    unit = (float*)malloc(needed * sizeof(float));
    CHECK_OK(minibert_embedder_embed(e, texts, lengths, 3, plain, needed, NULL));
    CHECK_OK(minibert_embedder_embed(en, texts, lengths, 3, unit, needed, NULL));
    for (i = 0; i < d; ++i) {
        norm += (double)plain[i] * plain[i];
        dot += (double)unit[i] * unit[i];
    }
    CHECK(fabs(norm - 1.0) > 1e-3);  /* mean pooling alone is not unit length... */
    CHECK(fabs(dot - 1.0) < 1e-5);   /* ...normalize = 1 makes it so */
    CHECK(fabs(unit[0] - plain[0] / sqrt(norm)) < 1e-6);
    CHECK_OK(minibert_embedder_embed(e, texts, lengths, 0, NULL, 0, &needed));
    CHECK(needed == 0);
    free(plain);
    free(unit);
    minibert_embedder_free(e);
    minibert_embedder_free(en);
    minibert_embedder_free(NULL);
    minibert_tokenizer_free(t);
    minibert_model_free(m);
}

static void test_tagger_and_qa(const char* models, const char* tokenizer_dir) {
    minibert_model* tok_model = NULL;
    minibert_model* qa_model = NULL;
    minibert_tokenizer* t = NULL;
    minibert_tagger* tagger = NULL;
    minibert_entities* ents = NULL;
    minibert_entity ent;
    minibert_qa* qa = NULL;
    minibert_answer a;
    minibert_classifier* wrong = NULL;
    const char* tag_texts[] = {"George Washington lived in Virginia", "Paris"};
    const size_t tag_lens[] = {35, 5};
    const char* context = "The Eiffel Tower is in Paris, the capital of France.";
    size_t i, count;

    CHECK_OK(minibert_model_load(join(models, "small-bert-tokcls"), NULL, &tok_model));
    CHECK_OK(minibert_model_load(join(models, "small-bert-qa"), NULL, &qa_model));
    CHECK_OK(minibert_tokenizer_load(tokenizer_dir, &t));

    /* A head the pipeline cannot use is the library's unsupported error. */
    CHECK_FAILS(minibert_classifier_create(tok_model, t, NULL, &wrong), MINIBERT_ERROR_UNSUPPORTED,
                "needs a *ForSequenceClassification model");
    CHECK(wrong == NULL);
    CHECK_FAILS(minibert_tagger_create(qa_model, t, NULL, &tagger), MINIBERT_ERROR_UNSUPPORTED, "ForTokenClassification");

    CHECK_OK(minibert_tagger_create(tok_model, t, NULL, &tagger));
    CHECK_OK(minibert_tagger_tag(tagger, tag_texts, tag_lens, 2, MINIBERT_AGGREGATION_NONE, &ents));
    count = minibert_entities_count(ents);
    for (i = 0; i < count; ++i) {
        CHECK_OK(minibert_entities_get(ents, i, &ent));
        CHECK(ent.text < 2 && ent.end <= tag_lens[ent.text] && ent.start < ent.end);
        CHECK(ent.label[0] == 'B' || ent.label[0] == 'I');
        CHECK(ent.score > 0.0f && ent.score <= 1.0f && ent.token_index >= 1);
        CHECK(ent.char_end - ent.char_start == ent.end - ent.start); /* ASCII text */
        CHECK(strlen(ent.word) > 0);
    }
    CHECK_FAILS(minibert_entities_get(ents, count, &ent), MINIBERT_ERROR_INVALID_INPUT, "entity");
    minibert_entities_free(ents);
    CHECK_OK(minibert_tagger_tag(tagger, tag_texts, tag_lens, 2, MINIBERT_AGGREGATION_SIMPLE, &ents));
    minibert_entities_free(ents);
    CHECK_OK(minibert_tagger_tag(tagger, tag_texts, tag_lens, 0, MINIBERT_AGGREGATION_FIRST, &ents));
    CHECK(minibert_entities_count(ents) == 0);
    minibert_entities_free(ents);
    CHECK_FAILS(minibert_tagger_tag(tagger, tag_texts, tag_lens, 2, 7, &ents), MINIBERT_ERROR_INVALID_ARGUMENT,
                "aggregation 7");
    CHECK(minibert_entities_count(NULL) == 0);
    minibert_entities_free(NULL);
    minibert_tagger_free(tagger);
    minibert_tagger_free(NULL);

    CHECK_OK(minibert_qa_create(qa_model, t, NULL, 0, 0, 0, &qa));
    CHECK_OK(minibert_qa_answer(qa, "Where is the tower?", 19, context, strlen(context), &a));
    CHECK(a.start < a.end && a.end <= strlen(context) && a.score > 0.0f && a.score <= 1.0f);
    CHECK(a.char_end - a.char_start == a.end - a.start);
    CHECK_FAILS(minibert_qa_answer(qa, "Where?", 6, "", 0, &a), MINIBERT_ERROR_INVALID_INPUT, "the context is empty");
    CHECK_FAILS(minibert_qa_answer(qa, "Where?", 6, context, strlen(context), NULL), MINIBERT_ERROR_INVALID_ARGUMENT,
                "out is NULL");
    minibert_qa_free(qa);
    /* Windows of 16 tokens over a longer context still find a span in it. */
    CHECK_OK(minibert_qa_create(qa_model, t, NULL, 5, 4, 16, &qa));
    CHECK_OK(minibert_qa_answer(qa, "Where is the tower?", 19, context, strlen(context), &a));
    CHECK(a.end <= strlen(context) && a.end - a.start > 0);
    minibert_qa_free(qa);
    minibert_qa_free(NULL);
    CHECK_FAILS(minibert_qa_create(tok_model, t, NULL, 0, 0, 0, &qa), MINIBERT_ERROR_UNSUPPORTED, "ForQuestionAnswering");

    minibert_tokenizer_free(t);
    minibert_model_free(tok_model);
    minibert_model_free(qa_model);
}

static void test_reranker(const char* models, const char* tokenizer_dir) {
    minibert_model* m = NULL;
    minibert_model* two_labels = NULL;
    minibert_tokenizer* t = NULL;
    minibert_reranker* r = NULL;
    minibert_reranker* rs = NULL;
    const char* query = "where is the eiffel tower?";
    const char* passages[] = {"The Eiffel Tower is in Paris.", "Bananas are yellow.", "Paris is the capital of France."};
    size_t plen[3], idx[3], count = 0, i, best = 0;
    float scores[3], sig[3], top[3];

    for (i = 0; i < 3; ++i) plen[i] = strlen(passages[i]);
    CHECK_OK(minibert_model_load(join(models, "small-bert-rerank"), NULL, &m));
    CHECK_OK(minibert_model_load(join(models, "tinybert-4l-312"), NULL, &two_labels));
    CHECK_OK(minibert_tokenizer_load(tokenizer_dir, &t));
    CHECK_FAILS(minibert_reranker_create(two_labels, t, NULL, 0, &r), MINIBERT_ERROR_UNSUPPORTED, "one label");
    CHECK(r == NULL);
    CHECK_FAILS(minibert_reranker_create(m, t, NULL, 7, &r), MINIBERT_ERROR_INVALID_ARGUMENT, "activation 7");
    CHECK_FAILS(minibert_reranker_create(m, NULL, NULL, 0, &r), MINIBERT_ERROR_INVALID_ARGUMENT, "tokenizer is NULL");
    CHECK_OK(minibert_reranker_create(m, t, NULL, -1, &r)); /* the folder declares no activation: raw logits */
    CHECK_OK(minibert_reranker_create(m, t, NULL, 1, &rs));
    CHECK_OK(minibert_reranker_score(r, query, strlen(query), passages, plen, 3, scores));
    CHECK_OK(minibert_reranker_score(rs, query, strlen(query), passages, plen, 3, sig));
    for (i = 0; i < 3; ++i) {
        const float want = 1.0f / (1.0f + expf(-scores[i]));
        CHECK(memcmp(&sig[i], &want, sizeof want) == 0);
        if (scores[i] > scores[best]) best = i;
    }
    CHECK(scores[0] != scores[1]);
    /* Size query, short buffer, then the best two, best first, scores as score() gave them. */
    CHECK_FAILS(minibert_reranker_rerank(r, query, strlen(query), passages, plen, 3, 0, NULL, NULL, 0, &count),
                MINIBERT_ERROR_BUFFER_TOO_SMALL, "needs 3");
    CHECK(count == 3);
    CHECK_FAILS(minibert_reranker_rerank(r, query, strlen(query), passages, plen, 3, 2, idx, top, 1, &count),
                MINIBERT_ERROR_BUFFER_TOO_SMALL, "needs 2");
    CHECK_OK(minibert_reranker_rerank(r, query, strlen(query), passages, plen, 3, 2, idx, top, 3, &count));
    CHECK(count == 2 && idx[0] == best && top[0] >= top[1] && idx[0] != idx[1]);
    CHECK(memcmp(&top[0], &scores[idx[0]], sizeof(float)) == 0 && memcmp(&top[1], &scores[idx[1]], sizeof(float)) == 0);
    CHECK_OK(minibert_reranker_rerank(r, query, strlen(query), passages, plen, 0, 0, idx, top, 0, &count));
    CHECK(count == 0);
    CHECK_OK(minibert_reranker_score(r, query, strlen(query), passages, plen, 0, NULL));
    CHECK_FAILS(minibert_reranker_score(r, query, strlen(query), passages, plen, 3, NULL), MINIBERT_ERROR_INVALID_ARGUMENT,
                "scores is NULL");
    CHECK_FAILS(minibert_reranker_score(NULL, query, 1, passages, plen, 3, scores), MINIBERT_ERROR_INVALID_ARGUMENT,
                "reranker is NULL");
    minibert_reranker_free(r);
    minibert_reranker_free(rs);
    minibert_reranker_free(NULL);
    minibert_tokenizer_free(t);
    minibert_model_free(m);
    minibert_model_free(two_labels);
}

static void test_demo_folder(const char* demo) {
    /* A folder with its own tokenizer: what the examples and the Python package load. */
    minibert_model* m = NULL;
    minibert_tokenizer* t = NULL;
    minibert_classifier* c = NULL;
    const char* text[] = {"a gorgeous, witty, seductive movie."};
    const size_t len[] = {35};
    size_t label = 9;
    const char* name = NULL;
    CHECK_OK(minibert_model_load(demo, NULL, &m));
    CHECK_OK(minibert_tokenizer_load(demo, &t));
    CHECK_OK(minibert_classifier_create(m, t, NULL, &c));
    CHECK_OK(minibert_classifier_classify(c, text, len, NULL, NULL, 1, NULL, NULL, &label));
    CHECK_OK(minibert_model_label(m, label, &name));
    CHECK(strcmp(name, "positive") == 0);
    minibert_classifier_free(c);
    minibert_tokenizer_free(t);
    minibert_model_free(m);
}

int main(int argc, char** argv) {
    int i;
    if (argc != 4) {
        fprintf(stderr, "usage: test_c_api MODELS_DIR TOKENIZER_DIR DEMO_MODEL_DIR\n");
        return 2;
    }
    for (i = 0; i < 3; ++i) lengths[i] = strlen(texts[i]);
    test_library();
    test_model(argv[1]);
    test_tokenizer(argv[2]);
    test_session(argv[1]);
    test_classifier(argv[1], argv[2]);
    test_embedder(argv[1], argv[2]);
    test_tagger_and_qa(argv[1], argv[2]);
    test_reranker(argv[1], argv[2]);
    test_demo_folder(argv[3]);
    printf("test_c_api: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
