"""Attribute conversion: types, bool before int, 64-bit range, names, mappings."""

from __future__ import annotations

import enum
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

import flagcore

from _support import bool_flag, snapshot


def clause(attribute: str, op: str, values: list[Any] | None = None) -> dict[str, Any]:
    """A flag that is on exactly when the clause holds."""
    condition: dict[str, Any] = {"attribute": attribute, "op": op}
    if values is not None:
        condition["values"] = values
    return bool_flag(
        rules=[{"conditions": [condition], "serve": {"variant": "on"}}],
        fallthrough={"variant": "off"},
    )


@pytest.fixture
def store() -> flagcore.Store:
    return flagcore.Store.from_bytes(
        snapshot(
            1,
            {
                "is-true": clause("v", "eq", [True]),
                "is-one": clause("v", "eq", [1]),
                "is-text": clause("v", "eq", ["1"]),
                "gt-1.5": clause("v", "gt", [1.5]),
                "has-v": clause("v", "exists"),
                "big": clause("v", "eq", [9007199254740993]),
                "key-is-alice": clause("key", "eq", ["alice"]),
            },
        )
    )


def test_bool_is_not_an_int(store: flagcore.Store) -> None:
    assert store.bool("is-true", False, attrs={"v": True}) is True
    assert store.bool("is-one", False, attrs={"v": True}) is False
    assert store.bool("is-one", False, attrs={"v": 1}) is True
    assert store.bool("is-true", False, attrs={"v": 1}) is False


def test_types_are_strict_and_numbers_compare_numerically(store: flagcore.Store) -> None:
    assert store.bool("is-one", False, attrs={"v": 1.0}) is True
    assert store.bool("is-one", False, attrs={"v": "1"}) is False
    assert store.bool("is-text", False, attrs={"v": "1"}) is True
    assert store.bool("gt-1.5", False, attrs={"v": 2}) is True
    assert store.bool("gt-1.5", False, attrs={"v": 1.25}) is False


def test_integers_are_read_as_64_bit_not_through_a_double(store: flagcore.Store) -> None:
    assert store.bool("big", False, attrs={"v": 9007199254740993}) is True
    assert store.bool("big", False, attrs={"v": 9007199254740992}) is False
    assert store.bool("is-one", False, attrs={"v": -(2**63)}) is False
    assert store.bool("is-one", False, attrs={"v": 2**63 - 1}) is False


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_raise_naming_the_attribute(store: flagcore.Store, value: int) -> None:
    with pytest.raises(OverflowError, match=r'attribute "v": integer .* does not fit in 64 bits'):
        store.bool("is-one", False, attrs={"v": value})


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, (1,), b"x", 1j, object()])
def test_other_types_raise_naming_the_attribute(store: flagcore.Store, value: Any) -> None:
    with pytest.raises(TypeError, match=r'attribute "v" must be str, int, float or bool, not '):
        store.bool("has-v", False, attrs={"ok": 1, "v": value})


def test_attribute_names_must_be_str(store: flagcore.Store) -> None:
    with pytest.raises(TypeError, match="attribute names must be str, not int"):
        store.bool("has-v", False, attrs={1: "x"})  # type: ignore[dict-item]


def test_attrs_must_be_a_mapping(store: flagcore.Store) -> None:
    with pytest.raises(TypeError, match="attrs must be a mapping"):
        store.bool("has-v", False, attrs=[("v", 1)])  # type: ignore[arg-type]


def test_any_mapping_works(store: flagcore.Store) -> None:
    for attrs in (OrderedDict(v=1), MappingProxyType({"v": 1})):
        assert store.bool("is-one", False, attrs=attrs) is True


def test_subclasses_of_the_scalar_types(store: flagcore.Store) -> None:
    class Tier(str, enum.Enum):
        ONE = "1"

    class Level(enum.IntEnum):
        ONE = 1

    assert store.bool("is-text", False, attrs={"v": Tier.ONE}) is True
    assert store.bool("is-one", False, attrs={"v": Level.ONE}) is True


def test_attrs_of_every_size_on_the_stack_and_beyond(store: flagcore.Store) -> None:
    # The conversion takes arrays of 4, then of 16, then the heap.
    for count in (0, 1, 2, 3, 4, 5, 14, 15, 16, 17, 100):
        attrs: dict[str, Any] = {f"a{i}": i for i in range(count)}
        assert store.bool("has-v", False, attrs=attrs) is False
        attrs["v"] = 1  # last
        assert store.bool("is-one", False, attrs=attrs) is True
        attrs[f"a{count}"] = [1]  # a bad value past the inline buffer
        with pytest.raises(TypeError, match=f'attribute "a{count}"'):
            store.bool("is-one", False, attrs=attrs)


def test_empty_attrs(store: flagcore.Store) -> None:
    assert store.bool("has-v", False, attrs={}) is False
    assert store.bool("has-v", False, attrs=None) is False


def test_the_key_attribute_is_the_targeting_key(store: flagcore.Store) -> None:
    assert store.bool("key-is-alice", False, key="alice") is True
    assert store.bool("key-is-alice", False, attrs={"key": "alice"}) is False
    assert store.bool("key-is-alice", False, key="bob", attrs={"key": "alice"}) is False


def test_empty_string_is_a_key() -> None:
    store = flagcore.Store.from_bytes(
        snapshot(1, {"f": bool_flag(targets=[{"variant": "off", "keys": [""]}])})
    )
    assert store.bool_details("f", True, key="").target is True
    assert store.bool_details("f", True).target is False
