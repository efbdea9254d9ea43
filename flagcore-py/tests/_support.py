"""Test helpers: snapshot builders and the repository's paths."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT / "tests" / "vectors"


def bool_flag(**overrides: Any) -> dict[str, Any]:
    """A boolean flag serving `on` to everyone, changed by `overrides`."""
    flag: dict[str, Any] = {
        "variants": {"on": True, "off": False},
        "enabled": True,
        "off_variant": "off",
        "fallthrough": {"variant": "on"},
    }
    flag.update(overrides)
    return flag


def snapshot(
    version: int = 1,
    flags: dict[str, Any] | None = None,
    segments: dict[str, Any] | None = None,
) -> str:
    """A snapshot document as JSON text."""
    document: dict[str, Any] = {"version": version, "flags": flags or {}}
    if segments is not None:
        document["segments"] = segments
    return json.dumps(document)


# One flag of each type, a rollout and a flag with metadata.
TYPED_FLAGS: dict[str, Any] = {
    "dark-mode": bool_flag(metadata={"owner": "web", "ticket": 1234, "ratio": 0.5, "beta": True}),
    "color": {
        "variants": {"red": "#f00", "blue": "#00f"},
        "enabled": True,
        "off_variant": "red",
        "targets": [{"variant": "red", "keys": ["rita"]}],
        "fallthrough": {"variant": "blue"},
    },
    "max-items": {
        "variants": {"few": 10, "many": 100},
        "enabled": True,
        "off_variant": "few",
        "fallthrough": {"variant": "many"},
    },
    "ratio": {
        "variants": {"low": 0.25, "high": 0.75},
        "enabled": True,
        "off_variant": "low",
        "fallthrough": {"variant": "high"},
    },
    "layout": {
        "variants": {"a": {"columns": 2, "items": ["x", None, 1.5]}, "b": [1, 2]},
        "enabled": True,
        "off_variant": "b",
        "fallthrough": {"variant": "a"},
    },
    "canary": {
        "variants": {"on": True, "off": False},
        "enabled": True,
        "off_variant": "off",
        "rules": [
            {
                "id": "pro-half",
                "conditions": [{"attribute": "plan", "op": "eq", "values": ["pro"]}],
                "serve": {
                    "rollout": {
                        "split": [
                            {"variant": "on", "weight": 50},
                            {"variant": "off", "weight": 50},
                        ]
                    }
                },
            },
            {
                "conditions": [{"attribute": "age", "op": "gte", "values": [18]}],
                "serve": {"variant": "on"},
            },
        ],
        "fallthrough": {"variant": "off"},
    },
}


def scheduled_ramp(first_step_at: str) -> dict[str, Any]:
    """A boolean flag whose fallthrough rollout serves `off` to everyone, then `on` from
    `first_step_at` on (schedule step 0), then `off` again from 2099 (step 1)."""
    return bool_flag(
        fallthrough={
            "rollout": {
                "split": [{"variant": "off", "weight": 100}],
                "schedule": [
                    {"at": first_step_at, "split": [{"variant": "on", "weight": 100}]},
                    {"at": "2099-01-01T00:00:00Z", "split": [{"variant": "off", "weight": 100}]},
                ],
            }
        }
    )


def run_concurrently(*steps: Callable[[], object], seconds: float = 1.0) -> None:
    """Calls each step over and over on a daemon thread of its own for `seconds`; fails
    if one raised, or if one is still running 10 s after being told to stop (a
    deadlock)."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop(step: Callable[[], object]) -> None:
        try:
            while not stop.is_set():
                step()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=loop, args=(step,), daemon=True) for step in steps]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert not errors, errors
