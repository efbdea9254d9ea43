"""flagcore.diff: the shape of ``flagcore diff --json``, and counts against buckets
computed here with ``xxhash`` (docs/format.md §3.1), independently of flagcore."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import xxhash

import flagcore

from _support import bool_flag, snapshot


def bucket(salt: str, key: str) -> int:
    seed = xxhash.xxh3_64_intdigest(salt.encode("utf-8"))
    h = xxhash.xxh3_64_intdigest(key.encode("utf-8"), seed=seed)
    return (h * 100_000) >> 64


def canary(on: int, **overrides: Any) -> dict[str, Any]:
    split = [{"variant": "on", "weight": on}, {"variant": "off", "weight": 100 - on}]
    return bool_flag(fallthrough={"rollout": {"split": split}}, **overrides)


def test_a_weight_raised_from_5_to_50_moves_exactly_the_new_buckets() -> None:
    old = snapshot(1, {"canary": canary(5)})
    new = snapshot(2, {"canary": canary(50)})
    moved = sum(1 for i in range(3000) if 5000 <= bucket("canary", f"user-{i}") < 50000)

    report = flagcore.diff(old, new.encode(), users=3000)
    assert report == {
        "old_version": 1,
        "new_version": 2,
        "flags": [
            {
                "flag": "canary",
                "change": "changed",
                "evaluated": 3000,
                "changed": moved,
                "transitions": [{"from": "off", "to": "on", "count": moved}],
                "structural": [
                    {"path": "flags.canary.fallthrough.rollout.split[0].weight", "what": "5 → 50"},
                    {"path": "flags.canary.fallthrough.rollout.split[1].weight", "what": "95 → 50"},
                ],
            }
        ],
        "segments": [],
    }

    inside = [{"key": f"k{i}"} for i in range(500) if 5000 <= bucket("canary", f"k{i}") < 50000]
    assert flagcore.diff(old, new, contexts=inside)["flags"][0]["changed"] == len(inside)


def test_a_segment_change_moves_the_contexts_that_match() -> None:
    flags = {
        "banner": bool_flag(
            rules=[{"conditions": [{"in_segment": "europe"}], "serve": {"variant": "on"}}],
            fallthrough={"variant": "off"},
        )
    }

    def europe(*countries: str) -> dict[str, Any]:
        clause = {"attribute": "country", "op": "in", "values": list(countries)}
        return {"europe": {"rules": [{"conditions": [clause]}]}}

    contexts: list[flagcore.DiffContext] = [
        {"key": "a", "attrs": {"country": "DE"}},
        {"key": "b", "attrs": {"country": "FR"}},
        {"key": None, "attrs": {"country": "FR", "age": 42, "beta": True, "score": 0.5}},
        {"attrs": {"country": "US"}},
    ]
    report = flagcore.diff(
        snapshot(1, flags, europe("DE")), snapshot(2, flags, europe("DE", "FR")), contexts=contexts
    )
    (banner,) = report["flags"]
    assert (banner["change"], banner["changed"]) == ("unchanged", 2)
    assert banner["transitions"] == [{"from": "off", "to": "on", "count": 2}]
    assert report["segments"] == [{"segment": "europe", "contexts": 3, "changed": 2}]


def test_now_picks_the_schedule_step() -> None:
    ramp = canary(0)
    ramp["fallthrough"]["rollout"]["schedule"] = [
        {"at": "2030-01-01T00:00:00Z", "split": [{"variant": "on", "weight": 100}]}
    ]
    old, new = snapshot(1, {"canary": canary(0)}), snapshot(2, {"canary": ramp})
    step = datetime(2030, 1, 1, tzinfo=timezone.utc)
    before = flagcore.diff(old, new, users=100, now=step - timedelta(seconds=1))
    assert before["flags"][0]["changed"] == 0
    assert flagcore.diff(old, new, users=100, now="2030-01-01T00:00:00Z")["flags"][0][
        "changed"
    ] == 100


def test_errors() -> None:
    good = snapshot(1, {"f": bool_flag()})
    with pytest.raises(flagcore.InvalidSnapshotError) as raised:
        flagcore.diff(good, snapshot(2, {"f": bool_flag(off_variant="of")}), users=1)
    assert str(raised.value).startswith("new snapshot: invalid snapshot")
    assert raised.value.errors[0].path == "flags.f.off_variant"
    bad_attribute: list[Any] = [{"key": "a"}, {"attrs": {"tags": ["x"]}}]
    with pytest.raises(TypeError, match=r'contexts\[1\]: attribute "tags"'):
        flagcore.diff(good, good, contexts=bad_attribute)
    with pytest.raises(ValueError, match=r'contexts\[0\]: unknown member "attributes"'):
        flagcore.diff(good, good, contexts=[{"attributes": {}}, *bad_attribute])
    with pytest.raises(ValueError, match="needs a timezone"):
        flagcore.diff(good, good, now=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="RFC 3339"):
        flagcore.diff(good, good, now="tomorrow")
    with pytest.raises(ValueError, match="at least 1"):
        flagcore.diff(good, good, users=0)
    # A version that does not increase is reported, not raised.
    report = flagcore.diff(good, good, users=1)
    assert (report["old_version"], report["new_version"]) == (1, 1)
