/* A flagd flag file through the C ABI: tests/flagd/flags.json loaded by
 * fc_store_new_from_file (the format detected from the content), then cases of
 * tests/flagd/cases.json, whose expected values come from flagd's published conformance
 * tables: fractional buckets, sem_ver, a disabled flag serving the caller's default, the
 * flagd error codes PARSE_ERROR and GENERAL and their names, and flag metadata overlaying
 * the file's. Then the file loaded with its format stated (fc_store_*_as), and merged with
 * a second flagd document (fc_store_*_merged, fc_store_*_files), with bad arguments and
 * refused documents that leave the serving snapshot alone. Run under AddressSanitizer and
 * UBSan.
 *
 * Usage: flagd PATH/TO/tests/flagd/flags.json */
#include <unistd.h>

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

/* A second flagd document, merged after flags.json: it redefines boolean-flag (later
 * definitions win) and adds a flag whose targeting uses flags.json's $evaluators. */
static const char OVERRIDE[] =
    "{\"flags\": {"
    "\"boolean-flag\": {\"state\": \"ENABLED\", \"variants\": {\"on\": true, \"off\": false},"
    " \"defaultVariant\": \"off\"},"
    "\"admin-flag\": {\"state\": \"ENABLED\", \"variants\": {\"yes\": \"yes\", \"no\": \"no\"},"
    " \"defaultVariant\": \"no\", \"targeting\": {\"if\": [{\"$ref\": \"is_privileged\"},"
    " \"yes\", \"no\"]}}}}";

/* A native snapshot, which flagd's reader refuses only when it has no `flags` object. */
static const char NATIVE[] =
    "{\"version\": 7, \"flags\": {\"native-flag\": {\"variants\": {\"on\": true, \"off\": false},"
    " \"enabled\": true, \"off_variant\": \"off\", \"fallthrough\": {\"variant\": \"on\"}}}}";

static uint64_t version_of(const fc_store *store) {
    uint64_t version = 0;
    CHECK_RESULT(fc_store_version(store, &version), FC_RESULT_OK);
    return version;
}

static bool bool_of(const fc_store *store, const char *flag, bool default_value) {
    bool value = default_value;
    CHECK_RESULT(fc_store_bool(store, flag, strlen(flag), NULL, default_value, &value),
                 FC_RESULT_OK);
    return value;
}

/* The file's fractional flag still serves as flagd buckets it. */
static bool serves_flags_json(const fc_store *store) {
    fc_attribute user = string_attribute("user.name", "jack");
    fc_context ctx = {.attributes = &user, .attributes_len = 1};
    char suit[16];
    size_t len = 0;
    fc_result r = fc_store_string(store, S("fractional-flag"), &ctx, S("fallback"), suit,
                                  sizeof suit, &len);
    return r == FC_RESULT_OK && len == 6 && memcmp(suit, "hearts", 6) == 0;
}

static bool last_error_contains(const char *text) {
    char message[1024];
    size_t n = 0;
    fc_last_error_message(message, sizeof message, &n);
    return strstr(message, text) != NULL;
}

static void test_stated_format(const char *path, const uint8_t *bytes, size_t len) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_file_as(path, strlen(path), FC_FORMAT_FLAGD, &store),
                 FC_RESULT_OK);
    if (store == NULL) return;
    CHECK(version_of(store) == 1);
    CHECK(serves_flags_json(store));

    /* Stated as native, a flagd file is no snapshot: refused, the serving one stays. */
    uint64_t version = 99;
    CHECK_RESULT(fc_store_update_as(store, bytes, len, FC_FORMAT_NATIVE, &version),
                 FC_RESULT_INVALID_SNAPSHOT);
    CHECK(version == 99);
    CHECK(version_of(store) == 1 && serves_flags_json(store));
    CHECK_RESULT(fc_store_update_file_as(store, path, strlen(path), FC_FORMAT_NATIVE, NULL),
                 FC_RESULT_INVALID_SNAPSHOT);
    CHECK(version_of(store) == 1);

    /* Stated as flagd, documents that are not flagd documents are refused the same way. */
    static const char *not_flagd[] = {"{\"version\": 3}", "[1, 2]", "flags", "",
                                      "{\"flags\": [\"boolean-flag\"]}"};
    for (size_t i = 0; i < sizeof not_flagd / sizeof not_flagd[0]; i++) {
        CHECK_RESULT(fc_store_update_as(store, (const uint8_t *)not_flagd[i],
                                        strlen(not_flagd[i]), FC_FORMAT_FLAGD, &version),
                     FC_RESULT_INVALID_SNAPSHOT);
        size_t problems = fc_last_error_validation_len();
        CHECK(problems >= 1);
    }
    CHECK(version == 99);
    CHECK(version_of(store) == 1 && serves_flags_json(store));

    /* Stated rightly, or detected: the next versions. */
    CHECK_RESULT(fc_store_update_as(store, bytes, len, FC_FORMAT_FLAGD, &version), FC_RESULT_OK);
    CHECK(version == 2);
    CHECK_RESULT(fc_store_update_file_as(store, path, strlen(path), FC_FORMAT_DETECT, &version),
                 FC_RESULT_OK);
    CHECK(version == 3);
    CHECK_RESULT(fc_store_update_as(store, bytes, len, FC_FORMAT_DETECT, NULL), FC_RESULT_OK);
    CHECK(version_of(store) == 4 && serves_flags_json(store));

    /* A native snapshot stated as native replaces the flagd flags, with its own version. */
    CHECK_RESULT(fc_store_update_as(store, (const uint8_t *)S(NATIVE), FC_FORMAT_NATIVE,
                                    &version),
                 FC_RESULT_OK);
    CHECK(version == 7);
    CHECK(bool_of(store, "native-flag", false));
    fc_store_free(store);

    store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes_as(bytes, len, FC_FORMAT_FLAGD, &store), FC_RESULT_OK);
    CHECK(store != NULL && version_of(store) == 1 && serves_flags_json(store));
    fc_store_free(store);
    store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes_as(bytes, len, FC_FORMAT_NATIVE, &store),
                 FC_RESULT_INVALID_SNAPSHOT);
    CHECK(store == NULL);
    CHECK_RESULT(fc_store_new_from_bytes_as((const uint8_t *)S(NATIVE), FC_FORMAT_DETECT, &store),
                 FC_RESULT_OK);
    CHECK(store != NULL && version_of(store) == 7);
    fc_store_free(store);
}

static void test_merged(const uint8_t *bytes, size_t len) {
    fc_str documents[2] = {{.ptr = (const char *)bytes, .len = len}, {S(OVERRIDE)}};
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_merged(documents, 2, &store), FC_RESULT_OK);
    if (store == NULL) return;
    CHECK(version_of(store) == 1);
    CHECK(serves_flags_json(store));
    CHECK(!bool_of(store, "boolean-flag", true)); /* the later definition */

    /* The second document's flag uses the first one's evaluator is_privileged. */
    fc_attribute role = string_attribute("role", "admin");
    fc_context admin = {.attributes = &role, .attributes_len = 1};
    char answer[8];
    size_t n = 0;
    CHECK_RESULT(fc_store_string(store, S("admin-flag"), &admin, S("fallback"), answer,
                                 sizeof answer, &n),
                 FC_RESULT_OK);
    CHECK(n == 3 && memcmp(answer, "yes", 3) == 0);
    CHECK_RESULT(fc_store_string(store, S("admin-flag"), NULL, S("fallback"), answer,
                                 sizeof answer, &n),
                 FC_RESULT_OK);
    CHECK(n == 2 && memcmp(answer, "no", 2) == 0);

    /* Each flag keeps its own document's metadata: admin-flag has none of flags.json's. */
    fc_snapshot *view = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &view), FC_RESULT_OK);
    size_t entries = 99;
    CHECK_RESULT(fc_snapshot_flag_metadata_len(view, S("admin-flag"), &entries), FC_RESULT_OK);
    CHECK(entries == 0);
    CHECK_RESULT(fc_snapshot_flag_metadata_len(view, S("metadata-flag"), &entries), FC_RESULT_OK);
    CHECK(entries == 6);
    fc_snapshot_free(view);

    /* In the other order, flags.json's boolean-flag wins. */
    fc_str reversed[2] = {documents[1], documents[0]};
    uint64_t version = 0;
    CHECK_RESULT(fc_store_update_merged(store, reversed, 2, &version), FC_RESULT_OK);
    CHECK(version == 2);
    CHECK(bool_of(store, "boolean-flag", false));

    /* Refused merges keep the serving snapshot and leave *out_version alone. */
    version = 99;
    CHECK_RESULT(fc_store_update_merged(store, NULL, 2, &version), FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_update_merged(store, NULL, 0, &version), FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_update_merged(store, documents, 0, &version),
                 FC_RESULT_INVALID_ARGUMENT);
    fc_str with_null[2] = {documents[0], {.ptr = NULL, .len = 5}};
    CHECK_RESULT(fc_store_update_merged(store, with_null, 2, &version), FC_RESULT_NULL_POINTER);
    CHECK(last_error_contains("documents[1]"));
    fc_str with_native[2] = {documents[0], {S("{\"version\": 9}")}};
    CHECK_RESULT(fc_store_update_merged(store, with_native, 2, &version),
                 FC_RESULT_INVALID_SNAPSHOT);
    /* Not UTF-8: no JSON document, so no flagd document. */
    fc_str latin1[2] = {documents[0], {S("{\"flags\": {\"caf\xe9\": {}}}")}};
    CHECK_RESULT(fc_store_update_merged(store, latin1, 2, &version), FC_RESULT_INVALID_SNAPSHOT);
    CHECK_RESULT(fc_store_update_merged(NULL, documents, 2, &version), FC_RESULT_NULL_POINTER);
    CHECK(version == 99);
    CHECK(version_of(store) == 2 && bool_of(store, "boolean-flag", false));
    CHECK(serves_flags_json(store));
    fc_store_free(store);

    store = NULL;
    CHECK_RESULT(fc_store_new_merged(documents, 0, &store), FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_new_merged(with_native, 2, &store), FC_RESULT_INVALID_SNAPSHOT);
    CHECK_RESULT(fc_store_new_merged(documents, 2, NULL), FC_RESULT_NULL_POINTER);
    CHECK(store == NULL);
}

static void test_files(const char *path) {
    char dir[] = "/tmp/flagcore-flagd-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(2);
    }
    char override[64], missing[64];
    snprintf(override, sizeof override, "%s/override.json", dir);
    snprintf(missing, sizeof missing, "%s/missing.json", dir);
    replace_file(override, OVERRIDE);

    fc_str paths[2] = {{.ptr = path, .len = strlen(path)},
                       {.ptr = override, .len = strlen(override)}};
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_files(paths, 2, &store), FC_RESULT_OK);
    if (store != NULL) {
        CHECK(version_of(store) == 1 && serves_flags_json(store));
        CHECK(!bool_of(store, "boolean-flag", true));

        uint64_t version = 0;
        CHECK_RESULT(fc_store_update_files(store, paths, 1, &version), FC_RESULT_OK);
        CHECK(version == 2 && bool_of(store, "boolean-flag", false));

        /* One file that cannot be read: nothing is loaded, and the error names it. */
        version = 99;
        fc_str with_missing[3] = {paths[0], paths[1], {.ptr = missing, .len = strlen(missing)}};
        CHECK_RESULT(fc_store_update_files(store, with_missing, 3, &version), FC_RESULT_IO);
        CHECK(last_error_contains("missing.json"));
        fc_str empty[2] = {paths[1], {.ptr = "", .len = 0}};
        CHECK_RESULT(fc_store_update_files(store, empty, 2, &version), FC_RESULT_INVALID_ARGUMENT);
        CHECK(last_error_contains("paths[1]"));
        fc_str with_null[1] = {{.ptr = NULL, .len = 4}};
        CHECK_RESULT(fc_store_update_files(store, with_null, 1, &version), FC_RESULT_NULL_POINTER);
        CHECK_RESULT(fc_store_update_files(store, paths, 0, &version), FC_RESULT_INVALID_ARGUMENT);
        CHECK_RESULT(fc_store_update_files(store, NULL, 2, &version), FC_RESULT_NULL_POINTER);
        /* A path is bytes on Unix: one that is not UTF-8 names no file here. */
        fc_str latin1[1] = {{S("/tmp/flagcore-caf\xe9.json")}};
        CHECK_RESULT(fc_store_update_files(store, latin1, 1, &version), FC_RESULT_IO);
        CHECK(version == 99);
        CHECK(version_of(store) == 2 && bool_of(store, "boolean-flag", false));
        fc_store_free(store);
    }
    store = NULL;
    fc_str only_missing[1] = {{.ptr = missing, .len = strlen(missing)}};
    CHECK_RESULT(fc_store_new_from_files(only_missing, 1, &store), FC_RESULT_IO);
    CHECK_RESULT(fc_store_new_from_files(paths, 0, &store), FC_RESULT_INVALID_ARGUMENT);
    CHECK(store == NULL);
    remove(override);
    rmdir(dir);
}

/* An fc_format is a uint32_t: a number that names none is an error, not a crash, and
 * nothing is created or changed. */
static void test_bad_format(const char *path, const uint8_t *bytes, size_t len) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new_from_bytes_as(bytes, len, 3, &store), FC_RESULT_INVALID_ARGUMENT);
    CHECK(last_error_contains("not an fc_format"));
    CHECK_RESULT(fc_store_new_from_file_as(path, strlen(path), UINT32_MAX, &store),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK(store == NULL);
    CHECK_RESULT(fc_store_new_from_bytes_as(NULL, 1, FC_FORMAT_FLAGD, &store),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_new_from_bytes_as(bytes, len, FC_FORMAT_FLAGD, NULL),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_new_from_file_as(NULL, 3, FC_FORMAT_FLAGD, &store),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_new_from_file_as("", 0, FC_FORMAT_FLAGD, &store),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK(store == NULL);

    CHECK_RESULT(fc_store_new_from_file_as(path, strlen(path), FC_FORMAT_FLAGD, &store),
                 FC_RESULT_OK);
    if (store == NULL) return;
    uint64_t version = 99;
    CHECK_RESULT(fc_store_update_as(store, bytes, len, 42, &version), FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_update_file_as(store, path, strlen(path), 42, &version),
                 FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_update_as(NULL, bytes, len, FC_FORMAT_FLAGD, &version),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_update_as(store, NULL, len, FC_FORMAT_FLAGD, &version),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_update_file_as(store, NULL, 1, FC_FORMAT_FLAGD, &version),
                 FC_RESULT_NULL_POINTER);
    CHECK_RESULT(fc_store_update_file_as(store, S("/nonexistent/flags.json"), FC_FORMAT_FLAGD,
                                         &version),
                 FC_RESULT_IO);
    CHECK(version == 99);
    CHECK(version_of(store) == 1 && serves_flags_json(store));
    fc_store_free(store);
}

/* flagd's newer, CBOR-keyed bucketing: `jack` moves from hearts (v2) to diamonds (v3), as
   flagd's conformance tables give it; bad calls are refused. */
static void test_cbor_bucketing(const char *path) {
    fc_store *store = NULL;
    CHECK_RESULT(fc_store_new(&store), FC_RESULT_OK);
    if (store == NULL) return;
    CHECK_RESULT(fc_store_set_flagd_fractional(store, FC_FLAGD_FRACTIONAL_V3), FC_RESULT_OK);
    CHECK_RESULT(fc_store_set_flagd_fractional(store, 4), FC_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(fc_store_set_flagd_fractional(NULL, FC_FLAGD_FRACTIONAL_V2),
                 FC_RESULT_NULL_POINTER);
    uint64_t version = 0;
    CHECK_RESULT(fc_store_update_file_as(store, path, strlen(path), FC_FORMAT_FLAGD, &version),
                 FC_RESULT_OK);
    fc_snapshot *view = NULL;
    CHECK_RESULT(fc_store_snapshot(store, &view), FC_RESULT_OK);
    fc_attribute user = string_attribute("user.name", "jack");
    fc_context ctx = {.attributes = &user, .attributes_len = 1};
    check_string(view, "fractional-flag", &ctx, "diamonds", FC_REASON_TARGETING_MATCH, __LINE__);
    fc_snapshot_free(view);
    fc_store_free(store);
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

    bytes = read_file(argv[1], &len);
    test_stated_format(argv[1], (const uint8_t *)bytes, len);
    test_merged((const uint8_t *)bytes, len);
    test_files(argv[1]);
    test_bad_format(argv[1], (const uint8_t *)bytes, len);
    free(bytes);
    test_cbor_bucketing(argv[1]);
    return summary("flagd");
}
