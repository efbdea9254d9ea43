/* Guardrails through the C ABI: observations (bad arguments, unknown flags and variants
 * counted, a killed flag gathering nothing), the list of guardrails and their evidence, a
 * trip killing the flag and calling the callback once (which may call the store), revive
 * resetting the evidence, a NULL callback, and threads observing at once: exactly one
 * observation trips. Run under AddressSanitizer and UBSan. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common.h"

/* "checkout" serves "on" to everyone; "budget" trips once "on" fails more than 5% of the
 * time, with evidence: at its 100th observation (the fewest it decides on) when every
 * other one failed. "errors" compares "on" with the baseline "off". */
static const char SNAPSHOT[] =
    "{\"version\": 1, \"flags\": {"
    " \"checkout\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"on\"},"
    "   \"guardrails\": ["
    "     {\"id\": \"budget\", \"watch\": [\"on\"], \"max_error_rate\": 0.05},"
    "     {\"id\": \"errors\", \"watch\": [\"on\"], \"baseline\": \"off\", \"max_increase\": 0.01}]},"
    " \"plain\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"on\"}}"
    "}}";

static bool str_is(fc_str s, const char *text) {
    return s.ptr != NULL && s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static bool starts_with(fc_str s, const char *prefix) {
    return s.ptr != NULL && s.len >= strlen(prefix) && memcmp(s.ptr, prefix, strlen(prefix)) == 0;
}

/* What the trip callback saw. */
typedef struct {
    fc_store *store;
    atomic_int calls;
    char flag[64];
    char reason[512];
    size_t kills_seen; /* fc_store_kills from inside the callback */
} trips;

static void on_trip(void *user_data, const fc_kill *kill) {
    trips *t = user_data;
    if (atomic_fetch_add(&t->calls, 1) == 0) {
        snprintf(t->flag, sizeof t->flag, "%.*s", (int)kill->flag.len, kill->flag.ptr);
        snprintf(t->reason, sizeof t->reason, "%.*s", (int)kill->reason.len, kill->reason.ptr);
        /* No lock of the store is held: reading its kills here must not deadlock. */
        fc_kills *kills = NULL;
        if (fc_store_kills(t->store, &kills) == FC_RESULT_OK) t->kills_seen = fc_kills_len(kills);
        fc_kills_free(kills);
    }
}

/* Reads guardrail `id` of the store into *out, the list into *list (free it after). */
static bool find_guardrail(fc_store *store, const char *id, fc_guardrails **list, fc_guardrail *out) {
    *list = NULL;
    if (fc_store_guardrails(store, list) != FC_RESULT_OK) return false;
    for (size_t i = 0; i < fc_guardrails_len(*list); i++) {
        if (fc_guardrails_get(*list, i, out) == FC_RESULT_OK && str_is(out->id, id)) return true;
    }
    return false;
}

static uint64_t watched_observations(fc_store *store, const char *id) {
    fc_guardrails *list = NULL;
    fc_guardrail g;
    uint64_t n = UINT64_MAX;
    if (find_guardrail(store, id, &list, &g) && g.watched_len == 1) n = g.watched[0].observations;
    fc_guardrails_free(list);
    return n;
}

static void test_bad_arguments(fc_store *store) {
    CHECK_RESULT(fc_store_observe(NULL, S("checkout"), S("on"), false, -1), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_observe(store, NULL, 3, S("on"), false, -1), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), NULL, 2, false, -1), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_observe(store, "\xff", 1, S("on"), false, -1), FC_RESULT_INVALID_UTF8);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), "o\xc3", 2, true, 5), FC_RESULT_INVALID_UTF8);
    uint64_t n = 0;
    CHECK_RESULT(fc_store_guardrail_trips(NULL, &n), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_guardrail_trips(store, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_observations_ignored(NULL, &n), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_observations_ignored(store, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_guardrails(NULL, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_guardrails(store, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_on_guardrail_trip(NULL, on_trip, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_guardrails_get(NULL, 0, NULL), FC_RESULT_NULL_POINTER);
    CHECK(fc_guardrails_len(NULL) == 0);
    fc_guardrails_free(NULL);
    /* Failed calls record nothing. */
    CHECK_RESULT(fc_store_observations_ignored(store, &n), FC_RESULT_OK);
    CHECK(n == 0);
    CHECK(watched_observations(store, "budget") == 0);
}

static void test_unknown_flags_and_variants_are_counted(fc_store *store) {
    CHECK_RESULT(fc_store_observe(store, S("no-such-flag"), S("on"), true, -1), FC_RESULT_OK);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("maybe"), true, -1), FC_RESULT_OK);
    CHECK_RESULT(fc_store_observe(store, NULL, 0, NULL, 0, false, -1), FC_RESULT_OK); /* "" and "" */
    uint64_t ignored = 0;
    CHECK_RESULT(fc_store_observations_ignored(store, &ignored), FC_RESULT_OK);
    CHECK(ignored == 3);
    /* A flag without guardrails: known, so not ignored, and no evidence anywhere. */
    CHECK_RESULT(fc_store_observe(store, S("plain"), S("on"), true, -1), FC_RESULT_OK);
    CHECK_RESULT(fc_store_observations_ignored(store, &ignored), FC_RESULT_OK);
    CHECK(ignored == 3);
    CHECK(watched_observations(store, "budget") == 0);
}

static void test_the_list(fc_store *store) {
    /* Two observations of "on" (one failed, with a latency) and one of "off". */
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), true, 1500), FC_RESULT_OK);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), false, -1), FC_RESULT_OK);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("off"), false, 0), FC_RESULT_OK);

    fc_guardrails *list = NULL;
    CHECK_RESULT(fc_store_guardrails(store, &list), FC_RESULT_OK);
    CHECK(fc_guardrails_len(list) == 2);
    fc_guardrail g;
    CHECK_RESULT(fc_guardrails_get(list, 0, &g), FC_RESULT_OK);
    CHECK(str_is(g.flag, "checkout") && str_is(g.id, "budget"));
    CHECK(str_is(g.bound, "max_error_rate 0.05"));
    CHECK(g.watched_len == 1 && str_is(g.watched[0].variant, "on"));
    CHECK(g.watched[0].observations == 2 && g.watched[0].events == 1);
    CHECK(g.baseline.variant.ptr == NULL && g.baseline.observations == 0);
    CHECK(!g.tripped && g.likelihood_ratio == 0.0); /* too few observations to decide */
    CHECK_RESULT(fc_guardrails_get(list, 1, &g), FC_RESULT_OK);
    CHECK(str_is(g.id, "errors") && str_is(g.bound, "max_increase 0.01 over off"));
    CHECK(g.watched_len == 1 && g.watched[0].observations == 2 && g.watched[0].events == 1);
    CHECK(str_is(g.baseline.variant, "off"));
    CHECK(g.baseline.observations == 1 && g.baseline.events == 0);
    CHECK_RESULT(fc_guardrails_get(list, 2, &g), FC_RESULT_OUT_OF_RANGE);
    CHECK_RESULT(fc_guardrails_get(list, 0, NULL), FC_RESULT_NULL_POINTER);

    /* The list is a copy: later observations do not change it. */
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), false, -1), FC_RESULT_OK);
    CHECK_RESULT(fc_guardrails_get(list, 0, &g), FC_RESULT_OK);
    CHECK(g.watched[0].observations == 2);
    fc_guardrails_free(list);
    CHECK(watched_observations(store, "budget") == 3);
}

static void test_a_trip_kills_and_calls_back(fc_store *store) {
    trips t = {.store = store};
    CHECK_RESULT(fc_store_on_guardrail_trip(store, on_trip, &t), FC_RESULT_OK);
    bool was_killed = false;
    CHECK_RESULT(fc_store_revive(store, S("checkout"), &was_killed), FC_RESULT_OK);
    CHECK(!was_killed); /* not killed: the evidence stays */
    CHECK(watched_observations(store, "budget") == 3);
    /* Start "budget" afresh: kill and revive. */
    CHECK_RESULT(fc_store_kill(store, S("checkout"), S("reset")), FC_RESULT_OK);
    CHECK_RESULT(fc_store_revive(store, S("checkout"), &was_killed), FC_RESULT_OK);
    CHECK(was_killed && watched_observations(store, "budget") == 0);

    for (int i = 1; i <= 99; i++) {
        CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), i % 2 == 1, -1), FC_RESULT_OK);
    }
    CHECK(atomic_load(&t.calls) == 0);
    bool on = false;
    CHECK_RESULT(fc_store_bool(store, S("checkout"), NULL, false, &on), FC_RESULT_OK);
    CHECK(on);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), false, -1), FC_RESULT_OK);
    CHECK(atomic_load(&t.calls) == 1);
    CHECK(strcmp(t.flag, "checkout") == 0);
    CHECK(strncmp(t.reason, "guardrail budget: 50.0% errors, 100 observations", 48) == 0);
    CHECK(t.kills_seen == 1);

    /* Killed: its off_variant, the kill in the list, the guardrail tripped. */
    CHECK_RESULT(fc_store_bool(store, S("checkout"), NULL, true, &on), FC_RESULT_OK);
    CHECK(!on);
    fc_kills *kills = NULL;
    CHECK_RESULT(fc_store_kills(store, &kills), FC_RESULT_OK);
    fc_kill k;
    CHECK(fc_kills_len(kills) == 1);
    CHECK_RESULT(fc_kills_get(kills, 0, &k), FC_RESULT_OK);
    CHECK(str_is(k.flag, "checkout") && starts_with(k.reason, "guardrail"));
    fc_kills_free(kills);
    uint64_t n = 0;
    CHECK_RESULT(fc_store_guardrail_trips(store, &n), FC_RESULT_OK);
    CHECK(n == 1);
    fc_guardrails *list = NULL;
    fc_guardrail g;
    CHECK(find_guardrail(store, "budget", &list, &g));
    CHECK(g.tripped && g.likelihood_ratio >= 100.0);
    CHECK(g.watched[0].observations == 100 && g.watched[0].events == 50);
    fc_guardrails_free(list);

    /* A killed flag gathers no evidence, and trips no more. */
    for (int i = 0; i < 50; i++) {
        CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), true, -1), FC_RESULT_OK);
    }
    CHECK(watched_observations(store, "budget") == 100);
    CHECK(atomic_load(&t.calls) == 1);

    /* A revive resets the evidence; a NULL callback stops the calls (trips still count). */
    CHECK_RESULT(fc_store_revive(store, S("checkout"), &was_killed), FC_RESULT_OK);
    CHECK(was_killed);
    CHECK(find_guardrail(store, "budget", &list, &g));
    CHECK(!g.tripped && g.watched[0].observations == 0 && g.watched[0].events == 0);
    fc_guardrails_free(list);
    CHECK_RESULT(fc_store_on_guardrail_trip(store, NULL, NULL), FC_RESULT_OK);
    for (int i = 1; i <= 100; i++) {
        CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), i % 2 == 1, -1), FC_RESULT_OK);
    }
    CHECK_RESULT(fc_store_bool(store, S("checkout"), NULL, true, &on), FC_RESULT_OK);
    CHECK(!on);
    CHECK(atomic_load(&t.calls) == 1);
    CHECK_RESULT(fc_store_guardrail_trips(store, &n), FC_RESULT_OK);
    CHECK(n == 2);
    CHECK_RESULT(fc_store_revive(store, S("checkout"), NULL), FC_RESULT_OK);
}

#define THREADS 4
#define PER_THREAD 2000

static fc_store *shared;
static atomic_int thread_failures;

static void *observer(void *arg) {
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (fc_store_observe(shared, S("checkout"), S("on"), i % 2 == 0, i) != FC_RESULT_OK ||
            fc_store_observe(shared, S("checkout"), S("gone"), false, -1) != FC_RESULT_OK) {
            atomic_fetch_add(&thread_failures, 1);
        }
    }
    return NULL;
}

static void test_threads_observing_at_once(void) {
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)SNAPSHOT, sizeof SNAPSHOT - 1, &shared),
                 FC_RESULT_OK);
    trips t = {.store = shared};
    CHECK_RESULT(fc_store_on_guardrail_trip(shared, on_trip, &t), FC_RESULT_OK);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, observer, NULL) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    CHECK(atomic_load(&thread_failures) == 0);
    CHECK(atomic_load(&t.calls) == 1); /* exactly one observation tripped */
    uint64_t n = 0;
    CHECK_RESULT(fc_store_guardrail_trips(shared, &n), FC_RESULT_OK);
    CHECK(n == 1);
    CHECK_RESULT(fc_store_observations_ignored(shared, &n), FC_RESULT_OK);
    CHECK(n == THREADS * PER_THREAD);
    fc_store_free(shared);
}

int main(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)SNAPSHOT, sizeof SNAPSHOT - 1, &store),
                 FC_RESULT_OK);
    test_bad_arguments(store);
    test_unknown_flags_and_variants_are_counted(store);
    test_the_list(store);
    test_a_trip_kills_and_calls_back(store);
    fc_store_free(store);

    /* No snapshot yet: an empty list, and every observation ignored. */
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    fc_guardrails *list = NULL;
    CHECK_RESULT(fc_store_guardrails(store, &list), FC_RESULT_OK);
    CHECK(fc_guardrails_len(list) == 0);
    fc_guardrails_free(list);
    CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), true, -1), FC_RESULT_OK);
    uint64_t ignored = 0;
    CHECK_RESULT(fc_store_observations_ignored(store, &ignored), FC_RESULT_OK);
    CHECK(ignored == 1);
    fc_store_free(store);

    test_threads_observing_at_once();
    return summary("guardrails");
}
