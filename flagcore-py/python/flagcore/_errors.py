"""The exceptions flagcore raises. The native module imports them from here."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "FlagcoreError",
    "InvalidSnapshotError",
    "SourceError",
    "StaleSnapshotError",
    "ValidationIssue",
]


class FlagcoreError(Exception):
    """Base of flagcore's errors; the store's serving snapshot is unchanged.

    ``code`` is the same stable string as in Rust, C and Go: ``"invalid_snapshot"``,
    ``"stale_snapshot"``, ``"io"`` (a file could not be read; ``__cause__`` is then the
    ``OSError``, e.g. ``FileNotFoundError``, that the operating system reported) or
    ``"reentrant_call"`` (a method that changes the store called from one of its
    subscribers, where it would deadlock); a :class:`SourceError` has the codes of a
    source's failures.
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


class SourceError(FlagcoreError):
    """A source's failed attempt, as :attr:`flagcore.SourceStatus.last_error` gives it.

    flagcore never raises it: a failing source keeps the last good snapshot serving and
    reports the failure in its status (an exception object handed over as a value, as
    ``concurrent.futures.Future.exception()`` does; ``raise status.last_error`` if you
    want to). ``code`` is one of ``"io"``, ``"invalid_snapshot"``, ``"invalid_kills"``,
    ``"http_status"``, ``"timeout"``, ``"connect"``, ``"transport"``, ``"too_large"`` or
    ``"cache"``.
    """

    at: float
    """When it happened, in Unix seconds."""
    http_status: int | None
    """The HTTP status code when ``code`` is ``"http_status"``."""

    def __init__(
        self,
        message: str,
        code: str = "error",
        at: float = 0.0,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, code)
        self.at = at
        self.http_status = http_status

    def __repr__(self) -> str:
        return f"SourceError({self.message!r}, code={self.code!r}, http_status={self.http_status!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.code, self.at, self.http_status))
