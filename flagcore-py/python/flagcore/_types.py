"""The shapes of the plain ``dict`` results of :class:`flagcore.Store`."""

from __future__ import annotations

from typing import Any, TypedDict, Union

__all__ = [
    "AttrValue",
    "Explanation",
    "FlagMetrics",
    "GuardrailStatus",
    "Kill",
    "MetadataValue",
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
