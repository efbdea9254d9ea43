/* A flagd flag file through the C ABI: tests/flagd/flags.json loaded by
 * fc_store_new_from_file (the format detected from the content), then cases of
 * tests/flagd/cases.json, whose expected values come from flagd's published conformance
 * tables: fractional buckets, sem_ver, a disabled flag serving the caller's default, the
 * flagd error codes PARSE_ERROR and GENERAL and their names, and flag metadata overlaying
 * the file's. Run under AddressSanitizer and UBSan.
 *
 * Usage: flagd PATH/TO/tests/flagd/flags.json */
#include "common.h"

static bool str_is(fc_str s, const char *text) {
    return s.ptr != NULL && s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static fc_attribute string_attribute(const char *name, const char *value) {
    return (fc_attribute){.name = name,
                          .name_len = strlen(name),
                          .kind = FC_VALUE_KIND_STRING,
                          .string_value = value,
                          .string_len = strlen(value)};
}

/* Evaluates string flag `flag` for `ctx` and checks the value, the variant (the value's
 * name in every case here) and the reason; `reason` -1 when the case gives none. */
static void check_string(const fc_snapshot *view, const char *flag, const fc_context *ctx,
                         const char *expected, int64_t reason, int line) {
    fc_str value = {0};
    fc_details details;
    fc_result r = fc_snapshot_string(view, flag, strlen(flag), ctx, S("fallback"), &value,
                                     &details);
    checks++;
    bool ok = r == FC_RESULT_OK && str_is(value, expected) && str_is(details.variant, expected) &&
              details.error_code == FC_ERROR_CODE_NONE &&
              (reason < 0 || details.reason == (fc_reason)reason);
    if (!ok) {
        failures++;
        fprintf(stderr, "line %d: %s served \"%.*s\" (%s, %s), expected \"%s\"\n", line, flag,
                (int)value.len, value.ptr ? value.ptr : "", fc_reason_name(details.reason),
                fc_error_code_name(details.error_code), expected);
    }
}

static void test_fractional(const fc_snapshot *view) {
    /* The bucketing key is the flag's key and user.name, hashed as flagd hashes it. */
    const char *names[] = {"jack", "queen", "ten", "nine", "3"};
    const char *suits[] = {"hearts", "spades", "clubs", "diamonds", "clubs"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        fc_attribute user = string_attribute("user.name", names[i]);
        fc_context ctx = {.attributes = &user, .attributes_len = 1};
        check_string(view, "fractional-flag", &ctx, suits[i], FC_REASON_TARGETING_MATCH, __LINE__);
    }
    /* Keys whose hashes fall either side of the 50% boundary. */
    const char *keys[] = {"ejOoVL", "bY9fO-", "SI7p-", "6LvT0", "ceQdGm"};
    const char *halves[] = {"lower", "lower", "lower", "upper", "upper"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        fc_context ctx = {.key = keys[i], .key_len = strlen(keys[i])};
        check_string(view, "fractional-hash-edge-flag", &ctx, halves[i],
                     FC_REASON_TARGETING_MATCH, __LINE__);
    }
}

static void test_sem_ver(const fc_snapshot *view) {
    const char *versions[] = {"2.0.0", "2.1.0", "1.9.0", "2.0.0-alpha", "2.0.0.0"};
    const char *answers[] = {"equal", "greater", "lesser", "lesser", "none"};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        fc_attribute version = string_attribute("version", versions[i]);
        fc_context ctx = {.attributes = &version, .attributes_len = 1};
        check_string(view, "equal-greater-lesser-version-flag", &ctx, answers[i], -1, __LINE__);
    }
    /* A number in the context reads as a partial version: 1 matches ^1. */
    fc_attribute one = {.name = S("version"), .kind = FC_VALUE_KIND_INT, .int_value = 1};
    fc_context ctx = {.attributes = &one, .attributes_len = 1};
    check_string(view, "semver-partial-version-flag", &ctx, "match", FC_REASON_TARGETING_MATCH,
                 __LINE__);
    fc_attribute v_prefix = string_attribute("version", "v1.0.0");
    ctx = (fc_context){.attributes = &v_prefix, .attributes_len = 1};
    check_string(view, "semver-v-prefix-flag", &ctx, "match", FC_REASON_TARGETING_MATCH, __LINE__);
}

static void test_disabled(const fc_snapshot *view) {
    fc_str value = {0};
    fc_details details;
    CHECK_RESULT(fc_snapshot_string(view, S("disabled-string-flag"), NULL, S("bye"), &value,
                                    &details),
                 FC_RESULT_OK);
    CHECK(str_is(value, "bye"));
    CHECK(details.variant.ptr == NULL);
    CHECK(details.reason == FC_REASON_DISABLED);
    CHECK(details.error_code == FC_ERROR_CODE_NONE);

    double number = 0;
    CHECK_RESULT(fc_snapshot_float(view, S("disabled-float-flag"), NULL, 0.1, &number, &details),
                 FC_RESULT_OK);
    CHECK(number == 0.1 && details.reason == FC_REASON_DISABLED);
}

static void test_error_codes(const fc_snapshot *view) {
    /* An unknown operator: that flag answers PARSE_ERROR with the caller's default. */
    int64_t value = 0;
    fc_details details;
    CHECK_RESULT(fc_snapshot_int(view, S("error-targeting-flag"), NULL, 3, &value, &details),
                 FC_RESULT_OK);
    CHECK(value == 3);
    CHECK(details.variant.ptr == NULL);
    CHECK(details.reason == FC_REASON_ERROR);
    CHECK(details.error_code == FC_ERROR_CODE_PARSE_ERROR);
    CHECK(strcmp(fc_error_code_name(details.error_code), "PARSE_ERROR") == 0);

    /* Targeting that names a variant the flag lacks: GENERAL. */
    CHECK_RESULT(fc_snapshot_int(view, S("missing-variant-targeting-flag"), NULL, 3, &value,
                                 &details),
                 FC_RESULT_OK);
    CHECK(value == 3);
    CHECK(details.reason == FC_REASON_ERROR);
    CHECK(details.error_code == FC_ERROR_CODE_GENERAL);
    CHECK(strcmp(fc_error_code_name(details.error_code), "GENERAL") == 0);

    /* A $ref to an evaluator the file does not define breaks only its flag. */
    fc_str text = {0};
    CHECK_RESULT(fc_snapshot_string(view, S("ref-to-nonexistent-evaluator-flag"), NULL,
                                    S("fallback"), &text, &details),
                 FC_RESULT_OK);
    CHECK(str_is(text, "fallback") && details.error_code == FC_ERROR_CODE_PARSE_ERROR);

    /* The names are the OpenFeature codes, whatever the numbering. */
    CHECK(strcmp(fc_error_code_name(FC_ERROR_CODE_PARSE_ERROR), "PARSE_ERROR") == 0);
    CHECK(strcmp(fc_error_code_name(FC_ERROR_CODE_GENERAL), "GENERAL") == 0);
}

static void test_metadata(const fc_snapshot *view) {
    /* The file's flagSetId and version, the flag's version replacing the file's, then
     * the flag's own entries. */
    size_t len = 0;
    CHECK_RESULT(fc_snapshot_flag_metadata_len(view, S("metadata-flag"), &len), FC_RESULT_OK);
    CHECK(len == 6);
    fc_metadata_entry entry;
    CHECK_RESULT(fc_snapshot_flag_metadata(view, S("metadata-flag"), 0, &entry), FC_RESULT_OK);
    CHECK(str_is(entry.name, "flagSetId") && str_is(entry.string_value, "conformance"));
    CHECK_RESULT(fc_snapshot_flag_metadata(view, S("metadata-flag"), 1, &entry), FC_RESULT_OK);
    CHECK(str_is(entry.name, "version") && str_is(entry.string_value, "v2"));
    CHECK_RESULT(fc_snapshot_flag_metadata(view, S("metadata-flag"), 3, &entry), FC_RESULT_OK);
    CHECK(str_is(entry.name, "integer") && entry.kind == FC_METADATA_KIND_NUMBER &&
          entry.number_value == 2);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/flagd/flags.json\n", argv[0]);
        return 2;
    }
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_file(argv[1], strlen(argv[1]), &store), FC_RESULT_OK);
    if (store == NULL) return summary("flagd");

    /* flagd files carry no version: the store numbers them. */
    uint64_t version = 0;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    CHECK(version == 1);
    size_t len = 0;
    char *bytes = read_file(argv[1], &len);
    CHECK_RESULT(fc_store_update(store, (const uint8_t *)bytes, len, &version), FC_RESULT_OK);
    CHECK(version == 2);
    free(bytes);

    fc_snapshot *view = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &view), FC_RESULT_OK);
    test_fractional(view);
    test_sem_ver(view);
    test_disabled(view);
    test_error_codes(view);
    test_metadata(view);
    fc_snapshot_free(view);
    fc_store_free(store);
    return summary("flagd");
}
