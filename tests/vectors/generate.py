#!/usr/bin/env python3
"""Generate the shared evaluation test vectors (tests/vectors/*.json).

The snapshots and the cases (inputs) are written here by hand; the `expected` part of
every case is computed by the reference evaluator in reference.py (docs/format.md §2-§4). Most cases also state what their author expects (`want`), and the
generator stops if the reference disagrees, so a slip in either shows up here.

    python3 tests/vectors/generate.py           # rewrite the files
    python3 tests/vectors/generate.py --check   # exit 1 if a file on disk differs

Needs the PyPI package `xxhash` (pip install xxhash).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reference  # noqa: E402

FORMAT = "flagcore-vectors"
FORMAT_VERSION = 2

BOOL = {"on": True, "off": False}

# --------------------------------------------------------------------------------------
# helpers to write snapshots and cases tersely
# --------------------------------------------------------------------------------------


def ctx(key=None, /, **attributes):
    c = {}
    if key is not None:
        c["key"] = key
    c["attributes"] = attributes
    return c


def case(name, flag, context, want=None, type="bool", default=False):
    """`want` is what the author expects: "REASON", "REASON variant" or "ERROR CODE"
    ("REASON null": the caller's default without an error); the generator checks the
    reference evaluator against it."""
    return {"name": name, "flag": flag, "type": type, "default": default,
            "context": context, "want": want}


def rule(conditions, serve, id=None):
    r = {}
    if id is not None:
        r["id"] = id
    r["conditions"] = conditions
    r["serve"] = serve
    return r


def var(name):
    return {"variant": name}


def split_of(pairs):
    return [{"variant": v, "weight": w} for v, w in pairs]


def rollout(*split, by=None, schedule=None):
    """`schedule`: [(RFC 3339 text, [(variant, weight), ...]), ...]."""
    r = {}
    if by is not None:
        r["by"] = by
    r["split"] = split_of(split)
    if schedule is not None:
        r["schedule"] = [{"at": at, "split": split_of(pairs)} for at, pairs in schedule]
    return {"rollout": r}


def clause(attribute, op, *values):
    c = {"attribute": attribute, "op": op}
    if op != "exists":
        c["values"] = list(values)
    return c


def bool_flag(rules=(), fallthrough="off", **extra):
    f = {"variants": dict(BOOL), "enabled": True, "off_variant": "off"}
    f.update(extra)
    f["rules"] = list(rules)
    f["fallthrough"] = var(fallthrough) if isinstance(fallthrough, str) else fallthrough
    return f


def flag(variants, off, fallthrough, rules=(), **extra):
    f = {"variants": variants, "enabled": True, "off_variant": off}
    f.update(extra)
    f["rules"] = list(rules)
    f["fallthrough"] = var(fallthrough) if isinstance(fallthrough, str) else fallthrough
    return f


def one_rule(id, *conditions):
    """A bool flag serving `on` when all conditions hold, else `off`."""
    return bool_flag([rule(list(conditions), var("on"), id=id)])


HOLDS = "TARGETING_MATCH on"
FAILS = "DEFAULT off"

# --------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------


def operators():
    flags = {
        "op-eq": one_rule("eq", clause("country", "eq", "US", "CA")),
        "op-eq-int": one_rule("eq-int", clause("age", "eq", 30)),
        "op-eq-float": one_rule("eq-float", clause("score", "eq", 1.5)),
        "op-eq-float-value": one_rule("eq-float-value", clause("level", "eq", 2.0)),
        "op-eq-bool": one_rule("eq-bool", clause("beta", "eq", True)),
        "op-eq-key": one_rule("eq-key", clause("key", "eq", "alice")),
        "op-neq": one_rule("neq", clause("country", "neq", "US", "CA")),
        "op-in": one_rule("in", clause("plan", "in", "pro", "enterprise")),
        "op-in-mixed": one_rule("in-mixed", clause("tier", "in", "gold", 3, True)),
        "op-not_in": one_rule("not_in", clause("plan", "not_in", "free", "trial")),
        "op-starts_with": one_rule("starts_with", clause("email", "starts_with", "admin@", "root@")),
        "op-ends_with": one_rule("ends_with", clause("email", "ends_with", "@corp.example")),
        "op-contains": one_rule("contains", clause("ua", "contains", "Mobile", "Tablet")),
        "op-contains-unicode": one_rule("contains-unicode", clause("city", "contains", "ü")),
        "op-matches": one_rule("matches", clause(
            "email", "matches", "^[a-z]+\\.[a-z]+@corp\\.example$", "^ops-[0-9]+@")),
        "op-matches-unanchored": one_rule("matches-unanchored", clause("build", "matches", "rc[0-9]+")),
        "op-lt": one_rule("lt", clause("age", "lt", 18)),
        "op-lt-any": one_rule("lt-any", clause("age", "lt", 10, 20)),
        "op-lte": one_rule("lte", clause("age", "lte", 18)),
        "op-gt": one_rule("gt", clause("score", "gt", 0.5)),
        "op-gte": one_rule("gte", clause("score", "gte", 10, 100)),
        "op-semver_eq": one_rule("semver_eq", clause("app_version", "semver_eq", "2.4.0")),
        "op-semver_eq-build": one_rule("semver_eq-build", clause("app_version", "semver_eq", "1.0.0+a")),
        "op-semver_lt": one_rule("semver_lt", clause("app_version", "semver_lt", "2.0.0")),
        "op-semver_lte": one_rule("semver_lte", clause("app_version", "semver_lte", "2.0.0-beta.2")),
        "op-semver_gt": one_rule("semver_gt", clause("app_version", "semver_gt", "1.0.0-alpha")),
        "op-semver_gte": one_rule("semver_gte", clause("app_version", "semver_gte", "2.4.0")),
        "op-before": one_rule("before", clause("signup", "before", "2024-01-01T00:00:00Z")),
        "op-after": one_rule("after", clause("last_seen", "after", "2024-06-01T12:00:00+02:00")),
        "op-after-ms": one_rule("after-ms", clause("last_seen", "after", 1735689600000)),
        "op-exists": one_rule("exists", clause("beta", "exists")),
        "op-exists-key": one_rule("exists-key", clause("key", "exists")),
        "op-and": one_rule("and", clause("country", "eq", "US"), clause("age", "gte", 21)),
        "op-in-empty": one_rule("in-empty", clause("country", "in")),
        "op-not-in-empty": one_rule("not-in-empty", clause("country", "not_in")),
        "op-exists-empty-values": one_rule("exists-empty", {"attribute": "beta", "op": "exists", "values": []}),
    }
    snapshot = {"version": 1, "segments": {}, "flags": flags}
    k = "user-1"
    cases = [
        # eq / in with strings
        case("eq-string-holds", "op-eq", ctx(k, country="US"), HOLDS),
        case("eq-string-second-value-holds", "op-eq", ctx(k, country="CA"), HOLDS),
        case("eq-string-fails", "op-eq", ctx(k, country="FR"), FAILS),
        case("eq-string-case-sensitive", "op-eq", ctx(k, country="us"), FAILS),
        case("eq-string-absent", "op-eq", ctx(k), FAILS),
        case("eq-string-vs-number", "op-eq", ctx(k, country=1), FAILS),
        case("eq-string-vs-bool", "op-eq", ctx(k, country=True), FAILS),
        # numbers: type-strict but int/float numeric
        case("eq-int-holds", "op-eq-int", ctx(k, age=30), HOLDS),
        case("eq-int-vs-float-equal", "op-eq-int", ctx(k, age=30.0), HOLDS),
        case("eq-int-fails", "op-eq-int", ctx(k, age=31), FAILS),
        case("eq-int-vs-float-unequal", "op-eq-int", ctx(k, age=30.5), FAILS),
        case("eq-int-vs-string", "op-eq-int", ctx(k, age="30"), FAILS),
        case("eq-int-absent", "op-eq-int", ctx(k), FAILS),
        case("eq-float-holds", "op-eq-float", ctx(k, score=1.5), HOLDS),
        case("eq-float-vs-int", "op-eq-float", ctx(k, score=1), FAILS),
        case("eq-float-value-vs-int-equal", "op-eq-float-value", ctx(k, level=2), HOLDS),
        case("eq-float-value-vs-float-equal", "op-eq-float-value", ctx(k, level=2.0), HOLDS),
        case("eq-float-value-vs-string", "op-eq-float-value", ctx(k, level="2"), FAILS),
        # booleans never equal numbers
        case("eq-bool-holds", "op-eq-bool", ctx(k, beta=True), HOLDS),
        case("eq-bool-fails", "op-eq-bool", ctx(k, beta=False), FAILS),
        case("eq-bool-vs-int-1", "op-eq-bool", ctx(k, beta=1), FAILS),
        case("eq-bool-vs-string", "op-eq-bool", ctx(k, beta="true"), FAILS),
        case("eq-bool-absent", "op-eq-bool", ctx(k), FAILS),
        # the attribute `key` is the targeting key
        case("eq-key-holds", "op-eq-key", ctx("alice"), HOLDS),
        case("eq-key-fails", "op-eq-key", ctx("bob"), FAILS),
        case("eq-key-no-targeting-key", "op-eq-key", ctx(), FAILS),
        case("eq-key-attribute-named-key-ignored", "op-eq-key", ctx("bob", key="alice"), FAILS),
        case("eq-key-attribute-named-key-without-targeting-key", "op-eq-key",
             ctx(None, key="alice"), FAILS),
        # neq / not_in: hold when equal to NONE; false on absence
        case("neq-holds", "op-neq", ctx(k, country="FR"), HOLDS),
        case("neq-fails", "op-neq", ctx(k, country="CA"), FAILS),
        case("neq-absent", "op-neq", ctx(k), FAILS),
        case("neq-wrong-type-equals-none", "op-neq", ctx(k, country=5), HOLDS),
        case("in-holds", "op-in", ctx(k, plan="enterprise"), HOLDS),
        case("in-fails", "op-in", ctx(k, plan="free"), FAILS),
        case("in-absent", "op-in", ctx(k), FAILS),
        case("in-wrong-type", "op-in", ctx(k, plan=7), FAILS),
        case("in-mixed-int", "op-in-mixed", ctx(k, tier=3), HOLDS),
        case("in-mixed-float-equal-int", "op-in-mixed", ctx(k, tier=3.0), HOLDS),
        case("in-mixed-bool", "op-in-mixed", ctx(k, tier=True), HOLDS),
        case("in-mixed-string-of-number", "op-in-mixed", ctx(k, tier="3"), FAILS),
        case("in-mixed-string", "op-in-mixed", ctx(k, tier="gold"), HOLDS),
        case("in-mixed-bool-false", "op-in-mixed", ctx(k, tier=False), FAILS),
        case("not_in-holds", "op-not_in", ctx(k, plan="pro"), HOLDS),
        case("not_in-fails", "op-not_in", ctx(k, plan="trial"), FAILS),
        case("not_in-absent", "op-not_in", ctx(k), FAILS),
        case("not_in-wrong-type-equals-none", "op-not_in", ctx(k, plan=True), HOLDS),
        # string operators
        case("starts_with-holds", "op-starts_with", ctx(k, email="root@example.com"), HOLDS),
        case("starts_with-fails", "op-starts_with", ctx(k, email="user@example.com"), FAILS),
        case("starts_with-case-sensitive", "op-starts_with", ctx(k, email="Admin@example.com"), FAILS),
        case("starts_with-absent", "op-starts_with", ctx(k), FAILS),
        case("starts_with-wrong-type", "op-starts_with", ctx(k, email=42), FAILS),
        case("ends_with-holds", "op-ends_with", ctx(k, email="jane@corp.example"), HOLDS),
        case("ends_with-fails", "op-ends_with", ctx(k, email="jane@corp.example.org"), FAILS),
        case("ends_with-absent", "op-ends_with", ctx(k), FAILS),
        case("ends_with-wrong-type", "op-ends_with", ctx(k, email=False), FAILS),
        case("contains-holds", "op-contains", ctx(k, ua="Mozilla/5.0 (Tablet; rv:1)"), HOLDS),
        case("contains-fails", "op-contains", ctx(k, ua="Mozilla/5.0 (X11; Linux)"), FAILS),
        case("contains-absent", "op-contains", ctx(k), FAILS),
        case("contains-wrong-type", "op-contains", ctx(k, ua=1.5), FAILS),
        case("contains-unicode-holds", "op-contains-unicode", ctx(k, city="Zürich"), HOLDS),
        case("contains-unicode-fails", "op-contains-unicode", ctx(k, city="Zurich"), FAILS),
        case("matches-holds", "op-matches", ctx(k, email="jane.doe@corp.example"), HOLDS),
        case("matches-second-pattern-holds", "op-matches", ctx(k, email="ops-17@pager.example"), HOLDS),
        case("matches-fails", "op-matches", ctx(k, email="Jane.Doe@corp.example"), FAILS),
        case("matches-absent", "op-matches", ctx(k), FAILS),
        case("matches-wrong-type", "op-matches", ctx(k, email=12), FAILS),
        case("matches-unanchored-search", "op-matches-unanchored", ctx(k, build="2.4.0-rc12+exp"), HOLDS),
        case("matches-unanchored-fails", "op-matches-unanchored", ctx(k, build="2.4.0-rc"), FAILS),
        # numeric comparisons
        case("lt-holds", "op-lt", ctx(k, age=17), HOLDS),
        case("lt-float-holds", "op-lt", ctx(k, age=17.5), HOLDS),
        case("lt-equal-fails", "op-lt", ctx(k, age=18), FAILS),
        case("lt-absent", "op-lt", ctx(k), FAILS),
        case("lt-wrong-type-string", "op-lt", ctx(k, age="17"), FAILS),
        case("lt-wrong-type-bool", "op-lt", ctx(k, age=False), FAILS),
        case("lt-any-value", "op-lt-any", ctx(k, age=15), HOLDS),
        case("lt-any-value-fails", "op-lt-any", ctx(k, age=20), FAILS),
        case("lte-equal-holds", "op-lte", ctx(k, age=18), HOLDS),
        case("lte-float-equal-holds", "op-lte", ctx(k, age=18.0), HOLDS),
        case("lte-fails", "op-lte", ctx(k, age=18.5), FAILS),
        case("lte-negative-holds", "op-lte", ctx(k, age=-3), HOLDS),
        case("lte-absent", "op-lte", ctx(k), FAILS),
        case("lte-wrong-type", "op-lte", ctx(k, age="18"), FAILS),
        case("gt-holds", "op-gt", ctx(k, score=0.75), HOLDS),
        case("gt-int-holds", "op-gt", ctx(k, score=1), HOLDS),
        case("gt-equal-fails", "op-gt", ctx(k, score=0.5), FAILS),
        case("gt-absent", "op-gt", ctx(k), FAILS),
        case("gt-wrong-type", "op-gt", ctx(k, score="0.75"), FAILS),
        case("gte-equal-holds", "op-gte", ctx(k, score=10), HOLDS),
        case("gte-float-equal-holds", "op-gte", ctx(k, score=10.0), HOLDS),
        case("gte-fails", "op-gte", ctx(k, score=9.99), FAILS),
        case("gte-absent", "op-gte", ctx(k), FAILS),
        case("gte-wrong-type", "op-gte", ctx(k, score=True), FAILS),
        # semver
        case("semver_eq-holds", "op-semver_eq", ctx(k, app_version="2.4.0"), HOLDS),
        case("semver_eq-build-ignored", "op-semver_eq", ctx(k, app_version="2.4.0+build.7"), HOLDS),
        case("semver_eq-build-vs-build", "op-semver_eq-build", ctx(k, app_version="1.0.0+b"), HOLDS),
        case("semver_eq-fails", "op-semver_eq", ctx(k, app_version="2.4.1"), FAILS),
        case("semver_eq-prerelease-fails", "op-semver_eq", ctx(k, app_version="2.4.0-rc.1"), FAILS),
        case("semver_eq-v-prefix-invalid", "op-semver_eq", ctx(k, app_version="v2.4.0"), FAILS),
        case("semver_eq-partial-invalid", "op-semver_eq", ctx(k, app_version="2.4"), FAILS),
        case("semver_eq-absent", "op-semver_eq", ctx(k), FAILS),
        case("semver_eq-wrong-type", "op-semver_eq", ctx(k, app_version=2), FAILS),
        case("semver_lt-holds", "op-semver_lt", ctx(k, app_version="1.9.9"), HOLDS),
        case("semver_lt-prerelease-below-release", "op-semver_lt", ctx(k, app_version="2.0.0-rc.1"), HOLDS),
        case("semver_lt-equal-fails", "op-semver_lt", ctx(k, app_version="2.0.0"), FAILS),
        case("semver_lt-numeric-not-lexical", "op-semver_lt", ctx(k, app_version="10.0.0"), FAILS),
        case("semver_lt-leading-zero-invalid", "op-semver_lt", ctx(k, app_version="01.0.0"), FAILS),
        case("semver_lt-absent", "op-semver_lt", ctx(k), FAILS),
        case("semver_lt-wrong-type", "op-semver_lt", ctx(k, app_version=True), FAILS),
        case("semver_lte-equal-holds", "op-semver_lte", ctx(k, app_version="2.0.0-beta.2"), HOLDS),
        case("semver_lte-alpha-below-beta", "op-semver_lte", ctx(k, app_version="2.0.0-alpha"), HOLDS),
        case("semver_lte-numeric-identifier", "op-semver_lte", ctx(k, app_version="2.0.0-beta.11"), FAILS),
        case("semver_lte-release-above", "op-semver_lte", ctx(k, app_version="2.0.0"), FAILS),
        case("semver_lte-absent", "op-semver_lte", ctx(k), FAILS),
        case("semver_lte-wrong-type", "op-semver_lte", ctx(k, app_version=2.0), FAILS),
        case("semver_gt-longer-prerelease", "op-semver_gt", ctx(k, app_version="1.0.0-alpha.1"), HOLDS),
        case("semver_gt-release", "op-semver_gt", ctx(k, app_version="1.0.0"), HOLDS),
        case("semver_gt-equal-fails", "op-semver_gt", ctx(k, app_version="1.0.0-alpha"), FAILS),
        case("semver_gt-numeric-below-alnum", "op-semver_gt", ctx(k, app_version="1.0.0-1"), FAILS),
        case("semver_gt-absent", "op-semver_gt", ctx(k), FAILS),
        case("semver_gt-wrong-type", "op-semver_gt", ctx(k, app_version=1), FAILS),
        case("semver_gte-equal-holds", "op-semver_gte", ctx(k, app_version="2.4.0"), HOLDS),
        case("semver_gte-minor-numeric", "op-semver_gte", ctx(k, app_version="2.10.0"), HOLDS),
        case("semver_gte-fails", "op-semver_gte", ctx(k, app_version="2.3.99"), FAILS),
        case("semver_gte-prerelease-fails", "op-semver_gte", ctx(k, app_version="2.4.0-rc.1"), FAILS),
        case("semver_gte-absent", "op-semver_gte", ctx(k), FAILS),
        case("semver_gte-wrong-type", "op-semver_gte", ctx(k, app_version=3), FAILS),
        case("semver_gte-garbage-string", "op-semver_gte", ctx(k, app_version="latest"), FAILS),
        # timestamps
        case("before-holds", "op-before", ctx(k, signup="2023-12-31T23:59:59Z"), HOLDS),
        case("before-lowercase-t-z", "op-before", ctx(k, signup="2023-12-31t23:59:59z"), HOLDS),
        case("before-equal-fails", "op-before", ctx(k, signup="2024-01-01T00:00:00Z"), FAILS),
        case("before-same-instant-other-offset", "op-before", ctx(k, signup="2024-01-01T01:00:00+01:00"), FAILS),
        case("before-one-nanosecond", "op-before",
             ctx(k, signup="2024-01-01T00:59:59.999999999+01:00"), HOLDS),
        case("before-negative-offset", "op-before", ctx(k, signup="2023-12-31T19:30:00-04:30"), FAILS),
        case("before-ms-int-holds", "op-before", ctx(k, signup=1704067199999), HOLDS),
        case("before-ms-int-equal-fails", "op-before", ctx(k, signup=1704067200000), FAILS),
        case("before-ms-float-holds", "op-before", ctx(k, signup=1704067199999.5), HOLDS),
        case("before-ms-float-after-fails", "op-before", ctx(k, signup=1704067200000.5), FAILS),
        case("before-not-a-timestamp", "op-before", ctx(k, signup="yesterday"), FAILS),
        case("before-date-only-invalid", "op-before", ctx(k, signup="2023-12-31"), FAILS),
        case("before-leap-second-invalid", "op-before", ctx(k, signup="2016-12-31T23:59:60Z"), FAILS),
        case("before-feb-30-invalid", "op-before", ctx(k, signup="2023-02-30T00:00:00Z"), FAILS),
        case("before-absent", "op-before", ctx(k), FAILS),
        case("before-wrong-type", "op-before", ctx(k, signup=True), FAILS),
        case("after-holds-one-nanosecond", "op-after",
             ctx(k, last_seen="2024-06-01T10:00:00.000000001Z"), HOLDS),
        case("after-equal-fails", "op-after", ctx(k, last_seen="2024-06-01T10:00:00Z"), FAILS),
        case("after-fraction-holds", "op-after", ctx(k, last_seen="2024-06-01T12:00:00.5+02:00"), HOLDS),
        case("after-fails", "op-after", ctx(k, last_seen="2024-05-31T23:00:00Z"), FAILS),
        case("after-ms-holds", "op-after", ctx(k, last_seen=1717236000001), HOLDS),
        case("after-absent", "op-after", ctx(k), FAILS),
        case("after-wrong-type", "op-after", ctx(k, last_seen=False), FAILS),
        case("after-ms-value-holds", "op-after-ms", ctx(k, last_seen="2025-01-01T00:00:00.001Z"), HOLDS),
        case("after-ms-value-equal-fails", "op-after-ms", ctx(k, last_seen="2025-01-01T00:00:00Z"), FAILS),
        case("after-ms-value-float-holds", "op-after-ms", ctx(k, last_seen=1735689600000.25), HOLDS),
        # exists
        case("exists-bool-false-present", "op-exists", ctx(k, beta=False), HOLDS),
        case("exists-string", "op-exists", ctx(k, beta="no"), HOLDS),
        case("exists-absent", "op-exists", ctx(k, other=1), FAILS),
        case("exists-key-holds", "op-exists-key", ctx("someone"), HOLDS),
        case("exists-key-absent", "op-exists-key", ctx(None, key="x"), FAILS),
        # an empty values list: ANY of none never holds, NONE of none always holds
        case("in-empty-fails", "op-in-empty", ctx(k, country="US"), FAILS),
        case("not-in-empty-holds", "op-not-in-empty", ctx(k, country="US"), HOLDS),
        case("not-in-empty-absent", "op-not-in-empty", ctx(k), FAILS),
        case("exists-empty-values-holds", "op-exists-empty-values", ctx(k, beta=True), HOLDS),
        # conditions of one rule all hold
        case("and-both-hold", "op-and", ctx(k, country="US", age=21), HOLDS),
        case("and-one-fails", "op-and", ctx(k, country="US", age=20), FAILS),
        case("and-one-absent", "op-and", ctx(k, age=40), FAILS),
    ]
    return {
        "name": "operators",
        "description": "Every clause operator (§2) with holding, failing, absent-attribute "
                       "and wrong-type attributes; type-strict equality, int/float numeric "
                       "equality, SemVer precedence, RFC 3339 instants and Unix milliseconds.",
        "snapshot": snapshot,
        "kills": [],
        "cases": cases,
    }


# --------------------------------------------------------------------------------------
# segments
# --------------------------------------------------------------------------------------


def segments():
    segs = {
        "internal": {
            "description": "staff",
            "include": ["alice", "mallory"],
            "exclude": ["mallory", "eve"],
            "rules": [{"conditions": [clause("email", "ends_with", "@corp.example")]}],
        },
        "beta": {"rules": [{"conditions": [clause("beta_opt_in", "eq", True)]}]},
        "customer": {"rules": [{"conditions": [{"not_in_segment": "internal"}]}]},
        "beta-customer": {
            "rules": [{"conditions": [{"in_segment": "beta"}, {"in_segment": "customer"}]}],
        },
        "vip": {"include": ["zoe", "Łukasz"], "rules": []},
        "everyone": {"exclude": ["banned"], "rules": [{"conditions": []}]},
        "eu-or-staff": {
            "rules": [
                {"conditions": [clause("country", "in", "DE", "FR")]},
                {"conditions": [{"in_segment": "internal"}]},
            ],
        },
    }
    flags = {
        "seg-internal": one_rule("staff", {"in_segment": "internal"}),
        "seg-customer": one_rule("customers", {"in_segment": "customer"}),
        "seg-not-internal": one_rule("outsiders", {"not_in_segment": "internal"}),
        "seg-beta-customer": one_rule("beta-customers", {"in_segment": "beta-customer"}),
        "seg-not-beta-customer": one_rule(None, {"not_in_segment": "beta-customer"}),
        "seg-vip": one_rule("vip", {"in_segment": "vip"}),
        "seg-everyone": one_rule("all", {"in_segment": "everyone"}),
        "seg-eu-or-staff": one_rule("eu-or-staff", {"in_segment": "eu-or-staff"}),
        "seg-multi": flag(
            {"staff": "staff", "beta": "beta", "public": "public"}, "public", "public",
            rules=[
                rule([{"in_segment": "internal"}], var("staff"), id="staff"),
                rule([{"in_segment": "beta"}, clause("country", "eq", "US")], var("beta"), id="beta-us"),
            ]),
    }
    snapshot = {"version": 3, "segments": segs, "flags": flags}
    corp = "x@corp.example"
    cases = [
        case("include-matches", "seg-internal", ctx("alice"), HOLDS),
        case("exclude-wins-over-include", "seg-internal", ctx("mallory", email=corp), FAILS),
        case("exclude-wins-over-rules", "seg-internal", ctx("eve", email=corp), FAILS),
        case("rule-matches", "seg-internal", ctx("carol", email=corp), HOLDS),
        case("rule-fails", "seg-internal", ctx("dave", email="dave@gmail.example"), FAILS),
        case("no-key-rule-matches", "seg-internal", ctx(None, email=corp), HOLDS),
        case("no-key-no-rule", "seg-internal", ctx(None), FAILS),
        case("include-list-is-by-key-not-attribute", "seg-internal", ctx("zed", key="alice"), FAILS),
        case("customer-via-not-in-segment", "seg-customer", ctx("dave"), HOLDS),
        case("customer-not-for-staff", "seg-customer", ctx("alice"), FAILS),
        case("customer-excluded-staff-is-customer", "seg-customer", ctx("mallory", email=corp), HOLDS),
        case("not-in-segment-holds", "seg-not-internal", ctx("dave"), HOLDS),
        case("not-in-segment-fails", "seg-not-internal", ctx("carol", email=corp), FAILS),
        case("not-in-segment-no-key", "seg-not-internal", ctx(None), HOLDS),
        case("nested-holds", "seg-beta-customer", ctx("dave", beta_opt_in=True), HOLDS),
        case("nested-staff-excluded", "seg-beta-customer", ctx("alice", beta_opt_in=True), FAILS),
        case("nested-not-beta", "seg-beta-customer", ctx("dave", beta_opt_in=False), FAILS),
        case("nested-beta-attr-absent", "seg-beta-customer", ctx("dave"), FAILS),
        case("nested-excluded-staff-rejoins", "seg-beta-customer",
             ctx("eve", beta_opt_in=True, email=corp), HOLDS),
        case("not-in-nested-holds", "seg-not-beta-customer", ctx("alice", beta_opt_in=True), HOLDS),
        case("not-in-nested-fails", "seg-not-beta-customer", ctx("dave", beta_opt_in=True), FAILS),
        case("include-only-segment", "seg-vip", ctx("zoe"), HOLDS),
        case("include-only-segment-unicode-key", "seg-vip", ctx("Łukasz"), HOLDS),
        case("include-only-segment-other", "seg-vip", ctx("Lukasz"), FAILS),
        case("empty-conditions-rule-holds", "seg-everyone", ctx("anyone"), HOLDS),
        case("empty-conditions-rule-no-key", "seg-everyone", ctx(None), HOLDS),
        case("empty-conditions-rule-excluded", "seg-everyone", ctx("banned"), FAILS),
        case("any-rule-first", "seg-eu-or-staff", ctx("dave", country="FR"), HOLDS),
        case("any-rule-second", "seg-eu-or-staff", ctx("alice", country="US"), HOLDS),
        case("any-rule-none", "seg-eu-or-staff", ctx("dave", country="US"), FAILS),
        case("multi-first-rule-wins", "seg-multi", ctx("alice", beta_opt_in=True, country="US"),
             "TARGETING_MATCH staff", "string", "none"),
        case("multi-second-rule", "seg-multi", ctx("dave", beta_opt_in=True, country="US"),
             "TARGETING_MATCH beta", "string", "none"),
        case("multi-fallthrough", "seg-multi", ctx("dave", beta_opt_in=True, country="CA"),
             "DEFAULT public", "string", "none"),
    ]
    return {
        "name": "segments",
        "description": "Segments: include/exclude (exclude wins over include and rules), "
                       "rules (any rule, all conditions), nested segments through "
                       "in_segment/not_in_segment, contexts without a targeting key.",
        "snapshot": snapshot,
        "kills": [],
        "cases": cases,
    }


# --------------------------------------------------------------------------------------
# rollouts and bucketing
# --------------------------------------------------------------------------------------

# Keys found by searching u0, u1, ... for the bucket shown (salt in the comment).
# The generator re-checks each one.
BOUNDARY_KEYS = {
    "three-way": {0: "u40560", 33332: "u185292", 33333: "u144969",
                  66665: "u13934", 66666: "u25287", 99999: "u101336"},
    "zero-weights": {0: "u174938", 49999: "u31518", 50000: "u51781", 99999: "u31609"},
    "cohort-10": {9999: "u123474", 10000: "u25350", 19999: "u71004", 20000: "u81816"},
    "fine-weights": {0: "u7273", 1: "u18975", 99999: "u177628"},
}


def keys_in(salt, lo, hi, n):
    """The first `n` keys user-0, user-1, ... whose bucket under `salt` is in [lo, hi)."""
    out, i = [], 0
    while len(out) < n:
        k = f"user-{i}"
        if lo <= reference.bucket_for(salt, k) < hi:
            out.append(k)
        i += 1
    return out

SPREAD_KEYS = [
    "user-1", "user-2", "user-3", "user-4", "user-5", "user-6", "user-7", "user-8",
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil",
    "trent", "victor", "walter", "acct:00017", "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "", "José", "用户-42", "😀", "Zoë",
]


def rollouts():
    abc = {"a": "A", "b": "B", "c": "C", "d": "D"}
    segs = {
        "sample-10": {"rules": [{"conditions": [
            {"in_bucket": {"salt": "cohort-10", "from": 10, "to": 20}}]}]},
    }
    flags = {
        "three-way": flag({"a": "A", "b": "B", "c": "C"}, "a",
                          rollout(("a", 33.333), ("b", 33.333), ("c", 33.334))),
        "zero-weights": flag(abc, "a", rollout(("a", 0), ("b", 50), ("c", 0), ("d", 50))),
        "all-on": bool_flag(fallthrough=rollout(("on", 100), ("off", 0))),
        "all-off": bool_flag(fallthrough=rollout(("on", 0), ("off", 100))),
        "canary-5": bool_flag(fallthrough=rollout(("on", 5), ("off", 95)), salt="checkout-canary"),
        "canary-50": bool_flag(fallthrough=rollout(("on", 50), ("off", 50)), salt="checkout-canary"),
        "fine-weights": flag({"x": 1, "y": 2, "z": 3}, "x",
                             rollout(("x", 0.001), ("y", 49.999), ("z", 50))),
        "by-account": bool_flag(fallthrough=rollout(("on", 50), ("off", 50), by="account_id"),
                                salt="acct-salt"),
        "by-account-copy": bool_flag(fallthrough=rollout(("on", 50), ("off", 50), by="account_id"),
                                     salt="acct-salt"),
        "rule-rollout": flag(
            {"x": "x", "y": "y", "z": "z"}, "z", "z",
            rules=[
                rule([clause("plan", "eq", "pro")], rollout(("x", 50), ("y", 50), by="org_id"), id="by-org"),
                rule([], rollout(("x", 25), ("y", 75)), id="by-key"),
            ]),
        "in-bucket": bool_flag([rule([{"in_bucket": {"salt": "cohort-10", "from": 10, "to": 20}}],
                                     var("on"), id="slice")]),
        "in-bucket-segment": bool_flag([rule([{"in_segment": "sample-10"}], var("on"), id="sample")]),
        "cohort-rollout": flag(abc, "a", rollout(("a", 10), ("b", 10), ("c", 80)), salt="cohort-10"),
        "in-bucket-by": bool_flag([rule([{"in_bucket": {"salt": "acct-salt", "by": "account_id",
                                                        "from": 0, "to": 50}}], var("on"), id="half")]),
        "in-bucket-all": bool_flag([rule([{"in_bucket": {"salt": "anything", "from": 0, "to": 100}}],
                                         var("on"))]),
        "in-bucket-empty": bool_flag([rule([{"in_bucket": {"salt": "anything", "from": 30, "to": 30}}],
                                           var("on"))]),
        "in-bucket-decimal": bool_flag([rule([{"in_bucket": {"salt": "three-way", "from": 33.333,
                                                             "to": 66.666}}], var("on"))]),
        "unicode-salt": bool_flag(fallthrough=rollout(("on", 50), ("off", 50)), salt="ünïcödé-🚀"),
        "float-split": flag({"low": 0.25, "mid": 0.5, "high": 0.75}, "low",
                            rollout(("low", 20), ("mid", 30.5), ("high", 49.5))),
    }
    snapshot = {"version": 7, "segments": segs, "flags": flags}
    cases = []
    add = cases.append

    # boundaries of 33.333 / 33.333 / 33.334
    tw = BOUNDARY_KEYS["three-way"]
    for b, want in [(0, "a"), (33332, "a"), (33333, "b"), (66665, "b"), (66666, "c"), (99999, "c")]:
        add(case(f"three-way-bucket-{b}", "three-way", ctx(tw[b]), f"SPLIT {want}", "string", "?"))
    for k in SPREAD_KEYS:
        add(case(f"three-way-key-{k or 'empty'}", "three-way", ctx(k), "SPLIT", "string", "?"))
    # weight-0 variants serve no one
    zw = BOUNDARY_KEYS["zero-weights"]
    for b, want in [(0, "b"), (49999, "b"), (50000, "d"), (99999, "d")]:
        add(case(f"zero-weights-bucket-{b}", "zero-weights", ctx(zw[b]), f"SPLIT {want}", "string", "?"))
    for k in SPREAD_KEYS[:8]:
        add(case(f"zero-weights-key-{k}", "zero-weights", ctx(k), "SPLIT", "string", "?"))
    for k in ("user-1", "user-2", "user-3", tw[0], tw[99999]):
        add(case(f"all-on-{k}", "all-on", ctx(k), "SPLIT on"))
        add(case(f"all-off-{k}", "all-off", ctx(k), "SPLIT off", default=True))
    # shared salt: same buckets; a grown canary only adds users
    for k in SPREAD_KEYS[:12] + keys_in("checkout-canary", 0, 5000, 3):
        add(case(f"canary-5-{k}", "canary-5", ctx(k), "SPLIT"))
        add(case(f"canary-50-{k}", "canary-50", ctx(k), "SPLIT"))
    fw = BOUNDARY_KEYS["fine-weights"]
    for b, want in [(0, "x"), (1, "y"), (99999, "z")]:
        add(case(f"fine-weights-bucket-{b}", "fine-weights", ctx(fw[b]), f"SPLIT {want}", "int", -1))
    for k in ("user-1", "user-5", "alice", "olivia"):
        add(case(f"fine-weights-{k}", "fine-weights", ctx(k), "SPLIT", "int", -1))
    for k in ("user-1", "user-5", "alice", "olivia") + tuple(keys_in("float-split", 0, 20000, 2)):
        add(case(f"float-split-{k}", "float-split", ctx(k), "SPLIT", "float", -1.0))
    # bucketing attribute types
    add(case("by-account-string", "by-account", ctx("k1", account_id="12345"), "SPLIT"))
    add(case("by-account-int-same-as-string", "by-account", ctx("k2", account_id=12345), "SPLIT"))
    add(case("by-account-negative-int", "by-account", ctx("k3", account_id=-42), "SPLIT"))
    add(case("by-account-negative-string", "by-account", ctx("k4", account_id="-42"), "SPLIT"))
    add(case("by-account-int-zero", "by-account", ctx("k5", account_id=0), "SPLIT"))
    add(case("by-account-big-int", "by-account", ctx("k5", account_id=9007199254740993), "SPLIT"))
    add(case("by-account-no-targeting-key", "by-account", ctx(None, account_id="777"), "SPLIT"))
    for i, acct in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 1000000, -1000000]):
        add(case(f"by-account-spread-{acct}", "by-account", ctx(f"s{i}", account_id=acct), "SPLIT"))
    add(case("by-account-shared-salt-copy", "by-account-copy", ctx("k1", account_id="12345"), "SPLIT"))
    add(case("by-account-float-is-absent", "by-account", ctx("k6", account_id=12345.0),
             "ERROR TARGETING_KEY_MISSING", default=True))
    add(case("by-account-bool-is-absent", "by-account", ctx("k7", account_id=True),
             "ERROR TARGETING_KEY_MISSING", default=True))
    add(case("by-account-absent", "by-account", ctx("k8"), "ERROR TARGETING_KEY_MISSING"))
    add(case("by-account-key-attribute-not-used", "by-account", ctx("12345"),
             "ERROR TARGETING_KEY_MISSING"))
    # rollout in a rule: unusable `by` attribute -> next rule
    add(case("rule-rollout-by-org", "rule-rollout", ctx("user-1", plan="pro", org_id="org-1"),
             "SPLIT", "string", "?"))
    add(case("rule-rollout-by-org-2", "rule-rollout", ctx("user-1", plan="pro", org_id="org-2"),
             "SPLIT", "string", "?"))
    add(case("rule-rollout-by-org-int", "rule-rollout", ctx("user-1", plan="pro", org_id=31337),
             "SPLIT", "string", "?"))
    add(case("rule-rollout-org-absent-next-rule", "rule-rollout", ctx("user-1", plan="pro"),
             "SPLIT", "string", "?"))
    add(case("rule-rollout-org-float-next-rule", "rule-rollout",
             ctx("user-2", plan="pro", org_id=1.5), "SPLIT", "string", "?"))
    add(case("rule-rollout-org-bool-next-rule", "rule-rollout",
             ctx("user-4", plan="pro", org_id=True), "SPLIT", "string", "?"))
    add(case("rule-rollout-not-pro", "rule-rollout", ctx("user-3", org_id="org-1"),
             "SPLIT", "string", "?"))
    add(case("rule-rollout-no-key-to-fallthrough", "rule-rollout", ctx(None, plan="free"),
             "DEFAULT z", "string", "?"))
    add(case("rule-rollout-no-key-org-rule", "rule-rollout", ctx(None, plan="pro", org_id="org-1"),
             "SPLIT", "string", "?"))
    # in_bucket: [from*1000, to*1000); bucket not reported
    cb = BOUNDARY_KEYS["cohort-10"]
    for b, want in [(9999, FAILS), (10000, HOLDS), (19999, HOLDS), (20000, FAILS)]:
        add(case(f"in-bucket-{b}", "in-bucket", ctx(cb[b]), want))
        add(case(f"in-bucket-segment-{b}", "in-bucket-segment", ctx(cb[b]), want))
        add(case(f"cohort-rollout-same-salt-{b}", "cohort-rollout", ctx(cb[b]),
                 "SPLIT " + ("b" if want == HOLDS else ("a" if b < 10000 else "c")), "string", "?"))
    add(case("in-bucket-no-key", "in-bucket", ctx(None), FAILS))
    add(case("in-bucket-by-string", "in-bucket-by", ctx("k1", account_id="12345")))
    add(case("in-bucket-by-int", "in-bucket-by", ctx("k2", account_id=12345)))
    add(case("in-bucket-by-negative-int", "in-bucket-by", ctx("k3", account_id=-42)))
    for acct in (1, 2, 3, 4, 5, 6):
        add(case(f"in-bucket-by-spread-{acct}", "in-bucket-by", ctx("k", account_id=acct)))
    add(case("in-bucket-by-float-false", "in-bucket-by", ctx("k4", account_id=12345.0), FAILS))
    add(case("in-bucket-by-absent-false", "in-bucket-by", ctx("12345"), FAILS))
    for k in SPREAD_KEYS[:6]:
        add(case(f"in-bucket-all-{k}", "in-bucket-all", ctx(k), HOLDS))
        add(case(f"in-bucket-empty-{k}", "in-bucket-empty", ctx(k), FAILS))
    for b in (33332, 33333, 66665, 66666):
        add(case(f"in-bucket-decimal-{b}", "in-bucket-decimal", ctx(tw[b]),
                 HOLDS if 33333 <= b < 66666 else FAILS))
    for k in ("José", "用户-42", "😀", "Zoë", "alice", "bob", "user-7", "user-8"):
        add(case(f"unicode-salt-{k}", "unicode-salt", ctx(k), "SPLIT"))

    # the hand-picked boundary keys really are at those buckets
    for salt, keys in BOUNDARY_KEYS.items():
        for b, k in keys.items():
            assert reference.bucket_for(salt, k) == b, (salt, k, b)

    return {
        "name": "rollouts",
        "description": "Bucketing (§3): split boundaries (33.333/33.333/33.334, weight-0 "
                       "variants, 100/0), shared and custom salts, integer/float/boolean "
                       "bucketing attributes, rollouts in rules whose `by` is unusable, "
                       "in_bucket conditions (also inside a segment), unicode keys and salt.",
        "snapshot": snapshot,
        "kills": [],
        "cases": cases,
    }


# --------------------------------------------------------------------------------------
# prerequisites and kills
# --------------------------------------------------------------------------------------


def prerequisites():
    flags = {
        "payments-v2": bool_flag([rule([clause("country", "in", "DE", "FR")], var("on"), id="eu")]),
        "new-checkout": bool_flag(
            fallthrough="on",
            prerequisites=[{"flag": "payments-v2", "variant": "on"}],
            targets=[{"variant": "on", "keys": ["bob"]}]),
        "chain-a": bool_flag([rule([clause("plan", "eq", "pro")], var("on"), id="pro")]),
        "chain-b": bool_flag(fallthrough="on", prerequisites=[{"flag": "chain-a", "variant": "on"}]),
        "chain-c": flag({"v1": "v1", "v2": "v2"}, "v1", "v2",
                        prerequisites=[{"flag": "chain-b", "variant": "on"}]),
        "plan-tier": flag({"gold": "gold", "basic": "basic"}, "basic", "basic",
                          rules=[rule([clause("spend", "gte", 1000)], var("gold"), id="big")]),
        "gold-feature": flag({"yes": 1, "no": 0}, "no", "yes",
                             prerequisites=[{"flag": "plan-tier", "variant": "gold"}]),
        "two-prereqs": bool_flag(fallthrough="on", prerequisites=[
            {"flag": "payments-v2", "variant": "on"}, {"flag": "chain-a", "variant": "on"}]),
        "killed-prereq": bool_flag(fallthrough="on"),
        "needs-killed": bool_flag(fallthrough="on", prerequisites=[{"flag": "killed-prereq", "variant": "on"}]),
        "doc-disabled": {"variants": dict(BOOL), "enabled": False, "off_variant": "off",
                         "targets": [{"variant": "on", "keys": ["bob"]}],
                         "rules": [], "fallthrough": var("on")},
        "needs-disabled": bool_flag(fallthrough="on", prerequisites=[{"flag": "doc-disabled", "variant": "on"}]),
        "needs-disabled-off": bool_flag(fallthrough="on",
                                        prerequisites=[{"flag": "doc-disabled", "variant": "off"}]),
        "rollout-prereq": bool_flag(fallthrough=rollout(("on", 50), ("off", 50))),
        "needs-rollout": bool_flag(fallthrough="on", prerequisites=[{"flag": "rollout-prereq", "variant": "on"}]),
        "killed-flag": bool_flag(fallthrough="on"),
        "killed-with-prereq": bool_flag(fallthrough="on",
                                        prerequisites=[{"flag": "chain-a", "variant": "on"}]),
        "killed-json": flag({"cfg": {"mode": "fast"}, "safe": {"mode": "safe"}}, "safe", "cfg"),
        "disabled-int": {"variants": {"low": 1, "high": 100}, "enabled": False, "off_variant": "low",
                         "rules": [], "fallthrough": var("high")},
    }
    snapshot = {"version": 12, "segments": {}, "flags": flags}
    kills = ["killed-prereq", "killed-flag", "killed-with-prereq", "killed-json", "ghost-flag"]
    PF = "PREREQUISITE_FAILED off"
    # user-1 .. : find one key that lands on `on` and one on `off` for rollout-prereq
    on_key = next(f"user-{i}" for i in range(100)
                  if reference.bucket_for("rollout-prereq", f"user-{i}") < 50000)
    off_key = next(f"user-{i}" for i in range(100)
                   if reference.bucket_for("rollout-prereq", f"user-{i}") >= 50000)
    cases = [
        case("prereq-passes", "new-checkout", ctx("dave", country="DE"), "DEFAULT on"),
        case("prereq-fails", "new-checkout", ctx("dave", country="US"), PF, default=True),
        case("prereq-fails-before-targets", "new-checkout", ctx("bob", country="US"), PF),
        case("prereq-passes-then-target", "new-checkout", ctx("bob", country="FR"), "TARGETING_MATCH on"),
        case("prereq-attribute-absent", "new-checkout", ctx("dave"), PF),
        case("prereq-itself", "payments-v2", ctx("dave", country="FR"), "TARGETING_MATCH on"),
        case("chain-3-passes", "chain-c", ctx("u", plan="pro"), "STATIC v2", "string", "?"),
        case("chain-3-fails-at-root", "chain-c", ctx("u", plan="free"),
             "PREREQUISITE_FAILED v1", "string", "?"),
        case("chain-2-fails", "chain-b", ctx("u", plan="free"), PF),
        case("chain-2-passes", "chain-b", ctx("u", plan="pro"), "STATIC on"),
        case("prereq-string-variant-passes", "gold-feature", ctx("u", spend=1500),
             "STATIC yes", "int", -1),
        case("prereq-string-variant-fails", "gold-feature", ctx("u", spend=999.5),
             "PREREQUISITE_FAILED no", "int", -1),
        case("prereq-int-flag-float-getter", "gold-feature", ctx("u", spend=1000),
             "STATIC yes", "float", -1.0),
        case("two-prereqs-both-pass", "two-prereqs", ctx("u", country="DE", plan="pro"), "STATIC on"),
        case("two-prereqs-first-fails", "two-prereqs", ctx("u", country="US", plan="pro"), PF),
        case("two-prereqs-second-fails", "two-prereqs", ctx("u", country="DE", plan="free"), PF),
        case("prereq-killed-at-runtime", "needs-killed", ctx("u"), PF),
        case("killed-prereq-itself", "killed-prereq", ctx("u"), "DISABLED off", default=True),
        case("prereq-disabled-in-document", "needs-disabled", ctx("u"), PF),
        case("prereq-disabled-required-off-passes", "needs-disabled-off", ctx("u"), "STATIC on"),
        case("disabled-in-document", "doc-disabled", ctx("u"), "DISABLED off", default=True),
        case("disabled-in-document-beats-target", "doc-disabled", ctx("bob"), "DISABLED off"),
        case("prereq-rollout-passes", "needs-rollout", ctx(on_key), "STATIC on"),
        case("prereq-rollout-fails", "needs-rollout", ctx(off_key), PF),
        case("prereq-error-fails", "needs-rollout", ctx(None), PF),
        case("prereq-rollout-itself-no-key", "rollout-prereq", ctx(None),
             "ERROR TARGETING_KEY_MISSING", default=True),
        case("killed-flag", "killed-flag", ctx("u"), "DISABLED off", default=True),
        case("killed-flag-no-key", "killed-flag", ctx(None), "DISABLED off", default=True),
        case("killed-flag-wrong-type", "killed-flag", ctx("u"), "ERROR TYPE_MISMATCH", "string", "dflt"),
        case("killed-beats-prerequisite", "killed-with-prereq", ctx("u", plan="free"), "DISABLED off"),
        case("killed-json", "killed-json", ctx("u"), "DISABLED safe", "json", {"mode": "default"}),
        case("killed-unknown-flag", "ghost-flag", ctx("u"), "ERROR FLAG_NOT_FOUND", default=True),
        case("disabled-int-float-getter", "disabled-int", ctx("u"), "DISABLED low", "float", 0.5),
        case("disabled-int", "disabled-int", ctx("u"), "DISABLED low", "int", 7),
    ]
    return {
        "name": "prerequisites",
        "description": "Prerequisites (pass, fail, chains, multiple, on rollouts and errors) "
                       "and kills: runtime kills (also of a prerequisite and of a flag not in "
                       "the snapshot), `enabled: false`, and their order against type checks, "
                       "prerequisites and targets.",
        "snapshot": snapshot,
        "kills": kills,
        "cases": cases,
    }


# --------------------------------------------------------------------------------------
# types, reasons and errors
# --------------------------------------------------------------------------------------


def types_reasons():
    segs = {"staff": {"description": "employees", "include": ["admin"], "rules": []}}
    flags = {
        "static-bool": bool_flag(fallthrough="on", description="a plain switch",
                                 metadata={"owner": "team-checkout", "ticket": 4711,
                                           "temporary": True, "expires": "2030-01-01"}),
        "static-string": flag({"blue": "#0000ff", "red": "#ff0000"}, "red", "blue"),
        "static-int": flag({"small": 10, "big": 1000, "neg": -5}, "small", "big"),
        "static-int-neg": flag({"small": 10, "big": 1000, "neg": -5}, "small", "neg"),
        "static-float": flag({"low": 0.25, "high": 1.5}, "low", "high"),
        "static-json": flag({"a": {"color": "red", "sizes": [1, 2, 3],
                                   "nested": {"x": 1.5, "ok": True, "none": None}},
                             "b": {}}, "b", "a"),
        "static-json-array": flag({"list": [1, "two", 3.5, False], "empty": []}, "empty", "list"),
        "unicode-string": flag({"de": "Grüße", "ja": "こんにちは", "emoji": "🚀"}, "de", "ja",
                               rules=[rule([clause("sprache", "eq", "de")], var("de"), id="deutsch"),
                                      rule([clause("länd", "eq", "Österreich")], var("de"), id="ö")]),
        "targeted": bool_flag(targets=[{"variant": "on", "keys": ["bob", "josé", "用户"]},
                                       {"variant": "off", "keys": ["carol"]}]),
        "targets-and-rules": flag(
            {"t": "target", "r": "rule", "f": "fall"}, "f", "f",
            targets=[{"variant": "t", "keys": ["bob"]}],
            rules=[rule([clause("country", "eq", "US")], var("r"), id="us")]),
        "rules-order": flag(
            {"us": "us", "adult": "adult", "beta": "beta", "none": "none"}, "none", "none",
            rules=[
                rule([clause("country", "eq", "US")], var("us"), id="first"),
                {"description": "no id", "conditions": [clause("age", "gte", 18)], "serve": var("adult")},
                rule([clause("beta", "eq", True)], var("beta"), id="third"),
            ]),
        "rule-with-segment": bool_flag([rule([{"in_segment": "staff"}], var("on"), id="staff")]),
        "key-required": bool_flag(fallthrough=rollout(("on", 50), ("off", 50))),
        "int-rollout": flag({"one": 1, "two": 2}, "one", rollout(("one", 50), ("two", 50))),
    }
    snapshot = {"version": 42, "segments": segs, "flags": flags}
    u = ctx("user-1")
    TM = "ERROR TYPE_MISMATCH"
    NF = "ERROR FLAG_NOT_FOUND"
    cases = [
        # all five types, STATIC
        case("bool-static", "static-bool", u, "STATIC on"),
        case("string-static", "static-string", u, "STATIC blue", "string", "x"),
        case("int-static", "static-int", u, "STATIC big", "int", 0),
        case("int-static-negative", "static-int-neg", u, "STATIC neg", "int", 0),
        case("float-static", "static-float", u, "STATIC high", "float", 0.0),
        case("float-getter-on-int-flag", "static-int", u, "STATIC big", "float", 0.5),
        case("json-object-static", "static-json", u, "STATIC a", "json", {"d": 1}),
        case("json-array-static", "static-json-array", u, "STATIC list", "json", [0]),
        case("static-without-key", "static-string", ctx(None), "STATIC blue", "string", "x"),
        # type mismatches
        case("bool-as-string", "static-bool", u, TM, "string", "dflt"),
        case("bool-as-int", "static-bool", u, TM, "int", 5),
        case("bool-as-float", "static-bool", u, TM, "float", 5.5),
        case("bool-as-json", "static-bool", u, TM, "json", {"k": "v"}),
        case("string-as-bool", "static-string", u, TM, "bool", True),
        case("string-as-json", "static-string", u, TM, "json", ["x"]),
        case("int-as-bool", "static-int", u, TM, "bool", False),
        case("int-as-string", "static-int", u, TM, "string", "10"),
        case("float-as-int", "static-float", u, TM, "int", 3),
        case("float-as-bool", "static-float", u, TM, "bool", True),
        case("json-as-string", "static-json", u, TM, "string", "{}"),
        case("json-array-as-float", "static-json-array", u, TM, "float", 1.25),
        # unknown flags
        case("not-found-bool", "no-such-flag", u, NF, "bool", True),
        case("not-found-string", "no-such-flag", u, NF, "string", "fallback"),
        case("not-found-int", "no-such-flag", u, NF, "int", -7),
        case("not-found-float", "no-such-flag", u, NF, "float", 2.5),
        case("not-found-json", "no-such-flag", u, NF, "json", {"fallback": [1, 2]}),
        case("not-found-case-sensitive", "Static-Bool", u, NF),
        case("not-found-unicode-name", "flag-ünïcode", u, NF),
        # targets
        case("target-on", "targeted", ctx("bob"), "TARGETING_MATCH on"),
        case("target-off", "targeted", ctx("carol"), "TARGETING_MATCH off", default=True),
        case("target-unicode-key", "targeted", ctx("josé"), "TARGETING_MATCH on"),
        case("target-unicode-key-cjk", "targeted", ctx("用户"), "TARGETING_MATCH on"),
        case("target-unicode-not-normalized", "targeted", ctx("jose\u0301"), "DEFAULT off"),
        case("target-miss-default-not-static", "targeted", ctx("dave"), "DEFAULT off"),
        case("target-no-key", "targeted", ctx(None), "DEFAULT off"),
        case("target-attribute-key-ignored", "targeted", ctx("dave", key="bob"), "DEFAULT off"),
        case("target-beats-rule", "targets-and-rules", ctx("bob", country="US"),
             "TARGETING_MATCH t", "string", "?"),
        case("rule-after-targets", "targets-and-rules", ctx("carol", country="US"),
             "TARGETING_MATCH r", "string", "?"),
        case("fallthrough-after-targets-and-rules", "targets-and-rules", ctx("carol", country="CA"),
             "DEFAULT f", "string", "?"),
        # rules: the first that holds wins; rule ids
        case("rules-first", "rules-order", ctx("u", country="US", age=30, beta=True),
             "TARGETING_MATCH us", "string", "?"),
        case("rules-second-no-id", "rules-order", ctx("u", country="FR", age=30, beta=True),
             "TARGETING_MATCH adult", "string", "?"),
        case("rules-third", "rules-order", ctx("u", country="FR", age=16, beta=True),
             "TARGETING_MATCH beta", "string", "?"),
        case("rules-none-default", "rules-order", ctx("u", country="FR", age=16),
             "DEFAULT none", "string", "?"),
        case("rules-none-no-attributes", "rules-order", ctx("u"), "DEFAULT none", "string", "?"),
        case("rule-segment-include", "rule-with-segment", ctx("admin"), "TARGETING_MATCH on"),
        case("rule-segment-miss", "rule-with-segment", ctx("user"), "DEFAULT off"),
        # unicode attribute names and values
        case("unicode-static-fallthrough", "unicode-string", ctx("😀"), "DEFAULT ja", "string", "?"),
        case("unicode-rule-value", "unicode-string", ctx("u", sprache="de"), "TARGETING_MATCH de",
             "string", "?"),
        case("unicode-attribute-name", "unicode-string", ctx("u", länd="Österreich"),
             "TARGETING_MATCH de", "string", "?"),
        case("unicode-attribute-name-miss", "unicode-string", ctx("u", land="Österreich"),
             "DEFAULT ja", "string", "?"),
        # missing targeting key
        case("key-required-present", "key-required", ctx("user-1"), "SPLIT"),
        case("key-required-missing", "key-required", ctx(None), "ERROR TARGETING_KEY_MISSING",
             default=True),
        case("key-required-missing-attribute-key", "key-required", ctx(None, key="user-1"),
             "ERROR TARGETING_KEY_MISSING"),
        case("key-required-empty-string-is-a-key", "key-required", ctx(""), "SPLIT"),
        case("int-rollout", "int-rollout", ctx("user-1"), "SPLIT", "int", 0),
        case("int-rollout-float-getter", "int-rollout", ctx("user-2"), "SPLIT", "float", 0.0),
        case("int-rollout-missing-key", "int-rollout", ctx(None), "ERROR TARGETING_KEY_MISSING",
             "int", 99),
        case("int-rollout-missing-key-float", "int-rollout", ctx(None),
             "ERROR TARGETING_KEY_MISSING", "float", 9.5),
    ]
    return {
        "name": "types_reasons",
        "description": "The five value types and their getters (float getter on an integer "
                       "flag), type mismatches, STATIC vs DEFAULT, targets, rule order and "
                       "ids, FLAG_NOT_FOUND, TARGETING_KEY_MISSING, unicode keys and "
                       "attributes, description/metadata fields.",
        "snapshot": snapshot,
        "kills": [],
        "cases": cases,
    }


# --------------------------------------------------------------------------------------
# no snapshot loaded
# --------------------------------------------------------------------------------------


# Steps long past and far ahead, so that evaluating at the current time (as every
# binding's runner does) has one answer for years.
PAST = "2001-06-01T12:00:00.250+02:00"
LONG_PAST = "2000-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


def schedules():
    ramp = [(LONG_PAST, [("on", 5), ("off", 95)]),
            (PAST, [("on", 50), ("off", 50)]),
            (FUTURE, [("on", 100), ("off", 0)])]
    flags = {
        "ramp": bool_flag(fallthrough=rollout(("on", 1), ("off", 99), schedule=ramp)),
        "ramp-not-started": bool_flag(fallthrough=rollout(
            ("on", 1), ("off", 99), schedule=[(FUTURE, [("on", 100)])])),
        "ramp-empty-schedule": bool_flag(fallthrough=rollout(("on", 30), ("off", 70), schedule=[])),
        "ramp-killed": bool_flag(fallthrough=rollout(("on", 1), ("off", 99), schedule=ramp)),
        "ramp-by-account": flag(
            {"a": "A", "b": "B", "c": "C"}, "a", "a",
            rules=[
                rule([clause("plan", "eq", "pro")],
                     rollout(("a", 100), by="account_id",
                             schedule=[(LONG_PAST, [("b", 20), ("a", 80)]),
                                       (PAST, [("b", 20), ("c", 30), ("a", 50)])]),
                     id="pro-ramp"),
                rule([], rollout(("a", 50), ("b", 50), schedule=[(FUTURE, [("c", 100)])]),
                     id="later"),
            ]),
        "ramp-shared-salt": bool_flag(
            fallthrough=rollout(("on", 1), ("off", 99), schedule=[(PAST, [("on", 50), ("off", 50)])]),
            salt="ramp"),
    }
    snapshot = {"version": 3, "segments": {}, "flags": flags}
    cases = []
    add = cases.append
    # The step in force (50 %) decides; the first split (1 %) and the first step (5 %)
    # no longer do: keys around each of those bounds.
    for lo, hi, want in [(0, 1000, "on"), (1000, 5000, "on"), (5000, 50_000, "on"),
                         (50_000, 100_000, "off")]:
        for k in keys_in("ramp", lo, hi, 3):
            add(case(f"ramp-{k}", "ramp", ctx(k), f"SPLIT {want}"))
            add(case(f"ramp-not-started-{k}", "ramp-not-started", ctx(k)))
            add(case(f"ramp-shared-salt-{k}", "ramp-shared-salt", ctx(k), f"SPLIT {want}"))
    for k in SPREAD_KEYS[:12]:
        add(case(f"ramp-empty-schedule-{k}", "ramp-empty-schedule", ctx(k)))
        add(case(f"ramp-killed-{k}", "ramp-killed", ctx(k), "DISABLED off"))
    add(case("ramp-no-key", "ramp", ctx(None), "ERROR TARGETING_KEY_MISSING", "bool", True))
    for k in keys_in("ramp-by-account", 0, 100_000, 12):
        add(case(f"by-account-pro-{k}", "ramp-by-account", ctx("u", plan="pro", account_id=k),
                 "SPLIT", "string", "?"))
        add(case(f"by-account-free-{k}", "ramp-by-account", ctx(k, plan="free"), "SPLIT",
                 "string", "?"))
    add(case("by-account-pro-no-account", "ramp-by-account", ctx("u-7", plan="pro"), "SPLIT",
             "string", "?"))
    add(case("by-account-pro-int-account", "ramp-by-account", ctx("u-7", plan="pro", account_id=42),
             "SPLIT", "string", "?"))
    return {
        "name": "schedules",
        "description": "Scheduled rollouts: the split of the last step whose `at` has passed "
                       "(steps in 2000, 2001 and 2999, so the current time has one answer), "
                       "the rollout's own split before the first step, an empty schedule, a "
                       "killed ramp, scheduled rules, and the `step` of the details.",
        "snapshot": snapshot,
        "kills": ["ramp-killed"],
        "cases": cases,
    }


def not_ready():
    NR = "ERROR PROVIDER_NOT_READY"
    cases = [
        case("not-ready-bool", "new-checkout", ctx("alice"), NR, "bool", True),
        case("not-ready-string", "new-checkout", ctx("alice"), NR, "string", "s"),
        case("not-ready-int", "new-checkout", ctx("alice"), NR, "int", 3),
        case("not-ready-float", "new-checkout", ctx("alice"), NR, "float", 0.5),
        case("not-ready-json", "new-checkout", ctx("alice"), NR, "json", {"a": [1]}),
        case("not-ready-no-key", "new-checkout", ctx(None), NR),
        case("not-ready-killed-flag", "killed-early", ctx("alice"), NR, "bool", True),
    ]
    return {
        "name": "not_ready",
        "description": "No snapshot loaded yet: every getter serves the caller's default "
                       "with PROVIDER_NOT_READY, even for a flag killed before the first "
                       "snapshot.",
        "snapshot": None,
        "kills": ["killed-early"],
        "cases": cases,
    }


# --------------------------------------------------------------------------------------
# flagd bucketing (§2.4.2) and null serves (§2.4, §2.2 off_variant, §4.6)
# --------------------------------------------------------------------------------------

# MurmurHash3 x86 32-bit (seed 0) of these keys, as published with flagd's conformance
# suite (flagd-testbed, fractional-hash-edge-flag); checked against reference.py below.
MURMUR_EDGE_KEYS = {"ejOoVL": 0, "bY9fO-": 1, "SI7p-": 2147483647, "6LvT0": 2147483648,
                    "ceQdGm": 4294967295}


def check_murmur():
    """The reference's MurmurHash3 against the published keys, and against the `mmh3`
    package when it happens to be importable (it is not a dependency)."""
    for k, h in MURMUR_EDGE_KEYS.items():
        got = reference.murmur3_x86_32(k.encode("utf-8"))
        assert got == h, f"murmur3_x86_32({k!r}) = {got}, published {h}"
    try:
        import mmh3  # noqa: PLC0415
    except ImportError:
        return
    for data in [b"", b"a", b"ab", b"abc", b"abcd", b"abcde", "ünïcödé-🚀".encode("utf-8"),
                 b"fractional-flag-shorthandjon@company.com", bytes(range(256))]:
        assert reference.murmur3_x86_32(data) == mmh3.hash(data, 0, signed=False), data


def flagd_rollout(*split, by=None):
    r = {}
    if by is not None:
        r["by"] = by
    r["bucketing"] = "flagd"
    r["split"] = split_of(split)
    return {"rollout": r}


def flagd_boundary_keys(salt, split, candidates):
    """For each boundary between the ranges of `split` (cumulative weights strictly
    between 0 and the total, zero-weight variants included), the candidate whose scaled
    hash (hash × total) lies closest below the boundary and the one closest at or above
    it: [(key, variant it must get), ...]. `candidates` are strings or integers."""
    total = sum(w for _, w in split)
    scaled = []
    for c in candidates:
        h = reference.murmur3_x86_32((salt + str(c)).encode("utf-8"))
        scaled.append((h * total, c))
    out = []
    start = 0
    ranges = []
    for v, w in split:
        ranges.append((start, start + w, v))
        start += w
    for bound in sorted({end for _, end, _ in ranges if 0 < end < total}):
        edge = bound << 32
        below = max((s, c) for s, c in scaled if s < edge)
        above = min((s, c) for s, c in scaled if s >= edge)
        # the variant of a point: the one whose non-empty range holds it
        for (s, c) in (below, above):
            point = s >> 32
            want = next(v for lo, hi, v in ranges if lo <= point < hi)
            out.append((c, want))
    return out


def flagd_keys_per_variant(salt, split, candidates, n):
    """The first `n` candidates that land in each variant of non-zero weight:
    [(key, variant), ...]."""
    total = sum(w for _, w in split)
    out = []
    start = 0
    for v, w in split:
        got = 0
        for c in candidates:
            if got == n or w == 0:
                break
            if start <= reference.flagd_point(salt, str(c), total) < start + w:
                out.append((c, v))
                got += 1
        assert got == n or w == 0, (salt, v)
        start += w
    return out


USERS = [f"user-{i}" for i in range(6000)]


def flagd_bucketing():
    ht = {"heads": "heads", "tails": "tails", "draw": "draw"}
    cards = {v: v for v in ("clubs", "diamonds", "hearts", "spades", "wild")}
    aces = {v: f"ace-of-{v}" for v in ("clubs", "diamonds", "hearts", "spades")}
    aces["wild"] = "wild"
    four = [("clubs", 25), ("diamonds", 25), ("hearts", 25), ("spades", 25)]
    abcd = {"a": "A", "b": "B", "c": "C", "d": "D"}
    splits = {
        "one-third": [("a", 1), ("b", 2)],
        "per-mille": [("on", 7), ("off", 993)],
        "seven-of-1007": [("a", 7), ("b", 1000)],
        "control-treatment": [("control", 1), ("treatment", 3)],
        "zero-weights": [("a", 0), ("b", 5), ("c", 0), ("d", 5), ("e", 0)],
        "extremes": [("a", 1), ("b", 2147483646)],
        "by-int": [("small", 3), ("big", 7)],
        "unicode-salt": [("a", 1), ("b", 1), ("c", 1)],
    }
    flags = {
        # flagd's published tables (flagd-testbed): `fractional` without a key hashes the
        # flag's name followed by the targeting key, i.e. the default salt and `by` key.
        "fractional-flag-shorthand": flag(ht, "draw", flagd_rollout(("heads", 1), ("tails", 1))),
        # {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}: the flag's name, by
        # the attribute `user.name` (a dotted name is an ordinary attribute name here)
        "fractional-flag": flag(cards, "wild", flagd_rollout(*four, by="user.name")),
        # {"cat": ["shared-seed", {"var": "user.name"}]}: an explicit salt, shared
        "shared-seed-a": flag(cards, "wild", flagd_rollout(*four, by="user.name"),
                              salt="shared-seed"),
        "shared-seed-b": flag(aces, "wild", flagd_rollout(*four, by="user.name"),
                              salt="shared-seed"),
        # {"var": "targetingKey"}: salt "", so the hash is the key's alone
        "hash-edge": flag({"lower": "lower", "upper": "upper"}, "lower",
                          flagd_rollout(("lower", 50), ("upper", 50)), salt=""),
        # uneven totals, zero weights, the extremes of a total
        "one-third": flag({"a": "A", "b": "B"}, "a", flagd_rollout(*splits["one-third"])),
        "per-mille": bool_flag(fallthrough=flagd_rollout(*splits["per-mille"]),
                               salt="per-mille-salt"),
        "seven-of-1007": flag({"a": "A", "b": "B"}, "a", flagd_rollout(*splits["seven-of-1007"]),
                              salt=""),
        "control-treatment": flag({"control": "control", "treatment": "treatment"}, "control",
                                  flagd_rollout(*splits["control-treatment"], by="user.name")),
        "zero-weights": flag(dict(abcd, e="E"), "a", flagd_rollout(*splits["zero-weights"])),
        "extremes": flag({"a": "A", "b": "B"}, "a", flagd_rollout(*splits["extremes"]), salt=""),
        "max-weight": flag(abcd, "a", flagd_rollout(("a", 0), ("b", 2147483647), ("c", 0)),
                           salt="max"),
        "single": flag(abcd, "a", flagd_rollout(("c", 1))),
        "by-int": flag({"small": 1, "big": 2}, "small",
                       flagd_rollout(*splits["by-int"], by="account_id"), salt="acct-"),
        "unicode-salt": flag({"a": "A", "b": "B", "c": "C"}, "a",
                             flagd_rollout(*splits["unicode-salt"]), salt="sël-🚀"),
        # the same split, bucketed both ways: flagcore's reports a bucket, flagd's none
        "explicit-flagcore": bool_flag(fallthrough={"rollout": {
            "bucketing": "flagcore", "split": split_of([("on", 50), ("off", 50)])}},
            salt="both-ways"),
        "explicit-flagd": bool_flag(fallthrough=flagd_rollout(("on", 50), ("off", 50)),
                                    salt="both-ways"),
        # flagd rollouts in rules: an unusable `by` skips the rule
        "rule-flagd": flag(
            {"x": "x", "y": "y", "z": "z"}, "z", "z",
            rules=[
                rule([clause("plan", "eq", "pro")], flagd_rollout(("x", 1), ("y", 1), by="org_id"),
                     id="by-org"),
                rule([], flagd_rollout(("x", 3), ("y", 7)), id="by-key"),
            ]),
        # a flagd fallthrough behind a rule: an unusable `by` is TARGETING_KEY_MISSING
        "fallthrough-by-account": bool_flag(
            [rule([clause("country", "eq", "US")], var("on"), id="us")],
            fallthrough=flagd_rollout(("on", 1), ("off", 1), by="account_id"), salt="acct-"),
        # as `flagcore import flagd` writes them: off_variant null
        "flagd-killed": flag(ht, None, flagd_rollout(("heads", 1), ("tails", 1))),
        "flagd-disabled": {"variants": dict(ht), "enabled": False, "off_variant": None,
                           "rules": [], "fallthrough": flagd_rollout(("heads", 1), ("tails", 1))},

        # null serves
        "null-static": bool_flag(fallthrough=var(None)),
        "null-static-string": flag({"s": "text"}, "s", var(None)),
        "null-static-int": flag({"one": 1, "two": 2}, "one", var(None)),
        "null-static-json": flag({"cfg": {"mode": "fast"}}, "cfg", var(None)),
        "null-fallthrough-rules": bool_flag([rule([clause("country", "eq", "US")], var("on"),
                                                  id="us")], fallthrough=var(None)),
        "null-fallthrough-targets": bool_flag(fallthrough=var(None),
                                              targets=[{"variant": "on", "keys": ["bob"]}]),
        "null-rule": flag(
            {"on": "on", "off": "off"}, "off", "off",
            rules=[rule([clause("beta", "eq", True)], var(None), id="hold-back"),
                   rule([clause("country", "eq", "US")], var("on"), id="us")]),
        "null-rule-then-flagd": flag(
            {"x": "x", "y": "y"}, "x", var(None),
            rules=[rule([clause("beta", "eq", True)], var(None), id="hold-back"),
                   rule([], flagd_rollout(("x", 1), ("y", 1)), id="split")]),
        # off_variant null
        "off-null-disabled": {"variants": dict(BOOL), "enabled": False, "off_variant": None,
                              "targets": [{"variant": "on", "keys": ["bob"]}],
                              "rules": [], "fallthrough": var("on")},
        "off-null-disabled-int": {"variants": {"low": 1, "high": 100}, "enabled": False,
                                  "off_variant": None, "rules": [], "fallthrough": var("high")},
        "off-null-killed": flag(dict(BOOL), None, "on"),
        "off-null-enabled": flag(dict(BOOL), None, "on"),
        "gate": bool_flag([rule([clause("country", "in", "DE", "FR")], var("on"), id="eu")]),
        "needs-gate": flag(dict(BOOL), None, "on",
                           prerequisites=[{"flag": "gate", "variant": "on"}]),
        "needs-gate-chain": flag({"v1": "v1", "v2": "v2"}, None, "v2",
                                 prerequisites=[{"flag": "needs-gate", "variant": "on"}]),
        "needs-null-serving": bool_flag(fallthrough="on",
                                        prerequisites=[{"flag": "null-static", "variant": "on"}]),
        "needs-null-serving-off-null": flag(dict(BOOL), None, "on",
                                            prerequisites=[{"flag": "null-static",
                                                            "variant": "off"}]),
        "needs-disabled-off": bool_flag(fallthrough="on",
                                        prerequisites=[{"flag": "off-null-disabled",
                                                        "variant": "off"}]),
        "needs-killed-on": bool_flag(fallthrough="on",
                                     prerequisites=[{"flag": "off-null-killed", "variant": "on"}]),
        "needs-flagd": flag({"yes": "yes", "no": "no"}, None, "yes",
                            prerequisites=[{"flag": "fractional-flag-shorthand",
                                            "variant": "heads"}]),
    }
    snapshot = {"version": 5, "segments": {}, "flags": flags}
    kills = ["off-null-killed", "flagd-killed"]
    cases = []
    add = cases.append
    S = "string"

    # flagd's published answers (independent of the reference)
    add(case("shorthand-jon", "fractional-flag-shorthand", ctx("jon@company.com"), "SPLIT heads",
             S, "fallback"))
    add(case("shorthand-jane", "fractional-flag-shorthand", ctx("jane@company.com"),
             "SPLIT tails", S, "fallback"))
    for name, want in [("jack", "hearts"), ("queen", "spades"), ("ten", "clubs"),
                       ("nine", "diamonds"), ("3", "clubs")]:
        add(case(f"fractional-{name}", "fractional-flag", ctx("u", **{"user.name": name}),
                 f"SPLIT {want}", S, "fallback"))
    # an integer is hashed as its decimal string: 3 as "3"
    add(case("fractional-int-3", "fractional-flag", ctx("u", **{"user.name": 3}), "SPLIT clubs",
             S, "fallback"))
    for name, want in [("seven", "hearts"), ("eight", "diamonds"), ("nine", "clubs"),
                       ("two", "spades")]:
        add(case(f"shared-seed-a-{name}", "shared-seed-a", ctx("u", **{"user.name": name}),
                 f"SPLIT {want}", S, "fallback"))
        add(case(f"shared-seed-b-{name}", "shared-seed-b", ctx("u", **{"user.name": name}),
                 f"SPLIT {want}", S, "fallback"))
    for k, h in MURMUR_EDGE_KEYS.items():
        add(case(f"hash-edge-{k}", "hash-edge", ctx(k),
                 "SPLIT " + ("lower" if h < 2**31 else "upper"), S, "fallback"))
    # the targeting key is the `by`, not an attribute named key; "" is a key
    add(case("shorthand-no-key", "fractional-flag-shorthand", ctx(None), "ERROR TARGETING_KEY_MISSING",
             S, "fallback"))
    add(case("shorthand-attribute-key-ignored", "fractional-flag-shorthand",
             ctx(None, key="jon@company.com"), "ERROR TARGETING_KEY_MISSING", S, "fallback"))
    add(case("shorthand-empty-key", "fractional-flag-shorthand", ctx(""), "SPLIT", S, "fallback"))
    add(case("hash-edge-empty-key", "hash-edge", ctx(""), "SPLIT lower", S, "?"))  # hash("") = 0
    for k in ("a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg"):  # every tail length
        add(case(f"hash-edge-{k}", "hash-edge", ctx(k), "SPLIT", S, "?"))
    for k in SPREAD_KEYS:
        add(case(f"shorthand-spread-{k}", "fractional-flag-shorthand", ctx(k), "SPLIT", S, "?"))
    # the `by` attribute absent or unusable: the fallthrough fails
    for suffix, attrs in [("absent", {}), ("float", {"user.name": 3.0}),
                          ("bool", {"user.name": True}), ("other-name", {"user": "jack"})]:
        add(case(f"fractional-by-{suffix}", "fractional-flag", ctx("jack", **attrs),
                 "ERROR TARGETING_KEY_MISSING", S, "fallback"))

    # both sides of every boundary, for uneven totals and zero weights
    for name, by in [("one-third", None), ("per-mille", None), ("seven-of-1007", None),
                     ("control-treatment", "user.name"), ("zero-weights", None),
                     ("unicode-salt", None)]:
        salt = flags[name].get("salt", name)
        type_, default = ("bool", True) if name == "per-mille" else (S, "?")
        picked = flagd_boundary_keys(salt, splits[name], USERS)
        picked += [p for p in flagd_keys_per_variant(salt, splits[name], USERS, 3)
                   if p not in picked]
        for k, want in picked:
            c = ctx(k) if by is None else ctx("u", **{by: k})
            add(case(f"{name}-{k}", name, c, f"SPLIT {want}", type_, default))
        for k in SPREAD_KEYS[:10]:
            c = ctx(k) if by is None else ctx("u", **{by: k})
            if not any(x["name"] == f"{name}-{k}" for x in cases):
                add(case(f"{name}-{k}", name, c, "SPLIT", type_, default))
    for k, h in MURMUR_EDGE_KEYS.items():
        add(case(f"extremes-{k}", "extremes", ctx(k), "SPLIT " + ("a" if h <= 2 else "b"), S, "?"))
        add(case(f"max-weight-{k}", "max-weight", ctx(k), "SPLIT b", S, "?"))
        add(case(f"single-{k}", "single", ctx(k), "SPLIT c", S, "?"))
    add(case("single-empty-key", "single", ctx(""), "SPLIT c", S, "?"))
    # integer bucketing attributes: the decimal string, also negative and beyond 2^53
    ints = list(range(0, 3000))
    for k, want in flagd_boundary_keys("acct-", splits["by-int"], ints):
        add(case(f"by-int-{k}", "by-int", ctx("u", account_id=k), f"SPLIT {want}", "int", -1))
    for k in (-42, 9007199254740993, -9223372036854775808, 9223372036854775807):
        add(case(f"by-int-{k}", "by-int", ctx("u", account_id=k), "SPLIT", "int", -1))
        add(case(f"by-int-string-{k}", "by-int", ctx("u", account_id=str(k)), "SPLIT", "int", -1))
    add(case("by-int-float-getter", "by-int", ctx("u", account_id=7), "SPLIT", "float", -1.5))
    add(case("by-int-float-attribute", "by-int", ctx("u", account_id=7.0),
             "ERROR TARGETING_KEY_MISSING", "int", -1))
    # one split, two bucketings
    for k in SPREAD_KEYS[:8]:
        add(case(f"explicit-flagcore-{k}", "explicit-flagcore", ctx(k), "SPLIT"))
        add(case(f"explicit-flagd-{k}", "explicit-flagd", ctx(k), "SPLIT"))
    # rules
    R = "rule-flagd"
    for i, org in enumerate(["org-1", "org-2", "org-3", "org-4", 31337, -7]):
        add(case(f"rule-by-org-{org}", R, ctx("user-1", plan="pro", org_id=org), "SPLIT", S, "?"))
    for k, want in flagd_boundary_keys(R, [("x", 3), ("y", 7)], USERS):
        add(case(f"rule-by-key-{k}", R, ctx(k, plan="free"), f"SPLIT {want}", S, "?"))
    add(case("rule-org-absent-next-rule", R, ctx("user-1", plan="pro"), "SPLIT", S, "?"))
    add(case("rule-org-float-next-rule", R, ctx("user-1", plan="pro", org_id=1.0), "SPLIT", S, "?"))
    add(case("rule-org-bool-next-rule", R, ctx("user-1", plan="pro", org_id=False), "SPLIT", S, "?"))
    add(case("rule-no-key-no-org-fallthrough", R, ctx(None, plan="pro"), "DEFAULT z", S, "?"))
    add(case("rule-no-key-org", R, ctx(None, plan="pro", org_id="org-1"), "SPLIT", S, "?"))
    F = "fallthrough-by-account"
    for acct in ("a-1", "a-2", "a-3", "a-4", 1, 2):
        add(case(f"fallthrough-by-account-{acct}", F, ctx("k", account_id=acct), "SPLIT"))
    add(case("fallthrough-by-account-rule-first", F, ctx("k", country="US"), "TARGETING_MATCH on"))
    add(case("fallthrough-by-account-absent", F, ctx("k", country="CA"),
             "ERROR TARGETING_KEY_MISSING", "bool", True))
    add(case("fallthrough-by-account-float", F, ctx("k", account_id=1.5),
             "ERROR TARGETING_KEY_MISSING"))
    add(case("fallthrough-by-account-key-not-used", F, ctx("a-1"), "ERROR TARGETING_KEY_MISSING"))
    # imported-flagd shape: null off_variant, killed or disabled
    add(case("flagd-killed", "flagd-killed", ctx("jon@company.com"), "DISABLED null", S, "dflt"))
    add(case("flagd-killed-no-key", "flagd-killed", ctx(None), "DISABLED null", S, "dflt"))
    add(case("flagd-killed-wrong-type", "flagd-killed", ctx("u"), "ERROR TYPE_MISMATCH", "bool"))
    add(case("flagd-disabled", "flagd-disabled", ctx("jon@company.com"), "DISABLED null", S, "d"))

    # null serves: the caller's default, reason DEFAULT, no error
    DN = "DEFAULT null"
    add(case("null-static-default-false", "null-static", ctx("u"), DN, "bool", False))
    add(case("null-static-default-true", "null-static", ctx("u"), DN, "bool", True))
    add(case("null-static-no-key", "null-static", ctx(None), DN, "bool", True))
    add(case("null-static-wrong-type", "null-static", ctx("u"), "ERROR TYPE_MISMATCH", S, "x"))
    add(case("null-static-string", "null-static-string", ctx("u"), DN, S, "caller's"))
    add(case("null-static-int", "null-static-int", ctx("u"), DN, "int", -9))
    add(case("null-static-int-float-getter", "null-static-int", ctx("u"), DN, "float", 2.5))
    add(case("null-static-json", "null-static-json", ctx("u"), DN, "json", {"mode": "caller"}))
    add(case("null-static-json-array-default", "null-static-json", ctx("u"), DN, "json", [1, "a"]))
    add(case("null-fallthrough-rule-matches", "null-fallthrough-rules", ctx("u", country="US"),
             "TARGETING_MATCH on"))
    add(case("null-fallthrough-after-rules", "null-fallthrough-rules", ctx("u", country="CA"), DN,
             "bool", True))
    add(case("null-fallthrough-target", "null-fallthrough-targets", ctx("bob"),
             "TARGETING_MATCH on"))
    add(case("null-fallthrough-after-targets", "null-fallthrough-targets", ctx("carol"), DN,
             "bool", True))
    add(case("null-rule-decides", "null-rule", ctx("u", beta=True, country="US"), DN, S, "mine"))
    add(case("null-rule-second-rule", "null-rule", ctx("u", beta=False, country="US"),
             "TARGETING_MATCH on", S, "mine"))
    add(case("null-rule-fallthrough", "null-rule", ctx("u", country="CA"), "DEFAULT off", S, "mine"))
    add(case("null-rule-then-flagd-held-back", "null-rule-then-flagd", ctx("user-1", beta=True),
             DN, S, "mine"))
    for k in SPREAD_KEYS[:6]:
        add(case(f"null-rule-then-flagd-{k}", "null-rule-then-flagd", ctx(k), "SPLIT", S, "mine"))
    add(case("null-rule-then-flagd-no-key", "null-rule-then-flagd", ctx(None), DN, S, "mine"))
    # off_variant null
    add(case("off-null-disabled", "off-null-disabled", ctx("u"), "DISABLED null", "bool", True))
    add(case("off-null-disabled-beats-target", "off-null-disabled", ctx("bob"), "DISABLED null",
             "bool", False))
    add(case("off-null-disabled-wrong-type", "off-null-disabled", ctx("u"), "ERROR TYPE_MISMATCH",
             S, "x"))
    add(case("off-null-disabled-int", "off-null-disabled-int", ctx("u"), "DISABLED null", "int", 7))
    add(case("off-null-disabled-int-float-getter", "off-null-disabled-int", ctx("u"),
             "DISABLED null", "float", 0.5))
    add(case("off-null-killed", "off-null-killed", ctx("u"), "DISABLED null", "bool", True))
    add(case("off-null-killed-false-default", "off-null-killed", ctx(None), "DISABLED null"))
    add(case("off-null-enabled", "off-null-enabled", ctx("u"), "STATIC on"))
    add(case("needs-gate-passes", "needs-gate", ctx("u", country="DE"), "STATIC on"))
    add(case("needs-gate-fails", "needs-gate", ctx("u", country="US"), "PREREQUISITE_FAILED null",
             "bool", True))
    add(case("needs-gate-fails-false-default", "needs-gate", ctx("u"), "PREREQUISITE_FAILED null"))
    add(case("needs-gate-chain-passes", "needs-gate-chain", ctx("u", country="FR"), "STATIC v2",
             S, "?"))
    add(case("needs-gate-chain-fails", "needs-gate-chain", ctx("u", country="US"),
             "PREREQUISITE_FAILED null", S, "?"))
    add(case("needs-null-serving", "needs-null-serving", ctx("u"), "PREREQUISITE_FAILED off",
             "bool", True))
    add(case("needs-null-serving-off-null", "needs-null-serving-off-null", ctx("u"),
             "PREREQUISITE_FAILED null", "bool", True))
    add(case("needs-disabled-off", "needs-disabled-off", ctx("u"), "PREREQUISITE_FAILED off",
             "bool", True))
    add(case("needs-killed-on", "needs-killed-on", ctx("u"), "PREREQUISITE_FAILED off",
             "bool", True))
    add(case("needs-flagd-passes", "needs-flagd", ctx("jon@company.com"), "STATIC yes", S, "?"))
    add(case("needs-flagd-fails", "needs-flagd", ctx("jane@company.com"), "PREREQUISITE_FAILED null",
             S, "?"))
    add(case("needs-flagd-error-fails", "needs-flagd", ctx(None), "PREREQUISITE_FAILED null", S, "?"))
    return {
        "name": "flagd_bucketing",
        "description": "flagd bucketing (§2.4.2: MurmurHash3 of salt + `by`, point = hash × "
                       "total >> 32, no bucket in the details) in rules and fallthroughs, with "
                       "flagd's published answers, default/explicit/empty/unicode salts, "
                       "integer `by` values, zero weights, uneven and extreme totals and keys on "
                       "both sides of each boundary; null serves (§2.4) in rules and "
                       "fallthroughs, and `off_variant: null` for disabled and killed flags and "
                       "failing prerequisites (the caller's default, reason DEFAULT, DISABLED "
                       "or PREREQUISITE_FAILED, no error).",
        "snapshot": snapshot,
        "kills": kills,
        "cases": cases,
    }


FILES = [operators, segments, rollouts, schedules, prerequisites, types_reasons, not_ready,
         flagd_bucketing]

# --------------------------------------------------------------------------------------
# building and writing
# --------------------------------------------------------------------------------------


def check_want(file_name, c, expected):
    want = c["want"]
    if want is None:
        return
    parts = want.split()
    reason = parts[0]
    problem = None
    if expected["reason"] != reason:
        problem = f"reason {expected['reason']}"
    elif len(parts) > 1:
        got = expected["error_code"] if reason == "ERROR" else expected["variant"]
        if got != (None if parts[1] == "null" else parts[1]):
            problem = f"got {got}"
    if problem:
        raise SystemExit(f"{file_name}: case {c['name']}: wanted {want}, reference says "
                         f"{problem}: {expected}")


def build(spec):
    snapshot = spec["snapshot"]
    snap = None
    if snapshot is not None:
        # evaluate what the file will hold: the JSON text, read back
        snap = reference.load(json.dumps(snapshot, ensure_ascii=False))
    names = set()
    cases = []
    for c in spec["cases"]:
        if c["name"] in names:
            raise SystemExit(f"{spec['name']}: duplicate case name {c['name']}")
        names.add(c["name"])
        expected = reference.evaluate(snap, spec["kills"], c["flag"], c["type"], c["default"],
                                      c["context"])
        check_want(spec["name"], c, expected)
        out = {k: c[k] for k in ("name", "flag", "type", "default", "context")}
        out["expected"] = expected
        cases.append(out)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": spec["name"],
        "description": spec["description"],
        "snapshot": snapshot,
        "kills": spec["kills"],
        "cases": cases,
    }


def render(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv[1:]
    unknown = [a for a in argv[1:] if a != "--check"]
    if unknown:
        print(f"usage: {argv[0]} [--check]", file=sys.stderr)
        return 2
    check_murmur()
    stale = []
    total = 0
    for make in FILES:
        doc = build(make())
        path = os.path.join(HERE, doc["name"] + ".json")
        text = render(doc)
        total += len(doc["cases"])
        if check:
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != text:
                stale.append(path)
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            print(f"{os.path.relpath(path)}: {len(doc['cases'])} cases")
    if check:
        if stale:
            for p in stale:
                print(f"out of date: {os.path.relpath(p)} (run python3 tests/vectors/generate.py)",
                      file=sys.stderr)
            return 1
        print(f"vectors up to date ({total} cases)")
        return 0
    print(f"total: {total} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
