"""Small validators turning loaded native values into canonical pieces (shared helpers)."""

from __future__ import annotations

from typing import Any

from adapters import envrefs
from adapters.envrefs import EnvSyntax
from events.client_config import Value
from events.errors import ConfigParseError

__all__ = ["literal_list", "native_value", "optional_int", "value_list"]


def native_value(raw: Any, syntax: EnvSyntax, where: str) -> Value | None:
    """Parse an optional string field into a :class:`Value`."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConfigParseError(f"{where}: expected a string, got {type(raw).__name__}")
    return envrefs.parse(raw, syntax)


def value_list(raw: Any, syntax: EnvSyntax, where: str) -> tuple[Value, ...]:
    """Parse a list of strings (``args``) into values."""
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise ConfigParseError(f"{where}: expected a list of strings")
    return tuple(envrefs.parse(a, syntax) for a in raw)


def literal_list(raw: Any, where: str) -> tuple[str, ...]:
    """Validate a list of plain strings (tool names)."""
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise ConfigParseError(f"{where}: expected a list of strings")
    return tuple(raw)


def optional_int(raw: Any, where: str, *, scale: float = 1) -> int | None:
    """Validate an optional number and scale it to an integer (seconds → ms with 1000)."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ConfigParseError(f"{where}: expected a number, got {raw!r}")
    return round(raw * scale)
