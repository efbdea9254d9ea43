"""flagd flag files through the Python binding: every conformance case of tests/flagd
(expected values from flagd's published conformance tables), merged files, an explicit
``format=``, a broken flag beside good ones, flag metadata and the OpenFeature provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import REPO_ROOT

FLAGD = REPO_ROOT / "tests" / "flagd"
FLAGS = FLAGD / "flags.json"


def load_cases() -> list[dict[str, Any]]:
    document: dict[str, Any] = json.loads((FLAGD / "cases.json").read_text(encoding="utf-8"))
    assert document["format"] == 1, "unknown format of tests/flagd/cases.json"
    cases: list[dict[str, Any]] = document["cases"]
    return cases


CASES = load_cases()
# The typed getter each case's `type` names; flagd's objects are the binding's JSON flags.
GETTERS = {
    "bool": "bool_details",
    "string": "string_details",
    "int": "int_details",
    "float": "float_details",
    "object": "json_details",
}
VALUE_TYPES = {"bool": bool, "string": str, "int": int, "float": float, "object": dict}


@cache
def conformance_store() -> flagcore.Store:
    """One store for every case: evaluation does not change what a store serves."""
    return flagcore.Store.from_file(FLAGS)


def case_id(case: dict[str, Any]) -> str:
    context = {k: case[k] for k in ("key", "attributes") if k in case}
    return f"{case['flag']}:{case['type']}:{json.dumps(context, ensure_ascii=False)}"


def test_the_conformance_cases_are_all_there() -> None:
    assert len(CASES) > 100
    assert {c["type"] for c in CASES} == set(GETTERS)
    assert {c.get("error_code") for c in CASES} >= {"PARSE_ERROR", "GENERAL"}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_conformance_case(case: dict[str, Any]) -> None:
    getter = getattr(conformance_store(), GETTERS[case["type"]])
    details = getter(
        case["flag"], case["default"], key=case.get("key"), attrs=case.get("attributes")
    )
    assert details.value == case["value"]
    assert type(details.value) is VALUE_TYPES[case["type"]]
    # Cases without a reason are those flagd's tables give only a value for.
    if "reason" in case:
        assert details.reason == case["reason"]
    assert details.error_code == case.get("error_code")


def write(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def string_flag(default_variant: str) -> dict[str, Any]:
    return {"state": "ENABLED", "variants": {"x": "x", "y": "y"}, "defaultVariant": default_variant}


STAFF_FLAG = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"$ref": "is-staff"}, "on"]},
}
IS_STAFF = {"ends_with": [{"var": "email"}, "@corp.example"]}


@pytest.fixture
def merged_files(tmp_path: Path) -> list[Path]:
    """Two flagd files: the second redefines `a` and defines the evaluator `b` uses."""
    first = write(
        tmp_path,
        "first.json",
        {"flags": {"a": string_flag("x"), "b": STAFF_FLAG}, "metadata": {"team": "one"}},
    )
    second = write(
        tmp_path,
        "second.json",
        {
            "flags": {"a": string_flag("y")},
            "$evaluators": {"is-staff": IS_STAFF},
            "metadata": {"team": "two"},
        },
    )
    return [first, second]


def test_merged_files_take_the_later_flag_and_share_evaluators(merged_files: list[Path]) -> None:
    store = flagcore.Store.from_files(merged_files)
    assert store.version == 1
    assert store.string("a", "?") == "y"
    staff = store.bool_details("b", False, attrs={"email": "ana@corp.example"})
    assert (staff.value, staff.variant, staff.reason) == (True, "on", "TARGETING_MATCH")
    outsider = store.bool_details("b", True, attrs={"email": "ana@elsewhere.example"})
    assert (outsider.value, outsider.reason) == (False, "DEFAULT")
    # Each flag keeps the metadata of the file that defined it last.
    assert store.flag_metadata("a") == {"team": "two"}
    assert store.flag_metadata("b") == {"team": "one"}
    assert store.flag_names() == ["a", "b"]


def test_merged_files_in_the_other_order(merged_files: list[Path]) -> None:
    store = flagcore.Store.from_files([str(p) for p in reversed(merged_files)])
    assert store.string("a", "?") == "x"
    # The evaluator is shared whichever file defines it.
    assert store.bool("b", False, attrs={"email": "bo@corp.example"})


def test_update_files_swaps_in_the_next_version(merged_files: list[Path]) -> None:
    store = flagcore.Store.from_file(merged_files[0])
    assert store.string("a", "?") == "x"
    assert store.update_files(merged_files) == 2
    assert store.string("a", "?") == "y"


def test_update_files_with_an_unreadable_file_keeps_the_serving_snapshot(
    merged_files: list[Path], tmp_path: Path
) -> None:
    store = flagcore.Store.from_files(merged_files)
    missing = tmp_path / "missing.json"
    with pytest.raises(flagcore.FlagcoreError) as caught:
        store.update_files([merged_files[0], missing])
    assert caught.value.code == "io"
    assert str(missing) in str(caught.value)
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert (store.version, store.string("a", "?")) == (1, "y")


def test_merging_needs_paths_and_refuses_a_lone_string(merged_files: list[Path]) -> None:
    with pytest.raises(ValueError, match="at least one path"):
        flagcore.Store.from_files([])
    with pytest.raises(ValueError, match="at least one path"):
        flagcore.Store().update_files([])
    # A str is a sequence of characters: taken as paths, it would name one-letter files.
    with pytest.raises(TypeError):
        flagcore.Store.from_files(str(merged_files[0]))  # type: ignore[arg-type]


def test_a_merged_file_that_is_not_flagd_is_refused(merged_files: list[Path], tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.json", {"$evaluators": {}})
    with pytest.raises(flagcore.InvalidSnapshotError) as caught:
        flagcore.Store.from_files([merged_files[0], broken])
    assert "`flags` object" in str(caught.value)


# A flagd document that says it has a version: detected as a flagcore snapshot.
VERSIONED_FLAGD = json.dumps({"version": 1, "flags": {"f": string_flag("y")}})


def test_format_flagd_reads_what_detection_takes_for_native(tmp_path: Path) -> None:
    with pytest.raises(flagcore.InvalidSnapshotError):
        flagcore.Store.from_bytes(VERSIONED_FLAGD)
    assert flagcore.Store.from_bytes(VERSIONED_FLAGD, format="flagd").string("f", "?") == "y"
    path = tmp_path / "flags.json"
    path.write_text(VERSIONED_FLAGD, encoding="utf-8")
    store = flagcore.Store.from_file(path, format="flagd")
    assert store.string("f", "?") == "y"
    assert store.update(VERSIONED_FLAGD.encode(), format="flagd") == 2
    assert store.update_file(path, format="flagd") == 3


def test_format_native_refuses_a_flagd_file() -> None:
    with pytest.raises(flagcore.InvalidSnapshotError):
        flagcore.Store.from_file(FLAGS, format="native")
    store = flagcore.Store.from_file(FLAGS)
    with pytest.raises(flagcore.InvalidSnapshotError):
        store.update_file(FLAGS, format="native")
    with pytest.raises(flagcore.InvalidSnapshotError):
        store.update(FLAGS.read_bytes(), format="native")
    assert store.version == 1
    native = json.dumps({"version": 5, "flags": {}})
    assert store.update(native, format="native") == 5
    assert store.update(native.replace("5", "6"), format=None) == 6


def test_an_unknown_format_is_a_value_error(tmp_path: Path) -> None:
    store = flagcore.Store.from_file(FLAGS)
    calls = [
        lambda: flagcore.Store.from_bytes(VERSIONED_FLAGD, format="yaml"),
        lambda: flagcore.Store.from_file(FLAGS, format="yaml"),
        lambda: store.update(VERSIONED_FLAGD, format="yaml"),
        lambda: store.update_file(FLAGS, format="Flagd"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="unknown format `(yaml|Flagd)`: expected `native` or `flagd`"):
            call()
    with pytest.raises(TypeError):
        store.update(VERSIONED_FLAGD, format=1)  # type: ignore[arg-type]
    # Checked before the file is read: no I/O error for a file that is not there.
    with pytest.raises(ValueError):
        store.update_file(tmp_path / "missing.json", format="json")
    assert store.version == 1


BROKEN_BESIDE_GOOD = json.dumps(
    {
        "flags": {
            "good": {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"},
            "unknown-op": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"regex_match": [{"var": "email"}, ".*"]},
            },
            "bad-state": {"state": "MAYBE", "variants": {"on": True}, "defaultVariant": "on"},
            "bad-default": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "of"},
            "missing-ref": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"if": [{"$ref": "nowhere"}, "on"]},
            },
        }
    }
)


def test_a_broken_flag_answers_with_its_error_and_the_rest_serve() -> None:
    store = flagcore.Store.from_bytes(BROKEN_BESIDE_GOOD)
    good = store.bool_details("good", False)
    assert (good.value, good.variant, good.reason, good.error_code) == (True, "on", "STATIC", None)
    expected = {
        "unknown-op": "PARSE_ERROR",
        "bad-state": "PARSE_ERROR",
        "missing-ref": "PARSE_ERROR",
        "bad-default": "GENERAL",
    }
    for flag, code in expected.items():
        details = store.bool_details(flag, True)
        # The caller's default, as for any evaluation error.
        assert (details.value, details.variant, details.reason, details.error_code) == (
            True,
            None,
            "ERROR",
            code,
        ), flag
    assert store.flag_names() == ["good", "unknown-op", "bad-state", "bad-default", "missing-ref"]


def test_flag_metadata_overlays_the_files_metadata() -> None:
    store = conformance_store()
    assert store.flag_metadata("metadata-flag") == {
        "flagSetId": "conformance",
        "version": "v2",
        "string": "1.0.2",
        "integer": 2,
        "boolean": True,
        "float": 0.1,
    }
    assert store.flag_metadata("boolean-flag") == {"flagSetId": "conformance", "version": "v1"}
    assert store.flag_metadata("no-such-flag") == {}


def test_details_carry_the_flag_metadata_as_openfeature_does() -> None:
    store = conformance_store()
    details = store.bool_details("metadata-flag", False)
    assert details.flag_metadata == store.flag_metadata("metadata-flag")
    assert details.flag_metadata["integer"] == 2 and details.flag_metadata["float"] == 0.1
    assert store.string_details("no-such-flag", "x").flag_metadata == {}
    assert store.int_details("boolean-flag", 1).flag_metadata == {
        "flagSetId": "conformance",
        "version": "v1",
    }
    plain = flagcore.Store.from_bytes(
        '{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a"}}}'
    )
    assert plain.int_details("f", 0).flag_metadata == {}


def test_a_killed_flagd_flag_serves_the_callers_default_until_revived() -> None:
    store = flagcore.Store.from_file(FLAGS)
    store.kill("string-flag", "incident")
    killed = store.string_details("string-flag", "safe")
    assert (killed.value, killed.variant, killed.reason) == ("safe", None, "DISABLED")
    assert store.revive("string-flag")
    assert store.string("string-flag", "safe") == "hi"


class TestOpenFeatureProvider:
    """The provider serves a flagd file as the SDK expects, error codes included. The SDK
    is imported here so that the rest of the file runs without it."""

    @pytest.fixture
    def client(self) -> Iterator[Any]:
        pytest.importorskip("openfeature")
        from openfeature import api

        from flagcore.openfeature import FlagcoreProvider

        api.set_provider_and_wait(FlagcoreProvider(path=FLAGS))
        yield api.get_client()
        api.clear_providers()

    def test_parse_error_and_general_map_to_openfeature_codes(self, client: Any) -> None:
        from openfeature.exception import ErrorCode
        from openfeature.flag_evaluation import Reason

        parse = client.get_integer_details("error-targeting-flag", 3)
        assert (parse.value, parse.reason, parse.error_code) == (3, Reason.ERROR, ErrorCode.PARSE_ERROR)
        assert parse.error_message is not None and "error-targeting-flag" in parse.error_message
        ref = client.get_string_details("ref-to-nonexistent-evaluator-flag", "fallback")
        assert (ref.value, ref.error_code) == ("fallback", ErrorCode.PARSE_ERROR)
        general = client.get_integer_details("missing-variant-targeting-flag", 3)
        assert (general.value, general.reason, general.error_code) == (3, Reason.ERROR, ErrorCode.GENERAL)

    def test_targeting_and_metadata_through_the_sdk(self, client: Any) -> None:
        from openfeature.evaluation_context import EvaluationContext
        from openfeature.flag_evaluation import Reason

        jack = client.get_string_details("fractional-flag", "fallback", EvaluationContext(None, {"user.name": "jack"}))
        assert (jack.value, jack.variant, jack.reason, jack.error_code) == (
            "hearts",
            "hearts",
            Reason.TARGETING_MATCH,
            None,
        )
        edge = client.get_string_details("fractional-hash-edge-flag", "fallback", EvaluationContext("6LvT0"))
        assert edge.value == "upper"
        disabled = client.get_boolean_details("disabled-boolean-flag", False)
        assert (disabled.value, disabled.reason) == (False, Reason.DISABLED)
        metadata = client.get_boolean_details("metadata-flag", False).flag_metadata
        assert metadata == {
            "flagSetId": "conformance",
            "version": "v2",
            "string": "1.0.2",
            "integer": 2,
            "boolean": True,
            "float": 0.1,
        }
