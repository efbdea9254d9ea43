# Hand-written stubs of the native module; `python -m mypy.stubtest flagcore` checks them
# against the built extension.
import builtins
import os
from collections.abc import Mapping
from typing import Any, final

from flagcore._types import AttrValue, Explanation, FlagMetrics, Kill, MetadataValue

__all__ = ["__version__", "Store", "Details"]

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
        ``FLAG_NOT_FOUND``, ``TYPE_MISMATCH`` or ``TARGETING_KEY_MISSING``."""
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
    def to_dict(self) -> dict[str, Any]:
        """The fields as a ``dict``."""

@final
class Store:
    """Holds the serving snapshot. Thread-safe: share one per process."""

    def __new__(cls) -> Store: ...
    @staticmethod
    def from_file(path: str | os.PathLike[str]) -> Store:
        """A store serving the snapshot file at ``path``."""
    @staticmethod
    def from_bytes(data: bytes | str) -> Store:
        """A store serving the snapshot in ``data``."""
    def update(self, data: bytes | str) -> builtins.int:
        """Validates ``data`` and swaps it in; returns the new version."""
    def update_file(self, path: str | os.PathLike[str]) -> builtins.int:
        """Reads the file at ``path`` and ``update``s from it."""
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
    def take_metrics(self) -> dict[str, FlagMetrics]: ...
    def set_metrics_enabled(self, enabled: builtins.bool) -> None: ...
    def flag_metadata(self, flag: str) -> dict[str, MetadataValue]: ...
    def flag_names(self) -> list[str]: ...
