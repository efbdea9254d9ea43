"""FlagcoreProvider under OpenFeature's own OpenTelemetry hook
(openfeature-hooks-opentelemetry's TracingHook): each evaluation becomes a
`feature_flag.evaluation` event on the current span, whose attributes carry the variant
and reason flagcore served (the OpenTelemetry semantic conventions for feature flags),
recorded by the OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

if not os.environ.get("CI"):  # CI installs them (scripts/test.sh): there, missing is a failure
    pytest.importorskip("openfeature")
    pytest.importorskip("openfeature.contrib.hook.opentelemetry")
    pytest.importorskip("opentelemetry.sdk.trace")

from openfeature import api  # noqa: E402
from openfeature.contrib.hook.opentelemetry import TracingHook  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

import flagcore  # noqa: E402
from flagcore.openfeature import FlagcoreProvider  # noqa: E402

from _support import bool_flag, snapshot  # noqa: E402

FLAGS: dict[str, Any] = {
    "checkout": bool_flag(
        targets=[{"variant": "on", "keys": ["vip"]}],
        rules=[
            {
                "id": "beta-half",
                "conditions": [{"attribute": "beta", "op": "eq", "values": [True]}],
                "serve": {
                    "rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}
                },
            }
        ],
        fallthrough={"variant": "off"},
    ),
    "dormant": bool_flag(enabled=False),
    "needs-checkout": bool_flag(prerequisites=[{"flag": "checkout", "variant": "on"}]),
}


@pytest.fixture
def store() -> flagcore.Store:
    return flagcore.Store.from_bytes(snapshot(7, FLAGS))


@pytest.fixture
def exporter(store: flagcore.Store) -> Iterator[InMemorySpanExporter]:
    api.set_provider_and_wait(FlagcoreProvider(store))
    api.add_hooks([TracingHook()])
    yield InMemorySpanExporter()
    api.clear_hooks()
    api.clear_providers()


@pytest.mark.parametrize(
    ("flag", "key", "attrs", "reason"),
    [
        ("checkout", "user-17", {"beta": True}, "split"),
        ("checkout", "vip", {}, "targeting_match"),
        ("checkout", "user-3", {}, "default"),
        ("dormant", "user-3", {}, "disabled"),
        ("needs-checkout", "user-3", {}, "prerequisite_failed"),
    ],
)
def test_the_tracing_hook_sees_flagcores_variant_and_reason(
    store: flagcore.Store,
    exporter: InMemorySpanExporter,
    flag: str,
    key: str,
    attrs: dict[str, Any],
    reason: str,
) -> None:
    served = store.bool_details(flag, True, key=key, attrs=attrs)
    assert served.reason.lower() == reason, "the case expects what flagcore serves"

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("flagcore-test").start_as_current_span("request"):
        details = api.get_client().get_boolean_details(flag, True, EvaluationContext(key, attrs))
    assert details.variant == served.variant

    [span] = exporter.get_finished_spans()
    [event] = span.events
    assert event.name == "feature_flag.evaluation"
    assert event.attributes is not None
    attributes = dict(event.attributes)
    assert attributes["feature_flag.key"] == flag
    assert attributes["feature_flag.result.variant"] == served.variant
    assert attributes["feature_flag.result.reason"] == reason
    assert attributes["feature_flag.provider.name"] == "flagcore"
    assert attributes["feature_flag.context.id"] == key
    assert attributes["feature_flag.result.value"] == ("true" if served.value else "false")
    assert "error.type" not in attributes
