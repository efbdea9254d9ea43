/* Runs the shared test vectors (tests/vectors/NAME.json, format_version 2) through the C ABI:
 * every case is evaluated with the typed fc_snapshot_* function its `type` names, and every
 * field of `expected` is compared. Usage: vectors FILE... */
#include <inttypes.h>
#include <math.h>

#include "common.h"
#include "json.h"

static int case_failures = 0;
static int case_count = 0;

static void mismatch(const char *file, const char *name, const char *field, const char *want,
                     const char *got) {
    fprintf(stderr, "%s: %s: %s: expected %s, got %s\n", file, name, field, want, got);
}

static int str_is(fc_str s, const jvalue *want) {
    if (want->kind == J_NULL) return s.ptr == NULL;
    return s.ptr != NULL && want->kind == J_STRING && s.len == want->string_len &&
           memcmp(s.ptr, want->string, s.len) == 0;
}

static const char *show_str(fc_str s, char *buf, size_t cap) {
    if (!s.ptr) return "null";
    snprintf(buf, cap, "\"%.*s\"", (int)s.len, s.ptr);
    return buf;
}

/* Builds the attribute array of a case's context. */
static size_t build_attributes(const jvalue *attrs, fc_attribute *out) {
    size_t n = 0;
    for (size_t i = 0; attrs && i < attrs->len && n < FC_MAX_ATTRIBUTES; i++, n++) {
        const jvalue *v = &attrs->items[i];
        fc_attribute *a = &out[n];
        memset(a, 0, sizeof *a);
        a->name = attrs->keys[i];
        a->name_len = attrs->key_lens[i];
        switch (v->kind) {
        case J_STRING:
            a->kind = FC_VALUE_KIND_STRING;
            a->string_value = v->string;
            a->string_len = v->string_len;
            break;
        case J_INT: a->kind = FC_VALUE_KIND_INT; a->int_value = v->integer; break;
        case J_FLOAT: a->kind = FC_VALUE_KIND_FLOAT; a->float_value = v->number; break;
        case J_BOOL: a->kind = FC_VALUE_KIND_BOOL; a->bool_value = v->boolean; break;
        default:
            fprintf(stderr, "attribute %s: unsupported JSON type\n", attrs->keys[i]);
            exit(2);
        }
    }
    return n;
}

static void run_case(const char *file, fc_snapshot *snap, const jvalue *c) {
    const jvalue *name = json_get(c, "name"), *flag = json_get(c, "flag"),
                 *type = json_get(c, "type"), *def = json_get(c, "default"),
                 *context = json_get(c, "context"), *expected = json_get(c, "expected");
    if (!name || !flag || !type || !def || !context || !expected) {
        fprintf(stderr, "%s: a case lacks a field\n", file);
        exit(2);
    }
    const char *n = name->string;
    const jvalue *key = json_get(context, "key");
    fc_attribute attributes[FC_MAX_ATTRIBUTES];
    fc_context ctx = {0};
    if (key) {
        ctx.key = key->string;
        ctx.key_len = key->string_len;
    }
    ctx.attributes = attributes;
    ctx.attributes_len = build_attributes(json_get(context, "attributes"), attributes);

    fc_details d;
    memset(&d, 0xAB, sizeof d); /* out-parameters must be written in full */
    fc_result r = FC_RESULT_INTERNAL;
    int ok = 1;
    char got[4096], want[4096];
    const jvalue *want_value = json_get(expected, "value");
    const char *t = type->string;
    if (strcmp(t, "bool") == 0) {
        bool v = !def->boolean;
        r = fc_snapshot_bool(snap, flag->string, flag->string_len, &ctx, def->boolean, &v, &d);
        if (r == FC_RESULT_OK && (want_value->kind != J_BOOL || v != (bool)want_value->boolean)) {
            mismatch(file, n, "value", want_value->boolean ? "true" : "false", v ? "true" : "false");
            ok = 0;
        }
    } else if (strcmp(t, "int") == 0) {
        int64_t v = 0;
        r = fc_snapshot_int(snap, flag->string, flag->string_len, &ctx, def->integer, &v, &d);
        if (r == FC_RESULT_OK && (want_value->kind != J_INT || v != want_value->integer)) {
            snprintf(want, sizeof want, "%" PRId64, want_value->integer);
            snprintf(got, sizeof got, "%" PRId64, v);
            mismatch(file, n, "value", want, got);
            ok = 0;
        }
    } else if (strcmp(t, "float") == 0) {
        double v = 0;
        r = fc_snapshot_float(snap, flag->string, flag->string_len, &ctx, def->number, &v, &d);
        if (r == FC_RESULT_OK && v != want_value->number) {
            snprintf(want, sizeof want, "%.17g", want_value->number);
            snprintf(got, sizeof got, "%.17g", v);
            mismatch(file, n, "value", want, got);
            ok = 0;
        }
    } else if (strcmp(t, "string") == 0) {
        fc_str v = {0};
        r = fc_snapshot_string(snap, flag->string, flag->string_len, &ctx, def->string,
                               def->string_len, &v, &d);
        if (r == FC_RESULT_OK && !str_is(v, want_value)) {
            mismatch(file, n, "value", want_value->string, show_str(v, got, sizeof got));
            ok = 0;
        }
    } else if (strcmp(t, "json") == 0) {
        /* Ask for the size first, then evaluate into a buffer of exactly that size. */
        size_t needed = 0;
        r = fc_snapshot_json(snap, flag->string, flag->string_len, &ctx, def->start, def->span,
                             NULL, 0, &needed, NULL);
        if (r != FC_RESULT_INSUFFICIENT_SIZE || needed == 0) {
            mismatch(file, n, "size query", "insufficient_size", fc_result_code(r));
            ok = 0;
        }
        char *buf = malloc(needed ? needed : 1);
        size_t len = 0;
        r = fc_snapshot_json(snap, flag->string, flag->string_len, &ctx, def->start, def->span,
                             buf, needed, &len, &d);
        if (r == FC_RESULT_OK) {
            jvalue v;
            char err[128];
            if (json_parse(buf, len, &v, err, sizeof err) != 0) {
                mismatch(file, n, "value", "JSON text", err);
                ok = 0;
            } else {
                if (!json_equal(&v, want_value)) {
                    snprintf(got, sizeof got, "%.*s", (int)len, buf);
                    snprintf(want, sizeof want, "%.*s", (int)want_value->span, want_value->start);
                    mismatch(file, n, "value", want, got);
                    ok = 0;
                }
                json_free(&v);
            }
        }
        free(buf);
    } else {
        fprintf(stderr, "%s: %s: unknown type %s\n", file, n, t);
        exit(2);
    }
    if (r != FC_RESULT_OK) {
        char msg[512];
        size_t len = 0;
        fc_last_error_message(msg, sizeof msg, &len);
        mismatch(file, n, "result", "ok", msg);
        ok = 0;
    } else {
        const jvalue *variant = json_get(expected, "variant"), *reason = json_get(expected, "reason"),
                     *error_code = json_get(expected, "error_code"),
                     *rule_index = json_get(expected, "rule_index"),
                     *rule_id = json_get(expected, "rule_id"), *target = json_get(expected, "target"),
                     *bucket = json_get(expected, "bucket"), *step = json_get(expected, "step");
        if (!variant || !reason || !error_code || !rule_index || !rule_id || !target || !bucket ||
            !step) {
            fprintf(stderr, "%s: %s: `expected` lacks a field\n", file, n);
            exit(2);
        }
        if (!str_is(d.variant, variant)) {
            mismatch(file, n, "variant", variant->kind == J_NULL ? "null" : variant->string,
                     show_str(d.variant, got, sizeof got));
            ok = 0;
        }
        if (strcmp(fc_reason_name(d.reason), reason->string) != 0) {
            mismatch(file, n, "reason", reason->string, fc_reason_name(d.reason));
            ok = 0;
        }
        const char *code = d.error_code == FC_ERROR_CODE_NONE ? "null" : fc_error_code_name(d.error_code);
        if (strcmp(code, error_code->kind == J_NULL ? "null" : error_code->string) != 0) {
            mismatch(file, n, "error_code", error_code->kind == J_NULL ? "null" : error_code->string, code);
            ok = 0;
        }
        int64_t want_index = rule_index->kind == J_NULL ? -1 : rule_index->integer;
        if (d.rule_index != want_index) {
            snprintf(want, sizeof want, "%" PRId64, want_index);
            snprintf(got, sizeof got, "%" PRId64, d.rule_index);
            mismatch(file, n, "rule_index", want, got);
            ok = 0;
        }
        if (!str_is(d.rule_id, rule_id)) {
            mismatch(file, n, "rule_id", rule_id->kind == J_NULL ? "null" : rule_id->string,
                     show_str(d.rule_id, got, sizeof got));
            ok = 0;
        }
        if (d.target != (bool)target->boolean) {
            mismatch(file, n, "target", target->boolean ? "true" : "false", d.target ? "true" : "false");
            ok = 0;
        }
        int64_t want_bucket = bucket->kind == J_NULL ? -1 : bucket->integer;
        if (d.bucket != want_bucket) {
            snprintf(want, sizeof want, "%" PRId64, want_bucket);
            snprintf(got, sizeof got, "%d", (int)d.bucket);
            mismatch(file, n, "bucket", want, got);
            ok = 0;
        }
        int64_t want_step = step->kind == J_NULL ? -1 : step->integer;
        if (d.step != want_step) {
            snprintf(want, sizeof want, "%" PRId64, want_step);
            snprintf(got, sizeof got, "%d", (int)d.step);
            mismatch(file, n, "step", want, got);
            ok = 0;
        }
    }
    case_count++;
    if (!ok) case_failures++;
}

static void run_file(const char *path) {
    size_t len;
    char *text = read_file(path, &len);
    jvalue doc;
    char err[256];
    if (json_parse(text, len, &doc, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        exit(2);
    }
    const jvalue *format = json_get(&doc, "format"), *version = json_get(&doc, "format_version");
    if (!format || format->kind != J_STRING || strcmp(format->string, "flagcore-vectors") != 0 ||
        !version || version->kind != J_INT || version->integer != 2) {
        fprintf(stderr, "%s: not a flagcore-vectors file of format_version 2\n", path);
        exit(2);
    }
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    const jvalue *snapshot = json_get(&doc, "snapshot");
    if (snapshot && snapshot->kind != J_NULL) {
        /* The member's raw text, as it is in the file. */
        CHECK_RESULT(fc_store_update(store, (const uint8_t *)snapshot->start, snapshot->span, NULL),
                     FC_RESULT_OK);
    }
    const jvalue *kills = json_get(&doc, "kills");
    for (size_t i = 0; kills && i < kills->len; i++)
        CHECK_RESULT(fc_store_kill(store, kills->items[i].string, kills->items[i].string_len,
                                   S("vector kill")),
                     FC_RESULT_OK);
    fc_snapshot *snap = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &snap), FC_RESULT_OK);
    const jvalue *cases = json_get(&doc, "cases");
    for (size_t i = 0; cases && i < cases->len; i++) run_case(path, snap, &cases->items[i]);
    fc_snapshot_free(snap);
    fc_store_free(store);
    json_free(&doc);
    free(text);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s VECTORS.json...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) run_file(argv[i]);
    if (case_count == 0) {
        fprintf(stderr, "no cases ran\n");
        return 1;
    }
    printf("vectors: %d passed, %d failed\n", case_count - case_failures, case_failures + failures);
    return case_failures || failures ? 1 : 0;
}
