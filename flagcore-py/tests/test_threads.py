"""Many threads evaluating while others update, kill and revive."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import flagcore

from _support import bool_flag, snapshot

READERS = 4
UPDATES = 100
KILLS = 200


@pytest.fixture(autouse=True)
def fine_thread_switching() -> Iterator[None]:
    """Switch threads every 0.1 ms rather than 5 ms: more interleavings, shorter tests."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(interval)


def versioned(version: int) -> str:
    """Version `version`: flag `ver` serves str(version), `twin` serves version too."""
    return snapshot(
        version,
        {
            "ver": {
                "variants": {"current": str(version), "never": "never"},
                "enabled": True,
                "off_variant": "never",
                "fallthrough": {"variant": "current"},
            },
            "twin": {
                "variants": {"current": version, "never": -1},
                "enabled": True,
                "off_variant": "never",
                "fallthrough": {"variant": "current"},
            },
            "guarded": bool_flag(
                rules=[
                    {
                        "id": "pro",
                        "conditions": [{"attribute": "plan", "op": "eq", "values": ["pro"]}],
                        "serve": {"variant": "on"},
                    }
                ],
                fallthrough={"variant": "off"},
            ),
        },
    )


def test_readers_see_whole_snapshots_in_order_while_writers_run() -> None:
    store = flagcore.Store.from_bytes(versioned(1))
    store.take_metrics()
    done = threading.Event()
    failures: list[str] = []
    evaluations = [0] * READERS
    seen: set[int] = set()
    guarded_seen: set[str] = set()

    def reader(index: int) -> None:
        last = 0
        count = 0
        key = f"user-{index}"
        attrs: dict[str, Any] = {"plan": "pro", "n": index}
        try:
            while not done.is_set() or count < 1000:
                details = store.string_details("ver", "default", key=key, attrs=attrs)
                count += 1
                if details.reason != "STATIC" or details.variant != "current":
                    failures.append(f"ver: {details!r}")
                    return
                version = int(details.value)
                if version < last:
                    failures.append(f"went back from version {last} to {version}")
                    return
                last = version
                seen.add(version)
                guarded = store.bool_details("guarded", True, key=key, attrs=attrs)
                if (guarded.value, guarded.reason) not in ((True, "TARGETING_MATCH"), (False, "DISABLED")):
                    failures.append(f"guarded: {guarded!r}")
                    return
                guarded_seen.add(guarded.reason)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(repr(error))
        finally:
            evaluations[index] = count

    def updater() -> None:
        for version in range(2, UPDATES + 2):
            store.update(versioned(version))
            time.sleep(0.0002)  # let readers see this version

    def killer() -> None:
        for _ in range(KILLS):
            store.kill("guarded", "flapping")
            time.sleep(0)
            store.revive("guarded")
            time.sleep(0)

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    writers = [threading.Thread(target=updater), threading.Thread(target=killer)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()

    assert failures == []
    assert len(seen) > 10, "the readers ran while the snapshots changed"
    assert guarded_seen == {"TARGETING_MATCH", "DISABLED"}
    # Every evaluation was counted exactly once, across all the retired snapshots.
    metrics = store.take_metrics()
    assert sum(metrics["ver"]["variants"].values()) == sum(evaluations)
    assert sum(metrics["guarded"]["variants"].values()) == sum(evaluations)
    assert store.version == UPDATES + 1
    assert store.kills() == []
    assert store.string("ver", "") == str(UPDATES + 1)


def test_concurrent_updates_never_go_back() -> None:
    store = flagcore.Store.from_bytes(versioned(1))
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def writer(versions: range) -> None:
        for version in versions:
            try:
                store.update(versioned(version))
                result = "ok"
            except flagcore.StaleSnapshotError:
                result = "stale"
            with lock:
                outcomes.append((version, result))

    threads = [threading.Thread(target=writer, args=(range(2 + i, 200, 4),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 198
    assert store.version == max(v for v, result in outcomes if result == "ok") == 199
    assert store.string("ver", "") == "199"
