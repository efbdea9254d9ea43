"""Store.track_exposures: exposures handed to a Python sink on the tracking thread with
every field (the unit is the rollout's `by` attribute, else the key), repeats
deduplicated and counted, flush on demand and when the store goes, a JSON Lines file and
its rotation; a raising sink logged and counted; the store's methods refused inside the
sink (they would deadlock); reference cycles; no deadlock between the GIL and the
tracking thread; a forked child."""

from __future__ import annotations

import gc
import itertools
import json
import logging
import os
import re
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import bool_flag, run_concurrently, snapshot

SPLIT = {"split": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}
FLAGS: dict[str, Any] = {
    "experiment": {
        "variants": {"a": True, "b": False},
        "enabled": True,
        "off_variant": "b",
        "exposures": True,
        "targets": [{"variant": "b", "keys": ["vip"]}],
        "rules": [
            {
                "id": "beta",
                "conditions": [{"attribute": "beta", "op": "eq", "values": [True]}],
                "serve": {"rollout": {"by": "account", **SPLIT}},
            }
        ],
        "fallthrough": {"rollout": SPLIT},
    },
    "plain": bool_flag(),
}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LATER = 60.0  # a flush interval no test waits for: what arrives, arrives through a flush


@pytest.fixture
def store() -> flagcore.Store:
    return flagcore.Store.from_bytes(snapshot(7, FLAGS))


class Sink:
    """Keeps every exposure and the thread each batch came on."""

    def __init__(self) -> None:
        self.exposures: list[flagcore.Exposure] = []
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def __call__(self, batch: list[flagcore.Exposure]) -> None:
        with self.lock:
            self.exposures.extend(batch)
            self.threads.add(threading.get_ident())


def test_exposures_arrive_with_their_fields(store: flagcore.Store) -> None:
    store.bool("experiment", False, key="before")  # not tracking yet: nothing recorded
    sink = Sink()
    store.track_exposures(sink, flush_interval_s=LATER)
    by_account = store.bool_details("experiment", False, key="user-1", attrs={"beta": True, "account": 1027})
    by_name = store.bool_details("experiment", False, key="user-2", attrs={"beta": True, "account": "acct-9"})
    by_key = store.bool_details("experiment", False, key="user-3")
    store.bool("experiment", False, key="vip")
    store.bool("experiment", False, attrs={"beta": True, "account": 5})  # no key
    store.bool("plain", False, key="user-1")  # not opted in
    store.bool("missing", False, key="user-1")  # the caller's default
    store.bool("experiment", False, attrs={"beta": True})  # no unit: the default, no exposure
    time.sleep(0.05)
    assert sink.exposures == []
    store.flush_exposures()

    first, named, keyed, targeted, anonymous = sink.exposures
    assert TIME.match(first["time"]), first["time"]
    assert list(first) == [
        "time", "flag", "variant", "reason", "rule_index", "rule_id",
        "key", "unit", "bucket", "step", "version",
    ]  # fmt: skip
    assert {**first, "time": None} == {
        "time": None,
        "flag": "experiment",
        "variant": by_account.variant,
        "reason": "SPLIT",
        "rule_index": 0,
        "rule_id": "beta",
        "key": "user-1",
        "unit": "1027",  # the `by` attribute, an integer as its decimal string
        "bucket": by_account.bucket,
        "step": None,
        "version": 7,
    }
    assert (named["unit"], named["bucket"], named["variant"]) == ("acct-9", by_name.bucket, by_name.variant)
    assert (keyed["unit"], keyed["key"], keyed["rule_index"], keyed["rule_id"]) == ("user-3", "user-3", None, None)
    assert (keyed["bucket"], keyed["variant"]) == (by_key.bucket, by_key.variant)
    assert (targeted["reason"], targeted["variant"], targeted["unit"], targeted["bucket"]) == (
        "TARGETING_MATCH", "b", "vip", None,
    )  # fmt: skip
    assert (anonymous["key"], anonymous["unit"]) == (None, "5")
    assert sink.threads and threading.get_ident() not in sink.threads  # the tracking thread
    assert json.loads(json.dumps(first)) == first


def test_repeats_are_deduplicated_and_counted(store: flagcore.Store) -> None:
    assert store.exposure_stats() == {
        "accepted": 0, "delivered": 0, "deduplicated": 0, "dropped": 0, "sink_errors": 0,
    }  # fmt: skip
    sink = Sink()
    store.track_exposures(sink, flush_interval_s=LATER)
    for _ in range(5):
        store.bool("experiment", False, key="user-1")
    store.bool("experiment", False, key="user-2")
    store.flush_exposures()
    assert [e["key"] for e in sink.exposures] == ["user-1", "user-2"]
    assert store.exposure_stats() == {
        "accepted": 6, "delivered": 2, "deduplicated": 4, "dropped": 0, "sink_errors": 0,
    }  # fmt: skip


def test_without_dedup_every_repeat_is_delivered(store: flagcore.Store) -> None:
    sink = Sink()
    store.track_exposures(sink, dedup_size=0, flush_interval_s=LATER)
    for _ in range(3):
        store.bool("experiment", False, key="user-1")
    store.flush_exposures()
    assert len(sink.exposures) == 3


def test_the_interval_delivers_without_a_flush(store: flagcore.Store) -> None:
    sink = Sink()
    store.track_exposures(sink, flush_interval_s=0.01)
    store.bool("experiment", False, key="user-1")
    deadline = time.monotonic() + 5
    while not sink.exposures and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(sink.exposures) == 1


def test_a_replaced_sink_gets_what_came_before(store: flagcore.Store, tmp_path: Path) -> None:
    first, second = Sink(), Sink()
    store.track_exposures(first, flush_interval_s=LATER)
    store.bool("experiment", False, key="user-1")
    store.track_exposures(second, flush_interval_s=LATER)
    store.bool("experiment", False, key="user-2")
    path = tmp_path / "exposures.jsonl"
    store.track_exposures(path=path, flush_interval_s=LATER)
    store.bool("experiment", False, key="user-3")
    store.flush_exposures()
    assert [e["key"] for e in first.exposures] == ["user-1"]
    assert [e["key"] for e in second.exposures] == ["user-2"]
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()] == ["user-3"]


def test_the_store_going_delivers_what_is_queued() -> None:
    store = flagcore.Store.from_bytes(snapshot(7, FLAGS))
    sink = Sink()
    store.track_exposures(sink, flush_interval_s=LATER)
    for key in ("user-1", "user-2"):
        store.bool("experiment", False, key=key)
    del store  # dropped with the GIL held: it must be released for the sink to run
    gc.collect()
    assert [e["key"] for e in sink.exposures] == ["user-1", "user-2"]


def test_a_json_lines_file_gets_lines_and_rotates(store: flagcore.Store, tmp_path: Path) -> None:
    path = tmp_path / "exposures.jsonl"
    store.track_exposures(path=str(path), flush_interval_s=LATER)
    details = store.bool_details("experiment", False, key="user-1", attrs={"beta": True, "account": 9})
    store.bool("experiment", False, key="user-1", attrs={"beta": True, "account": 9})  # a repeat
    store.bool("experiment", False, attrs={"beta": True, "account": 10})
    store.flush_exposures()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert TIME.match(first.pop("time"))
    assert first == {
        "flag": "experiment", "variant": details.variant, "reason": "SPLIT", "rule_index": 0,
        "rule_id": "beta", "key": "user-1", "unit": "9", "bucket": details.bucket, "step": None,
        "version": 7,
    }  # fmt: skip
    assert lines[1].endswith('"version":7}') and '"key":null,"unit":"10"' in lines[1]

    # Rotated when a line would take the file past max_bytes; `keep` rotated files kept.
    rotating = tmp_path / "rotating.jsonl"
    store.track_exposures(path=rotating, max_bytes=len(lines[0]) + 40, keep=2, dedup_size=0, flush_interval_s=LATER)
    for i in range(5):
        store.bool("experiment", False, key=f"user-{i}")
    store.flush_exposures()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "exposures.jsonl", "rotating.jsonl", "rotating.jsonl.1", "rotating.jsonl.2",
    ]  # fmt: skip
    for file in ("rotating.jsonl", "rotating.jsonl.1", "rotating.jsonl.2"):
        assert len((tmp_path / file).read_text().splitlines()) == 1


def test_a_raising_sink_is_logged_and_counted(store: flagcore.Store, caplog: pytest.LogCaptureFixture) -> None:
    def broken(batch: list[flagcore.Exposure]) -> None:
        raise RuntimeError(f"cannot keep {len(batch)}")

    store.track_exposures(broken, flush_interval_s=LATER)
    store.bool("experiment", False, key="user-1")
    with caplog.at_level(logging.ERROR, logger="flagcore"):
        store.flush_exposures()  # does not raise
    [record] = caplog.records
    assert record.name == "flagcore" and "exposure sink" in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "cannot keep 1"
    stats = store.exposure_stats()
    assert (stats["accepted"], stats["delivered"], stats["sink_errors"]) == (1, 0, 1)


def test_waiting_from_the_sink_is_refused_not_a_deadlock(store: flagcore.Store) -> None:
    outcomes: dict[str, object] = {}

    def sink(batch: list[flagcore.Exposure]) -> None:
        calls = {
            "flush_exposures": store.flush_exposures,
            "track_exposures": lambda: store.track_exposures(print),
            "kill": lambda: store.kill("plain", "from the sink"),
            "update": lambda: store.update(snapshot(8, FLAGS)),
            "subscribe": lambda: store.subscribe(print),
        }
        for name, call in calls.items():
            try:
                call()
                outcomes[name] = "ran"
            except flagcore.FlagcoreError as error:
                outcomes[name] = error.code
        outcomes["bool"] = store.bool("plain", False)  # evaluations never wait
        outcomes["stats"] = store.exposure_stats()["accepted"]

    store.track_exposures(sink, flush_interval_s=LATER)
    store.bool("experiment", False, key="user-1")
    store.flush_exposures()
    assert outcomes.pop("bool") is True and outcomes.pop("stats") == 1
    assert set(outcomes.values()) == {"reentrant_call"}, outcomes
    assert store.kills() == [] and store.version == 7


def test_a_subscriber_may_flush(store: flagcore.Store) -> None:
    sink = Sink()
    store.track_exposures(sink, flush_interval_s=LATER)
    store.bool("experiment", False, key="user-1")
    store.subscribe(lambda change: store.flush_exposures())
    store.kill("plain", "incident")  # the subscriber flushes under the writer lock
    assert len(sink.exposures) == 1


def test_bad_arguments(store: flagcore.Store, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="a callable sink, path= or otlp_endpoint="):
        store.track_exposures()
    with pytest.raises(TypeError, match="not both"):
        store.track_exposures(print, path=tmp_path / "x.jsonl")
    with pytest.raises(TypeError, match="not int"):
        store.track_exposures(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="flush_interval_s"):
        store.track_exposures(print, flush_interval_s=0)
    with pytest.raises(ValueError, match="dedup_window_s"):
        store.track_exposures(print, dedup_window_s=float("nan"))
    with pytest.raises(ValueError, match="capacity"):
        store.track_exposures(print, capacity=0)
    with pytest.raises(flagcore.FlagcoreError) as raised:
        store.track_exposures(path=tmp_path / "no" / "such" / "dir.jsonl")
    assert raised.value.code == "io" and isinstance(raised.value.__cause__, FileNotFoundError)
    store.flush_exposures()  # nothing tracked: returns at once
    assert store.exposure_stats()["accepted"] == 0


def test_a_sink_in_a_reference_cycle_is_collected() -> None:
    class Service:
        def __init__(self) -> None:
            self.store = flagcore.Store.from_bytes(snapshot(7, FLAGS))
            self.store.track_exposures(self.on_exposures, flush_interval_s=LATER)
            self.exposures: list[flagcore.Exposure] = []

        def on_exposures(self, batch: list[flagcore.Exposure]) -> None:
            self.exposures.extend(batch)

    service = Service()
    service.store.bool("experiment", False, key="user-1")
    service.store.flush_exposures()
    assert len(service.exposures) == 1
    ref = weakref.ref(service)
    del service
    gc.collect()
    assert ref() is None


def test_no_deadlock_between_the_gil_and_the_tracking_thread(store: flagcore.Store) -> None:
    """The tracking thread takes the GIL to call the sink while other threads evaluate,
    flush, replace the sink and update, each releasing the GIL while it waits."""
    sink = Sink()
    store.track_exposures(sink, dedup_size=0, flush_interval_s=0.001)
    keys = itertools.count()  # shared by the threads: a generator would not be
    versions = itertools.count(8)

    def evaluate() -> None:
        store.bool("experiment", False, key=f"user-{next(keys)}")

    def manage() -> None:
        store.flush_exposures()
        store.track_exposures(sink, dedup_size=0, flush_interval_s=0.001)
        store.update(snapshot(next(versions), FLAGS))

    run_concurrently(evaluate, evaluate, manage)
    store.flush_exposures()
    stats = store.exposure_stats()
    assert stats["delivered"] == len(sink.exposures) > 100
    assert stats["accepted"] + stats["dropped"] >= stats["delivered"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_refuses_instead_of_hanging(store: flagcore.Store) -> None:
    store.track_exposures(Sink(), flush_interval_s=LATER)
    pid = os.fork()
    if pid == 0:  # the child: no tracking thread
        code = 1
        try:
            store.flush_exposures()
        except RuntimeError as error:
            code = 0 if "fork" in str(error) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    store.flush_exposures()  # the parent's thread is still there
