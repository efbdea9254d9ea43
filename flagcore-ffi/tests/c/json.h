/* A small JSON reader for the C tests only: enough to read tests/vectors/NAME.json and to
 * compare JSON values deeply. Integers are kept as int64_t (vectors hold integers above
 * 2^53), floats as double, and every value remembers its span in the source text, so that
 * a member (a snapshot, a JSON default) can be handed on verbatim. */
#ifndef FLAGCORE_TEST_JSON_H
#define FLAGCORE_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { J_NULL, J_BOOL, J_INT, J_FLOAT, J_STRING, J_ARRAY, J_OBJECT } jkind;

typedef struct jvalue {
    jkind kind;
    int boolean;
    int64_t integer;
    double number;
    char *string; /* decoded, NUL-terminated (may hold NULs: use string_len) */
    size_t string_len;
    struct jvalue *items; /* array elements, or object member values */
    char **keys;          /* object member names, decoded, NUL-terminated */
    size_t *key_lens;
    size_t len;           /* number of items */
    const char *start;    /* the value's text in the source */
    size_t span;
} jvalue;

/* Parses len bytes at text into *out. Returns 0 on success; else -1 with a message in err. */
int json_parse(const char *text, size_t len, jvalue *out, char *err, size_t err_len);
void json_free(jvalue *value);
/* The member named key of an object, or NULL. */
const jvalue *json_get(const jvalue *object, const char *key);
/* Deep equality; numbers compare numerically (1 == 1.0), object member order is ignored. */
int json_equal(const jvalue *a, const jvalue *b);

#endif
