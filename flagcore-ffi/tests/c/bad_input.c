/* The C ABI under misuse and failure: NULL pointers, invalid UTF-8, bad lengths, unknown
 * enum values, too many attributes, small buffers, invalid and stale snapshots (the old one
 * keeps serving), I/O errors; plus the lists (kills, metrics, metadata), lifetimes (a
 * snapshot view outliving its store) and the schedule step of the details. Run under
 * AddressSanitizer. */
#include <stdint.h>
#include <unistd.h>

#include "common.h"

static const char V2[] =
    "{\"version\": 2, \"flags\": {"
    " \"search\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"off\", \"metadata\": {\"owner\": \"search-team\", \"ticket\": 42,"
    "   \"temporary\": true},"
    "   \"rules\": [{\"id\": \"staff\", \"conditions\": [{\"attribute\": \"email\","
    "     \"op\": \"ends_with\", \"values\": [\"@corp.example\"]}], \"serve\": {\"variant\": \"on\"}}],"
    "   \"fallthrough\": {\"variant\": \"off\"}},"
    " \"color\": {\"variants\": {\"red\": \"#f00\", \"blue\": \"#00f\"}, \"enabled\": true,"
    "   \"off_variant\": \"red\", \"fallthrough\": {\"variant\": \"blue\"}},"
    " \"limits\": {\"variants\": {\"a\": {\"max\": 10, \"name\": \"caf\\u00e9\"}}, \"enabled\": true,"
    "   \"off_variant\": \"a\", \"fallthrough\": {\"variant\": \"a\"}}"
    "}}";

/* Two problems: an unknown variant and weights summing to 99. */
static const char INVALID[] =
    "{\"version\": 3, \"flags\": {"
    " \"search\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"of\", \"fallthrough\": {\"rollout\": {\"split\": ["
    "     {\"variant\": \"on\", \"weight\": 50}, {\"variant\": \"off\", \"weight\": 49}]}}}"
    "}}";

static const char V1[] =
    "{\"version\": 1, \"flags\": {}}";

static char last_message[4096];

static const char *last_error(void) {
    size_t n = 0;
    fc_last_error_message(last_message, sizeof last_message, &n);
    return last_message;
}

static void test_names_and_version(void) {
    CHECK(strcmp(fc_version(), "0.1.0") == 0);
    CHECK(strcmp(fc_result_code(FC_RESULT_OK), "ok") == 0);
    CHECK(strcmp(fc_result_code(FC_RESULT_INVALID_SNAPSHOT), "invalid_snapshot") == 0);
    CHECK(strcmp(fc_result_code(FC_RESULT_STALE_SNAPSHOT), "stale_snapshot") == 0);
    CHECK(strcmp(fc_result_code(12345), "unknown") == 0);
    CHECK(strcmp(fc_reason_name(FC_REASON_SPLIT), "SPLIT") == 0);
    CHECK(strcmp(fc_reason_name(77), "UNKNOWN") == 0);
    CHECK(strcmp(fc_error_code_name(FC_ERROR_CODE_FLAG_NOT_FOUND), "FLAG_NOT_FOUND") == 0);
    CHECK(strcmp(fc_error_code_name(FC_ERROR_CODE_NONE), "") == 0);
}

static void test_null_handles(void) {
    fc_store_free(NULL);
    fc_snapshot_free(NULL);
    fc_kills_free(NULL);
    fc_metrics_free(NULL);
    CHECK(fc_kills_len(NULL) == 0);
    CHECK(fc_metrics_len(NULL) == 0);
    CHECK_RESULT(fc_store_new(NULL), FC_RESULT_NULL_POINTER);
    CHECK(strstr(last_error(), "out_store") != NULL);
    bool b = true;
    CHECK_RESULT(fc_store_bool(NULL, S("search"), NULL, false, &b), FC_RESULT_NULL_POINTER);
    CHECK(b == true); /* not written on failure */
    CHECK_RESULT(fc_store_update(NULL, (const uint8_t *)V1, sizeof V1 - 1, NULL), FC_RESULT_NULL_POINTER);
    fc_snapshot *snap = (fc_snapshot *)0x1;
    CHECK_RESULT(fc_store_snapshot(NULL, &snap), FC_RESULT_NULL_POINTER);
    CHECK(snap == (fc_snapshot *)0x1);
    CHECK_RESULT(fc_snapshot_bool(NULL, S("x"), NULL, false, &b, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_kill(NULL, S("x"), S("why")), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_kills_get(NULL, 0, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_last_error_message(NULL, 10, NULL), FC_RESULT_NULL_POINTER);
}

static void test_not_ready(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    uint64_t version = 99;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_NOT_READY);
    CHECK(version == 99);
    fc_snapshot *snap = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snap), FC_RESULT_OK);
    bool b = false;
    fc_details d;
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), NULL, true, &b, &d), FC_RESULT_OK);
    CHECK(b == true);
    CHECK(d.reason == FC_REASON_ERROR && d.error_code == FC_ERROR_CODE_PROVIDER_NOT_READY);
    CHECK(d.variant.ptr == NULL && d.rule_index == -1 && d.bucket == -1 && d.step == -1 &&
          !d.target);
    CHECK_RESULT(fc_snapshot_version(snap, &version), FC_RESULT_NOT_READY);
    fc_snapshot_free(snap);
    /* Kills of flags no snapshot has yet are allowed. */
    CHECK_RESULT(fc_store_kill(store, S("search"), NULL, 0), FC_RESULT_OK);
    fc_store_free(store);
}

static void test_arguments(fc_store *store) {
    bool b = true;
    int64_t i = 7;
    fc_details d;
    fc_snapshot *snap = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snap), FC_RESULT_OK);

    /* Flag names. */
    CHECK_RESULT(fc_store_bool(store, NULL, 6, NULL, false, &b), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_bool(store, "sea\xffrch", 7, NULL, false, &b), FC_RESULT_INVALID_UTF8);
    CHECK(strstr(last_error(), "UTF-8") != NULL);
    CHECK_RESULT(fc_store_bool(store, "search", SIZE_MAX, NULL, false, &b), FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_snapshot_int(snap, "\xc3", 1, NULL, 0, &i, &d), FC_RESULT_INVALID_UTF8);
    CHECK(b == true && i == 7);
    /* A NULL name of length 0 is the empty name: simply an unknown flag. */
    CHECK_RESULT(fc_snapshot_bool(snap, NULL, 0, NULL, true, &b, &d), FC_RESULT_OK);
    CHECK(d.error_code == FC_ERROR_CODE_FLAG_NOT_FOUND);
    /* Out-parameters. */
    CHECK_RESULT(fc_store_bool(store, S("search"), NULL, false, NULL), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), NULL, false, NULL, &d), FC_RESULT_NULL_POINTER);
    /* Details are optional. */
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), NULL, true, &b, NULL), FC_RESULT_OK);
    CHECK(b == false);

    /* Contexts. */
    fc_context ctx = {"alice", 5, NULL, 0, NULL};
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, true, &b), FC_RESULT_OK);
    ctx.key = NULL; /* no key, yet a length */
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, true, &b), FC_RESULT_NULL_POINTER);
    ctx.key = "al\x80ice";
    ctx.key_len = 6;
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, true, &b), FC_RESULT_INVALID_UTF8);
    ctx.key = "alice";
    ctx.key_len = 5;
    ctx.attributes_len = 1; /* NULL array with a length */
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, true, &b), FC_RESULT_NULL_POINTER);

    fc_attribute attrs[FC_MAX_ATTRIBUTES + 1];
    memset(attrs, 0, sizeof attrs);
    for (int k = 0; k < FC_MAX_ATTRIBUTES + 1; k++) {
        attrs[k].name = "n";
        attrs[k].name_len = 1;
        attrs[k].kind = FC_VALUE_KIND_INT;
    }
    attrs[0].name = "email";
    attrs[0].name_len = 5;
    attrs[0].kind = FC_VALUE_KIND_STRING;
    attrs[0].string_value = "bo@corp.example";
    attrs[0].string_len = 15;
    ctx.attributes = attrs;
    ctx.attributes_len = FC_MAX_ATTRIBUTES;
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), &ctx, false, &b, &d), FC_RESULT_OK);
    CHECK(b == true && d.reason == FC_REASON_TARGETING_MATCH && d.rule_index == 0);
    CHECK(d.rule_id.len == 5 && memcmp(d.rule_id.ptr, "staff", 5) == 0);
    ctx.attributes_len = FC_MAX_ATTRIBUTES + 1;
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), &ctx, false, &b, &d), FC_RESULT_TOO_MANY_ATTRIBUTES);
    ctx.attributes_len = 2;
    attrs[1].kind = 99;
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(last_error(), "99") != NULL);
    attrs[1].kind = FC_VALUE_KIND_STRING;
    attrs[1].string_value = NULL;
    attrs[1].string_len = 3;
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_NULL_POINTER);
    attrs[1].string_len = 0; /* NULL with length 0 is the empty string */
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_OK);
    attrs[1].string_value = "\xed\xa0\x80"; /* a UTF-16 surrogate: not UTF-8 */
    attrs[1].string_len = 3;
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_INVALID_UTF8);
    attrs[1].name = "\xff";
    attrs[1].kind = FC_VALUE_KIND_BOOL;
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_INVALID_UTF8);

    /* A prepared context: checked and copied once, then evaluated without conversion. It
     * owns its strings, so the description may change or go away after preparing. */
    attrs[1].name = "n";
    attrs[1].kind = FC_VALUE_KIND_INT;
    ctx.attributes_len = 2;
    fc_prepared_context *prepared = NULL;
    CHECK_RESULT(fc_prepared_context_new(&ctx, &prepared), FC_RESULT_OK);
    attrs[0].string_value = "someone@else.example";
    attrs[0].string_len = 20;
    fc_context fast = {.prepared = prepared, .key = "ignored", .key_len = 7};
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), &fast, false, &b, &d), FC_RESULT_OK);
    CHECK(b == true && d.rule_index == 0); /* still bo@corp.example */
    fc_prepared_context *copy = NULL;
    CHECK_RESULT(fc_prepared_context_new(&fast, &copy), FC_RESULT_OK); /* a copy of a copy */
    fc_context fast_copy = {.prepared = copy};
    CHECK_RESULT(fc_store_bool(store, S("search"), &fast_copy, false, &b), FC_RESULT_OK);
    CHECK(b == true);
    fc_prepared_context_free(copy);
    fc_prepared_context_free(prepared);
    fc_prepared_context_free(NULL);
    prepared = (fc_prepared_context *)0x1;
    attrs[1].kind = 42;
    CHECK_RESULT(fc_prepared_context_new(&ctx, &prepared), FC_RESULT_INVALID_ARGUMENT);
    CHECK(prepared == (fc_prepared_context *)0x1);
    CHECK_RESULT(fc_prepared_context_new(NULL, NULL), FC_RESULT_NULL_POINTER);
    fc_prepared_context *empty = NULL;
    CHECK_RESULT(fc_prepared_context_new(NULL, &empty), FC_RESULT_OK); /* no key, no attributes */
    fc_context anonymous = {.prepared = empty};
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), &anonymous, true, &b, &d), FC_RESULT_OK);
    CHECK(b == false && d.reason == FC_REASON_DEFAULT);
    fc_prepared_context_free(empty);

    /* Type mismatch and unknown flags are not API errors: the default, with a code. */
    CHECK_RESULT(fc_snapshot_int(snap, S("search"), NULL, 5, &i, &d), FC_RESULT_OK);
    CHECK(i == 5 && d.reason == FC_REASON_ERROR && d.error_code == FC_ERROR_CODE_TYPE_MISMATCH);
    CHECK_RESULT(fc_snapshot_bool(snap, S("nope"), NULL, true, &b, &d), FC_RESULT_OK);
    CHECK(b == true && d.error_code == FC_ERROR_CODE_FLAG_NOT_FOUND);

    /* Strings: borrowed from the snapshot, or the caller's default. */
    fc_str s = {0};
    CHECK_RESULT(fc_snapshot_string(snap, S("color"), NULL, S("#000"), &s, &d), FC_RESULT_OK);
    CHECK(s.len == 4 && memcmp(s.ptr, "#00f", 4) == 0 && d.reason == FC_REASON_STATIC);
    const char *fallback = "#000";
    CHECK_RESULT(fc_snapshot_string(snap, S("nope"), NULL, fallback, 4, &s, &d), FC_RESULT_OK);
    CHECK(s.ptr == fallback && s.len == 4);
    CHECK_RESULT(fc_snapshot_string(snap, S("nope"), NULL, NULL, 0, &s, &d), FC_RESULT_OK);
    CHECK(s.ptr != NULL && s.len == 0);
    CHECK_RESULT(fc_snapshot_string(snap, S("color"), NULL, "\xff", 1, &s, &d), FC_RESULT_INVALID_UTF8);

    /* Buffers: too small reports the size needed, and writes nothing else. */
    char buf[64];
    size_t n = 0;
    memset(buf, '.', sizeof buf);
    CHECK_RESULT(fc_store_string(store, S("color"), NULL, S("#000"), buf, 3, &n), FC_RESULT_INSUFFICIENT_SIZE);
    CHECK(n == 4);
    CHECK_RESULT(fc_store_string(store, S("color"), NULL, S("#000"), NULL, 0, &n), FC_RESULT_INSUFFICIENT_SIZE);
    CHECK_RESULT(fc_store_string(store, S("color"), NULL, S("#000"), NULL, 5, &n), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_string(store, S("color"), NULL, S("#000"), buf, 4, &n), FC_RESULT_OK);
    CHECK(n == 4 && memcmp(buf, "#00f", 4) == 0 && buf[4] == '.');
    const char json[] = "{\"max\":10,\"name\":\"caf\xc3\xa9\"}";
    CHECK_RESULT(fc_store_json(store, S("limits"), NULL, S("{}"), buf, sizeof buf, &n), FC_RESULT_OK);
    CHECK(n == sizeof json - 1 && memcmp(buf, json, n) == 0);
    memset(&d, 0x5A, sizeof d);
    fc_details untouched = d;
    CHECK_RESULT(fc_snapshot_json(snap, S("limits"), NULL, S("{}"), buf, 5, &n, &d), FC_RESULT_INSUFFICIENT_SIZE);
    CHECK(n == sizeof json - 1 && memcmp(&d, &untouched, sizeof d) == 0);
    CHECK_RESULT(fc_snapshot_json(snap, S("search"), NULL, S("[1, 2]"), buf, sizeof buf, &n, &d), FC_RESULT_OK);
    CHECK(n == 6 && memcmp(buf, "[1, 2]", 6) == 0 && d.error_code == FC_ERROR_CODE_TYPE_MISMATCH);

    /* Metadata. */
    size_t count = 0;
    CHECK_RESULT(fc_snapshot_flag_metadata_len(snap, S("search"), &count), FC_RESULT_OK);
    CHECK(count == 3);
    fc_metadata_entry m;
    int seen = 0;
    for (size_t k = 0; k < count; k++) {
        CHECK_RESULT(fc_snapshot_flag_metadata(snap, S("search"), k, &m), FC_RESULT_OK);
        if (m.name.len == 5 && memcmp(m.name.ptr, "owner", 5) == 0)
            seen += m.kind == FC_METADATA_KIND_STRING && m.string_value.len == 11;
        if (m.name.len == 6 && memcmp(m.name.ptr, "ticket", 6) == 0)
            seen += m.kind == FC_METADATA_KIND_NUMBER && m.number_value == 42;
        if (m.name.len == 9 && memcmp(m.name.ptr, "temporary", 9) == 0)
            seen += m.kind == FC_METADATA_KIND_BOOL && m.bool_value;
    }
    CHECK(seen == 3);
    CHECK_RESULT(fc_snapshot_flag_metadata(snap, S("search"), 3, &m), FC_RESULT_OUT_OF_RANGE);
    CHECK_RESULT(fc_snapshot_flag_metadata_len(snap, S("nope"), &count), FC_RESULT_OK);
    CHECK(count == 0);
    fc_snapshot_free(snap);
}

static void test_invalid_and_stale(fc_store *store) {
    fc_snapshot *before = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &before), FC_RESULT_OK);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)INVALID, sizeof INVALID - 1, &version),
                 FC_RESULT_INVALID_SNAPSHOT);
    CHECK(version == 0);
    const char *msg = last_error();
    CHECK(strstr(msg, "2 errors") != NULL);
    CHECK(strstr(msg, "flags.search.off_variant") != NULL);
    CHECK(strstr(msg, "flags.search.fallthrough.rollout") != NULL);
    CHECK(fc_last_error_length() == strlen(msg));
    CHECK(fc_last_error_validation_len() == 2);
    fc_validation_error e;
    CHECK_RESULT(fc_last_error_validation(0, &e), FC_RESULT_OK);
    CHECK(e.path.len == strlen("flags.search.off_variant") &&
          memcmp(e.path.ptr, "flags.search.off_variant", e.path.len) == 0);
    CHECK(e.code.len == strlen("unknown_variant") && memcmp(e.code.ptr, "unknown_variant", e.code.len) == 0);
    CHECK_RESULT(fc_last_error_validation(1, &e), FC_RESULT_OK);
    CHECK(e.code.len == 7 && memcmp(e.code.ptr, "weights", 7) == 0);
    CHECK(e.message.len > 0);
    CHECK_RESULT(fc_last_error_validation(2, &e), FC_RESULT_OUT_OF_RANGE);
    CHECK(fc_last_error_validation_len() == 2); /* the getters leave the last error alone */

    /* Truncation: at most len - 1 bytes, NUL-terminated. */
    char small[8];
    size_t n = 99;
    CHECK_RESULT(fc_last_error_message(small, sizeof small, &n), FC_RESULT_OK);
    CHECK(n == 7 && small[7] == 0 && strncmp(small, msg, 7) == 0);

    /* Syntax errors carry a line and column. */
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)"{\n  \"version\": ,", 16, NULL),
                 FC_RESULT_INVALID_SNAPSHOT);
    CHECK(strstr(last_error(), "line 2") != NULL);

    /* The old snapshot keeps serving. */
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    CHECK(version == 2);
    bool b = true;
    CHECK_RESULT(fc_store_bool(store, S("search"), NULL, true, &b), FC_RESULT_OK);
    CHECK(b == false);

    /* Stale: not newer than the serving version. */
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)V1, sizeof V1 - 1, NULL), FC_RESULT_STALE_SNAPSHOT);
    CHECK(strstr(last_error(), "stale") != NULL);
    CHECK(fc_last_error_validation_len() == 0);
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)V2, sizeof V2 - 1, NULL), FC_RESULT_STALE_SNAPSHOT);
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    CHECK(version == 2);
    CHECK_RESULT(fc_store_update(store, NULL, 4, NULL), FC_RESULT_NULL_POINTER);

    /* A view taken before keeps its version; a newer one sees the update. */
    static const char V5[] = "{\"version\": 5, \"flags\": {}}";
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)V5, sizeof V5 - 1, &version), FC_RESULT_OK);
    CHECK(version == 5);
    CHECK_RESULT(fc_snapshot_version(before, &version), FC_RESULT_OK);
    CHECK(version == 2);
    fc_details d;
    CHECK_RESULT(fc_snapshot_bool(before, S("search"), NULL, true, &b, &d), FC_RESULT_OK);
    CHECK(b == false && d.reason == FC_REASON_DEFAULT);
    fc_snapshot_free(before);
}

static void test_files(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_file(S("/nonexistent/flags.json"), &store), FC_RESULT_IO);
    CHECK(store == NULL);
    CHECK(strstr(last_error(), "/nonexistent/flags.json") != NULL);
    CHECK_RESULT(fc_store_new_from_file(NULL, 0, &store), FC_RESULT_INVALID_ARGUMENT);
    char path[] = "/tmp/flagcore-c-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, V2, sizeof V2 - 1) == (ssize_t)(sizeof V2 - 1));
    close(fd);
    CHECK_RESULT(fc_store_new_from_file(path, strlen(path), &store), FC_RESULT_OK);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    CHECK(version == 2);
    CHECK_RESULT(fc_store_update_file(store, path, strlen(path), NULL), FC_RESULT_STALE_SNAPSHOT);
    CHECK_RESULT(fc_store_update_file(store, S("/nonexistent"), NULL), FC_RESULT_IO);
    unlink(path);
    fc_store_free(store);
}

static void test_kills_and_metrics(fc_store *store) {
    bool b = true;
    fc_context ctx = {"bob", 3, NULL, 0, NULL};
    fc_attribute staff = {0};
    staff.name = "email";
    staff.name_len = 5;
    staff.kind = FC_VALUE_KIND_STRING;
    staff.string_value = "bob@corp.example";
    staff.string_len = 16;
    ctx.attributes = &staff;
    ctx.attributes_len = 1;
    static const char V6[] =
        "{\"version\": 6, \"flags\": {\"search\": {\"variants\": {\"on\": true, \"off\": false},"
        " \"enabled\": true, \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"on\"}}}}";
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)V6, sizeof V6 - 1, NULL), FC_RESULT_OK);
    fc_metrics *metrics = NULL;
    CHECK_RESULT(fc_store_take_metrics(store, &metrics), FC_RESULT_OK); /* reset */
    fc_metrics_free(metrics);

    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_OK);
    CHECK(b == true);
    CHECK_RESULT(fc_store_kill(store, S("search"), S("incident 1234")), FC_RESULT_OK);
    CHECK_RESULT(fc_store_kill(store, S("ghost"), S("not there yet")), FC_RESULT_OK);
    CHECK_RESULT(fc_store_kill(store, S("search"), "\xff", 1), FC_RESULT_INVALID_UTF8);
    fc_snapshot *snap = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snap), FC_RESULT_OK);
    fc_details d;
    CHECK_RESULT(fc_snapshot_bool(snap, S("search"), &ctx, true, &b, &d), FC_RESULT_OK);
    CHECK(b == false && d.reason == FC_REASON_DISABLED);
    CHECK(d.variant.len == 3 && memcmp(d.variant.ptr, "off", 3) == 0);
    fc_snapshot_free(snap);
    CHECK_RESULT(fc_store_bool(store, S("nope"), &ctx, false, &b), FC_RESULT_OK);

    fc_kills *kills = NULL;
    CHECK_RESULT(fc_store_kills(store, &kills), FC_RESULT_OK);
    CHECK(fc_kills_len(kills) == 2);
    fc_kill k;
    CHECK_RESULT(fc_kills_get(kills, 1, &k), FC_RESULT_OK); /* by flag name: ghost, search */
    CHECK(k.flag.len == 6 && memcmp(k.flag.ptr, "search", 6) == 0);
    CHECK(k.reason.len == 13 && memcmp(k.reason.ptr, "incident 1234", 13) == 0);
    CHECK(k.at_unix_nanos > 1600000000LL * 1000000000LL);
    CHECK_RESULT(fc_kills_get(kills, 2, &k), FC_RESULT_OUT_OF_RANGE);
    CHECK_RESULT(fc_kills_get(kills, 0, NULL), FC_RESULT_NULL_POINTER);

    bool was_killed = false;
    CHECK_RESULT(fc_store_revive(store, S("search"), &was_killed), FC_RESULT_OK);
    CHECK(was_killed);
    CHECK_RESULT(fc_store_revive(store, S("search"), &was_killed), FC_RESULT_OK);
    CHECK(!was_killed);
    CHECK_RESULT(fc_store_revive(store, S("ghost"), NULL), FC_RESULT_OK);
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_OK);
    CHECK(b == true);
    /* The list is a copy: still valid, still two kills, after the revivals. */
    CHECK(fc_kills_len(kills) == 2);
    CHECK_RESULT(fc_kills_get(kills, 0, &k), FC_RESULT_OK);
    CHECK(k.flag.len == 5 && memcmp(k.flag.ptr, "ghost", 5) == 0);
    fc_kills_free(kills);

    /* search: on twice, off once; nope: the default once. */
    CHECK_RESULT(fc_store_take_metrics(store, &metrics), FC_RESULT_OK);
    size_t rows = fc_metrics_len(metrics);
    uint64_t on = 0, off = 0, defaults = 0;
    for (size_t i = 0; i < rows; i++) {
        fc_metric m;
        CHECK_RESULT(fc_metrics_get(metrics, i, &m), FC_RESULT_OK);
        if (m.flag.len == 6 && memcmp(m.flag.ptr, "search", 6) == 0 && m.variant.ptr) {
            if (m.variant.len == 2 && memcmp(m.variant.ptr, "on", 2) == 0) on = m.count;
            if (m.variant.len == 3 && memcmp(m.variant.ptr, "off", 3) == 0) off = m.count;
        }
        if (m.flag.len == 4 && memcmp(m.flag.ptr, "nope", 4) == 0) {
            CHECK(m.variant.ptr == NULL);
            defaults = m.count;
        }
    }
    CHECK(on == 2 && off == 1);
    /* An unknown flag has no counters: the snapshot does not know it. */
    CHECK(defaults == 0);
    fc_metric m;
    CHECK_RESULT(fc_metrics_get(metrics, rows, &m), FC_RESULT_OUT_OF_RANGE);
    fc_metrics_free(metrics);
    CHECK_RESULT(fc_store_take_metrics(store, &metrics), FC_RESULT_OK);
    CHECK(fc_metrics_len(metrics) == 0);
    fc_metrics_free(metrics);

    CHECK_RESULT(fc_store_set_metrics_enabled(store, false), FC_RESULT_OK);
    CHECK_RESULT(fc_store_bool(store, S("search"), &ctx, false, &b), FC_RESULT_OK);
    CHECK_RESULT(fc_store_take_metrics(store, &metrics), FC_RESULT_OK);
    CHECK(fc_metrics_len(metrics) == 0);
    fc_metrics_free(metrics);
    CHECK_RESULT(fc_store_set_metrics_enabled(store, true), FC_RESULT_OK);
}

static void test_snapshot_outlives_store(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)V2, sizeof V2 - 1, &store), FC_RESULT_OK);
    fc_snapshot *snap = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snap), FC_RESULT_OK);
    fc_store_free(store);
    fc_str s = {0};
    fc_details d;
    CHECK_RESULT(fc_snapshot_string(snap, S("color"), NULL, S("#000"), &s, &d), FC_RESULT_OK);
    CHECK(s.len == 4 && memcmp(s.ptr, "#00f", 4) == 0);
    CHECK(d.variant.len == 4 && memcmp(d.variant.ptr, "blue", 4) == 0);
    fc_snapshot_free(snap);
    /* A store that never loads is refused at creation from bad bytes. */
    store = (fc_store *)0x1;
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)"[]", 2, &store), FC_RESULT_INVALID_SNAPSHOT);
    CHECK(store == (fc_store *)0x1);
}

/* `ramped` is past its first schedule step (since 2020), `pending` before it (2098);
 * both are past no second step (2099). */
static const char SCHEDULED[] =
    "{\"version\": 1, \"flags\": {"
    " \"ramped\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"off\", \"fallthrough\": {\"rollout\": {"
    "     \"split\": [{\"variant\": \"off\", \"weight\": 100}], \"schedule\": ["
    "       {\"at\": \"2020-01-01T00:00:00Z\", \"split\": [{\"variant\": \"on\", \"weight\": 100}]},"
    "       {\"at\": \"2099-01-01T00:00:00Z\", \"split\": [{\"variant\": \"off\", \"weight\": 100}]}]}}},"
    " \"pending\": {\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true,"
    "   \"off_variant\": \"off\", \"fallthrough\": {\"rollout\": {"
    "     \"split\": [{\"variant\": \"off\", \"weight\": 100}], \"schedule\": ["
    "       {\"at\": \"2098-01-01T00:00:00Z\", \"split\": [{\"variant\": \"on\", \"weight\": 100}]}]}}}"
    "}}";

static void test_schedule_step(void) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes((const uint8_t *)SCHEDULED, sizeof SCHEDULED - 1, &store),
                 FC_RESULT_OK);
    fc_snapshot *snap = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snap), FC_RESULT_OK);
    fc_context ctx = {.key = "u1", .key_len = 2};
    bool b = false;
    fc_details d;
    memset(&d, 0x5A, sizeof d);
    CHECK_RESULT(fc_snapshot_bool(snap, S("ramped"), &ctx, false, &b, &d), FC_RESULT_OK);
    CHECK(b == true && d.reason == FC_REASON_SPLIT && d.step == 0);
    CHECK(d.bucket >= 0 && d.bucket <= 99999);
    memset(&d, 0x5A, sizeof d);
    CHECK_RESULT(fc_snapshot_bool(snap, S("pending"), &ctx, true, &b, &d), FC_RESULT_OK);
    CHECK(b == false && d.reason == FC_REASON_SPLIT && d.step == -1 && d.bucket >= 0);
    /* No rollout decided (no targeting key): no step. */
    memset(&d, 0x5A, sizeof d);
    CHECK_RESULT(fc_snapshot_bool(snap, S("ramped"), NULL, true, &b, &d), FC_RESULT_OK);
    CHECK(d.error_code == FC_ERROR_CODE_TARGETING_KEY_MISSING && d.step == -1 && d.bucket == -1);
    fc_snapshot_free(snap);
    fc_store_free(store);
}

int main(void) {
    test_names_and_version();
    test_null_handles();
    test_not_ready();
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)V2, sizeof V2 - 1, &version), FC_RESULT_OK);
    CHECK(version == 2);
    test_arguments(store);
    test_invalid_and_stale(store);
    test_kills_and_metrics(store);
    fc_store_free(store);
    test_files();
    test_snapshot_outlives_store();
    test_schedule_step();
    return summary("bad_input");
}
