"""Markdown with optional YAML frontmatter (commands, subagents, skills, instruction files).

Frontmatter is edited line-block by line-block: only the lines of a changed top-level key are
re-rendered, so every untouched line keeps its exact text (``argument-hint: "[file]"`` stays
quoted, comments stay put).

Frontmatter that strict YAML rejects is read the way the clients read it: Claude Code retries
with every simple top-level ``key: value`` line whose unquoted value holds a YAML indicator
(``[]{}*&#!|>%@`` or ``": "``) double-quoted (``quoteProblematicValues`` in its frontmatter
parser), and OpenCode's ``fallbackSanitization`` does the same for values holding a colon.
Only lines that do not parse on their own are quoted here, so a valid ``tools: [Read]`` next
to a broken line stays a list (Claude Code would read it as the text ``[Read]``).
So ``argument-hint: [pr-number] [priority]`` reads as the string it was meant to be, and an
agent description with ``Examples: <example>Context: ...`` keeps its text. What still fails
is an error naming the line of the original text; nothing is guessed past that.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Final

from adapters.formats._model import DELETE, Edit, PathKey
from adapters.formats._text import check_text, same_value, validate_value
from adapters.formats._tree_edit import TreeOps, apply_tree_edit
from adapters.formats._yaml import dump_yaml, load_yaml
from events.errors import ConfigParseError

__all__ = ["apply_markdown_edits", "load_markdown", "quote_problematic_values"]

_OPEN: Final = re.compile(r"---[ \t]*\r?\n")
_CLOSE: Final = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_TOP_KEY: Final = re.compile(
    r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:][^#]*?|-[^\s#][^#]*?)"""
    r"[ \t]*:(?:[ \t]|\r?\n|\Z)"
)
_PLAIN_OPS: Final = TreeOps(lambda value, parent: copy.deepcopy(value), lambda value: value)
#: A simple top-level ``key: value`` line, as Claude Code's retry matches it.
_SIMPLE_LINE: Final = re.compile(r"(?P<key>[A-Za-z_-]+):[ \t]+(?P<value>\S.*?)[ \t]*")
#: What makes a plain scalar fail or change meaning (Claude Code's ``YAML_SPECIAL_CHARS``).
_INDICATORS: Final = re.compile(r"[{}\[\]*&#!|>%@`]|: ")
#: Block-scalar headers; quoting them would turn a folded description into ">".
_BLOCK_HEADER: Final = re.compile(r"[|>][-+]?[1-9]?")


def _split(text: str) -> tuple[int, int, int] | None:
    """Return (frontmatter start, frontmatter end, body start), or None without frontmatter."""
    opening = _OPEN.match(text)
    if opening is None:
        return None
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        return None
    return opening.end(), closing.start(), closing.end()


def _quote_line(line: str) -> str:
    """``line`` with its value double-quoted when a plain YAML scalar cannot hold it."""
    content = line.rstrip("\r\n")
    match = _SIMPLE_LINE.fullmatch(content)
    if match is None:
        return line
    value = match.group("value")
    quoted = len(value) > 1 and value[0] == value[-1] and value[0] in "\"'"
    if quoted or _BLOCK_HEADER.fullmatch(value) or not _INDICATORS.search(value):
        return line
    try:
        load_yaml(content)
    except ConfigParseError:
        pass
    else:
        # Unlike Claude Code, a line valid on its own stays as written: quoting
        # ``tools: ["Read", "Grep"]`` would turn the list into the text '["Read", "Grep"]'.
        return line
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{match.group("key")}: "{escaped}"{line[len(content) :]}'


def quote_problematic_values(frontmatter: str) -> str:
    """The frontmatter text as Claude Code retries it after a strict parse failed.

    Each simple top-level ``key: value`` line whose unquoted value holds a YAML indicator and
    does not parse on its own is double-quoted; other lines (valid ones, indented ones, list
    items, block scalars, comments) are kept.
    """
    return "".join(_quote_line(line) for line in frontmatter.splitlines(keepends=True))


def _load_frontmatter(fm: str) -> object:
    """Strict YAML first; on failure, the clients' lenient retry; else the strict error."""
    try:
        return load_yaml(fm, line_offset=1)
    except ConfigParseError as strict:
        retry = quote_problematic_values(fm)
        if retry == fm:
            raise
        try:
            return load_yaml(retry, line_offset=1)
        except ConfigParseError:
            raise strict from None


def load_markdown(text: str) -> dict[str, object]:
    """Return ``{"frontmatter": dict, "body": str}``; frontmatter is ``{}`` when absent.

    Frontmatter strict YAML rejects is retried the way Claude Code and OpenCode retry it
    (module docstring).

    Raises:
        ConfigParseError: frontmatter YAML invalid even for the clients' retry (line numbers
            count from the file's top), frontmatter that is not a mapping, a BOM or NUL bytes.
    """
    check_text(text)
    spans = _split(text)
    if spans is None:
        return {"frontmatter": {}, "body": text}
    start, end, body = spans
    data = _load_frontmatter(text[start:end])
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigParseError("frontmatter must be a YAML mapping at line 2, column 1")
    return {"frontmatter": data, "body": text[body:]}


def _blocks(fm: str) -> dict[object, tuple[int, int]]:
    """Map each top-level key to the (start, end) offsets of its lines within ``fm``."""
    lines = fm.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    heads: list[tuple[int, object]] = []
    for index, line in enumerate(lines):
        match = _TOP_KEY.match(line)
        if match:
            key_doc = load_yaml(f"{match.group('key')}: 0\n")
            assert isinstance(key_doc, dict)
            heads.append((index, next(iter(key_doc))))
    blocks: dict[object, tuple[int, int]] = {}
    for position, (index, key) in enumerate(heads):
        stop = heads[position + 1][0] if position + 1 < len(heads) else len(lines)
        for probe in range(index + 1, stop):
            if lines[probe].startswith("#"):
                stop = probe
                break
        while stop > index + 1 and lines[stop - 1].strip(" \t\r\n").startswith(("#", "")):
            if lines[stop - 1].strip() and not lines[stop - 1].lstrip().startswith("#"):
                break
            stop -= 1
        blocks[key] = (offsets[index], offsets[stop])
    return blocks


def _render(key: str, value: object, newline: str) -> str:
    rendered = dump_yaml({key: value})
    if load_yaml(rendered) != {key: value}:
        rendered = f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}\n"
    return rendered.replace("\n", newline)


def _set_key(text: str, key: str, value: object) -> str:
    newline = "\r\n" if "\r\n" in text else "\n"
    spans = _split(text)
    if spans is None:
        if value is DELETE:
            return text
        return f"---{newline}{_render(key, value, newline)}---{newline}{text}"
    start, end, _ = spans
    fm = text[start:end]
    block = _blocks(fm).get(key)
    if block is None:
        if value is DELETE:
            return text
        if fm and not fm.endswith("\n"):
            fm += newline
        return text[:start] + fm + _render(key, value, newline) + text[end:]
    replacement = "" if value is DELETE else _render(key, value, newline)
    return text[: start + block[0]] + replacement + text[start + block[1] :]


def _edit_frontmatter(text: str, path: tuple[PathKey, ...], value: object) -> str:
    current = load_markdown(text)["frontmatter"]
    assert isinstance(current, dict)
    if not path:
        if value is DELETE:
            spans = _split(text)
            return text if spans is None else text[spans[2] :]
        if not isinstance(value, dict):
            raise ValueError("frontmatter can only be set to a mapping")
        for key in [k for k in current if k not in value]:
            text = _set_key(text, key, DELETE)
        for key, child in value.items():
            text = _edit_frontmatter(text, (key,), child)
        return text
    key = path[0]
    if not isinstance(key, str):
        raise ValueError(f"frontmatter keys are strings, got {key!r}")
    if len(path) == 1:
        new_value = value
    else:
        holder = {key: copy.deepcopy(current.get(key))} if key in current else {}
        if not apply_tree_edit(holder, path, value, _PLAIN_OPS):
            return text
        new_value = holder.get(key, DELETE)
    if new_value is not DELETE and key in current and same_value(current[key], new_value):
        return text
    return _set_key(text, key, new_value)


def apply_markdown_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply edits addressed as ``("frontmatter", key, ...)`` or ``("body",)``.

    Returns ``text`` unchanged when nothing changed; a frontmatter block is created at the
    top when the file has none.
    """
    load_markdown(text)
    for edit in edits:
        if edit.value is not DELETE:
            validate_value(edit.value)
        head, rest = (edit.path[0], edit.path[1:]) if edit.path else (None, ())
        if head == "body" and not rest:
            body = "" if edit.value is DELETE else edit.value
            if not isinstance(body, str):
                raise TypeError("the Markdown body must be a string")
            spans = _split(text)
            text = body if spans is None else text[: spans[2]] + body
        elif head == "frontmatter":
            text = _edit_frontmatter(text, rest, edit.value)
        else:
            raise ValueError(f"Markdown paths start with 'frontmatter' or 'body', got {edit.path}")
    return text
