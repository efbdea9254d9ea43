"""Fixtures shared by the suites."""

from __future__ import annotations

import pytest

import flagcore

from _support import TYPED_FLAGS, snapshot


@pytest.fixture
def store() -> flagcore.Store:
    """A store serving TYPED_FLAGS at version 1."""
    return flagcore.Store.from_bytes(snapshot(1, TYPED_FLAGS))
