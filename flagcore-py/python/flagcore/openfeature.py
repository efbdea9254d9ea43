"""An OpenFeature provider for the ``openfeature-sdk`` package, backed by a :class:`Store`.

::

    from openfeature import api
    from flagcore.openfeature import FlagcoreProvider

    provider = FlagcoreProvider(path="flags.json")
    api.set_provider_and_wait(provider)
    client = api.get_client()
    client.get_boolean_value("new-checkout", False, EvaluationContext("user-1", {"plan": "pro"}))

Mapping of the evaluation context:

- ``targeting_key`` is the targeting key (``None``: a context without one);
- ``attributes`` of type ``str``, ``bool``, ``int`` and ``float`` are passed as they are;
  a ``datetime`` becomes its RFC 3339 text (a naive one is taken as UTC), which the
  ``before``/``after`` operators read;
- other attributes (lists, mappings, ``None``) are **skipped**, as if absent: flagcore's
  conditions cannot read them, and an OpenFeature context is shared with hooks and other
  providers that may put structured data there, so failing every evaluation over them
  would be worse. An ``int`` beyond 64 bits fails the evaluation with
  ``INVALID_CONTEXT``.

Results: flagcore's reasons are OpenFeature's (``PREREQUISITE_FAILED``, which OpenFeature's
``Reason`` enum lacks, is passed as a plain string) and so are its error codes
(``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``, ``TARGETING_KEY_MISSING``,
``PROVIDER_NOT_READY``, and for flagd flags ``PARSE_ERROR`` and ``GENERAL``).
``flag_metadata`` holds the flag's own ``metadata`` (a flagd flag's overlays its file's
top-level ``metadata``) plus, when set, ``flagcore.rule_index``, ``flagcore.rule_id``,
``flagcore.target``, ``flagcore.bucket`` and ``flagcore.step`` (the schedule step in
force).

Events: from :meth:`~FlagcoreProvider.initialize` to :meth:`~FlagcoreProvider.shutdown`,
each change of the store emits ``PROVIDER_CONFIGURATION_CHANGED`` with the names of the
flags that changed (``flags_changed``) and the version then serving (``metadata``),
whatever made it: :meth:`Store.update` or this provider's :meth:`~FlagcoreProvider.update`,
a kill or revive, a source feeding the store, a guardrail trip (:meth:`Store.subscribe`
says which flags changed, once, when the change is made). The first snapshot of a store
that had none when the provider was initialized emits ``PROVIDER_READY`` first.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar, Union

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from flagcore._errors import FlagcoreError
from flagcore._flagcore import Details, Store
from flagcore._types import AttrValue, Change

__all__ = ["FlagcoreProvider"]

_T = TypeVar("_T")
_Getter = Callable[..., Details]
_ObjectValue = Union[Sequence[Any], Mapping[str, Any]]

_REASONS = {reason.value: reason for reason in Reason}
_KINDS = {
    "bool": "a boolean",
    "string": "a string",
    "int": "an integer",
    "float": "a number",
    "json": "an object (JSON object or array)",
}


class FlagcoreProvider(AbstractProvider):
    """Serves OpenFeature evaluations from a flagcore :class:`Store`.

    Give it a ``store`` (shared with code that calls the store directly, which is
    faster, and with the sources feeding it), or a ``path`` to load in :meth:`initialize`,
    or neither (an empty store, to fill with :meth:`update`). :meth:`initialize` fails with
    ``PROVIDER_NOT_READY`` when no snapshot is loaded by then; the store's first snapshot,
    however it comes, makes the provider ``READY``.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        name: str = "flagcore",
    ) -> None:
        super().__init__()
        self.store: Store = store if store is not None else Store()
        self._path = path
        self._metadata = Metadata(name=name)
        # Guards the three fields below. The store's subscriber takes it under the
        # store's writer lock: never wait for that lock while holding this one.
        self._lock = threading.Lock()
        self._subscription: int | None = None
        # While initialize runs, changes emit nothing: the SDK emits READY after it.
        self._initializing = True
        # Whether the SDK has been told the provider is READY.
        self._ready = False

    # -- lifecycle -------------------------------------------------------------------

    def get_metadata(self) -> Metadata:
        return self._metadata

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Subscribes to the store's changes (for the events), then loads ``path`` if the
        store has no snapshot yet; raises ``PROVIDER_NOT_READY`` if it still has none."""
        # Outside self._lock: subscribing waits for the store's writer lock.
        if self._subscription is None:
            self._subscription = self.store.subscribe(self._changed)
        try:
            if self._path is not None and self.store.version is None:
                self.store.update(_read(self._path))
        finally:
            with self._lock:
                self._initializing = False
                self._ready = self.store.version is not None
        if not self._ready:
            raise ProviderNotReadyError(
                "no flagcore snapshot is loaded: pass path= or a loaded store, or call update()"
            )

    def shutdown(self) -> None:
        """Ends the subscription to the store's changes; the store keeps serving direct
        callers (and its sources keep feeding it)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            self.store.unsubscribe(subscription)
        with self._lock:
            self._initializing = True

    # -- changes: the events come from the store's subscription ----------------------

    def update(self, data: bytes | str) -> int:
        """``Store.update``: loads a snapshot; returns its version. The store's
        subscription emits the events. Raises like ``Store.update`` (the serving snapshot
        stays), and nothing is emitted."""
        return self.store.update(data)

    def update_file(self, path: str | os.PathLike[str]) -> int:
        """Reads the file at ``path`` and :meth:`update`\\ s from it."""
        return self.update(_read(path))

    def kill(self, flag: str, reason: str) -> None:
        """``Store.kill``: the event names ``flag`` (none if it was killed already)."""
        self.store.kill(flag, reason)

    def revive(self, flag: str) -> bool:
        """``Store.revive``: the event names ``flag`` (none if it was not killed)."""
        return self.store.revive(flag)

    def _changed(self, change: Change) -> None:
        """The store's subscriber: runs on the thread that made the change, under the
        store's writer lock (the SDK runs the handlers on its own threads)."""
        version = change["version"]
        with self._lock:
            if self._initializing:
                return
            became_ready = not self._ready and version is not None
            if became_ready:
                self._ready = True
        if became_ready:
            self.emit_provider_ready(ProviderEventDetails(message=f"snapshot version {version}"))
        self.emit_provider_configuration_changed(
            ProviderEventDetails(
                flags_changed=change["flags"],
                message=f"snapshot version {version}" if version is not None else "no snapshot yet",
                metadata={"version": version} if version is not None else {},
            )
        )

    # -- evaluation ------------------------------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(self.store.bool_details, "bool", flag_key, default_value, evaluation_context)

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        return self._resolve(self.store.string_details, "string", flag_key, default_value, evaluation_context)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        return self._resolve(self.store.int_details, "int", flag_key, default_value, evaluation_context)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        return self._resolve(self.store.float_details, "float", flag_key, default_value, evaluation_context)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: _ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[_ObjectValue]:
        return self._resolve(self.store.json_details, "json", flag_key, default_value, evaluation_context)

    def _resolve(
        self,
        getter: _Getter,
        kind: str,
        flag_key: str,
        default_value: _T,
        evaluation_context: EvaluationContext | None,
    ) -> FlagResolutionDetails[_T]:
        key, attrs = _context(evaluation_context)
        try:
            details = getter(flag_key, default_value, key=key, attrs=attrs)
        except OverflowError as error:
            return _failure(default_value, ErrorCode.INVALID_CONTEXT, str(error))
        except TypeError as error:
            return _failure(default_value, ErrorCode.GENERAL, str(error))
        reason = details.reason
        metadata: dict[str, bool | int | float | str] = dict(self.store.flag_metadata(flag_key))
        if details.rule_index is not None:
            metadata["flagcore.rule_index"] = details.rule_index
        if details.rule_id is not None:
            metadata["flagcore.rule_id"] = details.rule_id
        if details.target:
            metadata["flagcore.target"] = True
        if details.bucket is not None:
            metadata["flagcore.bucket"] = details.bucket
        if details.step is not None:
            metadata["flagcore.step"] = details.step
        code = details.error_code
        return FlagResolutionDetails(
            value=details.value,
            error_code=ErrorCode(code) if code is not None else None,
            error_message=_message(code, flag_key, kind) if code is not None else None,
            reason=_REASONS.get(reason, reason),
            variant=details.variant,
            flag_metadata=metadata,
        )


def _context(
    context: EvaluationContext | None,
) -> tuple[str | None, dict[str, AttrValue] | None]:
    if context is None:
        return None, None
    if not context.attributes:
        return context.targeting_key, None
    attrs: dict[str, AttrValue] = {}
    for name, value in context.attributes.items():
        if not isinstance(name, str):
            continue
        if isinstance(value, (str, int, float)):  # bool is an int
            attrs[name] = value
        elif isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            attrs[name] = value.isoformat()
    return context.targeting_key, attrs


def _failure(value: _T, code: ErrorCode, message: str) -> FlagResolutionDetails[_T]:
    return FlagResolutionDetails(
        value=value, error_code=code, error_message=message, reason=Reason.ERROR
    )


def _message(code: str, flag: str, kind: str) -> str:
    if code == "FLAG_NOT_FOUND":
        return f"flag {flag!r} is not in the snapshot"
    if code == "TYPE_MISMATCH":
        return f"flag {flag!r} is not {_KINDS[kind]} flag"
    if code == "TARGETING_KEY_MISSING":
        return f"flag {flag!r} rolls out by an attribute the context lacks (the targeting key unless `by` says otherwise)"
    if code == "PROVIDER_NOT_READY":
        return "no flagcore snapshot is loaded"
    if code == "PARSE_ERROR":
        return f"flagd flag {flag!r} could not be read (`flagcore validate` says why)"
    if code == "GENERAL":
        return f"flagd flag {flag!r} named no variant it has, in its targeting's result or its defaultVariant"
    return code


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise FlagcoreError(f"{os.fspath(path)}: {error.strerror or error}", "io") from error
