"""Value types shared by every format module: the format enum, edits and the delete sentinel."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["DELETE", "MAX_DEPTH", "Edit", "Format", "PathKey"]

MAX_DEPTH: Final = 64
"""Deepest nesting we accept; real client configs stay under ten levels."""

PathKey = str | int


class Format(StrEnum):
    """The file formats AI coding clients keep their configuration in."""

    JSON = "json"
    JSONC = "jsonc"
    TOML = "toml"
    YAML = "yaml"
    MARKDOWN = "markdown"


class _Delete:
    """Type of the :data:`DELETE` sentinel; a single instance exists."""

    _instance: _Delete | None = None

    def __new__(cls) -> _Delete:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DELETE"

    def __reduce__(self) -> str:
        return "DELETE"


DELETE: Final = _Delete()
"""Use as :attr:`Edit.value` to remove the key (or array item) at :attr:`Edit.path`."""


@dataclass(frozen=True)
class Edit:
    """One change to a document: set the value at ``path``, or remove it with :data:`DELETE`.

    Attributes:
        path: keys (``str``) and array indexes (``int``) from the document root.
        value: a JSON-like Python value (dict, list, str, int, float, bool, None) or DELETE.
    """

    path: tuple[PathKey, ...]
    value: object
