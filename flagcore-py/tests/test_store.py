"""The Store API: loading, typed getters, details, metadata, metrics, kills, explain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import TYPED_FLAGS, bool_flag, scheduled_ramp, snapshot


def test_empty_store_serves_defaults_as_not_ready() -> None:
    store = flagcore.Store()
    assert store.version is None
    assert store.bool("dark-mode", True) is True
    details = store.bool_details("dark-mode", False)
    assert (details.value, details.variant, details.reason, details.error_code) == (
        False,
        None,
        "ERROR",
        "PROVIDER_NOT_READY",
    )
    assert store.flag_names() == []
    assert repr(store) == "<flagcore.Store (no snapshot)>"


def test_load_from_bytes_str_and_file(tmp_path: Path) -> None:
    text = snapshot(7, TYPED_FLAGS)
    path = tmp_path / "flags.json"
    path.write_text(text, encoding="utf-8")
    for store in (
        flagcore.Store.from_bytes(text),
        flagcore.Store.from_bytes(text.encode()),
        flagcore.Store.from_file(path),
        flagcore.Store.from_file(str(path)),
    ):
        assert store.version == 7
        assert store.bool("dark-mode", False) is True
    assert repr(store) == "<flagcore.Store version=7>"


def test_update_returns_the_new_version_and_swaps(store: flagcore.Store, tmp_path: Path) -> None:
    assert store.update(snapshot(2, {"dark-mode": bool_flag(fallthrough={"variant": "off"})})) == 2
    assert store.version == 2
    assert store.bool("dark-mode", True) is False
    assert store.flag_names() == ["dark-mode"]
    path = tmp_path / "v3.json"
    path.write_bytes(snapshot(3, TYPED_FLAGS).encode())
    assert store.update_file(path) == 3
    assert store.bool("dark-mode", False) is True


def test_typed_getters(store: flagcore.Store) -> None:
    assert store.bool("dark-mode", False) is True
    assert store.string("color", "none") == "#00f"
    assert store.string("color", "none", key="rita") == "#f00"
    assert store.int("max-items", 0) == 100
    assert store.float("ratio", 0.0) == 0.75
    value = store.float("max-items", 0.0)  # the float getter reads integer flags too
    assert type(value) is float and value == 100.0
    assert store.json("layout", {}) == {"columns": 2, "items": ["x", None, 1.5]}


def test_wrong_type_serves_the_default(store: flagcore.Store) -> None:
    assert store.bool("color", True) is True
    assert store.int("ratio", -1) == -1
    assert store.string("max-items", "d") == "d"
    details = store.int_details("ratio", -1)
    assert (details.value, details.reason, details.error_code) == (-1, "ERROR", "TYPE_MISMATCH")


def test_defaults_are_returned_as_the_same_object(store: flagcore.Store) -> None:
    default_text = "".join(["a", "b"])  # not interned
    assert store.string("missing", default_text) is default_text
    default_json: dict[str, list[int]] = {"x": [1]}
    assert store.json("missing", default_json) is default_json
    sentinel = object()
    assert store.json("missing", sentinel) is sentinel  # any object will do
    assert store.json("dark-mode", None) is None  # type mismatch
    assert store.json_details("missing", default_json).value is default_json


def test_json_values_are_fresh_objects(store: flagcore.Store) -> None:
    first = store.json("layout", None)
    first["columns"] = 99
    first["items"].append("mutated")
    assert store.json("layout", None) == {"columns": 2, "items": ["x", None, 1.5]}
    assert store.json("layout", None, key="k") is not store.json("layout", None, key="k")


def test_json_arrays_and_big_integers() -> None:
    store = flagcore.Store.from_bytes(
        snapshot(
            1,
            {
                "arr": {
                    "variants": {"a": [1, 2.5, "x", True, None, {"n": 18446744073709551615}]},
                    "enabled": True,
                    "off_variant": "a",
                    "fallthrough": {"variant": "a"},
                }
            },
        )
    )
    value = store.json("arr", None)
    assert value == [1, 2.5, "x", True, None, {"n": 18446744073709551615}]
    assert [type(v) for v in value[:5]] == [int, float, str, bool, type(None)]


def test_details_fields_and_repr(store: flagcore.Store) -> None:
    details = store.string_details("color", "none", key="rita")
    assert details.value == "#f00"
    assert details.variant == "red"
    assert details.reason == "TARGETING_MATCH"
    assert details.error_code is None
    assert details.rule_index is None and details.rule_id is None
    assert details.target is True
    assert details.bucket is None
    assert details.step is None
    assert repr(details) == (
        "Details(value='#f00', variant='red', reason='TARGETING_MATCH', error_code=None, "
        "rule_index=None, rule_id=None, target=True, bucket=None, step=None)"
    )
    assert details.to_dict() == {
        "value": "#f00",
        "variant": "red",
        "reason": "TARGETING_MATCH",
        "error_code": None,
        "rule_index": None,
        "rule_id": None,
        "target": True,
        "bucket": None,
        "step": None,
    }
    with pytest.raises(AttributeError):
        details.value = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        flagcore.Details()


def test_rollout_details(store: flagcore.Store) -> None:
    for key in ("u1", "u2", "u3", "u4"):
        details = store.bool_details("canary", False, key=key, attrs={"plan": "pro"})
        assert details.reason == "SPLIT"
        assert details.rule_index == 0 and details.rule_id == "pro-half"
        assert details.bucket is not None and 0 <= details.bucket < 100_000
        assert details.value is (details.bucket < 50_000)
    details = store.bool_details("canary", False, key="kid", attrs={"age": 18})
    assert (details.reason, details.rule_index, details.rule_id, details.bucket) == (
        "TARGETING_MATCH",
        1,
        None,
        None,
    )
    details = store.bool_details("canary", True, attrs={"plan": "pro", "age": 3})
    assert (details.reason, details.variant) == ("DEFAULT", "off")  # no key: rollout skipped


def test_flag_metadata(store: flagcore.Store) -> None:
    metadata = store.flag_metadata("dark-mode")
    assert metadata == {"owner": "web", "ticket": 1234, "ratio": 0.5, "beta": True}
    assert type(metadata["ticket"]) is int
    assert store.flag_metadata("color") == {}
    assert store.flag_metadata("missing") == {}


def test_kill_and_revive(store: flagcore.Store) -> None:
    assert store.kills() == []
    store.kill("dark-mode", "incident 42")
    store.kill("not-yet-there", "pre-emptive")
    details = store.bool_details("dark-mode", True)
    assert (details.value, details.variant, details.reason) == (False, "off", "DISABLED")
    kills = store.kills()
    assert [(k["flag"], k["reason"]) for k in kills] == [
        ("dark-mode", "incident 42"),
        ("not-yet-there", "pre-emptive"),
    ]
    assert all(isinstance(k["at"], float) and k["at"] > 1.6e9 for k in kills)
    # Kills survive updates, and apply to flags that appear later.
    store.update(snapshot(2, {**TYPED_FLAGS, "not-yet-there": bool_flag()}))
    assert store.bool("dark-mode", True) is False
    assert store.bool("not-yet-there", True) is False
    assert store.revive("dark-mode") is True
    assert store.revive("dark-mode") is False
    assert store.bool("dark-mode", False) is True


def test_metrics(store: flagcore.Store) -> None:
    store.take_metrics()
    for _ in range(3):
        store.bool("dark-mode", False)
    store.string("color", "x", key="rita")
    store.int("ratio", 0)  # type mismatch: counted as a default
    store.bool("missing", False)  # unknown flags are not counted
    assert store.take_metrics() == {
        "dark-mode": {"variants": {"on": 3}, "defaults": 0},
        "color": {"variants": {"red": 1}, "defaults": 0},
        "ratio": {"variants": {}, "defaults": 1},
    }
    assert store.take_metrics() == {}
    store.set_metrics_enabled(False)
    store.bool("dark-mode", False)
    assert store.take_metrics() == {}
    store.set_metrics_enabled(True)
    store.bool("dark-mode", False)
    assert store.take_metrics() == {"dark-mode": {"variants": {"on": 1}, "defaults": 0}}


def test_scheduled_rollout_step() -> None:
    store = flagcore.Store.from_bytes(
        snapshot(
            1,
            {
                "ramped": scheduled_ramp("2020-01-01T00:00:00Z"),
                "not-yet": scheduled_ramp("2098-01-01T00:00:00Z"),
            },
        )
    )
    details = store.bool_details("ramped", False, key="u1")
    assert (details.value, details.reason, details.step) == (True, "SPLIT", 0)
    assert details.bucket is not None
    assert details.to_dict()["step"] == 0
    assert repr(details).endswith(", step=0)")
    assert store.explain("ramped", key="u1")["step"] == 0
    before = store.bool_details("not-yet", True, key="u1")
    assert (before.value, before.reason, before.step) == (False, "SPLIT", None)
    assert store.explain("not-yet", key="u1")["step"] is None
    # No rollout decided: no step.
    assert store.bool_details("ramped", True).step is None  # no targeting key
    assert store.bool_details("missing", True).step is None


def test_explain(store: flagcore.Store) -> None:
    explanation: dict[str, Any] = dict(
        store.explain("canary", key="kid", attrs={"age": 30, "plan": "free"})
    )
    steps = explanation.pop("steps")
    assert explanation == {
        "flag": "canary",
        "value": True,
        "variant": "on",
        "reason": "TARGETING_MATCH",
        "error_code": None,
        "rule_index": 1,
        "rule_id": None,
        "target": False,
        "bucket": None,
        "step": None,
    }
    assert steps and all(isinstance(s, str) for s in steps)
    assert "does not hold" in steps[0] and "holds" in steps[-1]
    missing = store.explain("missing")
    assert (missing["value"], missing["reason"], missing["error_code"]) == (
        None,
        "ERROR",
        "FLAG_NOT_FOUND",
    )
    assert store.explain("layout")["value"] == {"columns": 2, "items": ["x", None, 1.5]}


def test_explain_matches_the_cli_json_fields(store: flagcore.Store) -> None:
    """The same keys as `flagcore explain --json`, plus steps."""
    assert set(store.explain("color")) == {
        "flag", "value", "variant", "reason", "error_code",
        "rule_index", "rule_id", "target", "bucket", "step", "steps",
    }


def test_unicode_names_and_values() -> None:
    store = flagcore.Store.from_bytes(
        json.dumps(
            {
                "version": 1,
                "flags": {
                    "größe-✓": {
                        "variants": {"ja": "はい", "nein": "いいえ"},
                        "enabled": True,
                        "off_variant": "nein",
                        "targets": [{"variant": "ja", "keys": ["zoë"]}],
                        "fallthrough": {"variant": "nein"},
                    }
                },
            },
            ensure_ascii=False,
        ).encode()
    )
    assert store.string("größe-✓", "", key="zoë") == "はい"
    assert store.string("größe-✓", "", key="zoe") == "いいえ"
    assert store.flag_names() == ["größe-✓"]


def test_version_zero_and_u64_versions() -> None:
    store = flagcore.Store.from_bytes(snapshot(0, {}))
    assert store.version == 0
    assert store.update(snapshot(2**64 - 1, {})) == 2**64 - 1


def test_module_metadata() -> None:
    assert isinstance(flagcore.__version__, str) and flagcore.__version__
    assert flagcore.Store.__module__ == "flagcore"
    assert flagcore.Details.__module__ == "flagcore"
    for name in flagcore.__all__:
        assert hasattr(flagcore, name), name
