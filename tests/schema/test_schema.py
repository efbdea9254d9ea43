"""The JSON Schema for snapshots (schema/snapshot.schema.json, docs/format.md §2).

Checks that the schema is itself valid, that the shipped example and every test vector's
snapshot pass it, and that malformed documents fail it. The schema checks shape and types
only; what it cannot express (variant names that exist, weights summing to 100, cycles,
duplicate keys, ...) is the loader's job, tested with the engine.

Run: python -m pytest tests/schema
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schema" / "snapshot.schema.json"
EXAMPLE_PATH = ROOT / "examples" / "snapshot.json"
VECTORS_DIR = ROOT / "tests" / "vectors"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def error_messages(validator, doc):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def assert_valid(validator, doc):
    errors = error_messages(validator, doc)
    assert not errors, "\n".join(errors)


# --------------------------------------------------------------------------------------
# The schema and the documents we ship
# --------------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_example_snapshot_validates(validator):
    assert_valid(validator, json.loads(EXAMPLE_PATH.read_text(encoding="utf-8")))


def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        assert k not in obj, f"duplicate object key {k!r}"
        obj[k] = v
    return obj


def test_example_snapshot_passes_checks_the_schema_cannot_express():
    """Duplicate keys, variant and segment references, weights: docs/format.md §2 rules that a JSON
    Schema cannot state, checked here so the example stays loadable."""
    doc = json.loads(
        EXAMPLE_PATH.read_text(encoding="utf-8"),
        parse_float=Decimal,
        object_pairs_hook=_no_duplicate_keys,
    )
    segments = doc.get("segments", {})
    flags = doc["flags"]

    def check_conditions(conds, where):
        for c in conds:
            name = c.get("in_segment", c.get("not_in_segment"))
            if name is not None:
                assert name in segments, f"{where}: undefined segment {name!r}"
            if "in_bucket" in c:
                b = c["in_bucket"]
                assert 0 <= b["from"] <= b["to"] <= 100, where
                for bound in (b["from"], b["to"]):
                    assert Decimal(bound) == Decimal(bound).quantize(Decimal("0.001")), where

    for name, seg in segments.items():
        for i, rule in enumerate(seg.get("rules", [])):
            check_conditions(rule["conditions"], f"segments.{name}.rules[{i}]")

    for name, flag in flags.items():
        where = f"flags.{name}"
        variants = flag["variants"]
        kinds = {type(v) if not isinstance(v, (dict, list)) else "json" for v in variants.values()}
        kinds = {Decimal if k is int else k for k in kinds}  # ints and floats: one number type
        assert len(kinds) == 1, f"{where}: mixed variant types"
        assert flag["off_variant"] in variants, where
        seen = set()
        for t in flag.get("targets", []):
            assert t["variant"] in variants, where
            assert not seen & set(t["keys"]), f"{where}: duplicate target key"
            seen |= set(t["keys"])
        for p in flag.get("prerequisites", []):
            assert p["flag"] in flags, where
            assert p["variant"] in flags[p["flag"]]["variants"], where
        serves = [(f"{where}.fallthrough", flag["fallthrough"])]
        for i, rule in enumerate(flag["rules"]):
            check_conditions(rule["conditions"], f"{where}.rules[{i}]")
            serves.append((f"{where}.rules[{i}].serve", rule["serve"]))
        for w, serve in serves:
            if "variant" in serve:
                assert serve["variant"] in variants, w
                continue
            split = serve["rollout"]["split"]
            for item in split:
                assert item["variant"] in variants, w
                weight = Decimal(item["weight"])
                assert weight == weight.quantize(Decimal("0.001")), f"{w}: more than 3 decimals"
            assert sum(Decimal(item["weight"]) for item in split) == 100, f"{w}: weights"


def _vector_snapshots():
    """(id, snapshot) for every test vector file present now; the folder may be empty."""
    out = []
    for path in sorted(VECTORS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data if isinstance(data, list) else [data]
        for i, entry in enumerate(entries):
            snapshot = entry.get("snapshot") if isinstance(entry, dict) else None
            if snapshot is None:
                continue  # "no snapshot loaded" vectors
            if isinstance(snapshot, str):  # a snapshot kept as raw text
                snapshot = json.loads(snapshot)
            suffix = f"[{i}]" if isinstance(data, list) else ""
            out.append(pytest.param(snapshot, id=f"{path.name}{suffix}"))
    return out


@pytest.mark.parametrize("snapshot", _vector_snapshots())
def test_vector_snapshot_validates(validator, snapshot):
    assert_valid(validator, snapshot)


# --------------------------------------------------------------------------------------
# Edge cases the schema must accept
# --------------------------------------------------------------------------------------


def base():
    """A small valid snapshot that every case below starts from."""
    return {
        "version": 3,
        "segments": {
            "internal": {
                "include": ["alice"],
                "exclude": ["mallory"],
                "rules": [
                    {"conditions": [{"attribute": "email", "op": "ends_with", "values": ["@corp.example"]}]}
                ],
            },
            "sample": {
                "rules": [
                    {
                        "conditions": [
                            {"in_bucket": {"salt": "sample", "by": "account_id", "from": 0, "to": 10}}
                        ]
                    }
                ]
            },
        },
        "flags": {
            "f": {
                "variants": {"on": True, "off": False},
                "enabled": True,
                "off_variant": "off",
                "targets": [{"variant": "on", "keys": ["bob"]}],
                "rules": [
                    {
                        "id": "r0",
                        "conditions": [{"in_segment": "internal"}],
                        "serve": {"variant": "on"},
                    },
                    {
                        "conditions": [{"attribute": "country", "op": "in", "values": ["DE", "FR"]}],
                        "serve": {
                            "rollout": {
                                "by": "account_id",
                                "split": [{"variant": "on", "weight": 5}, {"variant": "off", "weight": 95}],
                            }
                        },
                    },
                ],
                "fallthrough": {"variant": "off"},
            }
        },
    }


def flag(doc):
    return doc["flags"]["f"]


def rule(doc, i=0):
    return flag(doc)["rules"][i]


def set_condition(doc, condition):
    rule(doc)["conditions"] = [condition]


def test_base_document_is_valid(validator):
    assert_valid(validator, base())


def _from_base(mutate):
    """A builder of a fresh copy of base() changed by `mutate`."""

    def build():
        doc = base()
        mutate(doc)
        return doc

    return build


VALID = {
    "no segments": _from_base(lambda d: d.pop("segments")),
    "version zero": _from_base(lambda d: d.update(version=0)),
    "no flags at all": _from_base(lambda d: d.update(flags={})),
    "empty rules and no targets": _from_base(lambda d: (flag(d).update(rules=[]), flag(d).pop("targets"))),
    "rule without conditions": _from_base(lambda d: rule(d).update(conditions=[])),
    "exists without values": _from_base(lambda d: set_condition(d, {"attribute": "plan", "op": "exists"})),
    "rollout without by": _from_base(lambda d: rule(d, 1)["serve"]["rollout"].pop("by")),
    "fallthrough rollout with zero weight and decimals": _from_base(
        lambda d: flag(d).update(
            fallthrough={
                "rollout": {
                    "split": [
                        {"variant": "on", "weight": 33.333},
                        {"variant": "off", "weight": 66.667},
                        {"variant": "on", "weight": 0},
                    ]
                }
            }
        )
    ),
    "in_bucket without by, whole range": _from_base(
        lambda d: set_condition(d, {"in_bucket": {"salt": "s", "from": 0, "to": 100}})
    ),
    "string flag": _from_base(lambda d: flag(d).update(variants={"on": "a", "off": "b"})),
    "integer flag": _from_base(lambda d: flag(d).update(variants={"on": 1, "off": 2})),
    "number flag mixing integers and floats": _from_base(lambda d: flag(d).update(variants={"on": 1, "off": 0.5})),
    "JSON flag mixing objects and arrays": _from_base(lambda d: flag(d).update(variants={"on": {"a": [1]}, "off": []})),
    "description, salt and metadata": _from_base(
        lambda d: flag(d).update(
            description="d", salt="s", metadata={"owner": "team", "ticket": 12, "temporary": True}
        )
    ),
    "prerequisite": _from_base(lambda d: flag(d).update(prerequisites=[{"flag": "g", "variant": "on"}])),
    "segment and segment rule descriptions": _from_base(
        lambda d: (
            d["segments"]["internal"].update(description="staff"),
            d["segments"]["internal"]["rules"][0].update(description="corp mail"),
        )
    ),
    "empty segment": _from_base(lambda d: d["segments"].update(empty={})),
    "semver with prerelease and build": _from_base(
        lambda d: set_condition(
            d, {"attribute": "v", "op": "semver_lt", "values": ["1.0.0-alpha.1+build.5", "10.20.30"]}
        )
    ),
    "timestamps: RFC 3339 forms and Unix ms": _from_base(
        lambda d: set_condition(
            d,
            {
                "attribute": "t",
                "op": "before",
                "values": ["2025-01-02T03:04:05Z", "2025-01-02t03:04:05.123456789+05:30", "2025-01-02T03:04:05z", 1735787045000],
            },
        )
    ),
    "eq with string, number and boolean values": _from_base(
        lambda d: set_condition(d, {"attribute": "a", "op": "eq", "values": ["x", 1, 2.5, False]})
    ),
    "numeric comparison": _from_base(lambda d: set_condition(d, {"attribute": "a", "op": "gte", "values": [1, 2.5]})),
    "scheduled rollout": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"].update(schedule=[
            {"at": "2026-12-02T06:00:00Z", "split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]},
            {"at": "2026-12-03t06:00:00.5+01:00", "split": [{"variant": "on", "weight": 100}]},
        ])
    ),
    "guardrails of each kind": _from_base(
        lambda d: flag(d).update(guardrails=[
            {"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01},
            {"id": "budget", "watch": ["on"], "max_error_rate": 0.05, "description": "5% at most"},
            {"id": "p99", "watch": ["on"], "latency_percentile": 99.9, "max_latency_ms": 250},
        ])
    ),
    "exposures tracked": _from_base(lambda d: flag(d).update(exposures=True)),
    "empty schedule": _from_base(lambda d: rule(d, 1)["serve"]["rollout"].update(schedule=[])),
    "regex with inline flags": _from_base(
        lambda d: set_condition(d, {"attribute": "ua", "op": "matches", "values": ["(?i)iphone|android"]})
    ),
}


@pytest.mark.parametrize("build", list(VALID.values()), ids=list(VALID))
def test_schema_accepts(validator, build):
    assert_valid(validator, build())


# --------------------------------------------------------------------------------------
# Malformed documents the schema must reject
# --------------------------------------------------------------------------------------


def _set_weight(value):
    return lambda d: rule(d, 1)["serve"]["rollout"]["split"][0].update(weight=value)


def _set_clause(**fields):
    clause = {"attribute": "a", "op": "eq", "values": ["x"]}
    clause.update(fields)
    clause = {k: v for k, v in clause.items() if v is not None}
    return lambda d: set_condition(d, clause)


MALFORMED = {
    # unknown fields, at every level
    "unknown field at top": _from_base(lambda d: d.update(owner="me")),
    "$schema at top (unknown to the loader)": _from_base(lambda d: d.update({"$schema": "x"})),
    "unknown field in flag": _from_base(lambda d: flag(d).update(kill=True)),
    "unknown field in rule": _from_base(lambda d: rule(d).update(priority=1)),
    "unknown field in clause": _from_base(_set_clause(negate=True)),
    "unknown field in segment condition": _from_base(lambda d: set_condition(d, {"in_segment": "internal", "x": 1})),
    "unknown field in in_bucket": _from_base(
        lambda d: set_condition(d, {"in_bucket": {"salt": "s", "from": 0, "to": 1, "seed": 2}})
    ),
    "unknown field in segment": _from_base(lambda d: d["segments"]["internal"].update(owner="x")),
    "unknown field in segment rule": _from_base(lambda d: d["segments"]["internal"]["rules"][0].update(id="r")),
    "unknown field in rollout": _from_base(lambda d: rule(d, 1)["serve"]["rollout"].update(seed=1)),
    "unknown field in split entry": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"]["split"][0].update(label="x")
    ),
    "unknown field in target": _from_base(lambda d: flag(d)["targets"][0].update(note="x")),
    "unknown field in prerequisite": _from_base(
        lambda d: flag(d).update(prerequisites=[{"flag": "g", "variant": "on", "required": True}])
    ),
    # missing required fields
    "missing version": _from_base(lambda d: d.pop("version")),
    "missing flags": _from_base(lambda d: d.pop("flags")),
    "missing off_variant": _from_base(lambda d: flag(d).pop("off_variant")),
    "missing enabled": _from_base(lambda d: flag(d).pop("enabled")),
    "missing variants": _from_base(lambda d: flag(d).pop("variants")),
    "missing fallthrough": _from_base(lambda d: flag(d).pop("fallthrough")),
    "rule missing serve": _from_base(lambda d: rule(d).pop("serve")),
    "rule missing conditions": _from_base(lambda d: rule(d).pop("conditions")),
    "segment rule missing conditions": _from_base(lambda d: d["segments"]["internal"]["rules"][0].pop("conditions")),
    "prerequisite missing variant": _from_base(lambda d: flag(d).update(prerequisites=[{"flag": "g"}])),
    "target missing keys": _from_base(lambda d: flag(d)["targets"][0].pop("keys")),
    "split entry missing weight": _from_base(lambda d: rule(d, 1)["serve"]["rollout"]["split"][0].pop("weight")),
    "rollout missing split": _from_base(lambda d: rule(d, 1)["serve"]["rollout"].pop("split")),
    "in_bucket missing salt": _from_base(lambda d: set_condition(d, {"in_bucket": {"from": 0, "to": 10}})),
    "in_bucket missing to": _from_base(lambda d: set_condition(d, {"in_bucket": {"salt": "s", "from": 0}})),
    # wrong types and ranges
    "version negative": _from_base(lambda d: d.update(version=-1)),
    "version fractional": _from_base(lambda d: d.update(version=1.5)),
    "version as string": _from_base(lambda d: d.update(version="42")),
    "flags as a list": _from_base(lambda d: d.update(flags=[])),
    "enabled as string": _from_base(lambda d: flag(d).update(enabled="true")),
    "off_variant as number": _from_base(lambda d: flag(d).update(off_variant=0)),
    "salt as number": _from_base(lambda d: flag(d).update(salt=7)),
    "metadata with an object value": _from_base(lambda d: flag(d).update(metadata={"owner": {"team": "x"}})),
    "metadata with a null value": _from_base(lambda d: flag(d).update(metadata={"owner": None})),
    "weight as string": _from_base(_set_weight("5")),
    "weight over 100": _from_base(_set_weight(100.5)),
    "weight negative": _from_base(_set_weight(-5)),
    "empty split": _from_base(lambda d: rule(d, 1)["serve"]["rollout"].update(split=[])),
    "in_bucket to over 100": _from_base(lambda d: set_condition(d, {"in_bucket": {"salt": "s", "from": 0, "to": 101}})),
    "in_bucket from negative": _from_base(lambda d: set_condition(d, {"in_bucket": {"salt": "s", "from": -1, "to": 1}})),
    "target keys not strings": _from_base(lambda d: flag(d)["targets"][0].update(keys=[1])),
    "target key twice in one target": _from_base(lambda d: flag(d)["targets"][0].update(keys=["bob", "bob"])),
    "segment include not a list": _from_base(lambda d: d["segments"]["internal"].update(include="alice")),
    # variants
    "empty variants": _from_base(lambda d: flag(d).update(variants={})),
    "mixed boolean and string variants": _from_base(lambda d: flag(d).update(variants={"on": True, "off": "no"})),
    "mixed number and object variants": _from_base(lambda d: flag(d).update(variants={"on": 1, "off": {}})),
    "null variant value": _from_base(lambda d: flag(d).update(variants={"on": None, "off": None})),
    "variants as a list": _from_base(lambda d: flag(d).update(variants=[True, False])),
    # serve
    "serve with both variant and rollout": _from_base(
        lambda d: rule(d).update(serve={"variant": "on", "rollout": {"split": [{"variant": "on", "weight": 100}]}})
    ),
    "serve empty": _from_base(lambda d: rule(d).update(serve={})),
    "serve as bare variant name": _from_base(lambda d: flag(d).update(fallthrough="off")),
    # conditions and clauses
    "bad op": _from_base(_set_clause(op="equals")),
    "op in upper case": _from_base(_set_clause(op="EQ")),
    "exists with values": _from_base(_set_clause(op="exists", values=["x"])),
    "clause without values": _from_base(lambda d: set_condition(d, {"attribute": "a", "op": "eq"})),
    "clause without attribute": _from_base(lambda d: set_condition(d, {"op": "eq", "values": ["x"]})),
    "clause without op": _from_base(lambda d: set_condition(d, {"attribute": "a", "values": ["x"]})),
    "values not a list": _from_base(_set_clause(values="x")),
    "null in values": _from_base(_set_clause(values=[None])),
    "object in values": _from_base(_set_clause(values=[{"x": 1}])),
    "starts_with with a number": _from_base(_set_clause(op="starts_with", values=[1])),
    "matches with a boolean": _from_base(_set_clause(op="matches", values=[True])),
    "lt with a string": _from_base(_set_clause(op="lt", values=["10"])),
    "semver_gte with a v prefix": _from_base(_set_clause(op="semver_gte", values=["v2.4.0"])),
    "semver_eq with a partial version": _from_base(_set_clause(op="semver_eq", values=["2.4"])),
    "semver_lt with a leading zero": _from_base(_set_clause(op="semver_lt", values=["2.04.0"])),
    "before with a date only": _from_base(_set_clause(op="before", values=["2025-11-28"])),
    "after without a time zone": _from_base(_set_clause(op="after", values=["2025-11-28T00:00:00"])),
    "after with a boolean": _from_base(_set_clause(op="after", values=[True])),
    "condition mixing in_segment and a clause": _from_base(
        lambda d: set_condition(d, {"in_segment": "internal", "attribute": "a", "op": "exists"})
    ),
    "schedule step without a time zone": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"].update(
            schedule=[{"at": "2026-12-02T06:00:00", "split": [{"variant": "on", "weight": 100}]}])
    ),
    "schedule step as Unix milliseconds": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"].update(
            schedule=[{"at": 1764655200000, "split": [{"variant": "on", "weight": 100}]}])
    ),
    "schedule step without a split": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"].update(schedule=[{"at": "2026-12-02T06:00:00Z"}])
    ),
    "schedule step with an unknown field": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"].update(
            schedule=[{"at": "2026-12-02T06:00:00Z", "split": [{"variant": "on", "weight": 100}], "note": "x"}])
    ),
    "schedule not a list": _from_base(
        lambda d: rule(d, 1)["serve"]["rollout"].update(
            schedule={"at": "2026-12-02T06:00:00Z", "split": [{"variant": "on", "weight": 100}]})
    ),
    "exposures not a boolean": _from_base(lambda d: flag(d).update(exposures="yes")),
    "guardrail without a bound": _from_base(lambda d: flag(d).update(guardrails=[{"id": "g", "watch": ["on"]}])),
    "guardrail with two bounds": _from_base(
        lambda d: flag(d).update(guardrails=[
            {"id": "g", "watch": ["on"], "max_error_rate": 0.1, "baseline": "off", "max_increase": 0.01}])
    ),
    "guardrail baseline without max_increase": _from_base(
        lambda d: flag(d).update(guardrails=[{"id": "g", "watch": ["on"], "baseline": "off"}])
    ),
    "guardrail watching nothing": _from_base(
        lambda d: flag(d).update(guardrails=[{"id": "g", "watch": [], "max_error_rate": 0.1}])
    ),
    "guardrail rate of 1": _from_base(
        lambda d: flag(d).update(guardrails=[{"id": "g", "watch": ["on"], "max_error_rate": 1}])
    ),
    "guardrail with an unknown field": _from_base(
        lambda d: flag(d).update(guardrails=[{"id": "g", "watch": ["on"], "max_error_rate": 0.1, "owner": "x"}])
    ),
    "in_segment not a string": _from_base(lambda d: set_condition(d, {"in_segment": ["internal"]})),
    "empty condition": _from_base(lambda d: set_condition(d, {})),
    "conditions not a list": _from_base(lambda d: rule(d).update(conditions={"in_segment": "internal"})),
}


def test_at_least_fifteen_malformed_documents():
    assert len(MALFORMED) >= 15


@pytest.mark.parametrize("build", list(MALFORMED.values()), ids=list(MALFORMED))
def test_schema_rejects(validator, build):
    doc = build()
    assert error_messages(validator, doc), "the schema accepted a malformed document"
