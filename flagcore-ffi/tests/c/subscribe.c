/* fc_store_subscribe: a callback told the version and the changed flags of each update,
 * kill, revive and guardrail trip, and of a file source's reloads on its own thread; the
 * store's writing functions refused inside the callback (they would deadlock) while
 * evaluations work; fc_store_unsubscribe and fc_store_free ending the calls (ASan would
 * catch a call with the freed user_data); bad arguments. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "common.h"

static const char *snapshot_v(int version, const char *checkout, const char *theme) {
    static char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"version\": %d, \"flags\": {"
             " \"checkout\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
             "   \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"%s\"},"
             "   \"guardrails\": [{\"id\": \"budget\", \"watch\": [\"on\"], \"max_error_rate\": 0.05}]},"
             " \"theme\": {\"variants\": {\"light\": \"#fff\", \"dark\": \"#000\"}, \"enabled\": true,"
             "   \"off_variant\": \"light\", \"fallthrough\": {\"variant\": \"%s\"}}"
             "}}",
             version, checkout, theme);
    return doc;
}

/* What a callback saw: the last change, copied, and what it got from the store. */
typedef struct {
    const fc_store *store;
    pthread_mutex_t lock;
    int calls;
    bool has_version;
    uint64_t version;
    char flags[256]; /* the names, comma-separated */
    pthread_t thread;
    fc_result kill_inside;   /* fc_store_kill from inside the callback */
    fc_result kills_inside;  /* fc_store_kills */
    fc_result unsub_inside;  /* fc_store_unsubscribe */
    fc_result eval_inside;   /* fc_store_bool, which takes no lock */
    bool value_inside;
} seen;

static void on_change(void *user_data, const fc_change *change) {
    seen *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    s->has_version = change->has_version;
    s->version = change->version;
    s->flags[0] = 0;
    for (size_t i = 0; i < change->flags_len; i++) {
        size_t used = strlen(s->flags);
        snprintf(s->flags + used, sizeof s->flags - used, "%s%.*s", i ? "," : "",
                 (int)change->flags[i].len, change->flags[i].ptr);
    }
    s->thread = pthread_self();
    s->kill_inside = fc_store_kill(s->store, S("theme"), S("from the callback"));
    fc_kills *kills = NULL;
    s->kills_inside = fc_store_kills(s->store, &kills);
    fc_kills_free(kills);
    s->unsub_inside = fc_store_unsubscribe(s->store, 1, NULL);
    s->eval_inside = fc_store_bool(s->store, S("checkout"), NULL, true, &s->value_inside);
    pthread_mutex_unlock(&s->lock);
}

static seen *new_seen(const fc_store *store) {
    seen *s = calloc(1, sizeof *s);
    if (!s) exit(2);
    s->store = store;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void free_seen(seen *s) {
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int calls_of(seen *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->calls;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void test_bad_arguments(fc_store *store) {
    uint64_t id = 0;
    CHECK_RESULT(fc_store_subscribe(NULL, on_change, NULL, &id), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_subscribe(store, NULL, NULL, &id), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_subscribe(store, on_change, NULL, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_unsubscribe(NULL, 1, NULL), FC_RESULT_NULL_POINTER);
    bool removed = true;
    CHECK_RESULT(fc_store_unsubscribe(store, 12345, &removed), FC_RESULT_OK);
    CHECK(!removed);
    CHECK(strcmp(fc_result_code(FC_RESULT_REENTRANT_CALL), "reentrant_call") == 0);
}

static void test_updates_kills_revives_and_trips(fc_store *store) {
    seen *s = new_seen(store);
    uint64_t id = 0;
    CHECK_RESULT(fc_store_subscribe(store, on_change, s, &id), FC_RESULT_OK);
    CHECK(id != 0);

    /* An update names the flags whose definition changed, only them. */
    const char *v2 = snapshot_v(2, "on", "dark");
    uint64_t version = 0;
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)v2, strlen(v2), &version), FC_RESULT_OK);
    CHECK(version == 2);
    CHECK(s->calls == 1 && s->has_version && s->version == 2);
    CHECK(strcmp(s->flags, "theme") == 0);
    CHECK(pthread_equal(s->thread, pthread_self()));
    /* Inside the callback: writing functions refused, evaluations served. */
    CHECK(s->kill_inside == FC_RESULT_REENTRANT_CALL);
    CHECK(s->kills_inside == FC_RESULT_REENTRANT_CALL);
    CHECK(s->unsub_inside == FC_RESULT_REENTRANT_CALL);
    CHECK(s->eval_inside == FC_RESULT_OK && s->value_inside);
    fc_kills *kills = NULL;
    CHECK_RESULT(fc_store_kills(store, &kills), FC_RESULT_OK);
    CHECK(fc_kills_len(kills) == 0); /* the refused kill did nothing */
    fc_kills_free(kills);

    /* A stale or invalid update changes nothing and tells no one. */
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)v2, strlen(v2), NULL), FC_RESULT_STALE_SNAPSHOT);
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)"{", 1, NULL), FC_RESULT_INVALID_SNAPSHOT);
    CHECK(s->calls == 1);

    /* An update that changes no flag still tells the new version. */
    const char *v3 = snapshot_v(3, "on", "dark");
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)v3, strlen(v3), NULL), FC_RESULT_OK);
    CHECK(s->calls == 2 && s->version == 3 && s->flags[0] == 0);

    /* A kill, a repeated kill (nothing changes), a revive, a revive of nothing. */
    CHECK_RESULT(fc_store_kill(store, S("checkout"), S("incident")), FC_RESULT_OK);
    CHECK(s->calls == 3 && s->version == 3 && strcmp(s->flags, "checkout") == 0);
    CHECK(s->eval_inside == FC_RESULT_OK && !s->value_inside); /* the kill is in force */
    CHECK_RESULT(fc_store_kill(store, S("checkout"), S("again")), FC_RESULT_OK);
    CHECK(s->calls == 3);
    bool was_killed = false;
    CHECK_RESULT(fc_store_revive(store, S("checkout"), &was_killed), FC_RESULT_OK);
    CHECK(was_killed && s->calls == 4 && strcmp(s->flags, "checkout") == 0);
    CHECK_RESULT(fc_store_revive(store, S("checkout"), &was_killed), FC_RESULT_OK);
    CHECK(!was_killed && s->calls == 4);

    /* A guardrail trip, inside fc_store_observe: every other observation fails. */
    for (int i = 1; i <= 100; i++) {
        CHECK_RESULT(fc_store_observe(store, S("checkout"), S("on"), i % 2 == 0, -1), FC_RESULT_OK);
    }
    CHECK(s->calls == 5 && strcmp(s->flags, "checkout") == 0);

    /* Unsubscribed: no more calls; the id is gone. */
    bool removed = false;
    CHECK_RESULT(fc_store_unsubscribe(store, id, &removed), FC_RESULT_OK);
    CHECK(removed);
    CHECK_RESULT(fc_store_unsubscribe(store, id, &removed), FC_RESULT_OK);
    CHECK(!removed);
    const char *v4 = snapshot_v(4, "off", "light");
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)v4, strlen(v4), NULL), FC_RESULT_OK);
    CHECK(s->calls == 5);
    free_seen(s);
}

/* A store with no snapshot: a kill is a change without a version. */
static void test_a_kill_before_the_first_snapshot(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    seen *s = new_seen(store);
    uint64_t id = 0;
    CHECK_RESULT(fc_store_subscribe(store, on_change, s, &id), FC_RESULT_OK);
    CHECK_RESULT(fc_store_kill(store, S("checkout"), S("early")), FC_RESULT_OK);
    CHECK(s->calls == 1 && !s->has_version && strcmp(s->flags, "checkout") == 0);
    fc_store_free(store);
    free_seen(s);
}

static char dir[] = "/tmp/flagcore-subscribe-XXXXXX";
static char path[256];

static void write_file(const char *text) { replace_file(path, text); }

static uint64_t loads(const fc_source *source) {
    fc_source_state st;
    memset(&st, 0, sizeof st);
    CHECK_RESULT(fc_source_status(source, &st), FC_RESULT_OK);
    return st.loads;
}

/* A source's reloads reach the callback on the source's thread; freeing the store handle
 * ends the subscription although the source keeps the store alive and fed. */
static void test_a_file_source_and_freeing_the_handle(void) {
    write_file(snapshot_v(1, "on", "light"));
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    seen *s = new_seen(store);
    uint64_t id = 0;
    CHECK_RESULT(fc_store_subscribe(store, on_change, s, &id), FC_RESULT_OK);
    fc_file_source_options options = {.debounce_ms = 5};
    fc_source *source = NULL;
    CHECK_RESULT(fc_file_source_start(store, path, strlen(path), &options, &source), FC_RESULT_OK);
    /* The first read, inside start, on this thread: every flag is new. */
    CHECK(calls_of(s) == 1 && s->version == 1 && strcmp(s->flags, "checkout,theme") == 0);
    CHECK(pthread_equal(s->thread, pthread_self()));

    write_file(snapshot_v(2, "off", "light"));
    for (int i = 0; i < 500 && calls_of(s) < 2; i++) sleep_ms(10);
    pthread_mutex_lock(&s->lock);
    CHECK(s->calls == 2 && s->version == 2 && strcmp(s->flags, "checkout") == 0);
    CHECK(!pthread_equal(s->thread, pthread_self())); /* the source's thread */
    CHECK(s->kill_inside == FC_RESULT_REENTRANT_CALL);
    pthread_mutex_unlock(&s->lock);

    /* Freed handle: the subscription ends with it, so user_data can go. */
    fc_store_free(store);
    free_seen(s);
    write_file(snapshot_v(3, "on", "dark"));
    for (int i = 0; i < 500 && loads(source) < 3; i++) sleep_ms(10);
    CHECK(loads(source) == 3); /* reloaded, and no callback touched the freed memory */
    fc_source_free(source);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror(dir);
        return 2;
    }
    snprintf(path, sizeof path, "%s/flags.json", dir);

    const char *v1 = snapshot_v(1, "on", "light");
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)v1, strlen(v1), &store), FC_RESULT_OK);
    test_bad_arguments(store);
    test_updates_kills_revives_and_trips(store);
    fc_store_free(store);
    test_a_kill_before_the_first_snapshot();
    test_a_file_source_and_freeing_the_handle();

    unlink(path);
    rmdir(dir);
    return summary("subscribe");
}
