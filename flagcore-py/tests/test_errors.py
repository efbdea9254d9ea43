"""Bad input: invalid and stale snapshots keep the old one serving; clear exceptions."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import TYPED_FLAGS, bool_flag, snapshot

TWO_ERRORS = snapshot(
    2,
    {
        "x": bool_flag(off_variant="of"),
        "y": bool_flag(
            rules=[
                {
                    "conditions": [],
                    "serve": {
                        "rollout": {
                            "split": [
                                {"variant": "on", "weight": 50},
                                {"variant": "off", "weight": 49.5},
                            ]
                        }
                    },
                }
            ]
        ),
    },
)


def test_invalid_snapshot_lists_every_error(store: flagcore.Store) -> None:
    with pytest.raises(flagcore.InvalidSnapshotError) as caught:
        store.update(TWO_ERRORS)
    error = caught.value
    assert isinstance(error, flagcore.FlagcoreError)
    assert error.code == "invalid_snapshot"
    assert str(error) == (
        "invalid snapshot (2 errors):\n"
        "  flags.x.off_variant: unknown variant `of`; flag `x` has: on, off\n"
        "  flags.y.rules[0].serve.rollout: weights sum to 99.5, not 100"
    )
    assert error.errors == [
        ("flags.x.off_variant", "unknown variant `of`; flag `x` has: on, off", "unknown_variant"),
        ("flags.y.rules[0].serve.rollout", "weights sum to 99.5, not 100", "weights"),
    ]
    path, message, code = error.errors[1]
    assert error.errors[1].path == path == "flags.y.rules[0].serve.rollout"
    assert error.errors[1].code == code == "weights"
    assert message.startswith("weights sum")


def test_invalid_snapshot_keeps_the_old_one_serving(store: flagcore.Store) -> None:
    bad_inputs: list[str | bytes] = [
        TWO_ERRORS, "{", b"", b"\xff\xfe", "[]", snapshot(5, {"x": {"variants": {}}})
    ]
    for bad in bad_inputs:
        with pytest.raises(flagcore.InvalidSnapshotError):
            store.update(bad)
        assert store.version == 1
        assert store.string("color", "none") == "#00f"


def test_syntax_error_names_line_and_column(store: flagcore.Store) -> None:
    with pytest.raises(flagcore.InvalidSnapshotError) as caught:
        store.update('{"version": 2,\n "flags": {,}}')
    (issue,) = caught.value.errors
    assert issue.code == "syntax"
    assert "line 2 column" in issue.message


def test_invalid_utf8_bytes_are_an_invalid_snapshot(store: flagcore.Store) -> None:
    with pytest.raises(flagcore.InvalidSnapshotError) as caught:
        store.update(b'{"version": 2, "flags": {"\xff": 1}}')
    assert caught.value.errors[0].code == "syntax"
    assert store.version == 1


def test_str_with_lone_surrogates_cannot_be_encoded(store: flagcore.Store) -> None:
    with pytest.raises(UnicodeEncodeError):
        store.update('{"version": 2, "flags": {"\ud800": 1}}')
    with pytest.raises(UnicodeEncodeError):
        store.bool("\ud800", False)
    assert store.version == 1


def test_stale_snapshot(store: flagcore.Store) -> None:
    store.update(snapshot(5, TYPED_FLAGS))
    for version in (5, 4, 0):
        with pytest.raises(flagcore.StaleSnapshotError) as caught:
            store.update(snapshot(version, {}))
        error = caught.value
        assert isinstance(error, flagcore.FlagcoreError)
        assert error.code == "stale_snapshot"
        assert (error.offered, error.current) == (version, 5)
        assert str(error) == (
            f"stale snapshot: version {version} is not newer than the serving version 5"
        )
    assert store.version == 5 and store.flag_names() == list(TYPED_FLAGS)


def test_missing_file_is_an_io_error_caused_by_the_os_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(flagcore.FlagcoreError) as caught:
        flagcore.Store.from_file(missing)
    error = caught.value
    assert type(error) is flagcore.FlagcoreError
    assert error.code == "io"
    assert str(error).startswith(f"{missing}: No such file or directory")
    assert isinstance(error.__cause__, FileNotFoundError)
    assert error.__cause__.filename == str(missing)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text(snapshot(1, {}))
    path.chmod(0)
    with pytest.raises(flagcore.FlagcoreError) as caught:
        flagcore.Store().update_file(path)
    assert isinstance(caught.value.__cause__, PermissionError)


def test_directory_instead_of_file(store: flagcore.Store, tmp_path: Path) -> None:
    with pytest.raises(flagcore.FlagcoreError) as caught:
        store.update_file(tmp_path)
    assert caught.value.code == "io"
    assert isinstance(caught.value.__cause__, IsADirectoryError)
    assert store.version == 1


def test_invalid_file_contents(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(TWO_ERRORS)
    with pytest.raises(flagcore.InvalidSnapshotError) as caught:
        flagcore.Store.from_file(path)
    assert len(caught.value.errors) == 2


def test_data_of_the_wrong_type(store: flagcore.Store) -> None:
    bad: list[Any] = [None, 1, bytearray(b"{}"), json.loads(snapshot(2, {}))]
    for data in bad:
        with pytest.raises(TypeError, match="snapshot data must be bytes or str"):
            store.update(data)


def test_getter_argument_types(store: flagcore.Store) -> None:
    with pytest.raises(TypeError):
        store.bool(1, False)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.string("color", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.int("max-items", "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.bool("dark-mode", False, "positional-key")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        store.bool("dark-mode", False, key=5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        store.int("max-items", 2**63)


def test_exceptions_pickle() -> None:
    errors = [
        flagcore.FlagcoreError("x: gone", "io"),
        flagcore.InvalidSnapshotError("invalid snapshot (1 error):\n  $: bad", [("$", "bad", "syntax")]),
        flagcore.StaleSnapshotError("stale", 3, 4),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error) and copy.code == error.code
    assert pickle.loads(pickle.dumps(errors[1])).errors == [("$", "bad", "syntax")]
    assert pickle.loads(pickle.dumps(errors[2])).current == 4
