"""The exceptions flagcore raises. The native module imports them from here."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "FlagcoreError",
    "InvalidSnapshotError",
    "StaleSnapshotError",
    "ValidationIssue",
]


class FlagcoreError(Exception):
    """Base of flagcore's errors; the store's serving snapshot is unchanged.

    ``code`` is the same stable string as in Rust, C and Go: ``"invalid_snapshot"``,
    ``"stale_snapshot"`` or ``"io"`` (a file could not be read; ``__cause__`` is then the
    ``OSError``, e.g. ``FileNotFoundError``, that the operating system reported).
    """

    code: str

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        """The message, as ``str(error)`` gives it."""
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.code))


class ValidationIssue(NamedTuple):
    """One problem found in a snapshot."""

    path: str
    """Where: ``flags.checkout.rules[2].serve.rollout``, or ``$`` for the document."""
    message: str
    """What, for a person: ``weights sum to 99.5, not 100``."""
    code: str
    """The kind's stable code: ``unknown_variant``, ``weights``, ``syntax``, ..."""


class InvalidSnapshotError(FlagcoreError):
    """The snapshot is invalid; ``errors`` lists every problem, in document order.

    ``str(error)`` reads like ``invalid snapshot (2 errors):`` followed by one indented
    ``path: message`` line per problem.
    """

    errors: list[ValidationIssue]

    def __init__(
        self, message: str, errors: list[tuple[str, str, str]] | None = None
    ) -> None:
        super().__init__(message, "invalid_snapshot")
        self.errors = [ValidationIssue(*e) for e in errors or ()]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, [tuple(e) for e in self.errors]))


class StaleSnapshotError(FlagcoreError):
    """The snapshot's ``version`` is not newer than the serving one's."""

    offered: int
    current: int

    def __init__(self, message: str, offered: int = 0, current: int = 0) -> None:
        super().__init__(message, "stale_snapshot")
        self.offered = offered
        self.current = current

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.offered, self.current))
