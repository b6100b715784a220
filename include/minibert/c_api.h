/* minibert's C API: a plain C ABI over the header-only C++ library, for C and for other languages'
 * foreign-function interfaces (Python's ctypes in python/minibert, Rust, C#, Go: docs/bindings.md).
 *
 * Built by CMake as libminibert_c (shared and static; option MINIBERT_BUILD_C_API) from one C++
 * translation unit, src/c_api.cpp; the C++ library itself stays header-only. Link with
 * `pkg-config --libs minibert_c` or CMake's minibert::minibert_c.
 *
 * Conventions (every function):
 *   - Each returns a minibert_status; MINIBERT_OK is 0. No C++ exception crosses this boundary.
 *   - After a failure, minibert_last_error() is a message naming what is wrong (the library's
 *     minibert::Error text, e.g. "minibert: io: model folder 'x' does not exist or is not a
 *     folder"). It is thread-local: each thread sees its own last failure. A success leaves it as
 *     it was.
 *   - Handles are opaque; each *_create / *_load has one *_free (NULL is accepted and ignored).
 *   - Buffer ownership is explicit, one of two kinds, said per function:
 *       caller buffers: the caller passes a buffer and its capacity (in elements); the function
 *         writes the size it needs to *needed (when needed is not NULL) and returns
 *         MINIBERT_ERROR_BUFFER_TOO_SMALL without writing the buffer when the capacity is short,
 *         so a first call with capacity 0 asks for the size;
 *       library buffers: a result handle (minibert_encoding, minibert_entities) the library
 *         allocates and the caller releases with its *_free; pointers read from it live until then.
 *   - Text is UTF-8 with an explicit byte length (no NUL terminator needed; invalid UTF-8 is an
 *     MINIBERT_ERROR_INVALID_INPUT naming the byte). Paths are NUL-terminated.
 *
 * Threads: a minibert_model and a minibert_tokenizer are immutable after load and may be used by
 * any number of threads at once. A session or pipeline handle owns scratch memory and is for one
 * thread at a time; threads sharing a model each create their own (creating one is cheap: no
 * weights are copied).
 */
#ifndef MINIBERT_C_API_H
#define MINIBERT_C_API_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MINIBERT_C_EXPORT __declspec(dllexport)
#else
#define MINIBERT_C_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. minibert_abi_version() returns the library's; a caller built
 * against another ABI version must not use the library (a new ABI version is a new soname). */
#define MINIBERT_C_ABI_VERSION 1

typedef enum minibert_status {
    MINIBERT_OK = 0,
    /* The kinds of minibert::Error (error.hpp), in its order. */
    MINIBERT_ERROR_IO = 1,            /* a file is missing or unreadable */
    MINIBERT_ERROR_FORMAT = 2,        /* a file's bytes are malformed */
    MINIBERT_ERROR_CONFIG = 3,        /* config.json holds an unknown or inconsistent value */
    MINIBERT_ERROR_SHAPE = 4,         /* a tensor's shape or dtype disagrees */
    MINIBERT_ERROR_INVALID_INPUT = 5, /* ids, text or batch out of range; invalid UTF-8 */
    MINIBERT_ERROR_LIMIT = 6,         /* a request exceeds a session or model limit */
    MINIBERT_ERROR_UNSUPPORTED = 7,   /* valid but unsupported (architecture, head, dtype) */
    /* The C boundary's own. */
    MINIBERT_ERROR_INVALID_ARGUMENT = 8, /* a NULL handle or pointer, an unknown enum value */
    MINIBERT_ERROR_BUFFER_TOO_SMALL = 9, /* a caller buffer's capacity is short: see *needed */
    MINIBERT_ERROR_OUT_OF_MEMORY = 10,
    MINIBERT_ERROR_INTERNAL = 11         /* anything else (a bug: please report the message) */
} minibert_status;

/* Weight type of the encoder's linear layers (minibert::WeightType). */
typedef enum minibert_dtype {
    MINIBERT_DTYPE_NATIVE = 0, /* the folder's own (int8 for a converted int8 folder, else fp32) */
    MINIBERT_DTYPE_FP32 = 1,
    MINIBERT_DTYPE_FP16 = 2,
    MINIBERT_DTYPE_INT8_DYNAMIC = 3,
    MINIBERT_DTYPE_INT8_STATIC = 4
} minibert_dtype;

/* Highest kernel level (minibert::Isa, LoadOptions::isa); MINIBERT_ISA in the environment caps it
 * further. A level the host lacks is an error at load. */
typedef enum minibert_isa {
    MINIBERT_ISA_NATIVE = 0,
    MINIBERT_ISA_PORTABLE = 1,
    MINIBERT_ISA_AVX2 = 2,
    MINIBERT_ISA_AVXVNNI = 3,
    MINIBERT_ISA_AVX512 = 4,
    MINIBERT_ISA_AVX512VNNI = 5
} minibert_isa;

/* How a model folder is loaded and how pipelines run. Fill with minibert_options_init() first,
 * then set fields: struct_size lets a later ABI add fields at the end. */
typedef struct minibert_options {
    uint32_t struct_size;  /* sizeof(minibert_options), set by minibert_options_init */
    int32_t dtype;         /* minibert_dtype */
    int32_t isa;           /* minibert_isa, the kernel cap */
    uint32_t threads;      /* threads per forward pass (sessions and pipelines), >= 1 */
    uint32_t max_batch;    /* pipelines: most texts per forward pass, >= 1 */
    uint32_t max_length;   /* pipelines: tokens per text incl. specials; 0: what model and tokenizer allow */
    int32_t reject_overflow; /* pipelines: 0 truncates long texts, 1 fails with MINIBERT_ERROR_LIMIT */
} minibert_options;

typedef struct minibert_model minibert_model;
typedef struct minibert_tokenizer minibert_tokenizer;
typedef struct minibert_encoding minibert_encoding;
typedef struct minibert_session minibert_session;
typedef struct minibert_classifier minibert_classifier;
typedef struct minibert_embedder minibert_embedder;
typedef struct minibert_tagger minibert_tagger;
typedef struct minibert_entities minibert_entities;
typedef struct minibert_qa minibert_qa;
typedef struct minibert_reranker minibert_reranker;

/* ---- library ---------------------------------------------------------------------------- */

MINIBERT_C_EXPORT uint32_t minibert_abi_version(void);
/* The library's version, "major.minor.patch" (static storage). */
MINIBERT_C_EXPORT const char* minibert_version(void);
/* This thread's last failure message; "" when none failed yet. Valid until this thread's next failing call. */
MINIBERT_C_EXPORT const char* minibert_last_error(void);
/* The enum's name, e.g. "MINIBERT_ERROR_IO" (static storage; "unknown" for other values). Enum
 * arguments are passed as int throughout, so any value a foreign caller passes is defined input. */
MINIBERT_C_EXPORT const char* minibert_status_name(int status);
/* Defaults: native dtype and kernel level, 1 thread, max_batch 32, max_length 0, truncation. */
MINIBERT_C_EXPORT minibert_status minibert_options_init(minibert_options* options);

/* ---- model ------------------------------------------------------------------------------ */

/* Loads dir/config.json and dir/model.safetensors. options may be NULL (defaults). */
MINIBERT_C_EXPORT minibert_status minibert_model_load(const char* dir, const minibert_options* options,
                                                      minibert_model** out);
MINIBERT_C_EXPORT void minibert_model_free(minibert_model* model);
/* Shape facts: hidden size, labels of the head (0 without one), longest sequence. */
MINIBERT_C_EXPORT minibert_status minibert_model_info(const minibert_model* model, size_t* hidden_size,
                                                      size_t* num_labels, size_t* max_position_embeddings);
/* Name of label `index` (config.json id2label; static until the model is freed). */
MINIBERT_C_EXPORT minibert_status minibert_model_label(const minibert_model* model, size_t index, const char** label);
/* The kernel level the model runs with ("avx512vnni", ...) and its weight type ("fp32", "int8-dynamic", ...);
 * static until the model is freed. Either pointer may be NULL. */
MINIBERT_C_EXPORT minibert_status minibert_model_kernels(const minibert_model* model, const char** isa,
                                                         const char** weight_type);

/* ---- tokenizer -------------------------------------------------------------------------- */

/* Loads a folder's tokenizer.json, or vocab.txt + tokenizer_config.json. */
MINIBERT_C_EXPORT minibert_status minibert_tokenizer_load(const char* dir, minibert_tokenizer** out);
MINIBERT_C_EXPORT void minibert_tokenizer_free(minibert_tokenizer* tokenizer);
MINIBERT_C_EXPORT minibert_status minibert_tokenizer_vocab_size(const minibert_tokenizer* tokenizer, size_t* size);
/* Id of a token string, -1 when it is not in the vocabulary. */
MINIBERT_C_EXPORT minibert_status minibert_tokenizer_token_to_id(const minibert_tokenizer* tokenizer, const char* token,
                                                                 size_t token_len, int32_t* id);
/* Library buffer: the encoding of text (and of pair when pair is not NULL), with the template's
 * specials when add_special_tokens is nonzero, cut to max_length tokens when it is nonzero. */
MINIBERT_C_EXPORT minibert_status minibert_tokenizer_encode(const minibert_tokenizer* tokenizer, const char* text,
                                                            size_t text_len, const char* pair, size_t pair_len,
                                                            int add_special_tokens, size_t max_length,
                                                            minibert_encoding** out);
/* Caller buffer: the text of ids (UTF-8, NUL-terminated; capacity and *needed count the NUL). */
MINIBERT_C_EXPORT minibert_status minibert_tokenizer_decode(const minibert_tokenizer* tokenizer, const int32_t* ids,
                                                            size_t n, int skip_special_tokens, char* text,
                                                            size_t capacity, size_t* needed);

/* An encoding's arrays, each of minibert_encoding_size() entries, valid until minibert_encoding_free:
 * ids, token type ids, and UTF-8 byte offsets as [start, end) pairs (2 x size values; (0, 0) for
 * specials). Any output pointer may be NULL. */
MINIBERT_C_EXPORT size_t minibert_encoding_size(const minibert_encoding* encoding);
MINIBERT_C_EXPORT minibert_status minibert_encoding_arrays(const minibert_encoding* encoding, const int32_t** ids,
                                                           const int32_t** type_ids, const size_t** offsets);
/* Token string i ("##ing"), NUL-terminated, valid until minibert_encoding_free. */
MINIBERT_C_EXPORT minibert_status minibert_encoding_token(const minibert_encoding* encoding, size_t i, const char** token);
MINIBERT_C_EXPORT void minibert_encoding_free(minibert_encoding* encoding);

/* ---- session: the model on token ids ----------------------------------------------------- */

/* The outputs of minibert_session_run, by name (minibert::Outputs). */
typedef enum minibert_output {
    MINIBERT_OUTPUT_LAST_HIDDEN_STATE = 0, /* [tokens x hidden], sequences packed one after another */
    MINIBERT_OUTPUT_POOLER = 1,            /* [batch x hidden] (BERT with a pooler) */
    MINIBERT_OUTPUT_MEAN_POOLED = 2,       /* [batch x hidden] */
    MINIBERT_OUTPUT_LOGITS = 3,            /* [batch x labels] (sequence) or [tokens x labels] (token classification) */
    MINIBERT_OUTPUT_START_LOGITS = 4,      /* [tokens x 1] (question answering) */
    MINIBERT_OUTPUT_END_LOGITS = 5         /* [tokens x 1] */
} minibert_output;

/* A session sized for max_batch sequences of at most max_sequence tokens (0: the model's limit)
 * and max_tokens tokens in all (0: max(1024, max_sequence)). */
MINIBERT_C_EXPORT minibert_status minibert_session_create(const minibert_model* model, size_t threads, size_t max_batch,
                                                          size_t max_tokens, size_t max_sequence,
                                                          minibert_session** out);
MINIBERT_C_EXPORT void minibert_session_free(minibert_session* session);
/* Runs n sequences packed in ids (lengths[i] ids each, sum = the token count); type_ids may be
 * NULL (all 0). The outputs stay in the session until its next run. */
MINIBERT_C_EXPORT minibert_status minibert_session_run(minibert_session* session, const int32_t* ids,
                                                       const int32_t* type_ids, const size_t* lengths, size_t n);
/* Caller buffer: copies one output of the last run as rows x cols floats, row-major
 * (capacity and *needed in floats). MINIBERT_ERROR_INVALID_INPUT when the model has no such output. */
MINIBERT_C_EXPORT minibert_status minibert_session_output(const minibert_session* session, int which /* minibert_output */,
                                                          float* out, size_t capacity, size_t* needed, size_t* rows,
                                                          size_t* cols);

/* ---- pipelines: text in, answers out (minibert/pipeline.hpp) ------------------------------
 * Each is built from a model and a tokenizer (shared, not copied) and options (NULL: defaults);
 * texts are passed as n pointers and n byte lengths. */

/* Classifier: a *ForSequenceClassification model. */
MINIBERT_C_EXPORT minibert_status minibert_classifier_create(const minibert_model* model,
                                                             const minibert_tokenizer* tokenizer,
                                                             const minibert_options* options,
                                                             minibert_classifier** out);
MINIBERT_C_EXPORT void minibert_classifier_free(minibert_classifier* classifier);
/* Caller buffers, each may be NULL: probabilities and logits [n x num_labels] (minibert_model_info),
 * label_ids [n]. pairs / pair_lengths, when not NULL, give each text its second text. */
MINIBERT_C_EXPORT minibert_status minibert_classifier_classify(minibert_classifier* classifier,
                                                               const char* const* texts, const size_t* lengths,
                                                               const char* const* pairs, const size_t* pair_lengths,
                                                               size_t n, float* probabilities, float* logits,
                                                               size_t* label_ids);

/* Embedder: any encoder; pooling from the model folder's sentence-transformers files (mean when
 * none). normalize: -1 the folder's choice, 0 off, 1 L2-normalised. */
MINIBERT_C_EXPORT minibert_status minibert_embedder_create(const minibert_model* model,
                                                           const minibert_tokenizer* tokenizer,
                                                           const minibert_options* options, int normalize,
                                                           minibert_embedder** out);
MINIBERT_C_EXPORT void minibert_embedder_free(minibert_embedder* embedder);
MINIBERT_C_EXPORT minibert_status minibert_embedder_dimension(const minibert_embedder* embedder, size_t* dimension);
/* Caller buffer: out [n x dimension] floats, row-major (capacity in floats). */
MINIBERT_C_EXPORT minibert_status minibert_embedder_embed(minibert_embedder* embedder, const char* const* texts,
                                                          const size_t* lengths, size_t n, float* out,
                                                          size_t capacity, size_t* needed);

/* Token tagger: a *ForTokenClassification model. */
typedef enum minibert_aggregation {
    MINIBERT_AGGREGATION_NONE = 0,   /* one entity per word piece whose label is not "O" */
    MINIBERT_AGGREGATION_SIMPLE = 1, /* pieces merged by B-/I- tags */
    MINIBERT_AGGREGATION_FIRST = 2   /* pieces merged into words first */
} minibert_aggregation;

typedef struct minibert_entity {
    size_t text;        /* which input text */
    const char* label;  /* "PER" (aggregated) or "B-PER"; NUL-terminated */
    const char* word;   /* the pieces joined as the decoder joins them; NUL-terminated */
    float score;
    size_t start, end;            /* UTF-8 byte span in the text */
    size_t char_start, char_end;  /* code-point span */
    size_t token_index;           /* token index in the encoding ([CLS] = 0) */
} minibert_entity;

MINIBERT_C_EXPORT minibert_status minibert_tagger_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                                         const minibert_options* options, minibert_tagger** out);
MINIBERT_C_EXPORT void minibert_tagger_free(minibert_tagger* tagger);
/* Library buffer: the entities of n texts, text by text. */
MINIBERT_C_EXPORT minibert_status minibert_tagger_tag(minibert_tagger* tagger, const char* const* texts,
                                                      const size_t* lengths, size_t n, int aggregation,
                                                      minibert_entities** out);
MINIBERT_C_EXPORT size_t minibert_entities_count(const minibert_entities* entities);
/* Entity i; its strings live until minibert_entities_free. */
MINIBERT_C_EXPORT minibert_status minibert_entities_get(const minibert_entities* entities, size_t i,
                                                        minibert_entity* out);
MINIBERT_C_EXPORT void minibert_entities_free(minibert_entities* entities);

/* Extractive question answering: a *ForQuestionAnswering model; long contexts run in windows of
 * max_seq_length tokens (0: 384) overlapping by doc_stride (0: 128); answers of at most
 * max_answer_length tokens (0: 15). */
typedef struct minibert_answer {
    float score;                  /* start probability x end probability */
    size_t start, end;            /* UTF-8 byte span in the context: the answer is context[start, end) */
    size_t char_start, char_end;  /* code-point span */
} minibert_answer;

MINIBERT_C_EXPORT minibert_status minibert_qa_create(const minibert_model* model, const minibert_tokenizer* tokenizer,
                                                     const minibert_options* options, size_t max_answer_length,
                                                     size_t doc_stride, size_t max_seq_length, minibert_qa** out);
MINIBERT_C_EXPORT void minibert_qa_free(minibert_qa* qa);
MINIBERT_C_EXPORT minibert_status minibert_qa_answer(minibert_qa* qa, const char* question, size_t question_len,
                                                     const char* context, size_t context_len, minibert_answer* out);

/* Reranker: a cross-encoder (*ForSequenceClassification with one label) scores (query, passage)
 * pairs. activation: -1 what the model folder's config.json declares (sentence-transformers'
 * activation_fn; the raw logit when none), 0 the raw logit, 1 sigmoid, 2 tanh. */
MINIBERT_C_EXPORT minibert_status minibert_reranker_create(const minibert_model* model,
                                                           const minibert_tokenizer* tokenizer,
                                                           const minibert_options* options, int activation,
                                                           minibert_reranker** out);
MINIBERT_C_EXPORT void minibert_reranker_free(minibert_reranker* reranker);
/* Caller buffer: scores [n], one per passage in input order. */
MINIBERT_C_EXPORT minibert_status minibert_reranker_score(minibert_reranker* reranker, const char* query, size_t query_len,
                                                          const char* const* passages, const size_t* lengths, size_t n,
                                                          float* scores);
/* Caller buffers: the best top_n passages (0: all n), best first, ties in input order: indices
 * into passages and their scores, capacity entries each (*count: how many; a short capacity is
 * MINIBERT_ERROR_BUFFER_TOO_SMALL before any work). */
MINIBERT_C_EXPORT minibert_status minibert_reranker_rerank(minibert_reranker* reranker, const char* query,
                                                           size_t query_len, const char* const* passages,
                                                           const size_t* lengths, size_t n, size_t top_n,
                                                           size_t* indices, float* scores, size_t capacity,
                                                           size_t* count);

#ifdef __cplusplus
}
#endif

#endif /* MINIBERT_C_API_H */
