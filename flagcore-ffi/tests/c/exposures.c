/* fc_store_track_exposures: batches on the tracking thread with every field (the unit is
 * the rollout's `by` attribute, else the key), repeats deduplicated and counted, flushing
 * on demand, replacing the sink, fc_store_free delivering what was accepted and ending the
 * calls (ASan would catch a call with the freed user_data), the functions refused inside
 * the callback; the JSON Lines file; an OpenTelemetry collector (a loopback HTTP receiver
 * decoding the OTLP protobuf); bad arguments. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stdint.h>
#include <unistd.h>
#include <ctype.h>

#include "common.h"

static const char SNAPSHOT[] =
    "{\"version\": 7, \"flags\": {"
    " \"experiment\": {\"variants\": {\"a\": true, \"b\": false}, \"enabled\": true,"
    "   \"off_variant\": \"b\", \"exposures\": true,"
    "   \"targets\": [{\"variant\": \"b\", \"keys\": [\"vip\"]}],"
    "   \"rules\": [{\"id\": \"beta\", \"conditions\": [{\"attribute\": \"beta\", \"op\": \"eq\", \"values\": [true]}],"
    "     \"serve\": {\"rollout\": {\"by\": \"account\", \"split\": [{\"variant\": \"a\", \"weight\": 50},"
    "                                                         {\"variant\": \"b\", \"weight\": 50}]}}}],"
    "   \"fallthrough\": {\"rollout\": {\"split\": [{\"variant\": \"a\", \"weight\": 50},"
    "                                          {\"variant\": \"b\", \"weight\": 50}]}}},"
    " \"plain\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"on\"}}"
    "}}";

#define MAX_SEEN 64

/* One exposure, copied out of the lent batch. */
typedef struct {
    int64_t time_unix_ms;
    char flag[32], variant[16], rule_id[16], key[32], unit[32];
    bool has_rule_id, has_key, has_unit;
    fc_reason reason;
    int64_t rule_index;
    int32_t bucket, step;
    uint64_t version;
} copied;

/* What a callback saw, and what it got from the store inside. */
typedef struct {
    const fc_store *store;
    pthread_mutex_t lock;
    int batches;
    int count;
    copied seen[MAX_SEEN];
    pthread_t thread;
    fc_result flush_inside; /* fc_store_flush_exposures: waits for this thread */
    fc_result kill_inside;  /* fc_store_kill: the writer lock */
    fc_result eval_inside;  /* fc_store_bool: no lock */
} sink;

static void copy_str(char *to, size_t size, bool *has, fc_str s) {
    if (has) *has = s.ptr != NULL;
    snprintf(to, size, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static void on_exposures(void *user_data, const fc_exposure *batch, size_t len) {
    sink *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->batches++;
    s->thread = pthread_self();
    for (size_t i = 0; i < len && s->count < MAX_SEEN; i++) {
        const fc_exposure *e = &batch[i];
        copied *c = &s->seen[s->count++];
        c->time_unix_ms = e->time_unix_ms;
        copy_str(c->flag, sizeof c->flag, NULL, e->flag);
        copy_str(c->variant, sizeof c->variant, NULL, e->variant);
        copy_str(c->rule_id, sizeof c->rule_id, &c->has_rule_id, e->rule_id);
        copy_str(c->key, sizeof c->key, &c->has_key, e->key);
        copy_str(c->unit, sizeof c->unit, &c->has_unit, e->unit);
        c->reason = e->reason;
        c->rule_index = e->rule_index;
        c->bucket = e->bucket;
        c->step = e->step;
        c->version = e->version;
    }
    s->flush_inside = fc_store_flush_exposures(s->store);
    s->kill_inside = fc_store_kill(s->store, S("plain"), S("from the callback"));
    bool value = false;
    s->eval_inside = fc_store_bool(s->store, S("plain"), NULL, false, &value);
    pthread_mutex_unlock(&s->lock);
}

static sink *new_sink(const fc_store *store) {
    sink *s = calloc(1, sizeof *s);
    if (!s) exit(2);
    s->store = store;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void free_sink(sink *s) {
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int count_of(sink *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static fc_store *new_store(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)SNAPSHOT, sizeof SNAPSHOT - 1, &store),
                 FC_RESULT_OK);
    return store;
}

/* What an evaluation served: the details, and the variant copied out of the snapshot. */
typedef struct {
    fc_details details;
    char variant[16];
} served;

/* Evaluates `experiment` for `key` (NULL: none); `account` >= 0 puts the user in the beta
 * rule, whose rollout is by that attribute (as an integer). */
static served evaluate(const fc_store *store, const char *key, int64_t account) {
    fc_attribute attrs[2];
    memset(attrs, 0, sizeof attrs);
    attrs[0].name = "beta";
    attrs[0].name_len = 4;
    attrs[0].kind = FC_VALUE_KIND_BOOL;
    attrs[0].bool_value = account >= 0;
    attrs[1].name = "account";
    attrs[1].name_len = 7;
    attrs[1].kind = FC_VALUE_KIND_INT;
    attrs[1].int_value = account;
    fc_context ctx = {.key = key, .key_len = key ? strlen(key) : 0,
                      .attributes = attrs, .attributes_len = 2};
    fc_snapshot *snapshot = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snapshot), FC_RESULT_OK);
    bool value = false;
    served out;
    memset(&out, 0, sizeof out);
    CHECK_RESULT(fc_snapshot_bool(snapshot, S("experiment"), &ctx, false, &value, &out.details),
                 FC_RESULT_OK);
    copy_str(out.variant, sizeof out.variant, NULL, out.details.variant);
    fc_snapshot_free(snapshot);
    return out;
}

static fc_exposure_stats stats_of(const fc_store *store) {
    fc_exposure_stats st;
    memset(&st, 0xff, sizeof st);
    CHECK_RESULT(fc_store_exposure_stats(store, &st), FC_RESULT_OK);
    return st;
}

static void test_fields_dedup_and_flush(void) {
    fc_store *store = new_store();
    fc_exposure_stats st = stats_of(store);
    CHECK(st.accepted == 0 && st.delivered == 0 && st.dropped == 0); /* not tracking yet */
    evaluate(store, "before", -1);                                    /* records nothing */

    sink *s = new_sink(store);
    /* Drained only on demand: what arrives, arrives through the flush. */
    fc_exposure_options options = {.flush_interval_ms = 60000};
    CHECK_RESULT(fc_store_track_exposures(store, on_exposures, s, &options), FC_RESULT_OK);
    int64_t start_ms = (int64_t)time(NULL) * 1000;

    served by_account = evaluate(store, "user-1", 1027);
    served by_key = evaluate(store, "user-2", -1);
    served targeted = evaluate(store, "vip", -1);
    for (int i = 0; i < 4; i++) evaluate(store, "user-1", 1027); /* repeats */
    bool on = false;
    CHECK_RESULT(fc_store_bool(store, S("plain"), NULL, false, &on), FC_RESULT_OK); /* not opted in */
    CHECK_RESULT(fc_store_bool(store, S("missing"), NULL, false, &on), FC_RESULT_OK); /* the default */
    sleep_ms(50);
    CHECK(count_of(s) == 0);

    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK);
    pthread_mutex_lock(&s->lock);
    CHECK(s->count == 3);
    CHECK(!pthread_equal(s->thread, pthread_self())); /* the tracking thread */
    CHECK(s->flush_inside == FC_RESULT_REENTRANT_CALL);
    CHECK(s->kill_inside == FC_RESULT_REENTRANT_CALL);
    CHECK(s->eval_inside == FC_RESULT_OK);
    const copied *e = &s->seen[0];
    CHECK(strcmp(e->flag, "experiment") == 0);
    CHECK(strcmp(e->variant, by_account.variant) == 0);
    CHECK(e->reason == FC_REASON_SPLIT);
    CHECK(e->rule_index == 0 && e->has_rule_id && strcmp(e->rule_id, "beta") == 0);
    CHECK(e->has_key && strcmp(e->key, "user-1") == 0);
    CHECK(e->has_unit && strcmp(e->unit, "1027") == 0); /* the `by` attribute, as text */
    CHECK(e->bucket == by_account.details.bucket && e->bucket >= 0);
    CHECK(e->step == -1 && e->version == 7);
    CHECK(e->time_unix_ms >= start_ms - 1000 && e->time_unix_ms <= start_ms + 60000);
    e = &s->seen[1];
    CHECK(e->reason == FC_REASON_SPLIT && e->rule_index == -1 && !e->has_rule_id);
    CHECK(strcmp(e->unit, "user-2") == 0 && strcmp(e->variant, by_key.variant) == 0);
    CHECK(e->bucket == by_key.details.bucket); /* the unit is the key */
    e = &s->seen[2];
    CHECK(e->reason == FC_REASON_TARGETING_MATCH && strcmp(e->variant, "b") == 0);
    CHECK(strcmp(e->unit, "vip") == 0 && e->bucket == -1 && targeted.details.bucket == -1);
    pthread_mutex_unlock(&s->lock);

    st = stats_of(store);
    CHECK(st.accepted == 7 && st.delivered == 3 && st.deduplicated == 4);
    CHECK(st.dropped == 0 && st.sink_errors == 0);

    fc_store_free(store);
    free_sink(s);

    /* No deduplication: every repeat is delivered. */
    store = new_store();
    s = new_sink(store);
    fc_exposure_options every = {.flush_interval_ms = 60000, .no_dedup = true};
    CHECK_RESULT(fc_store_track_exposures(store, on_exposures, s, &every), FC_RESULT_OK);
    for (int i = 0; i < 3; i++) evaluate(store, "user-1", 1027);
    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK);
    CHECK(count_of(s) == 3);
    st = stats_of(store);
    CHECK(st.accepted == 3 && st.delivered == 3 && st.deduplicated == 0);
    fc_store_free(store);
    free_sink(s);
}

/* Replacing the callback hands it everything accepted before; freeing the store delivers
 * what is queued, and then no callback runs, although a source keeps the store alive and
 * a snapshot view still evaluates. */
static char dir[] = "/tmp/flagcore-exposures-XXXXXX";
static char path[256];
static char lines_path[256];

static void test_replacing_and_freeing(void) {
    replace_file(path, SNAPSHOT);
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    fc_source *source = NULL;
    CHECK_RESULT(fc_file_source_start(store, path, strlen(path), NULL, &source), FC_RESULT_OK);

    sink *first = new_sink(store), *second = new_sink(store);
    fc_exposure_options options = {.flush_interval_ms = 60000};
    CHECK_RESULT(fc_store_track_exposures(store, on_exposures, first, &options), FC_RESULT_OK);
    evaluate(store, "user-1", -1);
    CHECK_RESULT(fc_store_track_exposures(store, on_exposures, second, &options), FC_RESULT_OK);
    CHECK(count_of(first) == 1); /* delivered before the swap returned */
    free_sink(first);

    evaluate(store, "user-2", -1);
    fc_snapshot *snapshot = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snapshot), FC_RESULT_OK);
    CHECK(count_of(second) == 0);
    fc_store_free(store); /* the source keeps the engine alive */
    CHECK(count_of(second) == 1);
    free_sink(second);

    bool value = false;
    fc_details details;
    fc_context ctx = {.key = "user-3", .key_len = 6};
    CHECK_RESULT(fc_snapshot_bool(snapshot, S("experiment"), &ctx, false, &value, &details),
                 FC_RESULT_OK);
    fc_snapshot_free(snapshot);
    fc_source_free(source); /* the engine goes: a last flush, calling nothing freed */
}

static int count_lines(const char *file) {
    size_t len = 0;
    char *text = read_file(file, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    free(text);
    return lines;
}

static void test_json_lines(void) {
    fc_store *store = new_store();
    fc_exposure_options options = {.flush_interval_ms = 60000};
    CHECK_RESULT(fc_store_track_exposures_json_lines(store, lines_path, strlen(lines_path), 0, 0,
                                                     &options),
                 FC_RESULT_OK);
    evaluate(store, "user-1", 9);
    evaluate(store, NULL, 10);
    evaluate(store, "user-1", 9); /* a repeat */
    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK);
    CHECK(count_lines(lines_path) == 2);
    size_t len = 0;
    char *text = read_file(lines_path, &len);
    CHECK(strstr(text, "\"flag\":\"experiment\"") != NULL);
    CHECK(strstr(text, "\"reason\":\"SPLIT\",\"rule_index\":0,\"rule_id\":\"beta\","
                       "\"key\":\"user-1\",\"unit\":\"9\"") != NULL);
    CHECK(strstr(text, "\"key\":null,\"unit\":\"10\"") != NULL);
    CHECK(strstr(text, "\"version\":7}\n") != NULL);
    CHECK(strncmp(text, "{\"time\":\"20", 11) == 0);
    free(text);

    /* Freeing the store writes what is queued; a new store appends. */
    evaluate(store, "user-4", -1);
    fc_store_free(store);
    CHECK(count_lines(lines_path) == 3);
    store = new_store();
    CHECK_RESULT(fc_store_track_exposures_json_lines(store, lines_path, strlen(lines_path), 0, 0,
                                                     NULL),
                 FC_RESULT_OK);
    evaluate(store, "user-5", -1);
    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK);
    CHECK(count_lines(lines_path) == 4);
    fc_store_free(store);
}


/* A loopback OTLP/HTTP collector: one thread accepting connections, keeping the last
 * request's head and body, answering 200 and closing. */
typedef struct {
    int listener;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    int requests;
    char head[2048];
    unsigned char body[8192];
    size_t body_len;
} receiver;

static void *receive(void *arg) {
    receiver *r = arg;
    for (;;) {
        int conn = accept(r->listener, NULL, NULL);
        if (conn < 0) return NULL; /* the listener was shut down */
        char buf[16384];
        size_t got = 0;
        char *end = NULL;
        long length = -1;
        for (;;) {
            ssize_t n = recv(conn, buf + got, sizeof buf - 1 - got, 0);
            if (n <= 0) break;
            got += (size_t)n;
            buf[got] = '\0';
            if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                for (char *h = buf; h < end; h++) /* header names case-insensitively */
                    if (h > buf && h[-1] == '\n') /* not the request line */
                        for (char *c = h; *c && *c != ':' && *c != '\r'; c++) *c = (char)tolower((unsigned char)*c);
                char *cl = strstr(buf, "content-length:");
                length = cl ? strtol(cl + 15, NULL, 10) : 0;
            }
            if (end && got >= (size_t)(end + 4 - buf) + (size_t)length) break;
        }
        if (end && length >= 0 && (size_t)length <= sizeof r->body) {
            pthread_mutex_lock(&r->lock);
            snprintf(r->head, sizeof r->head, "%.*s", (int)(end - buf), buf);
            memcpy(r->body, end + 4, (size_t)length);
            r->body_len = (size_t)length;
            r->requests++;
            pthread_mutex_unlock(&r->lock);
        }
        static const char OK[] =
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n";
        send(conn, OK, sizeof OK - 1, 0);
        close(conn);
    }
}

static void start_receiver(receiver *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t size = sizeof addr;
    CHECK(bind(r->listener, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(r->listener, 8) == 0);
    CHECK(getsockname(r->listener, (struct sockaddr *)&addr, &size) == 0);
    r->port = ntohs(addr.sin_port);
    pthread_create(&r->thread, NULL, receive, r);
}

static void stop_receiver(receiver *r) {
    shutdown(r->listener, SHUT_RDWR);
    close(r->listener);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
}

/* Protobuf, as far as OTLP logs need: one field of a message at `*p`. Returns false at
 * the end or on a malformed field. */
typedef struct {
    uint32_t number;
    int wire;
    const unsigned char *bytes; /* wire type 2 */
    size_t len;
} pb_field;

static bool pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *out) {
    *out = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        *out |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

static bool pb_next(const unsigned char **p, const unsigned char *end, pb_field *f) {
    uint64_t tag, n;
    if (*p >= end || !pb_varint(p, end, &tag)) return false;
    f->number = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    switch (f->wire) {
    case 0: return pb_varint(p, end, &n);
    case 1: if (end - *p < 8) return false; *p += 8; return true;
    case 5: if (end - *p < 4) return false; *p += 4; return true;
    case 2:
        if (!pb_varint(p, end, &n) || n > (uint64_t)(end - *p)) return false;
        f->bytes = *p;
        f->len = (size_t)n;
        *p += n;
        return true;
    default: return false;
    }
}

/* The string attributes of one LogRecord (field 6: KeyValue{1: key, 2: AnyValue{1:
 * string_value}}), "key=value;" each, and its event_name (field 12). */
static void log_record(const unsigned char *p, const unsigned char *end, char *out, size_t size) {
    pb_field f, kv, any;
    size_t used = strlen(out);
    while (pb_next(&p, end, &f)) {
        if (f.wire != 2) continue;
        if (f.number == 12) {
            used += (size_t)snprintf(out + used, size - used, "event=%.*s;", (int)f.len, f.bytes);
        } else if (f.number == 6) {
            const unsigned char *q = f.bytes, *qend = f.bytes + f.len;
            const unsigned char *key = NULL, *value = NULL;
            size_t key_len = 0, value_len = 0;
            while (pb_next(&q, qend, &kv)) {
                if (kv.number == 1 && kv.wire == 2) key = kv.bytes, key_len = kv.len;
                if (kv.number == 2 && kv.wire == 2) {
                    const unsigned char *a = kv.bytes, *aend = kv.bytes + kv.len;
                    while (pb_next(&a, aend, &any))
                        if (any.number == 1 && any.wire == 2) value = any.bytes, value_len = any.len;
                }
            }
            if (key && value)
                used += (size_t)snprintf(out + used, size - used, "%.*s=%.*s;", (int)key_len,
                                         key, (int)value_len, value);
        }
        if (used >= size) return;
    }
}

/* ExportLogsServiceRequest{1: ResourceLogs{2: ScopeLogs{2: LogRecord}}}: each record's
 * attributes, one "|"-ended entry per record. Returns the records decoded, -1 if malformed. */
static int decode_logs(const unsigned char *body, size_t len, char *out, size_t size) {
    const unsigned char *p = body, *end = body + len;
    pb_field resource, scope, record;
    int records = 0;
    out[0] = '\0';
    while (pb_next(&p, end, &resource)) {
        if (resource.number != 1 || resource.wire != 2) continue;
        const unsigned char *q = resource.bytes, *qend = resource.bytes + resource.len;
        while (pb_next(&q, qend, &scope)) {
            if (scope.number != 2 || scope.wire != 2) continue;
            const unsigned char *r = scope.bytes, *rend = scope.bytes + scope.len;
            while (pb_next(&r, rend, &record)) {
                if (record.number != 2 || record.wire != 2) continue;
                log_record(record.bytes, record.bytes + record.len, out, size);
                strncat(out, "|", size - strlen(out) - 1);
                records++;
            }
        }
    }
    return p == end ? records : -1;
}

static void test_otlp(void) {
    receiver r;
    start_receiver(&r);
    char endpoint[64];
    int endpoint_len = snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", r.port);
    fc_store *store = new_store();
    fc_otlp_options otlp = {0};
    otlp.headers = "authorization=Bearer%20abc, x-tenant=7";
    otlp.headers_len = strlen(otlp.headers);
    otlp.service_name = "checkout-api";
    otlp.service_name_len = strlen(otlp.service_name);
    fc_exposure_options options = {.flush_interval_ms = 60000};
    CHECK_RESULT(fc_store_track_exposures_otlp(store, endpoint, (size_t)endpoint_len, &otlp,
                                               &options),
                 FC_RESULT_OK);
    served vip = evaluate(store, "vip", -1);
    CHECK(strcmp(vip.variant, "b") == 0 && vip.details.reason == FC_REASON_TARGETING_MATCH);
    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK);

    pthread_mutex_lock(&r.lock);
    CHECK(r.requests == 1);
    CHECK(strncmp(r.head, "POST /v1/logs HTTP/1.1\r\n", 24) == 0);
    CHECK(strstr(r.head, "\ncontent-type: application/x-protobuf\r") != NULL);
    CHECK(strstr(r.head, "\nauthorization: Bearer abc") != NULL);
    CHECK(strstr(r.head, "\nx-tenant: 7") != NULL);
    char records[2048];
    CHECK(decode_logs(r.body, r.body_len, records, sizeof records) == 1);
    CHECK(strstr(records, "event=feature_flag.evaluation;") != NULL);
    CHECK(strstr(records, "feature_flag.key=experiment;") != NULL);
    CHECK(strstr(records, "feature_flag.result.variant=b;") != NULL);
    CHECK(strstr(records, "feature_flag.result.reason=targeting_match;") != NULL);
    CHECK(strstr(records, "flagcore.targeting_key=vip;") != NULL);
    /* The resource names the service: its bytes are in the body. */
    bool named = false;
    for (size_t i = 0; i + 12 <= r.body_len && !named; i++)
        named = memcmp(r.body + i, "checkout-api", 12) == 0;
    CHECK(named);
    pthread_mutex_unlock(&r.lock);
    fc_exposure_stats stats = stats_of(store);
    CHECK(stats.delivered == 1 && stats.sink_errors == 0);
    fc_store_free(store);
    stop_receiver(&r);

    /* Nothing listens there now: the batch is a sink error. */
    store = new_store();
    otlp = (fc_otlp_options){.timeout_ms = 2000};
    CHECK_RESULT(fc_store_track_exposures_otlp(store, endpoint, (size_t)endpoint_len, &otlp,
                                               &options),
                 FC_RESULT_OK);
    evaluate(store, "vip", -1);
    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK);
    stats = stats_of(store);
    CHECK(stats.delivered == 0 && stats.sink_errors == 1);
    fc_store_free(store);
}

static void test_bad_arguments(void) {
    fc_store *store = new_store();
    sink *s = new_sink(store);
    CHECK_RESULT(fc_store_track_exposures(NULL, on_exposures, s, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_track_exposures(store, NULL, s, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_track_exposures_json_lines(store, NULL, 0, 0, 0, NULL),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_track_exposures_json_lines(store, S("/nonexistent-dir/x.jsonl"), 0, 0,
                                                     NULL),
                 FC_RESULT_IO);
    CHECK_RESULT(fc_store_track_exposures_otlp(NULL, S("http://127.0.0.1:1"), NULL, NULL),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_track_exposures_otlp(store, NULL, 0, NULL, NULL),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_track_exposures_otlp(store, S("not a url"), NULL, NULL),
                 FC_RESULT_INVALID_ARGUMENT);
    fc_otlp_options bad = {.headers = "novalue", .headers_len = 7};
    CHECK_RESULT(fc_store_track_exposures_otlp(store, S("http://127.0.0.1:1"), &bad, NULL),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_flush_exposures(NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_flush_exposures(store), FC_RESULT_OK); /* nothing tracked: at once */
    CHECK_RESULT(fc_store_exposure_stats(NULL, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_exposure_stats(store, NULL), FC_RESULT_NULL_POINTER);
    fc_store_free(store);
    free_sink(s);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror(dir);
        return 2;
    }
    snprintf(path, sizeof path, "%s/flags.json", dir);
    snprintf(lines_path, sizeof lines_path, "%s/exposures.jsonl", dir);

    test_fields_dedup_and_flush();
    test_replacing_and_freeing();
    test_json_lines();
    test_otlp();
    test_bad_arguments();

    unlink(path);
    unlink(lines_path);
    rmdir(dir);
    return summary("exposures");
}
