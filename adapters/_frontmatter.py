"""Frontmatter values in the shapes the clients accept, turned into canonical text and lists.

YAML gives ``argument-hint: [message]`` as a list, ``version: 1.0`` as a number and
``allowed-tools: Read, Grep`` as one string; the clients take all of them (Claude Code joins
an accidental list, coerces numbers and booleans to text, and splits tool strings at commas).
These helpers do the same, so no file is dropped over a value's YAML type; a value no client
could mean as text (a mapping where a description belongs) is an error naming the key.
"""

from __future__ import annotations

import math

from events.errors import ConfigParseError

__all__ = ["flow_text", "scalar_text", "text_value", "tool_names"]


def scalar_text(value: str | bool | int | float) -> str:
    """A YAML scalar as the text a JavaScript client shows (``true``, ``3``, ``1.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))  # JS prints 1.0 as 1
    return str(value)


def flow_text(value: object) -> str:
    """A value as YAML flow text: ``["message"]`` → ``[message]`` (what its author typed).

    Used for hints, where an unquoted ``[file]`` was meant as text, never as a list.
    """
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = [f"{flow_text(k)}: {flow_text(v)}" for k, v in value.items()]
        # A one-pair mapping inside a list is how YAML reads ``[scope: full]``.
        return ", ".join(pairs) if len(pairs) == 1 else "{" + ", ".join(pairs) + "}"
    if value is None:
        return ""
    if isinstance(value, str | bool | int | float):
        return scalar_text(value)
    return str(value)


def text_value(value: object, where: str, *, flow: bool = False) -> str | None:
    """``value`` as text: ``None`` stays ``None``, scalars become their text.

    Args:
        value: the frontmatter (or TOML) value.
        where: the file and key, for the error message.
        flow: lists and mappings become their flow text (hints) instead of an error.

    Raises:
        ConfigParseError: a list or mapping where text belongs (and ``flow`` is false).
    """
    if value is None:
        return None
    if isinstance(value, str | bool | int | float):
        return scalar_text(value)
    if flow:
        return flow_text(value)
    shape = "list" if isinstance(value, list) else type(value).__name__
    raise ConfigParseError(f"{where} must be text, got a {shape} (quote it)")


def tool_names(value: object, where: str) -> tuple[str, ...] | None:
    """A tool list given as ``Read, Grep`` or ``[Read, Grep]`` (``None``: not given).

    Raises:
        ConfigParseError: neither a string nor a list of scalars.
    """
    if value is None:
        return None
    if isinstance(value, str):
        items = [t.strip() for t in value.split(",")]
    elif isinstance(value, list) and all(isinstance(t, str | bool | int | float) for t in value):
        items = [scalar_text(t).strip() for t in value]
    else:
        raise ConfigParseError(f"{where} must be a list of names or a comma-separated string")
    return tuple(t for t in items if t)
