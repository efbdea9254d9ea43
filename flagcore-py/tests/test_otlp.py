"""Exposures and evaluation counts sent to an OpenTelemetry collector over OTLP/HTTP:
a receiver on loopback decodes each request with the protocol's own message types
(opentelemetry-proto) and the tests read the attributes that arrived."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

if not os.environ.get("CI"):  # CI installs it (scripts/test.sh): there, missing is a failure
    pytest.importorskip("opentelemetry.proto")

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (  # noqa: E402
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue  # noqa: E402

import flagcore  # noqa: E402

from _support import bool_flag, snapshot  # noqa: E402

FLAGS: dict[str, Any] = {
    "checkout": {
        **bool_flag(targets=[{"variant": "on", "keys": ["vip"]}], fallthrough={"variant": "off"}),
        "exposures": True,
    },
}
LATER = 60.0  # a flush interval no test waits for: what arrives, arrives through a flush


class Receiver:
    """An OTLP/HTTP collector on loopback: keeps each request's path, headers and
    decoded body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message: Any
                if self.path == "/v1/logs":
                    message = ExportLogsServiceRequest.FromString(body)
                elif self.path == "/v1/metrics":
                    message = ExportMetricsServiceRequest.FromString(body)
                else:
                    self.send_error(404)
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append((self.path, headers, message))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def of(self, path: str) -> list[tuple[dict[str, str], Any]]:
        with self.lock:
            return [(headers, message) for p, headers, message in self.requests if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def value(any_value: AnyValue) -> Any:
    return getattr(any_value, any_value.WhichOneof("value"))


def attributes(items: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in items}


def test_exposures_arrive_as_feature_flag_events(receiver: Receiver) -> None:
    store = flagcore.Store.from_bytes(snapshot(7, FLAGS))
    store.track_exposures(
        otlp_endpoint=receiver.endpoint,
        otlp_headers={"authorization": "Bearer token"},
        service_name="checkout-api",
        flush_interval_s=LATER,
    )
    assert store.bool("checkout", False, key="vip") is True
    assert store.bool("checkout", False, key="ann") is False
    store.flush_exposures()

    [(headers, request)] = receiver.of("/v1/logs")
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["authorization"] == "Bearer token"
    [resource_logs] = request.resource_logs
    assert attributes(resource_logs.resource.attributes)["service.name"] == "checkout-api"
    records = [record for scope in resource_logs.scope_logs for record in scope.log_records]
    assert [record.event_name for record in records] == ["feature_flag.evaluation"] * 2
    got = sorted((attributes(record.attributes) for record in records), key=lambda a: a["flagcore.targeting_key"])
    assert [(a["feature_flag.key"], a["feature_flag.result.variant"], a["feature_flag.result.reason"]) for a in got] == [
        ("checkout", "off", "default"),
        ("checkout", "on", "targeting_match"),
    ]
    assert {a["feature_flag.provider.name"] for a in got} == {"flagcore"}
    assert {a["feature_flag.version"] for a in got} == {"7"}
    assert store.exposure_stats()["delivered"] == 2
    assert store.exposure_stats()["sink_errors"] == 0


def test_a_collector_that_is_down_counts_a_sink_error(receiver: Receiver) -> None:
    endpoint = receiver.endpoint
    receiver.close()  # nothing listens there now
    store = flagcore.Store.from_bytes(snapshot(1, FLAGS))
    store.track_exposures(otlp_endpoint=endpoint, flush_interval_s=LATER)
    store.bool("checkout", False, key="ann")
    store.flush_exposures()
    stats = store.exposure_stats()
    assert (stats["delivered"], stats["sink_errors"]) == (0, 1)


def test_exactly_one_sink_is_accepted(receiver: Receiver, tmp_path: Any) -> None:
    store = flagcore.Store.from_bytes(snapshot(1, FLAGS))
    with pytest.raises(TypeError, match="not both"):
        store.track_exposures(print, otlp_endpoint=receiver.endpoint)
    with pytest.raises(TypeError, match="not both"):
        store.track_exposures(path=tmp_path / "x.jsonl", otlp_endpoint=receiver.endpoint)
    with pytest.raises(TypeError, match="need otlp_endpoint"):
        store.track_exposures(print, service_name="checkout-api")
    with pytest.raises(ValueError, match="otlp_endpoint"):
        store.track_exposures(otlp_endpoint="not a url")


def test_evaluation_counts_arrive_as_a_counter(receiver: Receiver) -> None:
    store = flagcore.Store.from_bytes(snapshot(1, FLAGS))
    metrics = flagcore.OtelMetrics(store, receiver.endpoint, service_name="checkout-api", export_interval_s=LATER)
    for key in ("vip", "ann", "bob"):
        store.bool("checkout", False, key=key)
    metrics.flush()
    metrics.shutdown()
    metrics.shutdown()  # again: nothing
    with pytest.raises(RuntimeError, match="shut down"):
        metrics.flush()

    _, last = receiver.of("/v1/metrics")[-1]
    [resource_metrics] = last.resource_metrics
    points = {
        (a["feature_flag.key"], a["feature_flag.result.variant"]): point.as_int
        for scope in resource_metrics.scope_metrics
        for metric in scope.metrics
        if metric.name == "feature_flag.evaluations"
        for point in metric.sum.data_points
        for a in [attributes(point.attributes)]
    }
    assert points == {("checkout", "on"): 1, ("checkout", "off"): 2}


def test_a_failed_count_export_raises_flagcore_error(receiver: Receiver) -> None:
    endpoint = receiver.endpoint
    receiver.close()
    store = flagcore.Store.from_bytes(snapshot(1, FLAGS))
    metrics = flagcore.OtelMetrics(store, endpoint, export_interval_s=LATER)
    store.bool("checkout", False, key="ann")
    with pytest.raises(flagcore.FlagcoreError) as raised:
        metrics.flush()
    assert raised.value.code == "io"
    with pytest.raises(ValueError, match="export_interval_s"):
        flagcore.OtelMetrics(store, endpoint, export_interval_s=0)
