/* Helpers shared by the C tests. */
#ifndef FLAGCORE_TEST_COMMON_H
#define FLAGCORE_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flagcore.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

/* Checks a call returned `expected`, printing the last error message if it did not. */
#define CHECK_RESULT(call, expected)                                                  \
    do {                                                                              \
        fc_result got_ = (call);                                                      \
        checks++;                                                                     \
        if (got_ != (expected)) {                                                     \
            char msg_[512];                                                           \
            size_t n_ = 0;                                                            \
            fc_last_error_message(msg_, sizeof msg_, &n_);                            \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__,    \
                    __LINE__, #call, fc_result_code(got_), fc_result_code(expected),  \
                    msg_);                                                            \
        }                                                                             \
    } while (0)

#define S(literal) literal, (sizeof(literal) - 1)

static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Writes `text` to `path` the way deployment tools do: a temporary file, then a rename. */
static inline void replace_file(const char *path, const char *text) {
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(tmp);
        exit(2);
    }
    if (rename(tmp, path) != 0) {
        perror(path);
        exit(2);
    }
}

static inline void sleep_ms(long ms) {
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static inline int summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, checks - failures, failures);
    return failures ? 1 : 0;
}

#endif
