"""Store.subscribe: the changes each update, kill, revive, guardrail trip and source reload
makes, told on the thread that made them; exceptions logged; the store's writing methods
refused inside a subscriber (they would deadlock) while evaluations work; unsubscribe;
reference cycles; and no deadlock between the GIL and the store's writer lock."""

from __future__ import annotations

import gc
import itertools
import logging
import os
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import bool_flag, run_concurrently, snapshot

FLAGS: dict[str, Any] = {
    "checkout": bool_flag(
        guardrails=[{"id": "budget", "watch": ["on"], "max_error_rate": 0.05}],
    ),
    "theme": {
        "variants": {"light": "#fff", "dark": "#000"},
        "enabled": True,
        "off_variant": "light",
        "fallthrough": {"variant": "light"},
    },
    "needs-checkout": bool_flag(prerequisites=[{"flag": "checkout", "variant": "on"}]),
    "beta-only": bool_flag(
        rules=[{"conditions": [{"in_segment": "beta"}], "serve": {"variant": "on"}}],
        fallthrough={"variant": "off"},
    ),
}
SEGMENTS: dict[str, Any] = {"beta": {"include": ["ann"]}}


@pytest.fixture
def store() -> flagcore.Store:
    return flagcore.Store.from_bytes(snapshot(1, FLAGS, segments=SEGMENTS))


class Recorder:
    """A subscriber that keeps each change and the thread it came on."""

    def __init__(self) -> None:
        self.changes: list[flagcore.Change] = []
        self.threads: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, change: flagcore.Change) -> None:
        with self.lock:
            self.changes.append(change)
            self.threads.append(threading.get_ident())

    def wait(self, count: int) -> list[flagcore.Change]:
        deadline = time.monotonic() + 5
        while len(self.changes) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"only {self.changes} after 5 s, expected {count} changes")
            time.sleep(0.01)
        return self.changes


def test_updates_name_the_flags_they_change(store: flagcore.Store) -> None:
    seen = Recorder()
    store.subscribe(seen)
    dark = {**FLAGS["theme"], "fallthrough": {"variant": "dark"}}
    assert store.update(snapshot(2, {**FLAGS, "theme": dark}, segments=SEGMENTS)) == 2
    # A prerequisite's change reaches the flags that need it; a segment's, those using it.
    off = bool_flag(fallthrough={"variant": "off"}, guardrails=FLAGS["checkout"]["guardrails"])
    store.update(snapshot(3, {**FLAGS, "theme": dark, "checkout": off}, segments=SEGMENTS))
    store.update(snapshot(4, {**FLAGS, "theme": dark, "checkout": off}, segments={"beta": {"include": ["bob"]}}))
    # Flags added and removed; then an update that changes no flag.
    store.update(snapshot(5, {"theme": dark, "extra": bool_flag()}))
    store.update(snapshot(6, {"theme": dark, "extra": bool_flag()}))
    assert seen.changes == [
        {"version": 2, "flags": ["theme"]},
        {"version": 3, "flags": ["checkout", "needs-checkout"]},
        {"version": 4, "flags": ["beta-only"]},
        {"version": 5, "flags": ["beta-only", "checkout", "extra", "needs-checkout"]},
        {"version": 6, "flags": []},
    ]
    assert set(seen.threads) == {threading.get_ident()}
    # Refused updates change nothing and tell no one.
    with pytest.raises(flagcore.StaleSnapshotError):
        store.update(snapshot(6, FLAGS, segments=SEGMENTS))
    with pytest.raises(flagcore.InvalidSnapshotError):
        store.update("{")
    assert len(seen.changes) == 5


def test_kills_revives_and_trips(store: flagcore.Store) -> None:
    seen = Recorder()
    store.subscribe(seen)
    store.kill("theme", "incident")
    store.kill("theme", "again")  # already killed: nothing changes
    assert store.revive("theme") is True
    assert store.revive("theme") is False
    for i in range(1, 101):  # every other observation fails: "budget" trips at the last
        store.observe("checkout", "on", error=i % 2 == 1)
    assert store.bool("checkout", True) is False
    assert seen.changes == [
        {"version": 1, "flags": ["theme"]},
        {"version": 1, "flags": ["theme"]},
        {"version": 1, "flags": ["checkout", "needs-checkout"]},  # and its dependent
    ]
    assert set(seen.threads) == {threading.get_ident()}


def test_a_kill_before_the_first_snapshot_has_no_version() -> None:
    store = flagcore.Store()
    seen = Recorder()
    store.subscribe(seen)
    store.kill("checkout", "early")
    assert seen.changes == [{"version": None, "flags": ["checkout"]}]


def test_unsubscribe(store: flagcore.Store) -> None:
    first, second = Recorder(), Recorder()
    one = store.subscribe(first)
    two = store.subscribe(second)
    assert one != two
    store.kill("theme", "x")
    assert store.unsubscribe(one) is True
    assert store.unsubscribe(one) is False
    assert store.unsubscribe(12345) is False
    store.revive("theme")
    assert len(first.changes) == 1 and len(second.changes) == 2


def test_a_file_source_is_heard_on_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(snapshot(1, {"checkout": bool_flag()}), encoding="utf-8")
    store = flagcore.Store()
    seen = Recorder()
    store.subscribe(seen)
    with flagcore.FileSource(store, path, debounce=0.01):
        # The first read happens inside the constructor, on this thread.
        assert seen.changes == [{"version": 1, "flags": ["checkout"]}]
        temporary = tmp_path / "flags.json.tmp"
        temporary.write_text(snapshot(2, {"checkout": bool_flag(enabled=False)}), encoding="utf-8")
        os.replace(temporary, path)
        assert seen.wait(2)[1] == {"version": 2, "flags": ["checkout"]}
    assert seen.threads[0] == threading.get_ident()
    assert seen.threads[1] != threading.get_ident()  # the source's own thread


def test_a_raising_subscriber_is_logged_and_the_change_stands(
    store: flagcore.Store, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(change: flagcore.Change) -> None:
        raise RuntimeError(f"cannot handle {change['flags']}")

    later = Recorder()
    store.subscribe(broken)
    store.subscribe(later)
    with caplog.at_level(logging.ERROR, logger="flagcore"):
        store.kill("theme", "incident")  # does not raise
    assert store.string("theme", "?") == "#fff" and [k["flag"] for k in store.kills()] == ["theme"]
    assert later.changes == [{"version": 1, "flags": ["theme"]}]  # the next one is still told
    [record] = caplog.records
    assert record.name == "flagcore" and "subscriber" in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "cannot handle ['theme']"


def test_writing_from_a_subscriber_is_refused_not_a_deadlock(store: flagcore.Store) -> None:
    other = flagcore.Store.from_bytes(snapshot(1, FLAGS, segments=SEGMENTS))
    outcomes: dict[str, object] = {}

    def subscriber(change: flagcore.Change) -> None:
        calls = {
            "update": lambda: store.update(snapshot(9, FLAGS, segments=SEGMENTS)),
            "kill": lambda: store.kill("theme", "nested"),
            "revive": lambda: store.revive("checkout"),
            "kills": store.kills,
            "observe": lambda: store.observe("checkout", "on", error=False),
            "guardrail_trips": lambda: store.guardrail_trips,
            "take_metrics": store.take_metrics,
            "set_metrics_enabled": lambda: store.set_metrics_enabled(True),
            "subscribe": lambda: store.subscribe(print),
            "unsubscribe": lambda: store.unsubscribe(1),
            "scrape": lambda: flagcore.MetricsExporter().scrape(store),
        }
        for name, call in calls.items():
            try:
                call()
                outcomes[name] = "ran"
            except flagcore.FlagcoreError as error:
                outcomes[name] = error.code
        # Reading never waits for the writer lock; another store is another lock.
        outcomes["bool"] = store.bool("checkout", True)
        outcomes["version"] = store.version
        other.kill("theme", "from a subscriber of another store")
        outcomes["other"] = [k["flag"] for k in other.kills()]

    store.subscribe(subscriber)
    store.kill("checkout", "incident")
    assert outcomes.pop("bool") is False and outcomes.pop("version") == 1
    assert outcomes.pop("other") == ["theme"]
    assert set(outcomes.values()) == {"reentrant_call"}, outcomes
    assert [k["flag"] for k in store.kills()] == ["checkout"]  # the refused kill did nothing


def test_a_non_callable_is_refused(store: flagcore.Store) -> None:
    with pytest.raises(TypeError, match="callable"):
        store.subscribe(42)  # type: ignore[arg-type]


def test_a_subscriber_in_a_reference_cycle_is_collected() -> None:
    class Service:
        def __init__(self) -> None:
            self.store = flagcore.Store.from_bytes(snapshot(1, FLAGS, segments=SEGMENTS))
            self.store.subscribe(self.on_change)
            self.changes: list[flagcore.Change] = []

        def on_change(self, change: flagcore.Change) -> None:
            self.changes.append(change)

    service = Service()
    service.store.kill("theme", "x")
    assert len(service.changes) == 1
    ref = weakref.ref(service)
    del service
    gc.collect()
    assert ref() is None


def test_no_deadlock_between_the_gil_and_the_writer_lock(store: flagcore.Store) -> None:
    """A writer thread calls subscribers (taking the GIL) under the store's lock while
    other threads call methods that take that lock: each must release the GIL first."""
    told = Recorder()
    store.subscribe(told)
    versions = itertools.count(2)

    def write() -> None:
        version = next(versions)
        theme = {**FLAGS["theme"], "fallthrough": {"variant": ("light", "dark")[version % 2]}}
        store.update(snapshot(version, {**FLAGS, "theme": theme}, segments=SEGMENTS))
        store.kill("needs-checkout", "flap")
        store.revive("needs-checkout")

    def read() -> None:
        store.kills()
        store.guardrail_trips
        store.take_metrics()
        store.set_metrics_enabled(True)
        store.observe("checkout", "off", error=False)
        store.unsubscribe(store.subscribe(lambda change: None))

    run_concurrently(write, read, read)
    assert len(told.changes) > 10
