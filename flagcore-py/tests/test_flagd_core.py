"""flagcore against flagd's own Python evaluator (``openfeature-flagd-core`` 2.x) on the
same flagd documents and contexts: its CBOR-keyed ``fractional`` (flagd's "v3" bucketing,
which flagcore serves after ``set_flagd_fractional("v3")``) on many keys of every type,
and the JsonLogic and custom operations where the two evaluators follow the same rules.

The expected answers are flagd-core's, an implementation independent of flagcore's.
"""

import json
import random

import pytest

import flagcore

flagd_core = pytest.importorskip("openfeature.contrib.tools.flagd.core.flagd_core")
from openfeature.evaluation_context import EvaluationContext  # noqa: E402

VARIANTS = {name: name for name in ("a", "b", "c", "d", "none")}


def document(targeting):
    return {
        "flags": {
            "f": {
                "state": "ENABLED",
                "defaultVariant": "none",
                "variants": VARIANTS,
                "targeting": targeting,
            }
        }
    }


def both(targeting, fractional="v3"):
    doc = document(targeting)
    ours = flagcore.Store()
    ours.set_flagd_fractional(fractional)
    ours.update(json.dumps(doc))
    theirs = flagd_core.FlagdCore()
    theirs.set_flags(doc)
    return ours, theirs


def answers(ours, theirs, key, attrs):
    mine = ours.string_details("f", "?", key=key, attrs=attrs)
    ctx = EvaluationContext(targeting_key=key, attributes=attrs)
    reference = theirs.resolve_string_value("f", "?", ctx)
    return (mine.value, mine.variant), (reference.value, reference.variant)


@pytest.mark.parametrize(
    "weights",
    [
        [["a", 1], ["b", 1]],
        [["a", 25], ["b", 25], ["c", 25], ["d", 25]],
        [["a", 1], ["b", 3], ["c", 1000], ["d", 7]],
        [["a", 0], ["b", 5], ["c"], ["d", 2147483640]],
    ],
)
def test_cbor_fractional_buckets_every_key_type_as_flagd_core(weights):
    ours, theirs = both({"fractional": [{"var": "k"}, *weights]})
    rng = random.Random(20261201)
    keys = (
        [f"user-{i}" for i in range(300)]
        + ["", "é", "ÿ" * 30, "x" * 300]
        + [rng.randrange(-(2**62), 2**62) for _ in range(300)]
        + [0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, -(2**31) - 1]
        + [rng.uniform(-1e6, 1e6) for _ in range(300)]
        + [0.5, 1.5, -4.1, 1e20, -1e20, 65504.0, 65505.0, 1e-7, 3.4028234663852886e38]
        + [True, False]
    )
    for k in keys:
        mine, reference = answers(ours, theirs, None, {"k": k})
        assert mine == reference, f"key {k!r}"


def test_cbor_default_key_is_the_flag_and_targeting_key_pair():
    ours, theirs = both({"fractional": [["a", 1], ["b", 2], ["c", 3]]})
    for i in range(500):
        mine, reference = answers(ours, theirs, f"tk-{i}", {})
        assert mine == reference, f"tk-{i}"


def test_cbor_keys_built_by_cat_and_nested_names():
    targeting = {
        "fractional": [
            {"cat": [{"var": "$flagd.flagKey"}, "-", {"var": "user.name"}]},
            [{"if": [{"==": [{"var": "tier"}, "gold"]}, "a", "b"]}, 50],
            ["c", 50],
        ]
    }
    ours, theirs = both(targeting)
    for i in range(300):
        for tier in ("gold", "iron"):
            mine = ours.string_details(
                "f", "?", key=None, attrs={"user.name": f"n{i}", "tier": tier}
            )
            ctx = EvaluationContext(attributes={"user": {"name": f"n{i}"}, "tier": tier})
            reference = theirs.resolve_string_value("f", "?", ctx)
            assert (mine.value, mine.variant) == (reference.value, reference.variant)


@pytest.mark.parametrize(
    "condition, attrs",
    [
        ({"==": [{"var": "n"}, "1"]}, [{"n": 1}, {"n": "1"}, {"n": 2}, {}]),
        ({"<": [{"var": "n"}, 10]}, [{"n": 9}, {"n": 10}, {"n": "9"}, {"n": 9.5}]),
        ({"<=": [1, {"var": "n"}, 3]}, [{"n": 1}, {"n": 3}, {"n": 4}]),
        ({"in": [{"var": "c"}, ["DE", "FR"]]}, [{"c": "DE"}, {"c": "US"}, {}]),
        ({"in": ["@corp", {"var": "email"}]}, [{"email": "a@corp.example"}, {"email": "a@x"}]),
        ({"and": [{"var": "beta"}, {"!": {"var": "blocked"}}]}, [{"beta": True}, {"beta": True, "blocked": True}]),
        ({"or": [{"==": [{"var": "r"}, "admin"]}, {">": [{"var": "age"}, 65]}]}, [{"r": "admin"}, {"age": 70}, {"age": 20}]),
        ({"starts_with": [{"var": "id"}, "abc"]}, [{"id": "abcdef"}, {"id": "xabc"}]),
        ({"ends_with": [{"var": "id"}, "xyz"]}, [{"id": "uvwxyz"}, {"id": "xyzu"}]),
        ({"sem_ver": [{"var": "v"}, ">=", "2.4.0"]}, [{"v": "2.4.0"}, {"v": "2.10.1"}, {"v": "2.3.9"}, {"v": "2.4.0-rc.1"}]),
        ({"sem_ver": [{"var": "v"}, "^", "2.0.0"]}, [{"v": "2.9.9"}, {"v": "3.0.0"}]),
        ({"sem_ver": [{"var": "v"}, "~", "2.4.0"]}, [{"v": "2.4.9"}, {"v": "2.5.0"}]),
        # Both present: JsonLogic joins a missing value as nothing (JavaScript's `join`),
        # where flagd's Python core writes `None`.
        ({"==": [{"cat": [{"var": "a"}, {"var": "b"}]}, "xy"]}, [{"a": "x", "b": "y"}, {"a": "xy", "b": ""}]),
    ],
)
def test_operations_answer_as_flagd_core(condition, attrs):
    ours, theirs = both({"if": [condition, "a", "b"]}, fractional="v2")
    for context in attrs:
        mine, reference = answers(ours, theirs, "k", context)
        assert mine == reference, f"{condition} with {context}"


def test_the_setting_is_checked():
    store = flagcore.Store()
    with pytest.raises(ValueError, match="expected `v2` or `v3`"):
        store.set_flagd_fractional("v4")
