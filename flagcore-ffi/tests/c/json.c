/* See json.h. Test-only code: aborts on allocation failure. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end, *begin;
    char *err;
    size_t err_len;
    int depth;
} parser;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return q;
}

static int fail(parser *ps, const char *what) {
    snprintf(ps->err, ps->err_len, "%s at offset %ld", what, (long)(ps->p - ps->begin));
    return -1;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(parser *ps, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (ps->p >= ps->end) return fail(ps, "truncated \\u escape");
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(ps, "bad \\u escape");
    }
    *out = v;
    return 0;
}

static void put_utf8(char **buf, size_t *len, size_t *cap, unsigned cp) {
    if (*len + 5 > *cap) {
        *cap = (*cap + 5) * 2;
        *buf = xrealloc(*buf, *cap);
    }
    char *o = *buf + *len;
    if (cp < 0x80) { o[0] = (char)cp; *len += 1; }
    else if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); *len += 2; }
    else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); *len += 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); *len += 4;
    }
}

static int parse_string(parser *ps, char **out, size_t *out_len) {
    ps->p++; /* opening quote */
    size_t cap = 16, len = 0;
    char *buf = xrealloc(NULL, cap);
    for (;;) {
        if (ps->p >= ps->end) { free(buf); return fail(ps, "unterminated string"); }
        unsigned char c = (unsigned char)*ps->p++;
        if (c == '"') break;
        if (c == '\\') {
            if (ps->p >= ps->end) { free(buf); return fail(ps, "truncated escape"); }
            char e = *ps->p++;
            unsigned cp;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (hex4(ps, &cp)) { free(buf); return -1; }
                if (cp >= 0xD800 && cp < 0xDC00) {
                    unsigned lo;
                    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                        free(buf);
                        return fail(ps, "lone surrogate");
                    }
                    ps->p += 2;
                    if (hex4(ps, &lo)) { free(buf); return -1; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                break;
            default: free(buf); return fail(ps, "bad escape");
            }
            put_utf8(&buf, &len, &cap, cp);
        } else {
            if (len + 2 > cap) { cap *= 2; buf = xrealloc(buf, cap); }
            buf[len++] = (char)c;
        }
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    return 0;
}

static int parse_value(parser *ps, jvalue *v);

static int parse_number(parser *ps, jvalue *v) {
    const char *s = ps->p;
    int is_float = 0;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c >= '0' && c <= '9') ps->p++;
        else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { is_float = 1; ps->p++; }
        else break;
    }
    size_t n = (size_t)(ps->p - s);
    if (n == 0 || n > 64) return fail(ps, "bad number");
    char tmp[65];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *endp;
    errno = 0;
    if (!is_float) {
        long long i = strtoll(tmp, &endp, 10);
        if (*endp == 0 && errno == 0) {
            v->kind = J_INT;
            v->integer = i;
            v->number = (double)i;
            return 0;
        }
    }
    double d = strtod(tmp, &endp);
    if (*endp != 0) return fail(ps, "bad number");
    v->kind = J_FLOAT;
    v->number = d;
    return 0;
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, "bad literal");
    ps->p += n;
    return 0;
}

static int parse_value(parser *ps, jvalue *v) {
    memset(v, 0, sizeof *v);
    if (++ps->depth > 200) return fail(ps, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end");
    v->start = ps->p;
    int rc = 0;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        v->kind = c == '{' ? J_OBJECT : J_ARRAY;
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
        } else {
            for (;;) {
                size_t i = v->len++;
                v->items = xrealloc(v->items, v->len * sizeof *v->items);
                memset(&v->items[i], 0, sizeof v->items[i]);
                if (v->kind == J_OBJECT) {
                    v->keys = xrealloc(v->keys, v->len * sizeof *v->keys);
                    v->key_lens = xrealloc(v->key_lens, v->len * sizeof *v->key_lens);
                    v->keys[i] = NULL;
                    skip_ws(ps);
                    if (ps->p >= ps->end || *ps->p != '"') { rc = fail(ps, "expected a member name"); break; }
                    if ((rc = parse_string(ps, &v->keys[i], &v->key_lens[i]))) break;
                    skip_ws(ps);
                    if (ps->p >= ps->end || *ps->p != ':') { rc = fail(ps, "expected ':'"); break; }
                    ps->p++;
                }
                if ((rc = parse_value(ps, &v->items[i]))) break;
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
                if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
                rc = fail(ps, "expected ',' or a closing bracket");
                break;
            }
        }
    } else if (c == '"') {
        v->kind = J_STRING;
        rc = parse_string(ps, &v->string, &v->string_len);
    } else if (c == 't') {
        v->kind = J_BOOL;
        v->boolean = 1;
        rc = literal(ps, "true");
    } else if (c == 'f') {
        v->kind = J_BOOL;
        rc = literal(ps, "false");
    } else if (c == 'n') {
        v->kind = J_NULL;
        rc = literal(ps, "null");
    } else {
        rc = parse_number(ps, v);
    }
    v->span = (size_t)(ps->p - v->start);
    ps->depth--;
    return rc;
}

int json_parse(const char *text, size_t len, jvalue *out, char *err, size_t err_len) {
    parser ps = {text, text + len, text, err, err_len, 0};
    if (parse_value(&ps, out)) {
        json_free(out);
        return -1;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        json_free(out);
        return fail(&ps, "trailing characters");
    }
    return 0;
}

void json_free(jvalue *v) {
    if (!v) return;
    for (size_t i = 0; i < v->len; i++) {
        if (v->items) json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const jvalue *json_get(const jvalue *o, const char *key) {
    if (!o || o->kind != J_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < o->len; i++)
        if (o->key_lens[i] == n && memcmp(o->keys[i], key, n) == 0) return &o->items[i];
    return NULL;
}

static int is_number(const jvalue *v) { return v->kind == J_INT || v->kind == J_FLOAT; }

int json_equal(const jvalue *a, const jvalue *b) {
    if (is_number(a) && is_number(b)) {
        if (a->kind == J_INT && b->kind == J_INT) return a->integer == b->integer;
        return a->number == b->number;
    }
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case J_NULL: return 1;
    case J_BOOL: return a->boolean == b->boolean;
    case J_STRING: return a->string_len == b->string_len && memcmp(a->string, b->string, a->string_len) == 0;
    case J_ARRAY:
        if (a->len != b->len) return 0;
        for (size_t i = 0; i < a->len; i++)
            if (!json_equal(&a->items[i], &b->items[i])) return 0;
        return 1;
    case J_OBJECT:
        if (a->len != b->len) return 0;
        for (size_t i = 0; i < a->len; i++) {
            const jvalue *other = NULL;
            for (size_t j = 0; j < b->len; j++)
                if (b->key_lens[j] == a->key_lens[i] && memcmp(b->keys[j], a->keys[i], a->key_lens[i]) == 0)
                    other = &b->items[j];
            if (!other || !json_equal(&a->items[i], other)) return 0;
        }
        return 1;
    default: return 0;
    }
}
