/* Readers evaluate on several threads while a writer swaps snapshots, kills and revives a
 * flag and takes metrics. Every evaluation through a snapshot view must be consistent with
 * exactly that view's version, no call may fail, and the metrics must count every
 * evaluation exactly once. Run under AddressSanitizer: a use-after-free of a retired
 * snapshot would be reported. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common.h"

#define READERS 4
#define UPDATES 300

static fc_store *store;
static atomic_int done;
static atomic_int reader_failures;
static atomic_int readers_started; /* readers that have evaluated once */
static atomic_uint_fast64_t evaluations; /* evaluations of "echo" made by the readers */

/* Version N serves the string "vN" for flag "echo". */
static size_t snapshot_text(uint64_t version, char *buf, size_t cap) {
    int n = snprintf(buf, cap,
                     "{\"version\": %" PRIu64 ", \"flags\": {"
                     "\"echo\": {\"variants\": {\"current\": \"v%" PRIu64 "\", \"old\": \"stale\"},"
                     " \"enabled\": true, \"off_variant\": \"old\","
                     " \"fallthrough\": {\"rollout\": {\"split\": [{\"variant\": \"current\", \"weight\": 100},"
                     "   {\"variant\": \"old\", \"weight\": 0}]}}},"
                     "\"switch\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
                     " \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"on\"}}}}",
                     version, version);
    return (size_t)n;
}

static void *reader(void *arg) {
    (void)arg;
    char key[32];
    fc_attribute attr = {0};
    attr.name = "n";
    attr.name_len = 1;
    attr.kind = FC_VALUE_KIND_INT;
    uint64_t local = 0;
    for (uint64_t i = 0; !atomic_load(&done); i++) {
        if (i == 1) atomic_fetch_add(&readers_started, 1); /* one iteration done */
        int klen = snprintf(key, sizeof key, "user-%" PRIu64, i);
        attr.int_value = (int64_t)i;
        fc_context ctx = {key, (size_t)klen, &attr, 1, NULL};
        fc_snapshot *snap = NULL;
        if (fc_store_snapshot(store, &snap) != FC_RESULT_OK) {
            atomic_fetch_add(&reader_failures, 1);
            continue;
        }
        uint64_t version = 0;
        fc_str value = {0};
        fc_details d;
        char want[32];
        if (fc_snapshot_version(snap, &version) != FC_RESULT_OK ||
            fc_snapshot_string(snap, S("echo"), &ctx, S("none"), &value, &d) != FC_RESULT_OK) {
            atomic_fetch_add(&reader_failures, 1);
        } else {
            int wlen = snprintf(want, sizeof want, "v%" PRIu64, version);
            if (value.len != (size_t)wlen || memcmp(value.ptr, want, value.len) != 0 ||
                d.reason != FC_REASON_SPLIT || d.bucket < 0 || d.bucket > 99999) {
                fprintf(stderr, "inconsistent: view of version %" PRIu64 " served %.*s\n", version,
                        (int)value.len, value.ptr);
                atomic_fetch_add(&reader_failures, 1);
            }
        }
        local++;
        fc_snapshot_free(snap);
        bool on = false;
        fc_prepared_context *prepared = NULL;
        if (fc_prepared_context_new(&ctx, &prepared) != FC_RESULT_OK) {
            atomic_fetch_add(&reader_failures, 1);
            continue;
        }
        fc_context fast = {.prepared = prepared};
        if (fc_store_bool(store, S("switch"), &fast, false, &on) != FC_RESULT_OK)
            atomic_fetch_add(&reader_failures, 1);
        fc_prepared_context_free(prepared);
        char buf[16];
        size_t n = 0;
        if (fc_store_string(store, S("echo"), &ctx, S("none"), buf, sizeof buf, &n) != FC_RESULT_OK ||
            n < 2 || buf[0] != 'v')
            atomic_fetch_add(&reader_failures, 1);
        local++;
    }
    atomic_fetch_add(&evaluations, local);
    return NULL;
}

static uint64_t counted(fc_metrics *metrics) {
    uint64_t total = 0;
    for (size_t i = 0; i < fc_metrics_len(metrics); i++) {
        fc_metric m;
        if (fc_metrics_get(metrics, i, &m) == FC_RESULT_OK && m.flag.len == 4 &&
            memcmp(m.flag.ptr, "echo", 4) == 0)
            total += m.count;
    }
    return total;
}

int main(void) {
    char text[1024];
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    size_t len = snapshot_text(1, text, sizeof text);
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)text, len, NULL), FC_RESULT_OK);

    pthread_t threads[READERS];
    for (int i = 0; i < READERS; i++) CHECK(pthread_create(&threads[i], NULL, reader, NULL) == 0);

    /* Every reader has evaluated once: the swaps below race with them. */
    while (atomic_load(&readers_started) < READERS) sched_yield();
    uint64_t metered = 0;
    for (uint64_t v = 2; v <= UPDATES; v++) {
        len = snapshot_text(v, text, sizeof text);
        CHECK_RESULT(fc_store_update(store, (const uint8_t *)text, len, NULL), FC_RESULT_OK);
        /* A stale or invalid update on the way must change nothing. */
        if (v % 10 == 0) {
            len = snapshot_text(v - 1, text, sizeof text);
            CHECK_RESULT(fc_store_update(store, (const uint8_t *)text, len, NULL), FC_RESULT_STALE_SNAPSHOT);
            CHECK_RESULT(fc_store_update(store, (const uint8_t *)"{", 1, NULL), FC_RESULT_INVALID_SNAPSHOT);
        }
        if (v % 7 == 0) CHECK_RESULT(fc_store_kill(store, S("switch"), S("flapping")), FC_RESULT_OK);
        if (v % 7 == 3) CHECK_RESULT(fc_store_revive(store, S("switch"), NULL), FC_RESULT_OK);
        if (v % 25 == 0) {
            fc_metrics *metrics = NULL;
            CHECK_RESULT(fc_store_take_metrics(store, &metrics), FC_RESULT_OK);
            metered += counted(metrics);
            fc_metrics_free(metrics);
            fc_kills *kills = NULL;
            CHECK_RESULT(fc_store_kills(store, &kills), FC_RESULT_OK);
            fc_kills_free(kills);
        }
    }
    atomic_store(&done, 1);
    for (int i = 0; i < READERS; i++) pthread_join(threads[i], NULL);

    fc_metrics *metrics = NULL;
    CHECK_RESULT(fc_store_take_metrics(store, &metrics), FC_RESULT_OK);
    metered += counted(metrics);
    fc_metrics_free(metrics);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    CHECK(version == UPDATES);
    CHECK(atomic_load(&reader_failures) == 0);
    CHECK(atomic_load(&evaluations) > 0);
    printf("threads: %" PRIu64 " evaluations of echo, %" PRIu64 " counted by the metrics\n",
           (uint64_t)atomic_load(&evaluations), metered);
    CHECK(metered == atomic_load(&evaluations));
    fc_store_free(store);
    return summary("threads");
}
