"""The shapes of the plain ``dict`` results of :class:`flagcore.Store` and
:func:`flagcore.diff`, and of the contexts ``diff`` takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict, Union

__all__ = [
    "AttrValue",
    "Change",
    "DiffContext",
    "DiffReport",
    "Explanation",
    "Exposure",
    "ExposureStats",
    "FlagDiff",
    "FlagMetrics",
    "GuardrailStatus",
    "Kill",
    "MetadataValue",
    "SegmentDiff",
    "StructuralChange",
    "Transition",
    "VariantCounts",
]

AttrValue = Union[str, int, float, bool]
"""An attribute value: ``int`` must fit in 64 signed bits."""

MetadataValue = Union[str, int, float, bool]
"""A value of a flag's ``metadata``."""


class Kill(TypedDict):
    """A runtime kill, as :meth:`flagcore.Store.kills` lists it."""

    flag: str
    reason: str
    at: float
    """When, in Unix seconds."""


class Change(TypedDict):
    """What changed in a store, as :meth:`flagcore.Store.subscribe` tells it."""

    version: int | None
    """The serving snapshot's version after the change; ``None`` while there is none (a
    kill before the first update)."""
    flags: list[str]
    """The flags whose definition or kill changed, sorted: added, removed or defined
    differently, using a segment or prerequisite that changed, or the flag a kill, revive
    or guardrail trip concerns. Empty after an update that changed no flag."""


class Exposure(TypedDict):
    """One exposure, as :meth:`flagcore.Store.track_exposures` hands it to its sink: a
    top-level evaluation of a flag with ``"exposures": true`` that served a variant. The
    fields, in this order, are those of a line of the JSON Lines file."""

    time: str
    """When, in RFC 3339 with milliseconds, UTC (``2026-12-02T06:00:00.250Z``)."""
    flag: str
    variant: str
    """The variant served."""
    reason: str
    """Why: ``STATIC``, ``DEFAULT``, ``TARGETING_MATCH``, ``SPLIT``, ``DISABLED`` or
    ``PREREQUISITE_FAILED``."""
    rule_index: int | None
    """The index of the rule that decided; ``None`` when a target or the fallthrough did."""
    rule_id: str | None
    key: str | None
    """The targeting key; ``None`` for a context without one."""
    unit: str | None
    """The experiment's randomisation unit: the value of the rollout's ``by`` attribute
    that was bucketed (an integer as its decimal string) when a rollout decided, else the
    targeting key."""
    bucket: int | None
    """The bucket (0..=99999) when a rollout decided."""
    step: int | None
    """The schedule step in force when a scheduled rollout decided."""
    version: int
    """The snapshot version that served it."""


class ExposureStats(TypedDict):
    """What exposure tracking has done, as :meth:`flagcore.Store.exposure_stats` says."""

    accepted: int
    """Exposures taken from the queue."""
    delivered: int
    """Of them, handed to the sink."""
    deduplicated: int
    """Of them, repeats within the deduplication window, not delivered."""
    dropped: int
    """Exposures lost: the queue was full (the sink fell behind), or the snapshot that
    made them was gone before they were named."""
    sink_errors: int
    """Batches the sink refused: it raised, or the file could not be written."""


class VariantCounts(TypedDict):
    """The evidence of one variant a guardrail compares."""

    variant: str
    observations: int
    """Observations reported since the evidence started (or a revive reset it)."""
    events: int
    """Of them, errors (for a latency bound: requests slower than it)."""


class GuardrailStatus(TypedDict):
    """A guardrail's state, as :meth:`flagcore.Store.guardrails` lists it."""

    flag: str
    id: str
    bound: str
    """What it bounds, for people: ``max_increase 0.01 over off``, ``max_error_rate 0.05``
    or ``p99 at most 250 ms``."""
    watched: list[VariantCounts]
    """Each watched variant and its evidence, in ``watch`` order."""
    baseline: VariantCounts | None
    """The baseline variant and its evidence; ``None`` for a bound without one."""
    likelihood_ratio: float
    """The sequential test's likelihood ratio that the bound is exceeded; it trips at 100."""
    tripped: bool
    """Whether it has tripped (and killed its flag) since the flag was last revived."""


class FlagMetrics(TypedDict):
    """One flag's evaluation counts, as :meth:`flagcore.Store.take_metrics` gives them."""

    variants: dict[str, int]
    """Evaluations per variant served."""
    defaults: int
    """Evaluations that served the caller's default."""


class Explanation(TypedDict):
    """:meth:`flagcore.Store.explain`: the fields of ``flagcore explain --json`` and
    ``steps``, the path the evaluation took."""

    flag: str
    value: Any
    variant: str | None
    reason: str
    error_code: str | None
    rule_index: int | None
    rule_id: str | None
    target: bool
    bucket: int | None
    step: int | None
    """The schedule step in force when a scheduled rollout decided (see
    :attr:`flagcore.Details.step`)."""
    steps: list[str]


class DiffContext(TypedDict, total=False):
    """A context for :func:`flagcore.diff`, as a line of ``flagcore diff --contexts``."""

    key: str | None
    """The targeting key; absent or ``None`` for a context without one."""
    attrs: Mapping[str, AttrValue]


# How many contexts moved: ``from`` the variant served under OLD ``to`` the one served
# under NEW; ``None`` when none was (the flag is absent, or the caller's default was served
# on an error). The functional form, since ``from`` is a keyword.
Transition = TypedDict(
    "Transition", {"from": Union[str, None], "to": Union[str, None], "count": int}
)


class StructuralChange(TypedDict):
    """One difference between two definitions."""

    path: str
    """Where, in the format's path notation: the place in NEW, or in OLD for something
    NEW no longer has."""
    what: str
    """What changed there, for people: ``5 → 50``, ``added: ...``."""


class FlagDiff(TypedDict):
    """One flag present in either snapshot."""

    flag: str
    change: Literal["added", "removed", "changed", "unchanged"]
    """What the flag's own definition did (``"unchanged"`` with ``changed`` > 0: a
    segment or prerequisite it uses changed)."""
    evaluated: int
    changed: int
    """Contexts served a different variant under NEW than under OLD."""
    transitions: list[Transition]
    """Each move, largest first."""
    structural: list[StructuralChange]


class SegmentDiff(TypedDict):
    """One segment of NEW."""

    segment: str
    contexts: int
    """Contexts in it under NEW."""
    changed: int
    """Those of them that moved on any flag."""


class DiffReport(TypedDict):
    """:func:`flagcore.diff`: the fields of ``flagcore diff --json``."""

    old_version: int
    new_version: int
    flags: list[FlagDiff]
    segments: list[SegmentDiff]
