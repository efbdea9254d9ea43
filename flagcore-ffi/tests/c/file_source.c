/* fc_file_source_*: a snapshot file loaded at start, reloaded on change, an invalid
 * rewrite kept out (the status says why), stop and free; bad arguments. */
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "common.h"

static char dir[] = "/tmp/flagcore-file-source-XXXXXX";
static char path[256];

static const char *snapshot_v(int version, bool on) {
    static char doc[512];
    snprintf(doc, sizeof doc,
             "{\"version\": %d, \"flags\": {\"checkout\": {\"variants\": {\"on\": true, \"off\": false},"
             " \"enabled\": true, \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"%s\"}}}}",
             version, on ? "on" : "off");
    return doc;
}

static void write_file(const char *text) { replace_file(path, text); }

static fc_source_state state_of(const fc_source *source) {
    fc_source_state st;
    memset(&st, 0, sizeof st);
    CHECK_RESULT(fc_source_status(source, &st), FC_RESULT_OK);
    return st;
}

/* Waits (at most 5 s) until the source's status satisfies `cond`. */
#define WAIT_FOR(source, st, cond)                                                    \
    do {                                                                              \
        for (int i_ = 0; i_ < 500; i_++) {                                            \
            st = state_of(source);                                                    \
            if (cond) break;                                                          \
            sleep_ms(10);                                                             \
        }                                                                             \
        CHECK(cond);                                                                  \
    } while (0)

static bool flag(const fc_store *store) {
    bool on = false;
    CHECK_RESULT(fc_store_bool(store, S("checkout"), NULL, false, &on), FC_RESULT_OK);
    return on;
}

static void reloads_and_keeps_the_last_good_snapshot(void) {
    write_file(snapshot_v(1, true));
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    fc_file_source_options options = {.debounce_ms = 5};
    fc_source *source = NULL;
    CHECK_RESULT(fc_file_source_start(store, path, strlen(path), &options, &source), FC_RESULT_OK);

    /* The first read happens inside start. */
    fc_source_state st = state_of(source);
    CHECK(st.healthy && st.has_version && st.version == 1);
    CHECK(st.loads == 1 && st.consecutive_failures == 0 && !st.serving_cache);
    CHECK(st.last_success_unix_ms > 1600000000000ULL);
    CHECK(st.last_error == FC_SOURCE_ERROR_NONE && st.last_error_unix_ms == 0);
    CHECK(flag(store));

    /* A change is picked up. */
    write_file(snapshot_v(2, false));
    WAIT_FOR(source, st, st.has_version && st.version == 2);
    CHECK(!flag(store));

    /* An invalid document: the failure shows, version 2 keeps serving. */
    write_file("{\"version\": 3, \"flags\": {\"checkout\": {\"variants\": {}}}}");
    WAIT_FOR(source, st, st.consecutive_failures >= 1);
    CHECK(!st.healthy && st.version == 2 && st.last_error == FC_SOURCE_ERROR_INVALID_SNAPSHOT);
    CHECK(strcmp(fc_source_error_name(st.last_error), "invalid_snapshot") == 0);
    CHECK(st.last_error_unix_ms > 0 && st.failures >= 1);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    CHECK(version == 2);
    CHECK(!flag(store));

    /* The message, sized first. */
    size_t needed = 0;
    CHECK_RESULT(fc_source_last_error_message(source, NULL, 0, &needed), FC_RESULT_INSUFFICIENT_SIZE);
    CHECK(needed > 0);
    char small[4];
    size_t n = 0;
    CHECK_RESULT(fc_source_last_error_message(source, small, sizeof small, &n),
                 FC_RESULT_INSUFFICIENT_SIZE);
    CHECK(n == needed);
    char *message = malloc(needed);
    CHECK_RESULT(fc_source_last_error_message(source, message, needed, &n), FC_RESULT_OK);
    CHECK(n == needed);
    free(message);

    /* Recovery. */
    write_file(snapshot_v(4, true));
    WAIT_FOR(source, st, st.version == 4 && st.healthy);
    CHECK(st.consecutive_failures == 0 && st.last_error == FC_SOURCE_ERROR_INVALID_SNAPSHOT);
    CHECK(flag(store));

    /* The store handle may go first: the source keeps the store alive. */
    fc_store_free(store);
    CHECK_RESULT(fc_source_stop(source), FC_RESULT_OK);
    CHECK_RESULT(fc_source_stop(source), FC_RESULT_OK);
    st = state_of(source);
    CHECK(st.version == 4 && st.loads == 3);
    fc_source_free(source);
}

static void a_missing_file_is_a_status_not_a_failure(void) {
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.json", dir);
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    fc_source *source = NULL;
    CHECK_RESULT(fc_file_source_start(store, missing, strlen(missing), NULL, &source), FC_RESULT_OK);
    fc_source_state st = state_of(source);
    CHECK(!st.healthy && !st.has_version && st.consecutive_failures == 1);
    CHECK(st.last_error == FC_SOURCE_ERROR_IO && st.last_success_unix_ms == 0);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_NOT_READY);
    fc_source_free(source);
    fc_store_free(store);
}

static void bad_arguments(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    fc_source *source = NULL;
    fc_source_state st;
    size_t n = 0;
    CHECK_RESULT(fc_file_source_start(NULL, path, strlen(path), NULL, &source), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_file_source_start(store, path, strlen(path), NULL, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_file_source_start(store, NULL, 3, NULL, &source), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_file_source_start(store, "", 0, NULL, &source), FC_RESULT_INVALID_ARGUMENT);
    fc_file_source_options cache = {.cache_dir = {.ptr = "", .len = 0}};
    CHECK_RESULT(fc_file_source_start(store, path, strlen(path), &cache, &source),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_http_source_start(store, "http://\xff", 8, 0, NULL, &source), FC_RESULT_INVALID_UTF8);
    CHECK_RESULT(fc_http_source_start(store, NULL, 0, 0, NULL, &source), FC_RESULT_INVALID_ARGUMENT);
    fc_http_source_options headers = {.headers = NULL, .headers_len = 2};
    CHECK_RESULT(fc_http_source_start(store, S("http://127.0.0.1:9/"), 0, &headers, &source),
                 FC_RESULT_NULL_POINTER);
    fc_http_header bad = {.name = {.ptr = "X-\xfe", .len = 3}, .value = {.ptr = "v", .len = 1}};
    fc_http_source_options bad_header = {.headers = &bad, .headers_len = 1};
    CHECK_RESULT(fc_http_source_start(store, S("http://127.0.0.1:9/"), 0, &bad_header, &source),
                 FC_RESULT_INVALID_UTF8);
    CHECK(source == NULL); /* out-parameters are written only on success */
    CHECK_RESULT(fc_source_status(NULL, &st), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_source_last_error_message(NULL, NULL, 0, &n), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_source_stop(NULL), FC_RESULT_NULL_POINTER);
    fc_source_free(NULL);
    CHECK(strcmp(fc_source_error_name(FC_SOURCE_ERROR_HTTP_STATUS), "http_status") == 0);
    CHECK(strcmp(fc_source_error_name(12345), "unknown") == 0);

    /* A refused connection: the first poll fails inside start, the call does not. */
    fc_http_source_options quick = {.connect_timeout_ms = 500, .read_timeout_ms = 500};
    CHECK_RESULT(fc_http_source_start(store, S("http://127.0.0.1:9/snapshot.json"), 0, &quick, &source),
                 FC_RESULT_OK);
    st = state_of(source);
    CHECK(!st.healthy && st.consecutive_failures == 1 && st.last_error != FC_SOURCE_ERROR_NONE);
    CHECK_RESULT(fc_source_status(source, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_source_last_error_message(source, NULL, 0, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_source_last_error_message(source, NULL, 5, &n), FC_RESULT_NULL_POINTER);
    fc_source_free(source);
    fc_store_free(store);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof path, "%s/snapshot.json", dir);
    reloads_and_keeps_the_last_good_snapshot();
    a_missing_file_is_a_status_not_a_failure();
    bad_arguments();
    unlink(path);
    rmdir(dir);
    printf("file_source: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
