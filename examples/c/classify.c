/* minibert from C: classify texts with a model folder through the C API (include/minibert/c_api.h).
 *
 *   c-classify MODEL_DIR "text" [...]        e.g. c-classify models/sst2-student "a gorgeous movie"
 *
 * Build: CMake target minibert::minibert_c, or
 *   cc classify.c $(pkg-config --cflags --libs minibert_c) -o c-classify
 * Every call returns a status; on failure minibert_last_error() says what went wrong. */
#include <minibert/c_api.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed(minibert_status status) {
    fprintf(stderr, "c-classify: %s (%s)\n", minibert_last_error(), minibert_status_name(status));
    return 1;
}

int main(int argc, char** argv) {
    minibert_model* model = NULL;
    minibert_tokenizer* tokenizer = NULL;
    minibert_classifier* classifier = NULL;
    minibert_options options;
    minibert_status s;
    size_t num_labels = 0, n, i, *label_ids;
    size_t* lengths;
    float* probabilities;
    int rc = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: c-classify MODEL_DIR TEXT [TEXT...]\n");
        return 2;
    }
    minibert_options_init(&options);
    options.threads = 1;
    options.dtype = MINIBERT_DTYPE_NATIVE;
    if ((s = minibert_model_load(argv[1], &options, &model)) != MINIBERT_OK) return failed(s);
    if ((s = minibert_tokenizer_load(argv[1], &tokenizer)) != MINIBERT_OK) {
        minibert_model_free(model);
        return failed(s);
    }
    s = minibert_classifier_create(model, tokenizer, &options, &classifier);
    if (s == MINIBERT_OK) s = minibert_model_info(model, NULL, &num_labels, NULL);

    n = (size_t)(argc - 2);
    lengths = malloc(n * sizeof *lengths);
    label_ids = malloc(n * sizeof *label_ids);
    probabilities = malloc(n * (num_labels ? num_labels : 1) * sizeof *probabilities);
    for (i = 0; i < n; ++i) lengths[i] = strlen(argv[i + 2]);
    if (s == MINIBERT_OK && lengths && label_ids && probabilities)  /* caller buffers: n x num_labels, n */
        s = minibert_classifier_classify(classifier, (const char* const*)(argv + 2), lengths, NULL, NULL, n,
                                         probabilities, NULL, label_ids);
    if (s != MINIBERT_OK) {
        rc = failed(s);
    } else {
        for (i = 0; i < n; ++i) {
            const char* label = "?";
            minibert_model_label(model, label_ids[i], &label);
            printf("%-10s %.3f  %s\n", label, probabilities[i * num_labels + label_ids[i]], argv[i + 2]);
        }
    }
    free(lengths);
    free(label_ids);
    free(probabilities);
    minibert_classifier_free(classifier); /* pipelines first, then what they were built from */
    minibert_tokenizer_free(tokenizer);
    minibert_model_free(model);
    return rc;
}
