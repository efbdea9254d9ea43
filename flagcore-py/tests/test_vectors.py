"""The shared test vectors (tests/vectors/*.json), every case through the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import VECTORS

FILES = sorted(VECTORS.glob("*.json"))
FIELDS = (
    "variant", "reason", "error_code", "rule_index", "rule_id", "target", "bucket", "step",
)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "flagcore-vectors"
    assert document["format_version"] == 2, f"{path.name}: unknown format_version"
    return document


def make_store(document: dict[str, Any]) -> flagcore.Store:
    store = flagcore.Store()
    if document["snapshot"] is not None:
        # json.dumps keeps integers integers and writes floats by repr, which reproduces
        # 3-decimal weights exactly.
        store.update(json.dumps(document["snapshot"]))
    for flag in document.get("kills", []):
        store.kill(flag, "vector kill")
    return store


def cases() -> list[Any]:
    params = []
    for path in FILES:
        for case in load(path)["cases"]:
            params.append(pytest.param(path, case, id=f"{path.stem}::{case['name']}"))
    return params


def test_vectors_exist() -> None:
    assert len(FILES) >= 6
    assert sum(len(load(p)["cases"]) for p in FILES) > 400


_stores: dict[Path, flagcore.Store] = {}


@pytest.mark.parametrize(("path", "case"), cases())
def test_vector(path: Path, case: dict[str, Any]) -> None:
    if path not in _stores:
        _stores[path] = make_store(load(path))
    store = _stores[path]
    context = case["context"]
    getter = getattr(store, f"{case['type']}_details")
    details = getter(
        case["flag"],
        case["default"],
        key=context.get("key"),
        attrs=context["attributes"],
    )
    expected = case["expected"]
    got = details.to_dict()
    for field in FIELDS:
        assert got[field] == expected[field], f"{field}: {got} != {expected}"
        assert type(got[field]) is type(expected[field]), field
    value, want = details.value, expected["value"]
    if case["type"] == "float":
        assert type(value) is float and value == want
    elif case["type"] == "int":
        assert type(value) is int and value == want
    elif case["type"] == "bool":
        assert type(value) is bool and value == want
    elif case["type"] == "string":
        assert type(value) is str and value == want
    else:
        assert value == want
        assert type(value) is type(want)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_vector_explain_agrees(path: Path) -> None:
    """explain() reports what the typed getters report, for every case that is not a
    type error (explain evaluates whatever the flag's type)."""
    document = load(path)
    store = make_store(document)
    for case in document["cases"]:
        expected = case["expected"]
        if expected["error_code"] == "TYPE_MISMATCH":
            continue
        context = case["context"]
        explanation: dict[str, Any] = dict(
            store.explain(case["flag"], key=context.get("key"), attrs=context["attributes"])
        )
        for field in FIELDS:
            assert explanation[field] == expected[field], (case["name"], field)
        if expected["variant"] is not None:
            assert explanation["value"] == expected["value"], case["name"]
        assert isinstance(explanation["steps"], list)
