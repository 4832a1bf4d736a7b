"""STAND-IN: replaced by the real format layer at merge.

Naive implementation of the agreed format API so the adapters can be built and tested in
parallel. ``apply_edits`` re-serialises JSON/JSONC (comments are lost here, not in the real
layer); adapters must rely on nothing beyond the documented signatures.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import tomlkit
from ruamel.yaml import YAML

from events.errors import ConfigParseError

__all__ = ["DELETE", "Edit", "Format", "apply_edits", "load"]


class Format(StrEnum):
    """File formats the adapters read and write."""

    JSON = "json"
    JSONC = "jsonc"
    TOML = "toml"
    YAML = "yaml"
    MARKDOWN = "markdown"


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Final = _Delete()


@dataclass(frozen=True)
class Edit:
    """Set (or, with ``DELETE``, remove) the value at ``path``."""

    path: tuple[str | int, ...]
    value: object


_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _strip_jsonc(text: str) -> str:
    stripped = _JSONC_TOKEN.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)
    return _TRAILING_COMMA.sub(r"\1", stripped)


_FRONTMATTER = re.compile(r"\A---\n(.*?)\n---\n?(.*)\Z", re.S)


def load(fmt: Format, text: str) -> Any:
    """Parse ``text``; Markdown gives ``{"frontmatter": dict, "body": str}``."""
    try:
        if fmt is Format.JSON:
            return json.loads(text) if text.strip() else {}
        if fmt is Format.JSONC:
            return json.loads(_strip_jsonc(text)) if text.strip() else {}
        if fmt is Format.TOML:
            return tomllib.loads(text)
        if fmt is Format.YAML:
            return YAML(typ="safe").load(text) or {}
        match = _FRONTMATTER.match(text)
        if not match:
            return {"frontmatter": {}, "body": text}
        front = YAML(typ="safe").load(match.group(1)) or {}
        return {"frontmatter": front, "body": match.group(2)}
    except Exception as e:
        raise ConfigParseError(f"cannot parse {fmt} text: {e}") from e


def _apply(root: MutableMapping[Any, Any], edits: Sequence[Edit], new: Any) -> None:
    for edit in edits:
        node: Any = root
        for step in edit.path[:-1]:
            if step not in node:
                node[step] = new()
            node = node[step]
        last = edit.path[-1]
        if edit.value is DELETE:
            if last in node:
                del node[last]
        else:
            node[last] = edit.value


def apply_edits(fmt: Format, text: str, edits: Sequence[Edit]) -> str:
    """Apply ``edits`` to ``text``; an empty edit list returns ``text`` unchanged."""
    if not edits:
        return text
    if fmt in (Format.JSON, Format.JSONC):
        data = load(fmt, text)
        _apply(data, edits, dict)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.TOML:
        doc = tomlkit.parse(text)
        _apply(doc, edits, tomlkit.table)
        return tomlkit.dumps(doc)
    if fmt is Format.YAML:
        yaml = YAML()
        data = yaml.load(text) or {}
        _apply(data, edits, dict)
        out = io.StringIO()
        yaml.dump(data, out)
        return out.getvalue()
    doc = load(fmt, text)
    _apply(doc, edits, dict)
    out = io.StringIO()
    if doc["frontmatter"]:
        YAML().dump(dict(doc["frontmatter"]), out)
        return f"---\n{out.getvalue()}---\n{doc['body']}"
    return str(doc["body"])
