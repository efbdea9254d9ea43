"""flagcore.openfeature.FlagcoreProvider through the real OpenFeature SDK client."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openfeature")

from openfeature import api  # noqa: E402
from openfeature.evaluation_context import clear_evaluation_context, set_evaluation_context  # noqa: E402
from openfeature.client import OpenFeatureClient  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from openfeature.event import EventDetails, ProviderEvent  # noqa: E402
from openfeature.exception import ErrorCode  # noqa: E402
from openfeature.flag_evaluation import Reason  # noqa: E402
from openfeature.provider import ProviderStatus  # noqa: E402

import flagcore  # noqa: E402
from flagcore.openfeature import FlagcoreProvider  # noqa: E402

from _support import TYPED_FLAGS, bool_flag, scheduled_ramp, snapshot  # noqa: E402

FLAGS: dict[str, Any] = {
    **TYPED_FLAGS,
    "needs-dark-mode": bool_flag(prerequisites=[{"flag": "dark-mode", "variant": "off"}]),
    "launch": bool_flag(
        rules=[
            {
                "id": "after-launch",
                "conditions": [
                    {"attribute": "now", "op": "after", "values": ["2030-01-01T00:00:00Z"]}
                ],
                "serve": {"variant": "on"},
            }
        ],
        fallthrough={"variant": "off"},
    ),
    "keyed-rollout": bool_flag(
        fallthrough={
            "rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}
        }
    ),
}


@pytest.fixture(autouse=True)
def clean_api() -> Iterator[None]:
    yield
    api.clear_providers()


@pytest.fixture
def provider() -> FlagcoreProvider:
    return FlagcoreProvider(flagcore.Store.from_bytes(snapshot(1, FLAGS)))


@pytest.fixture
def client(provider: FlagcoreProvider) -> OpenFeatureClient:
    api.set_provider_and_wait(provider)
    return api.get_client()


def events(client: OpenFeatureClient, event: ProviderEvent) -> queue.Queue[EventDetails]:
    received: queue.Queue[EventDetails] = queue.Queue()
    client.add_handler(event, received.put)
    return received


def test_all_five_types(client: OpenFeatureClient) -> None:
    assert api.get_provider_metadata().name == "flagcore"
    boolean = client.get_boolean_details("dark-mode", False)
    assert (boolean.value, boolean.variant, boolean.reason, boolean.error_code) == (
        True,
        "on",
        Reason.STATIC,
        None,
    )
    assert client.get_string_value("color", "x") == "#00f"
    assert client.get_integer_value("max-items", 0) == 100
    assert client.get_float_value("ratio", 0.0) == 0.75
    assert client.get_float_value("max-items", 0.0) == 100.0
    assert client.get_object_value("layout", {}) == {"columns": 2, "items": ["x", None, 1.5]}
    assert client.get_object_details("layout", {}).reason == Reason.STATIC


def test_context_mapping(client: OpenFeatureClient) -> None:
    target = client.get_string_details("color", "x", EvaluationContext("rita"))
    assert (target.value, target.reason) == ("#f00", Reason.TARGETING_MATCH)
    assert target.flag_metadata == {"flagcore.target": True}
    split = client.get_boolean_details(
        "canary", False, EvaluationContext("u-1", {"plan": "pro", "tags": ["a"], "extra": {"x": 1}})
    )
    assert split.reason == Reason.SPLIT
    assert split.flag_metadata["flagcore.rule_id"] == "pro-half"
    assert split.flag_metadata["flagcore.rule_index"] == 0
    bucket = split.flag_metadata["flagcore.bucket"]
    assert isinstance(bucket, int) and split.value is (bucket < 50_000)
    adult = client.get_boolean_details("canary", False, EvaluationContext("kid", {"age": 18}))
    assert (adult.value, adult.reason) == (True, Reason.TARGETING_MATCH)
    assert "flagcore.rule_id" not in adult.flag_metadata  # the rule has no id


def test_schedule_step_metadata() -> None:
    flags = {"ramped": scheduled_ramp("2020-01-01T00:00:00Z"), "plain": FLAGS["keyed-rollout"]}
    api.set_provider_and_wait(FlagcoreProvider(flagcore.Store.from_bytes(snapshot(1, flags))))
    client = api.get_client()
    ramped = client.get_boolean_details("ramped", False, EvaluationContext("u-1"))
    assert (ramped.value, ramped.reason) == (True, Reason.SPLIT)
    assert ramped.flag_metadata["flagcore.step"] == 0
    plain = client.get_boolean_details("plain", False, EvaluationContext("u-1"))
    assert plain.reason == Reason.SPLIT and "flagcore.bucket" in plain.flag_metadata
    assert "flagcore.step" not in plain.flag_metadata  # no schedule


def test_api_level_context_is_merged(client: OpenFeatureClient) -> None:
    set_evaluation_context(EvaluationContext(attributes={"plan": "pro"}))
    try:
        details = client.get_boolean_details("canary", False, EvaluationContext("u-1"))
        assert details.reason == Reason.SPLIT
    finally:
        clear_evaluation_context()


def test_datetime_attributes_become_rfc3339(client: OpenFeatureClient) -> None:
    later = datetime(2031, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert client.get_boolean_value("launch", False, EvaluationContext("u", {"now": later}))
    naive = datetime(2029, 12, 31, 23, 59)  # taken as UTC
    assert not client.get_boolean_value("launch", True, EvaluationContext("u", {"now": naive}))


def test_flag_metadata_includes_the_flags_own(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("dark-mode", False)
    assert details.flag_metadata == {"owner": "web", "ticket": 1234, "ratio": 0.5, "beta": True}


def test_error_codes(client: OpenFeatureClient) -> None:
    missing = client.get_boolean_details("missing", True)
    assert (missing.value, missing.reason, missing.error_code) == (
        True,
        Reason.ERROR,
        ErrorCode.FLAG_NOT_FOUND,
    )
    assert missing.error_message == "flag 'missing' is not in the snapshot"
    mismatch = client.get_integer_details("color", 7)
    assert (mismatch.value, mismatch.error_code) == (7, ErrorCode.TYPE_MISMATCH)
    assert mismatch.error_message == "flag 'color' is not an integer flag"
    no_key = client.get_boolean_details("keyed-rollout", True)
    assert (no_key.value, no_key.error_code) == (True, ErrorCode.TARGETING_KEY_MISSING)
    huge = client.get_boolean_details("canary", True, EvaluationContext("u", {"age": 2**70}))
    assert (huge.value, huge.error_code) == (True, ErrorCode.INVALID_CONTEXT)
    assert "does not fit in 64 bits" in (huge.error_message or "")


def test_disabled_and_prerequisite_failed(provider: FlagcoreProvider, client: OpenFeatureClient) -> None:
    prerequisite = client.get_boolean_details("needs-dark-mode", True)
    assert (prerequisite.value, prerequisite.reason) == (False, "PREREQUISITE_FAILED")
    assert prerequisite.error_code is None
    provider.kill("dark-mode", "incident")
    killed = client.get_boolean_details("dark-mode", True)
    assert (killed.value, killed.variant, killed.reason) == (False, "off", Reason.DISABLED)


def test_async_client(client: OpenFeatureClient) -> None:
    async def evaluate() -> tuple[bool, str]:
        flag = await client.get_boolean_value_async("dark-mode", False)
        color = await client.get_string_value_async("color", "x", EvaluationContext("rita"))
        return flag, color

    assert asyncio.run(evaluate()) == (True, "#f00")


def test_update_emits_configuration_changed(provider: FlagcoreProvider, client: OpenFeatureClient) -> None:
    changed = events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    provider.update(snapshot(2, FLAGS))  # the same flags: a new version, no flag changed
    details = changed.get(timeout=5)
    assert details.flags_changed == [] and details.metadata == {"version": 2}
    new_flags = {**FLAGS, "dark-mode": bool_flag(fallthrough={"variant": "off"}), "extra": bool_flag()}
    del new_flags["ratio"]
    assert provider.update(snapshot(3, new_flags)) == 3
    details = changed.get(timeout=5)
    # "needs-dark-mode" has "dark-mode" as a prerequisite: what it serves may change too.
    assert details.flags_changed == ["dark-mode", "extra", "needs-dark-mode", "ratio"]
    assert details.metadata == {"version": 3}
    assert client.get_boolean_value("dark-mode", True) is False
    # An invalid or stale snapshot raises and emits nothing; the old one serves on.
    with pytest.raises(flagcore.InvalidSnapshotError):
        provider.update("{")
    with pytest.raises(flagcore.StaleSnapshotError):
        provider.update(snapshot(3, FLAGS))
    provider.kill("color", "bad color")
    assert changed.get(timeout=5).flags_changed == ["color"]
    assert provider.revive("color") is True
    assert changed.get(timeout=5).flags_changed == ["color"]
    assert provider.revive("color") is False
    assert provider.store.version == 3
    time.sleep(0.1)  # handlers run on the SDK's threads: let a stray one arrive
    assert changed.empty()


def test_changes_made_on_the_store_emit_events(provider: FlagcoreProvider, client: OpenFeatureClient) -> None:
    changed = events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    store = provider.store  # not through the provider
    store.update(snapshot(2, {**FLAGS, "color": {**FLAGS["color"], "fallthrough": {"variant": "red"}}}))
    details = changed.get(timeout=5)
    assert (details.flags_changed, details.metadata) == (["color"], {"version": 2})
    assert client.get_string_value("color", "x") == "#f00"
    store.kill("max-items", "incident")
    details = changed.get(timeout=5)
    assert (details.flags_changed, details.metadata) == (["max-items"], {"version": 2})
    assert client.get_integer_value("max-items", 0) == 10
    store.revive("max-items")
    assert changed.get(timeout=5).flags_changed == ["max-items"]


def test_a_file_source_emits_events(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(snapshot(1, FLAGS))
    store = flagcore.Store()
    with flagcore.FileSource(store, path, debounce=0.01):
        api.set_provider_and_wait(FlagcoreProvider(store))
        client = api.get_client()
        changed = events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
        temporary = tmp_path / "flags.json.tmp"
        temporary.write_text(snapshot(2, {**FLAGS, "ratio": {**FLAGS["ratio"], "enabled": False}}))
        os.replace(temporary, path)  # the source reloads it on its own thread
        details = changed.get(timeout=5)
        assert (details.flags_changed, details.metadata) == (["ratio"], {"version": 2})
        assert client.get_float_value("ratio", 0.0) == 0.25


def test_segment_changes_report_the_flags_using_them() -> None:
    flags = {
        "beta-only": bool_flag(
            rules=[{"conditions": [{"in_segment": "beta"}], "serve": {"variant": "on"}}],
            fallthrough={"variant": "off"},
        ),
        "plain": bool_flag(),
    }
    provider = FlagcoreProvider(flagcore.Store.from_bytes(snapshot(1, flags, segments={"beta": {"include": ["ann"]}})))
    api.set_provider_and_wait(provider)
    changed = events(api.get_client(), ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    provider.store.update(snapshot(2, flags, segments={"beta": {"include": ["bob"]}}))
    assert changed.get(timeout=5).flags_changed == ["beta-only"]


def test_shutdown_ends_the_events(provider: FlagcoreProvider, client: OpenFeatureClient) -> None:
    changed = events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    api.clear_providers()  # shuts the provider down
    provider.store.kill("color", "after shutdown")
    time.sleep(0.1)
    assert changed.empty()


def test_initialize_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(snapshot(4, FLAGS))
    provider = FlagcoreProvider(path=path)
    api.set_provider_and_wait(provider)
    client = api.get_client()
    assert client.get_provider_status() == ProviderStatus.READY
    assert client.get_string_value("color", "x") == "#00f"
    assert provider.store.version == 4
    changed = events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    path.write_text(snapshot(5, {**FLAGS, "color": {**FLAGS["color"], "fallthrough": {"variant": "red"}}}))
    assert provider.update_file(path) == 5
    assert changed.get(timeout=5).flags_changed == ["color"]


def test_missing_file_fails_initialization(tmp_path: Path) -> None:
    provider = FlagcoreProvider(path=tmp_path / "missing.json")
    with pytest.raises(flagcore.FlagcoreError) as caught:
        api.set_provider_and_wait(provider)
    assert caught.value.code == "io"
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert api.get_client().get_provider_status() == ProviderStatus.ERROR


def test_empty_store_is_not_ready_until_updated() -> None:
    provider = FlagcoreProvider()
    client = api.get_client()
    ready = events(client, ProviderEvent.PROVIDER_READY)
    errors = events(client, ProviderEvent.PROVIDER_ERROR)
    changed = events(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    api.set_provider(provider)
    error = errors.get(timeout=5)
    assert error.error_code == ErrorCode.PROVIDER_NOT_READY
    assert client.get_provider_status() == ProviderStatus.ERROR
    details = client.get_boolean_details("dark-mode", False)
    assert (details.value, details.error_code) == (False, ErrorCode.PROVIDER_NOT_READY)
    provider.store.update(snapshot(1, FLAGS))  # on the store: the provider hears of it
    ready.get(timeout=5)
    assert client.get_provider_status() == ProviderStatus.READY
    assert sorted(changed.get(timeout=5).flags_changed or []) == sorted(FLAGS)
    assert client.get_boolean_value("dark-mode", False) is True


def test_provider_shares_its_store(provider: FlagcoreProvider, client: OpenFeatureClient) -> None:
    store = provider.store
    store.kill("dark-mode", "direct")
    assert client.get_boolean_value("dark-mode", True) is False
    assert json.loads(snapshot(1, FLAGS))["version"] == store.version
