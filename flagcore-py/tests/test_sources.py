"""FileSource, KillsFileSource, HttpSource, their statuses and the Prometheus pages.

Every wait is a bounded poll loop (`wait_for`, at most 5 s); file sources use a 10 ms
debounce so that reloads land within tens of milliseconds.
"""

from __future__ import annotations

import gc
import http.server
import json
import logging
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import warnings
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import flagcore

from _support import bool_flag, snapshot

DEBOUNCE = 0.01


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Polls `condition` every 10 ms until it holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {condition}")
        time.sleep(0.01)


def flags(version: int, checkout: str = "on") -> str:
    """A snapshot with flag `checkout` serving `checkout` ("on" or "off") to everyone."""
    return snapshot(version, {"checkout": bool_flag(fallthrough={"variant": checkout})})


def replace_file(path: Path, text: str) -> None:
    """Writes `text` to `path` the way deployment tools do: a temporary file, renamed."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(flags(1), encoding="utf-8")
    return path


# --- FileSource -------------------------------------------------------------------------


def test_file_source_serves_at_start_and_reloads_on_change(flags_file: Path) -> None:
    store = flagcore.Store()
    with flagcore.FileSource(store, flags_file, debounce=DEBOUNCE) as source:
        # The first read happens in the constructor.
        assert store.version == 1 and store.bool("checkout", False) is True
        status = source.status()
        assert isinstance(status, flagcore.SourceStatus)
        assert (status.version, status.last_outcome, status.loads) == (1, "loaded", 1)
        assert status.healthy and status.consecutive_failures == 0
        assert status.last_error is None and not status.serving_cache
        assert status.last_success is not None and abs(status.last_success - time.time()) < 60
        assert status.source == str(flags_file)
        assert source.path == flags_file and source.watch_mode == "native"
        assert source.running and "running, version=1" in repr(source)

        replace_file(flags_file, flags(2, checkout="off"))
        wait_for(lambda: store.version == 2)
        assert store.bool("checkout", True) is False
        assert source.status().version == 2 and source.status().loads == 2

        # Written in place rather than renamed: noticed too.
        flags_file.write_text(flags(3), encoding="utf-8")
        wait_for(lambda: store.version == 3)
    assert not source.running


def test_file_source_polling(flags_file: Path) -> None:
    store = flagcore.Store()
    with flagcore.FileSource(store, str(flags_file), poll_interval=0.02) as source:
        assert source.watch_mode == "polling" and store.version == 1
        replace_file(flags_file, flags(2))
        wait_for(lambda: store.version == 2)


def test_invalid_file_keeps_the_old_snapshot_and_reports_the_error(flags_file: Path) -> None:
    store = flagcore.Store()
    statuses: list[flagcore.SourceStatus] = []
    with flagcore.FileSource(
        store, flags_file, debounce=DEBOUNCE, on_status=statuses.append
    ) as source:
        assert [s.version for s in statuses] == [1]

        # Half-written: the serving snapshot stays.
        flags_file.write_text(flags(2, checkout="off")[:25], encoding="utf-8")
        wait_for(lambda: source.status().consecutive_failures >= 1)
        assert store.version == 1 and store.bool("checkout", False) is True
        status = source.status()
        assert (status.last_outcome, status.healthy) == ("failed", False)
        assert status.version == 1 and status.failures == status.consecutive_failures
        error = status.last_error
        assert isinstance(error, flagcore.SourceError)
        assert isinstance(error, flagcore.FlagcoreError)
        assert error.code == "invalid_snapshot" and error.http_status is None
        assert "invalid snapshot" in str(error) and error.message == str(error)
        assert abs(error.at - time.time()) < 60
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.code, copy.message, copy.at) == (
            flagcore.SourceError, error.code, error.message, error.at
        )
        # The callback, called from the source's thread, heard about the failure.
        wait_for(lambda: len(statuses) >= 2)
        assert statuses[1].last_outcome == "failed"
        assert statuses[1].last_error is not None
        assert statuses[1].last_error.code == "invalid_snapshot"
        as_dict = status.to_dict()
        assert as_dict["last_error"]["code"] == "invalid_snapshot"
        json.dumps(as_dict)  # plain data, for a health endpoint

        # An invalid snapshot (a variant that does not exist) is refused the same way.
        bad = json.loads(flags(2))
        bad["flags"]["checkout"]["fallthrough"]["variant"] = "maybe"
        failures = source.status().failures
        replace_file(flags_file, json.dumps(bad))
        wait_for(lambda: source.status().failures > failures)
        assert store.version == 1
        last_error = source.status().last_error
        assert last_error is not None and "unknown variant `maybe`" in last_error.message

        # Finished: recovered; the last error is kept, older than the last success.
        replace_file(flags_file, flags(2, checkout="off"))
        wait_for(lambda: store.version == 2)
        status = source.status()
        assert status.healthy and status.consecutive_failures == 0
        assert status.last_error is not None and status.last_success is not None
        assert status.last_error.at <= status.last_success
        assert store.bool("checkout", True) is False


def test_missing_file_is_reported_and_picked_up_when_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.json"
    store = flagcore.Store()
    with flagcore.FileSource(store, path, debounce=DEBOUNCE) as source:
        assert store.version is None
        error = source.status().last_error
        assert error is not None and error.code == "io"
        replace_file(path, flags(1))
        wait_for(lambda: store.version == 1)
        assert source.status().healthy


def test_stale_version_is_skipped_not_failed(flags_file: Path) -> None:
    store = flagcore.Store.from_bytes(flags(5))
    with flagcore.FileSource(store, flags_file) as source:
        status = source.status()
        assert store.version == 5
        assert (status.last_outcome, status.skipped, status.healthy) == ("skipped", 1, True)


def test_a_kill_survives_a_reload(flags_file: Path) -> None:
    store = flagcore.Store()
    with flagcore.FileSource(store, flags_file, debounce=DEBOUNCE):
        store.kill("checkout", "INC-1")
        replace_file(flags_file, flags(2))
        wait_for(lambda: store.version == 2)
        assert store.bool("checkout", True) is False
        assert store.bool_details("checkout", True).reason == "DISABLED"
        assert [k["flag"] for k in store.kills()] == ["checkout"]


def test_the_disk_cache_serves_when_the_file_cannot_be_read(
    flags_file: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = flagcore.Store()
    with flagcore.FileSource(first, flags_file, cache_dir=cache):
        first.kill("checkout", "INC-2")
    assert (cache / "snapshot.json").exists() and (cache / "kills.json").exists()

    # A restart with the file gone: the cached snapshot serves, the kill is restored.
    flags_file.unlink()
    second = flagcore.Store()
    with flagcore.FileSource(second, flags_file, cache_dir=cache) as source:
        status = source.status()
        assert (second.version, status.serving_cache, status.version) == (1, True, 1)
        assert status.last_outcome == "from_cache"
        assert second.bool("checkout", True) is False
        assert [k["reason"] for k in second.kills()] == ["INC-2"]


# --- KillsFileSource --------------------------------------------------------------------


def test_kills_file_source(flags_file: Path, tmp_path: Path) -> None:
    kills_file = tmp_path / "kills.json"
    kills_file.write_text(json.dumps([{"flag": "checkout", "reason": "INC-3"}]))
    store = flagcore.Store.from_file(flags_file)
    statuses: list[flagcore.SourceStatus] = []
    with flagcore.FileSource(store, flags_file, debounce=DEBOUNCE), flagcore.KillsFileSource(
        store, kills_file, debounce=DEBOUNCE, on_status=statuses.append
    ) as kills:
        assert store.bool("checkout", True) is False
        [kill] = store.kills()
        assert kill["reason"].startswith("INC-3") and str(kills_file) in kill["reason"]
        assert kills.status().version is None and kills.status().last_outcome == "loaded"
        assert kills.path == kills_file and kills.watch_mode == "native"

        # A snapshot reload keeps it.
        replace_file(flags_file, flags(2))
        wait_for(lambda: store.version == 2)
        assert store.bool("checkout", True) is False

        # An invalid kills file changes nothing and is reported.
        replace_file(kills_file, '[{"flag": "checkout"}]')
        wait_for(lambda: kills.status().consecutive_failures >= 1)
        error = kills.status().last_error
        assert error is not None and error.code == "invalid_kills"
        assert store.bool("checkout", True) is False

        # Emptied: revived.
        replace_file(kills_file, "[]")
        wait_for(lambda: store.kills() == [])
        assert store.bool("checkout", False) is True
        # The callback hears after the kills changed.
        wait_for(lambda: statuses[-1].last_outcome == "loaded")
        outcomes = [s.last_outcome for s in statuses]
        assert outcomes[0] == "loaded" and "failed" in outcomes and outcomes[-1] == "loaded"


# --- HttpSource -------------------------------------------------------------------------


class SnapshotServer:
    """A snapshot server on 127.0.0.1 with `ETag`s; `fail_with` makes it answer errors."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.body = b""
        self.etag = ""
        self.failure: int | None = None
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                with server.lock:
                    server.requests.append({k.lower(): v for k, v in self.headers.items()})
                    failure, body, etag = server.failure, server.body, server.etag
                if failure is not None:
                    self.send_response(failure)
                    self.send_header("Content-Length", "4")
                    self.end_headers()
                    self.wfile.write(b"boom")
                elif self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/snapshot.json"

    def serve(self, text: str, etag: str) -> None:
        with self.lock:
            self.body, self.etag, self.failure = text.encode(), etag, None

    def fail_with(self, status: int) -> None:
        with self.lock:
            self.failure = status

    def revalidations(self) -> int:
        """Requests that carried the ETag now served."""
        with self.lock:
            return sum(1 for r in self.requests if r.get("if-none-match") == self.etag)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[SnapshotServer]:
    server = SnapshotServer()
    try:
        yield server
    finally:
        server.close()


def http_source(
    store: flagcore.Store, server: SnapshotServer, **options: Any
) -> flagcore.HttpSource:
    return flagcore.HttpSource(
        store,
        server.url,
        interval=0.05,
        backoff_initial=0.05,
        backoff_max=0.1,
        connect_timeout=1.0,
        read_timeout=1.0,
        **options,
    )


def test_http_source_etag_then_failure_keeps_the_last_good_snapshot(
    server: SnapshotServer,
) -> None:
    server.serve(flags(1), '"v1"')
    store = flagcore.Store()
    statuses: list[flagcore.SourceStatus] = []
    with http_source(
        store, server, headers={"X-Team": "payments"}, bearer_token="s3cret",
        on_status=statuses.append,
    ) as source:
        assert store.version == 1 and store.bool("checkout", False) is True
        assert source.url == server.url and source.status().source == server.url
        # Polls revalidate with If-None-Match: 304s, nothing parsed.
        wait_for(lambda: source.status().unchanged >= 2)
        assert server.revalidations() >= 2 and source.status().loads == 1
        first = server.requests[0]
        assert first["authorization"] == "Bearer s3cret" and first["x-team"] == "payments"

        server.fail_with(500)
        wait_for(lambda: source.status().consecutive_failures >= 2)
        status = source.status()
        error = status.last_error
        assert error is not None
        assert (error.code, error.http_status) == ("http_status", 500)
        assert "500" in error.message
        assert not status.healthy and status.last_outcome == "failed"
        assert store.version == 1 and store.bool("checkout", False) is True
        assert any(s.last_outcome == "failed" for s in statuses)

        server.serve(flags(2, checkout="off"), '"v2"')
        source.poll_now()
        wait_for(lambda: store.version == 2)
        assert store.bool("checkout", True) is False
        wait_for(lambda: source.status().healthy)
        assert source.status().version == 2


def test_http_source_unreachable_at_start(tmp_path: Path) -> None:
    store = flagcore.Store()
    # Nothing listens on port 9 (discard) of the loopback address.
    with flagcore.HttpSource(store, "http://127.0.0.1:9/s.json", connect_timeout=1.0) as source:
        assert store.version is None
        error = source.status().last_error
        assert error is not None and error.code == "connect"
        assert "failing (1 in a row)" in repr(source)


def test_http_source_password_is_hidden(server: SnapshotServer) -> None:
    server.serve(flags(1), '"v1"')
    url = server.url.replace("http://", "http://ops:hunter2@")
    with flagcore.HttpSource(flagcore.Store(), url) as source:
        assert "hunter2" not in source.status().source
        assert "hunter2" not in repr(source)


# --- Lifecycle ---------------------------------------------------------------------------


def test_stop_is_idempotent_and_the_status_stays(flags_file: Path, server: SnapshotServer) -> None:
    server.serve(flags(1), '"v1"')
    store = flagcore.Store()
    sources: list[Any] = [
        flagcore.FileSource(store, flags_file, debounce=DEBOUNCE),
        flagcore.KillsFileSource(store, flags_file.with_name("kills.json")),
        http_source(flagcore.Store(), server),
    ]
    for source in sources:
        assert source.running
        source.stop()
        source.stop()
        assert not source.running and "stopped" in repr(source)
        with source:  # entering a stopped source is harmless
            pass
        source.stop()
    assert sources[0].status().version == 1
    assert sources[2].status().version == 1
    sources[2].poll_now()  # does nothing once stopped

    # Stopped: changes are no longer followed.
    replace_file(flags_file, flags(2))
    time.sleep(0.1)
    assert store.version == 1


def test_on_status_may_stop_its_own_source(flags_file: Path) -> None:
    store = flagcore.Store()
    holder: dict[str, flagcore.FileSource] = {}

    def on_status(status: flagcore.SourceStatus) -> None:
        if status.version == 2:
            holder["source"].stop()

    holder["source"] = flagcore.FileSource(store, flags_file, debounce=DEBOUNCE, on_status=on_status)
    replace_file(flags_file, flags(2))
    wait_for(lambda: not holder["source"].running)
    assert store.version == 2


def test_a_raising_callback_is_logged_and_the_source_goes_on(
    flags_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def on_status(status: flagcore.SourceStatus) -> None:
        raise RuntimeError(f"callback failed at version {status.version}")

    store = flagcore.Store()
    with caplog.at_level(logging.ERROR, logger="flagcore"):
        with flagcore.FileSource(store, flags_file, debounce=DEBOUNCE, on_status=on_status):
            replace_file(flags_file, flags(2))
            wait_for(lambda: store.version == 2)
            wait_for(lambda: len(caplog.records) == 2)
    record = caplog.records[1]
    assert record.name == "flagcore" and "on_status callback" in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "callback failed at version 2"


def test_a_source_in_a_reference_cycle_is_collected_and_stops(flags_file: Path) -> None:
    store = flagcore.Store()

    class Service:
        def __init__(self) -> None:
            self.source = flagcore.FileSource(
                store, flags_file, debounce=DEBOUNCE, on_status=self.on_status
            )

        def on_status(self, status: flagcore.SourceStatus) -> None:
            pass

    service = Service()  # service -> source -> its callback, a bound method -> service
    assert service.source.running
    del service
    gc.collect()
    replace_file(flags_file, flags(2))
    time.sleep(0.1)
    assert store.version == 1


def test_dropping_a_source_stops_it(flags_file: Path) -> None:
    store = flagcore.Store()
    flagcore.FileSource(store, flags_file, debounce=DEBOUNCE)  # not kept
    replace_file(flags_file, flags(2))
    time.sleep(0.1)
    assert store.version == 1


def test_interpreter_exit_stops_running_sources(flags_file: Path) -> None:
    # Sources left running, one with a callback busy at exit: the interpreter stops them
    # (atexit) before it finalizes, and exits cleanly.
    script = textwrap.dedent(
        f"""
        import time, flagcore
        store = flagcore.Store()
        def slow(status):
            time.sleep(0.1)
            print("callback", status.version, flush=True)
        source = flagcore.FileSource(store, {str(flags_file)!r}, debounce=0, on_status=slow)
        kills = flagcore.KillsFileSource(store, {str(flags_file.with_name("kills.json"))!r})
        http = flagcore.HttpSource(store, "http://127.0.0.1:9/", interval=0.01,
                                   backoff_initial=0.01, backoff_max=0.01,
                                   on_status=lambda status: None)
        with open({str(flags_file)!r}, "w") as f:
            f.write({flags(2)!r})
        time.sleep(0.05)
        print("exiting", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "callback 1" and "exiting" in lines


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork()")
def test_a_forked_child_sees_the_parents_sources_stopped(flags_file: Path) -> None:
    store = flagcore.Store()
    with flagcore.FileSource(store, flags_file, on_status=lambda status: None) as source:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads
            pid = os.fork()
        if pid == 0:  # the child: its copy of the source has no thread; never join it
            code = 0 if (not source.running and source.status().version == 1) else 1
            source.stop()
            os._exit(code)
        _, wait_status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(wait_status) == 0
        assert source.running


def test_bad_arguments(flags_file: Path) -> None:
    store = flagcore.Store()
    with pytest.raises(ValueError, match="poll_interval"):
        flagcore.FileSource(store, flags_file, poll_interval=0)
    with pytest.raises(ValueError, match="debounce"):
        flagcore.KillsFileSource(store, flags_file, debounce=-1)
    with pytest.raises(ValueError, match="interval"):
        flagcore.HttpSource(store, "http://127.0.0.1:9/", interval=float("nan"))
    with pytest.raises(ValueError, match="backoff_max"):
        flagcore.HttpSource(store, "http://127.0.0.1:9/", backoff_initial=5, backoff_max=1)
    with pytest.raises(TypeError):
        flagcore.FileSource("not a store", flags_file)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        flagcore.HttpSource(store, "http://127.0.0.1:9/", headers={"X": 1})  # type: ignore[dict-item]


# --- Prometheus -------------------------------------------------------------------------


def test_metrics_exporter_and_source_statuses(flags_file: Path) -> None:
    store = flagcore.Store()
    exporter = flagcore.MetricsExporter()
    with flagcore.FileSource(store, flags_file) as source:
        store.bool("checkout", False, key="u1")
        store.bool("checkout", False, key="u2")
        exporter.scrape(store)
        store.kill("checkout", "INC-4")
        store.bool("checkout", False, key="u1")
        store.int("checkout", 0)  # a type mismatch: the caller's default
        page = exporter.scrape(store)
        assert 'flagcore_evaluations_total{flag="checkout",variant="on"} 2\n' in page
        assert 'flagcore_evaluations_total{flag="checkout",variant="off"} 1\n' in page
        assert 'flagcore_evaluation_defaults_total{flag="checkout"} 1\n' in page
        assert "flagcore_kills_active 1\n" in page
        assert "flagcore_snapshot_version 1\n" in page
        assert exporter.totals() == {"checkout": {"variants": {"on": 2, "off": 1}, "defaults": 1}}

        sources_page = flagcore.statuses_to_prometheus(s for s in [source.status()])
        label = f'source="{flags_file}"'
        assert f'flagcore_source_attempts_total{{{label},outcome="loaded"}} 1\n' in sources_page
        assert f"flagcore_source_consecutive_failures{{{label}}} 0\n" in sources_page
        assert f"flagcore_source_version{{{label}}} 1\n" in sources_page
    with pytest.raises(TypeError):
        flagcore.statuses_to_prometheus(["not a status"])  # type: ignore[list-item]
