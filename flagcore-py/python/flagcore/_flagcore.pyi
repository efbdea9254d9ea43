# Hand-written stubs of the native module; `python -m mypy.stubtest flagcore` checks them
# against the built extension.
import builtins
import datetime
import os
import pathlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, final

from flagcore._errors import SourceError
from flagcore._types import (
    AttrValue,
    Change,
    DiffContext,
    DiffReport,
    Explanation,
    Exposure,
    ExposureStats,
    FlagMetrics,
    GuardrailStatus,
    Kill,
    MetadataValue,
)

__all__ = [
    "__version__",
    "Store",
    "Details",
    "FileSource",
    "KillsFileSource",
    "HttpSource",
    "SourceStatus",
    "MetricsExporter",
    "OtelMetrics",
    "statuses_to_prometheus",
    "diff",
]

__version__: str

@final
class Details:
    """What an evaluation served and why (the fields of ``flagcore explain --json``)."""

    @property
    def value(self) -> Any:
        """The value served; the caller's default (the same object) on an error."""
    @property
    def variant(self) -> str | None:
        """The variant served; ``None`` when the caller's default was served."""
    @property
    def reason(self) -> str:
        """OpenFeature reason: ``STATIC``, ``DEFAULT``, ``TARGETING_MATCH``, ``SPLIT``,
        ``DISABLED``, ``PREREQUISITE_FAILED`` or ``ERROR``."""
    @property
    def error_code(self) -> str | None:
        """OpenFeature error code when ``reason`` is ``ERROR``: ``PROVIDER_NOT_READY``,
        ``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``, ``TARGETING_KEY_MISSING``, or for flagd
        flags ``PARSE_ERROR`` or ``GENERAL``."""
    @property
    def rule_index(self) -> int | None:
        """The index of the rule that decided, if one did."""
    @property
    def rule_id(self) -> str | None:
        """That rule's ``id``, if it has one."""
    @property
    def target(self) -> bool:
        """True when an individual target decided."""
    @property
    def bucket(self) -> int | None:
        """The bucket (0..=99999) when a rollout decided."""
    @property
    def step(self) -> int | None:
        """The index of the schedule step in force when a scheduled rollout decided;
        ``None`` before its first step, without a schedule, or when no rollout decided."""
    @property
    def flag_metadata(self) -> dict[str, MetadataValue]:
        """The flag's metadata, OpenFeature's flag metadata: empty when it has none or the
        flag does not exist (for a flagd flag, its file's ``metadata`` overlaid with its
        own)."""
    def to_dict(self) -> dict[str, Any]:
        """The fields as a ``dict`` (``flag_metadata`` aside)."""

@final
class Store:
    """Holds the serving snapshot. Thread-safe: share one per process."""

    def __new__(cls) -> Store: ...
    @staticmethod
    def from_file(path: str | os.PathLike[str], *, format: str | None = None) -> Store:
        """A store serving the snapshot file at ``path``: a flagcore snapshot or a flagd
        flag file, told apart by its content unless ``format`` (``"native"`` or
        ``"flagd"``) says."""
    @staticmethod
    def from_bytes(data: bytes | str, *, format: str | None = None) -> Store:
        """A store serving the snapshot in ``data``, in the format ``update`` reads."""
    @staticmethod
    def from_files(paths: Sequence[str | os.PathLike[str]]) -> Store:
        """A store serving the flagd flag files at ``paths`` merged in order, as flagd
        merges its sources: a later file's definition of a flag replaces an earlier one,
        and ``$evaluators`` are shared. No paths raises ``ValueError``."""
    def update(self, data: bytes | str, *, format: str | None = None) -> builtins.int:
        """Validates ``data`` and swaps it in; returns the new version. ``data`` is a
        flagcore snapshot or a flagd flag file, told apart by its content unless
        ``format`` (``"native"`` or ``"flagd"``; anything else raises ``ValueError``)
        says; a flagd file takes the next version."""
    def update_file(
        self, path: str | os.PathLike[str], *, format: str | None = None
    ) -> builtins.int:
        """Reads the file at ``path`` and ``update``s from it."""
    def update_files(self, paths: Sequence[str | os.PathLike[str]]) -> builtins.int:
        """Reads the flagd flag files at ``paths`` and swaps them in merged, as
        ``from_files`` does; returns the new version. On any error, an unreadable file
        included, the serving snapshot stays."""
    def set_flagd_fractional(self, version: str) -> None:
        """How flagd documents loaded from now on bucket ``fractional``: ``"v2"``, flagd's
        current bucketing (the default), or ``"v3"``, by the CBOR encoding of the key, as
        flagd's Python core 2.x does. Anything else raises ``ValueError``."""
    @property
    def version(self) -> builtins.int | None:
        """The serving snapshot's version, ``None`` before the first."""
    def bool(
        self,
        flag: str,
        default: builtins.bool,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> builtins.bool: ...
    def string(
        self,
        flag: str,
        default: str,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> str: ...
    def int(
        self,
        flag: str,
        default: builtins.int,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> builtins.int: ...
    def float(
        self,
        flag: str,
        default: builtins.float,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> builtins.float: ...
    def json(
        self,
        flag: str,
        default: object,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Any: ...
    def bool_details(
        self,
        flag: str,
        default: builtins.bool,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Details: ...
    def string_details(
        self,
        flag: str,
        default: str,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Details: ...
    def int_details(
        self,
        flag: str,
        default: builtins.int,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Details: ...
    def float_details(
        self,
        flag: str,
        default: builtins.float,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Details: ...
    def json_details(
        self,
        flag: str,
        default: object,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Details: ...
    def explain(
        self,
        flag: str,
        *,
        key: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Explanation: ...
    def kill(self, flag: str, reason: str) -> None: ...
    def revive(self, flag: str) -> builtins.bool: ...
    def kills(self) -> list[Kill]: ...
    def observe(
        self,
        flag: str,
        variant: str | None,
        *,
        error: builtins.bool,
        latency_ms: builtins.float | None = None,
    ) -> None:
        """Reports the outcome of a request served ``variant`` of ``flag`` to its
        guardrails. An unknown flag or variant, or ``None`` (the default was served), is a
        counted no-op, never an exception; a negative or NaN ``latency_ms`` raises
        ``ValueError``."""
    def guardrails(self) -> list[GuardrailStatus]:
        """Every guardrail of the serving snapshot with its evidence and state."""
    @property
    def guardrail_trips(self) -> builtins.int:
        """How many guardrails have tripped since the store was created."""
    @property
    def observations_ignored(self) -> builtins.int:
        """How many ``observe`` calls named an unknown flag or variant."""
    def on_guardrail_trip(self, callback: Callable[[Kill], object] | None) -> None:
        """Calls ``callback`` with the kill each time a guardrail trips, on the thread whose
        ``observe`` tripped it; ``None`` removes it. Its exceptions are logged (logger
        ``flagcore``), never raised by ``observe``."""
    def subscribe(self, callback: Callable[[Change], object]) -> builtins.int:
        """Calls ``callback`` with each change of what the store serves (an update, a kill,
        a revive, a source's reload, a guardrail trip), on the thread that made it, under
        the store's writer lock; returns the subscription's id. Its exceptions are logged
        (logger ``flagcore``); the store's writing methods raise ``FlagcoreError`` (code
        ``reentrant_call``) inside it."""
    def unsubscribe(self, id: builtins.int) -> builtins.bool:
        """Ends a subscription; returns whether there was one. Once it returns, the
        callback is not running and is never called again."""
    def track_exposures(
        self,
        sink: Callable[[list[Exposure]], object] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        max_bytes: builtins.int | None = None,
        keep: builtins.int = 5,
        capacity: builtins.int = 16384,
        dedup_size: builtins.int = 100000,
        dedup_window_s: builtins.float = 600.0,
        flush_interval_s: builtins.float = 0.1,
        otlp_endpoint: str | None = None,
        otlp_headers: dict[str, str] | None = None,
        service_name: str | None = None,
    ) -> None:
        """Records an exposure for every top-level evaluation of a flag with
        ``"exposures": true`` that serves a variant, and hands them in batches to ``sink``
        on the store's tracking thread (with the GIL), appends them to the JSON Lines
        file ``path`` (renamed ``path.1``, ... when a line would take it past
        ``max_bytes``, ``keep`` of them kept; ``None``: never), or sends them to the
        OpenTelemetry collector at ``otlp_endpoint`` (its base URL; OTLP/HTTP, protobuf,
        ``feature_flag.evaluation`` events, with ``otlp_headers`` and the resource's
        ``service_name``): exactly one of the three, else ``TypeError``. Repeats of one unit, flag
        and variant within ``dedup_window_s`` seconds are left out (``dedup_size`` units
        remembered; 0 keeps every repeat). Evaluations only queue a record (at most
        ``capacity``, fixed by the first call; beyond it they are dropped and counted).
        Calling it again replaces the sink, which first gets everything accepted before.
        Exceptions of ``sink`` are logged (logger ``flagcore``) and counted as sink
        errors; inside it, the store's writing methods and ``flush_exposures`` raise
        ``FlagcoreError`` (code ``reentrant_call``)."""
    def flush_exposures(self) -> None:
        """Delivers every exposure queued before the call and waits until the sink has
        them (the file is written and synced), with the GIL released."""
    def exposure_stats(self) -> ExposureStats:
        """What exposure tracking has done since the store was created."""
    def take_metrics(self) -> dict[str, FlagMetrics]: ...
    def set_metrics_enabled(self, enabled: builtins.bool) -> None: ...
    def flag_metadata(self, flag: str) -> dict[str, MetadataValue]: ...
    def flag_names(self) -> list[str]: ...

@final
class SourceStatus:
    """What a source is doing, as of one moment (a copy: call ``status()`` again for news)."""

    @property
    def source(self) -> str:
        """What the source reads: a path, or a URL (its password hidden)."""
    @property
    def version(self) -> int | None:
        """The snapshot version this source last delivered; ``None`` before the first, and
        for a kills file."""
    @property
    def last_outcome(
        self,
    ) -> Literal["loaded", "unchanged", "skipped", "from_cache", "failed"] | None:
        """The last attempt's outcome; ``None`` before the first."""
    @property
    def last_success(self) -> float | None:
        """When the source last answered well (loaded, unchanged or skipped), in Unix
        seconds."""
    @property
    def last_error(self) -> SourceError | None:
        """The last failure, kept after a recovery (compare its ``at`` with
        ``last_success``)."""
    @property
    def consecutive_failures(self) -> int:
        """Failures since the last good answer: 0 when healthy."""
    @property
    def serving_cache(self) -> bool:
        """True while the snapshot serving came from the disk cache, not the source."""
    @property
    def cache_error(self) -> SourceError | None:
        """The last failure to write the disk cache, cleared by the next good write."""
    @property
    def loads(self) -> int:
        """Attempts that applied a new document."""
    @property
    def unchanged(self) -> int:
        """Attempts that found nothing new (HTTP 304, same file content)."""
    @property
    def skipped(self) -> int:
        """Attempts whose document was not newer than the serving one."""
    @property
    def failures(self) -> int:
        """Attempts that failed."""
    @property
    def healthy(self) -> bool:
        """True when the last attempt did not fail."""
    def to_dict(self) -> dict[str, Any]:
        """The fields as a ``dict``, errors as ``dict``s: ready for ``json.dumps``."""

@final
class FileSource:
    """Keeps a store serving a snapshot file, reloaded when it changes, on a Rust thread.

    The first read happens before the constructor returns. The source runs until
    ``stop()``, the end of a ``with`` block, or until it is garbage-collected: keep a
    reference.
    """

    def __new__(
        cls,
        store: Store,
        path: str | os.PathLike[str],
        *,
        poll_interval: float | None = None,
        debounce: float = 0.05,
        recheck_interval: float = 10.0,
        cache_dir: str | os.PathLike[str] | None = None,
        on_status: Callable[[SourceStatus], object] | None = None,
    ) -> FileSource: ...
    @property
    def path(self) -> pathlib.Path:
        """The file, as given."""
    @property
    def watch_mode(self) -> Literal["native", "polling"]:
        """How changes are noticed: the platform's watcher, or polling."""
    @property
    def running(self) -> bool:
        """False once stopped."""
    def status(self) -> SourceStatus:
        """The source's state now (after ``stop()``: as it was when stopped)."""
    def stop(self) -> None:
        """Stops the source's thread and waits for it; idempotent."""
    def __enter__(self) -> FileSource: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

@final
class KillsFileSource:
    """Applies a host's kills file (``[{"flag": F, "reason": R}]``) to a store as runtime
    kills, following its changes, on a Rust thread. Runs until ``stop()``, the end of a
    ``with`` block, or until it is garbage-collected."""

    def __new__(
        cls,
        store: Store,
        path: str | os.PathLike[str],
        *,
        poll_interval: float | None = None,
        debounce: float = 0.05,
        recheck_interval: float = 10.0,
        on_status: Callable[[SourceStatus], object] | None = None,
    ) -> KillsFileSource: ...
    @property
    def path(self) -> pathlib.Path:
        """The file, as given."""
    @property
    def watch_mode(self) -> Literal["native", "polling"]:
        """How changes are noticed: the platform's watcher, or polling."""
    @property
    def running(self) -> bool:
        """False once stopped."""
    def status(self) -> SourceStatus:
        """The source's state now (after ``stop()``: as it was when stopped)."""
    def stop(self) -> None:
        """Stops the source's thread and waits for it; idempotent. The kills it made stay."""
    def __enter__(self) -> KillsFileSource: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

@final
class HttpSource:
    """Keeps a store serving the snapshot at an http(s) URL, polled with ``ETag`` on a
    Rust thread. The first poll happens before the constructor returns. Runs until
    ``stop()``, the end of a ``with`` block, or until it is garbage-collected."""

    def __new__(
        cls,
        store: Store,
        url: str,
        *,
        interval: float = 10.0,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        max_body_bytes: int = 67108864,
        headers: Mapping[str, str] | None = None,
        bearer_token: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        on_status: Callable[[SourceStatus], object] | None = None,
    ) -> HttpSource: ...
    @property
    def url(self) -> str:
        """The URL, as given."""
    @property
    def running(self) -> bool:
        """False once stopped."""
    def poll_now(self) -> None:
        """Polls now rather than at the end of the interval or backoff; returns at once."""
    def status(self) -> SourceStatus:
        """The source's state now (after ``stop()``: as it was when stopped)."""
    def stop(self) -> None:
        """Stops the source's thread and waits for it; idempotent."""
    def __enter__(self) -> HttpSource: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

@final
class MetricsExporter:
    """Running totals of a store's evaluation counts, rendered with the kills in force and
    the serving version as a Prometheus text page. Let it be the store's only taker of
    ``take_metrics``."""

    def __new__(cls) -> MetricsExporter: ...
    def scrape(self, store: Store) -> str:
        """Takes ``store``'s new counts into the totals and renders the page."""
    def totals(self) -> dict[str, FlagMetrics]:
        """The running evaluation totals so far."""

@final
class OtelMetrics:
    """Exports a store's evaluation counts to an OpenTelemetry collector as the counter
    ``feature_flag.evaluations`` (OTLP/HTTP, protobuf, cumulative) every
    ``export_interval_s``, on ``flush()`` and a last time on ``shutdown()``. Let it be
    the store's only taker of ``take_metrics``."""

    def __new__(
        cls,
        store: Store,
        endpoint: str,
        *,
        headers: dict[str, str] | None = None,
        service_name: str | None = None,
        export_interval_s: builtins.float = 60.0,
    ) -> OtelMetrics: ...
    def flush(self) -> None:
        """Exports the counts now, with the GIL released; ``FlagcoreError`` (code ``io``)
        when the export failed."""
    def shutdown(self) -> None:
        """Exports the counts a last time and stops; again, does nothing."""

def statuses_to_prometheus(statuses: Iterable[SourceStatus]) -> str:
    """Sources' statuses as a Prometheus text page (attempts by outcome, consecutive
    failures, version, last success, serving from the cache)."""

def diff(
    old: bytes | str,
    new: bytes | str,
    *,
    contexts: Iterable[DiffContext] | None = None,
    users: int = 100000,
    now: str | datetime.datetime | None = None,
) -> DiffReport:
    """Compares snapshot documents ``old`` and ``new``, as ``flagcore diff --json`` does.

    Structurally (flags and segments added, removed or changed, each change with its
    path) and by behaviour: every flag of either snapshot is evaluated under both for
    each context, on every core with the GIL released. ``contexts`` are
    ``{"key": ..., "attrs": {...}}`` mappings (a sample of real traffic); without them,
    ``users`` synthetic keys ``user-0`` ... without attributes. ``now`` (an RFC 3339
    ``str`` or an aware ``datetime``) is the instant scheduled rollouts are evaluated at;
    default the current time. Raises ``InvalidSnapshotError`` for an invalid snapshot
    (OLD's errors first), ``TypeError``/``ValueError`` for a bad argument. A version that
    does not increase is not an error here: compare ``old_version`` and ``new_version``.
    """
