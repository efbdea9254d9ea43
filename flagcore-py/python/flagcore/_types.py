"""The shapes of the plain ``dict`` results of :class:`flagcore.Store`."""

from __future__ import annotations

from typing import Any, TypedDict, Union

__all__ = ["AttrValue", "Explanation", "FlagMetrics", "Kill", "MetadataValue"]

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
