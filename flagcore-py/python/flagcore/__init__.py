"""flagcore: embeddable feature-flag and cohort evaluation, with a Rust core.

Load a snapshot of flag rules into a :class:`Store` and ask it, on every request,
which variant of a flag a user gets: no network call, no lock, a few hundred
nanoseconds a call::

    import flagcore

    store = flagcore.Store.from_file("flags.json")
    if store.bool("new-checkout", False, key=user_id, attrs={"plan": "pro"}):
        ...

See the package README for updates, kills, metrics, ``explain`` and the OpenFeature
provider (:mod:`flagcore.openfeature`).
"""

from flagcore._errors import (
    FlagcoreError,
    InvalidSnapshotError,
    StaleSnapshotError,
    ValidationIssue,
)
from flagcore._flagcore import Details, Store, __version__
from flagcore._types import AttrValue, Explanation, FlagMetrics, Kill, MetadataValue

__all__ = [
    "AttrValue",
    "Details",
    "Explanation",
    "FlagMetrics",
    "FlagcoreError",
    "InvalidSnapshotError",
    "Kill",
    "MetadataValue",
    "StaleSnapshotError",
    "Store",
    "ValidationIssue",
    "__version__",
]
