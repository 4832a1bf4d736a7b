"""Checks and helpers every text format shares: positions, BOM and binary refusal, depth."""

from __future__ import annotations

import math
from collections.abc import Mapping

from adapters.formats._model import MAX_DEPTH
from events.errors import ConfigParseError

__all__ = [
    "check_text",
    "depth_of",
    "line_col",
    "parse_error",
    "same_value",
    "validate_value",
]


def line_col(text: str, pos: int) -> tuple[int, int]:
    """Return the 1-based (line, column) of offset ``pos`` in ``text``."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def parse_error(text: str, pos: int, message: str) -> ConfigParseError:
    """Build a one-line ConfigParseError naming the line and column of ``pos``."""
    line, column = line_col(text, pos)
    return ConfigParseError(f"{message} at line {line}, column {column}")


def check_text(text: str) -> None:
    """Refuse text no client would have written: a byte-order mark or binary NUL bytes.

    Raises:
        ConfigParseError: with the position of the offending character.
    """
    if text.startswith("\ufeff"):
        raise ConfigParseError(
            "file starts with a byte-order mark (U+FEFF) at line 1, column 1; "
            "save it as UTF-8 without BOM"
        )
    nul = text.find("\x00")
    if nul >= 0:
        raise parse_error(text, nul, "binary content (NUL byte)")


def depth_of(value: object) -> int:
    """Return the container nesting depth of ``value`` without recursion (scalars are 0)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            deepest = max(deepest, depth + 1)
            if depth + 1 <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            deepest = max(deepest, depth + 1)
            if depth + 1 <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in item)
    return deepest


def validate_value(value: object, *, depth: int = 0) -> None:
    """Refuse edit values that cannot be written to a config file.

    Raises:
        ValueError: NaN or infinite floats, nesting deeper than MAX_DEPTH.
        TypeError: anything other than dict/list/str/int/float/bool/None (str keys only).
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"edit value nests deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"edit value {value!r} is not a finite number")
        return
    if isinstance(value, dict):
        for key, child in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, got {key!r}")
            validate_value(child, depth=depth + 1)
        return
    if isinstance(value, list):
        for child in value:
            validate_value(child, depth=depth + 1)
        return
    raise TypeError(f"cannot write a {type(value).__name__} into a config file")


def same_value(a: object, b: object) -> bool:
    """Equality that also compares types, so ``1``, ``1.0`` and ``True`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
