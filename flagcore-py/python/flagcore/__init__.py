"""flagcore: embeddable feature-flag and cohort evaluation, with a Rust core.

Load a snapshot of flag rules into a :class:`Store` and ask it, on every request,
which variant of a flag a user gets: no network call, no lock, a few hundred
nanoseconds a call::

    import flagcore

    store = flagcore.Store.from_file("flags.json")
    if store.bool("new-checkout", False, key=user_id, attrs={"plan": "pro"}):
        ...

Keep it fed in production with a source, each running a Rust thread: a file reloaded on
change (:class:`FileSource`), an http(s) URL polled with ``ETag`` (:class:`HttpSource`), a
host's kills file (:class:`KillsFileSource`)::

    source = flagcore.FileSource(store, "/etc/my-service/flags.json")
    print(source.status())

See the package README for updates, kills, guardrails, exposures, sources, metrics,
``explain`` and the OpenFeature provider (:mod:`flagcore.openfeature`).
"""

from flagcore._errors import (
    FlagcoreError,
    InvalidSnapshotError,
    SourceError,
    StaleSnapshotError,
    ValidationIssue,
)
from flagcore._flagcore import (
    Details,
    FileSource,
    HttpSource,
    KillsFileSource,
    MetricsExporter,
    OtelMetrics,
    SourceStatus,
    Store,
    __version__,
    diff,
    statuses_to_prometheus,
)
from flagcore._types import (
    AttrValue,
    Change,
    DiffContext,
    DiffReport,
    Explanation,
    Exposure,
    ExposureStats,
    FlagDiff,
    FlagMetrics,
    GuardrailStatus,
    Kill,
    MetadataValue,
    SegmentDiff,
    StructuralChange,
    Transition,
    VariantCounts,
)

__all__ = [
    "AttrValue",
    "Change",
    "Details",
    "DiffContext",
    "DiffReport",
    "Explanation",
    "Exposure",
    "ExposureStats",
    "FileSource",
    "FlagDiff",
    "FlagMetrics",
    "FlagcoreError",
    "GuardrailStatus",
    "HttpSource",
    "InvalidSnapshotError",
    "Kill",
    "KillsFileSource",
    "MetadataValue",
    "MetricsExporter",
    "OtelMetrics",
    "SegmentDiff",
    "SourceError",
    "SourceStatus",
    "StaleSnapshotError",
    "Store",
    "StructuralChange",
    "Transition",
    "ValidationIssue",
    "VariantCounts",
    "__version__",
    "diff",
    "statuses_to_prometheus",
]
