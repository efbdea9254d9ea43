"""Guardrails: observe, the guardrails() view, the counters, trips killing a flag, revive
resetting the evidence, and the trip callback (its thread, its exceptions, reference
cycles through it)."""

from __future__ import annotations

import gc
import logging
import math
import threading
import weakref
from typing import Any

import pytest

import flagcore

from _support import bool_flag, snapshot

# "checkout" serves "on" to everyone. "budget" trips at the 100th observation of "on"
# (the fewest it decides on) when every other one failed; "errors" compares "on" with
# the baseline "off"; "p99" counts the observations of "on" slower than 250 ms.
GUARDED = {
    "checkout": bool_flag(
        guardrails=[
            {"id": "budget", "watch": ["on"], "max_error_rate": 0.05},
            {"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01},
            {"id": "p99", "watch": ["on"], "latency_percentile": 99, "max_latency_ms": 250},
        ]
    ),
    "plain": bool_flag(),
}


@pytest.fixture
def guarded() -> flagcore.Store:
    return flagcore.Store.from_bytes(snapshot(1, GUARDED))


def guardrail(store: flagcore.Store, id: str) -> flagcore.GuardrailStatus:
    [found] = [g for g in store.guardrails() if g["id"] == id]
    return found


def trip_budget(store: flagcore.Store) -> None:
    """100 observations of "on", every other one failed: "budget" trips at the last."""
    for i in range(1, 101):
        store.observe("checkout", "on", error=i % 2 == 1)


def test_status_counts_each_guardrails_evidence(guarded: flagcore.Store) -> None:
    guarded.observe("checkout", "on", error=True, latency_ms=300.0)
    guarded.observe("checkout", "on", error=False, latency_ms=12.5)
    guarded.observe("checkout", "on", error=False)  # no latency: not counted by p99
    guarded.observe("checkout", "off", error=False, latency_ms=0)
    assert guarded.guardrails() == [
        {
            "flag": "checkout",
            "id": "budget",
            "bound": "max_error_rate 0.05",
            "watched": [{"variant": "on", "observations": 3, "events": 1}],
            "baseline": None,
            "likelihood_ratio": 0.0,
            "tripped": False,
        },
        {
            "flag": "checkout",
            "id": "errors",
            "bound": "max_increase 0.01 over off",
            "watched": [{"variant": "on", "observations": 3, "events": 1}],
            "baseline": {"variant": "off", "observations": 1, "events": 0},
            "likelihood_ratio": 0.0,
            "tripped": False,
        },
        {
            "flag": "checkout",
            "id": "p99",
            "bound": "p99 at most 250 ms",
            "watched": [{"variant": "on", "observations": 2, "events": 1}],
            "baseline": None,
            "likelihood_ratio": 0.0,
            "tripped": False,
        },
    ]
    assert guarded.guardrail_trips == 0
    assert flagcore.Store().guardrails() == []


def test_a_trip_kills_the_flag(guarded: flagcore.Store) -> None:
    for i in range(1, 100):
        guarded.observe("checkout", "on", error=i % 2 == 1)
    assert guarded.bool("checkout", False) is True
    assert guarded.kills() == []
    guarded.observe("checkout", "on", error=False)  # the 100th
    assert guarded.bool("checkout", True) is False
    assert guarded.bool_details("checkout", True).reason == "DISABLED"
    [kill] = guarded.kills()
    assert kill["flag"] == "checkout"
    assert kill["reason"].startswith("guardrail budget: 50.0% errors, 100 observations")
    assert guarded.guardrail_trips == 1
    budget = guardrail(guarded, "budget")
    assert budget["tripped"] and budget["likelihood_ratio"] >= 100
    assert budget["watched"] == [{"variant": "on", "observations": 100, "events": 50}]


def test_unknown_flags_and_variants_are_counted_no_ops(guarded: flagcore.Store) -> None:
    guarded.observe("no-such-flag", "on", error=True)
    guarded.observe("checkout", "maybe", error=True, latency_ms=5)
    guarded.observe("", "", error=False)
    guarded.observe("checkout", None, error=True)  # the caller's default was served
    assert guarded.observations_ignored == 4
    guarded.observe("plain", "on", error=True)  # known, without guardrails: not ignored
    assert guarded.observations_ignored == 4
    assert all(g["watched"][0]["observations"] == 0 for g in guarded.guardrails())
    empty = flagcore.Store()  # no snapshot yet: every observation is ignored
    empty.observe("checkout", "on", error=True)
    assert empty.observations_ignored == 1


def test_observing_a_killed_flag_adds_nothing(guarded: flagcore.Store) -> None:
    guarded.kill("checkout", "INC-1")
    for _ in range(200):
        guarded.observe("checkout", "on", error=True)
    assert all(g["watched"][0]["observations"] == 0 for g in guarded.guardrails())
    assert guarded.guardrail_trips == 0
    [kill] = guarded.kills()
    assert kill["reason"] == "INC-1"  # not replaced by a trip


def test_revive_resets_the_evidence(guarded: flagcore.Store) -> None:
    trip_budget(guarded)
    guarded.observe("checkout", "on", error=True)  # killed: not counted
    assert guarded.revive("checkout") is True
    assert guarded.bool("checkout", False) is True
    for g in guarded.guardrails():
        assert not g["tripped"]
        assert g["watched"][0]["observations"] == 0 and g["watched"][0]["events"] == 0
    trip_budget(guarded)  # trips again from scratch
    assert guarded.guardrail_trips == 2


def test_the_callback_is_called_on_the_observing_thread(guarded: flagcore.Store) -> None:
    calls: list[tuple[flagcore.Kill, int, int]] = []

    def on_trip(kill: flagcore.Kill) -> None:
        # No lock of the store is held: reading it here must not deadlock.
        calls.append((kill, threading.get_ident(), len(guarded.kills())))

    guarded.on_guardrail_trip(on_trip)
    trip_budget(guarded)
    [(kill, thread, kills_seen)] = calls
    assert kill["flag"] == "checkout" and kill["reason"].startswith("guardrail budget")
    assert kill == guarded.kills()[0]
    assert thread == threading.get_ident()
    assert kills_seen == 1

    guarded.revive("checkout")
    guarded.on_guardrail_trip(None)
    trip_budget(guarded)
    assert len(calls) == 1 and guarded.guardrail_trips == 2


def test_a_raising_callback_is_logged_not_raised(
    guarded: flagcore.Store, caplog: pytest.LogCaptureFixture
) -> None:
    def on_trip(kill: flagcore.Kill) -> None:
        raise RuntimeError(f"paging failed for {kill['flag']}")

    guarded.on_guardrail_trip(on_trip)
    with caplog.at_level(logging.ERROR, logger="flagcore"):
        trip_budget(guarded)  # does not raise
    assert guarded.bool("checkout", True) is False
    [record] = caplog.records
    assert record.name == "flagcore" and "on_guardrail_trip callback" in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "paging failed for checkout"


def test_a_callback_in_a_reference_cycle_is_collected() -> None:
    class Service:
        def __init__(self) -> None:
            self.store = flagcore.Store.from_bytes(snapshot(1, GUARDED))
            self.store.on_guardrail_trip(self.on_trip)
            self.trips: list[flagcore.Kill] = []

        def on_trip(self, kill: flagcore.Kill) -> None:
            self.trips.append(kill)

    service = Service()
    trip_budget(service.store)
    assert len(service.trips) == 1
    ref = weakref.ref(service)
    del service
    gc.collect()
    assert ref() is None


def test_bad_arguments_raise(guarded: flagcore.Store) -> None:
    for bad in (-1.0, math.nan, math.inf, -math.inf, 1e300):
        with pytest.raises(ValueError, match="latency_ms"):
            guarded.observe("checkout", "on", error=False, latency_ms=bad)
    args: Any = ("checkout", "on", True)
    with pytest.raises(TypeError):
        guarded.observe(*args)  # error is keyword-only
    with pytest.raises(TypeError):
        guarded.observe("checkout", "on")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="callable"):
        guarded.on_guardrail_trip(42)  # type: ignore[arg-type]
    assert guardrail(guarded, "budget")["watched"][0]["observations"] == 0
    assert guarded.observations_ignored == 0


def test_threads_observing_at_once_trip_once(guarded: flagcore.Store) -> None:
    calls: list[flagcore.Kill] = []
    guarded.on_guardrail_trip(calls.append)

    def observer() -> None:
        for i in range(2000):
            guarded.observe("checkout", "on", error=i % 2 == 0, latency_ms=float(i % 10))
            guarded.observe("checkout", "gone", error=False)

    threads = [threading.Thread(target=observer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and guarded.guardrail_trips == 1
    assert guarded.observations_ignored == 4 * 2000


def test_prometheus_page_shows_guardrails(guarded: flagcore.Store) -> None:
    trip_budget(guarded)
    guarded.observe("nope", "on", error=False)
    page = flagcore.MetricsExporter().scrape(guarded)
    assert "flagcore_guardrail_trips_total 1" in page
    assert "flagcore_guardrail_observations_ignored_total 1" in page
    assert 'flagcore_guardrail_tripped{flag="checkout",guardrail="budget"} 1' in page
