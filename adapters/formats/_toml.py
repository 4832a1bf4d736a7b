"""TOML (Codex ``config.toml``, Gemini/Qwen command files): strict load, tomlkit edits."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from typing import Any, Final

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Array, InlineTable, Item, Table

from adapters.formats._model import DELETE, MAX_DEPTH, Edit
from adapters.formats._text import check_text, depth_of, parse_error, validate_value
from adapters.formats._tree_edit import TreeOps, apply_tree_edit
from events.errors import ConfigParseError

__all__ = ["apply_toml_edits", "load_toml"]

_NONFINITE: Final = re.compile(r"=\s*[+-]?(?:nan|inf)\b")


def _scan_depth(text: str) -> None:
    """Refuse deep bracket nesting before tomllib recurses into it."""
    depth, pos, size = 0, 0, len(text)
    while pos < size:
        char = text[pos]
        if char == "#":
            end = text.find("\n", pos)
            pos = size if end < 0 else end
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, pos) else char
            end = pos + len(quote)
            while end < size and not text.startswith(quote, end):
                end += 2 if char == '"' and text[end] == "\\" else 1
            pos = end + len(quote)
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise parse_error(text, pos, f"nesting deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth = max(0, depth - 1)
        pos += 1


def _has_nonfinite(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load_toml(text: str) -> dict[str, Any]:
    """Parse TOML strictly (tomllib) into plain Python data.

    Raises:
        ConfigParseError: invalid TOML or duplicate keys (tomllib names line and column),
            nan/inf, nesting deeper than 64 levels, a BOM or NUL bytes.
    """
    check_text(text)
    _scan_depth(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigParseError(f"invalid TOML: {e}") from e
    except RecursionError as e:
        raise ConfigParseError(f"invalid TOML: nesting deeper than {MAX_DEPTH} levels") from e
    if depth_of(data) > MAX_DEPTH:
        raise ConfigParseError(
            f"invalid TOML: nesting deeper than {MAX_DEPTH} levels at line 1, column 1"
        )
    if _has_nonfinite(data):
        match = _NONFINITE.search(text)
        raise parse_error(text, match.end() if match else 0, "nan and inf values are refused")
    return data


def _unwrap(value: object) -> object:
    return value.unwrap() if isinstance(value, Item | Container) else value


def _wrap(value: object, parent: object) -> object:
    if value is None:
        raise ValueError("TOML cannot store null")
    if isinstance(value, dict):
        if isinstance(parent, InlineTable | Array):
            inline = tomlkit.inline_table()
            for key, child in value.items():
                inline[key] = _wrap(child, inline)
            return inline
        super_table = bool(value) and all(isinstance(v, dict) for v in value.values())
        table = tomlkit.table(is_super_table=super_table)
        for key, child in value.items():
            table[key] = _wrap(child, table)
        return table
    if isinstance(value, list):
        array = tomlkit.array()
        for child in value:
            array.append(_wrap(child, array))
        return array
    return tomlkit.item(value)


def _ends_with_table(body: Table) -> Table:
    last: Table = body
    for _, item in body.value.body:
        if isinstance(item, Table):
            last = _ends_with_table(item)
    return last


def _space_new_tables(doc: tomlkit.TOMLDocument, before: set[int]) -> None:
    """Give each table we created a trailing blank line, as Codex separates sections."""
    stack: list[object] = list(doc.body)
    while stack:
        entry = stack.pop()
        item = entry[1] if isinstance(entry, tuple) else entry
        if isinstance(item, Table):
            if id(item) not in before:
                tail = _ends_with_table(item)
                if not tail.as_string().endswith("\n\n"):
                    tail.add(tomlkit.nl())
                continue
            stack.extend(item.value.body)
        elif isinstance(item, AoT):
            stack.extend(item.body)


def _show_empty_super_tables(doc: tomlkit.TOMLDocument) -> None:
    """A super-table emptied by an edit has no header left; give it one back."""
    stack: list[object] = [entry[1] for entry in doc.body]
    while stack:
        item = stack.pop()
        if isinstance(item, Table):
            if not item.value.body or all(k is None for k, _ in item.value.body):
                item._is_super_table = False
            stack.extend(entry[1] for entry in item.value.body)
        elif isinstance(item, AoT):
            stack.extend(item.body)


def _table_ids(doc: tomlkit.TOMLDocument) -> set[int]:
    ids: set[int] = set()
    stack: list[object] = [entry[1] for entry in doc.body]
    while stack:
        item = stack.pop()
        if isinstance(item, Table):
            ids.add(id(item))
            stack.extend(entry[1] for entry in item.value.body)
        elif isinstance(item, AoT):
            stack.extend(item.body)
    return ids


def apply_toml_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply ``edits`` with tomlkit so comments, order and number formats survive.

    New tables land after the last related section as ``[a.b]`` headers; keys with dots or
    spaces are quoted. Returns ``text`` unchanged when nothing changed.
    """
    load_toml(text)
    if not edits:
        return text
    doc = tomlkit.parse(text)
    before = _table_ids(doc)
    ops = TreeOps(_wrap, _unwrap)
    changed = False
    for edit in edits:
        if edit.value is not DELETE:
            validate_value(edit.value)
        changed = apply_tree_edit(doc, edit.path, edit.value, ops) or changed
    if not changed:
        return text
    _show_empty_super_tables(doc)
    _space_new_tables(doc, before)
    out = doc.as_string()
    if out.endswith("\n\n") and not text.endswith("\n\n"):
        out = out.rstrip("\n") + "\n"
    return out
