#include <stdio.h>
#include "flagcore.h"

#define S(literal) literal, (sizeof(literal) - 1) /* a string literal as pointer + length */

int main(void) {
    static const char snapshot[] = "{\"version\": 1, \"flags\": {\"new-checkout\": {"
        "\"variants\": {\"on\": true, \"off\": false}, \"enabled\": true, \"off_variant\": \"off\","
        "\"fallthrough\": {\"variant\": \"on\"}}}}";
    fc_store *store = NULL;
    fc_result r = fc_store_new_from_bytes((const uint8_t *)snapshot, sizeof snapshot - 1, &store);
    if (r != FC_RESULT_OK) {
        char message[1024];
        size_t len = 0;
        fc_last_error_message(message, sizeof message, &len);
        fprintf(stderr, "%s: %s\n", fc_result_code(r), message);
        return 1;
    }

    /* A context: targeting key plus attributes, borrowed for the call. */
    fc_attribute attributes[1] = {{.name = S("beta"), .kind = FC_VALUE_KIND_BOOL, .bool_value = true}};
    fc_context ctx = {.key = S("user-17"), .attributes = attributes, .attributes_len = 1};

    /* The hot path: no details, no allocation. */
    bool enabled = false;
    r = fc_store_bool(store, S("new-checkout"), &ctx, false, &enabled);

    /* Details come from a snapshot view, which owns the strings they lend. */
    fc_snapshot *view = NULL;
    fc_details details;
    fc_store_snapshot(store, &view);
    r = fc_snapshot_bool(view, S("new-checkout"), &ctx, false, &enabled, &details);
    printf("%s via %.*s (%s)\n", enabled ? "on" : "off", (int)details.variant.len,
           details.variant.ptr, fc_reason_name(details.reason));
    fc_snapshot_free(view);

    fc_store_kill(store, S("new-checkout"), S("incident 1234")); /* off until revived */
    fc_store_free(store);
    return 0;
}
