"""Surgical edits of JSON / JSONC text: only the spans at the edited paths change.

Each edit re-parses the text, walks to the path and splices the smallest span: a value is
replaced in place, a new member is appended after the last one in the container's own layout,
a deleted member takes its line (and same-line comment) and the now-dangling comma with it.

A large strict-JSON text (:mod:`._jsonc_lazy`: a 100 MB ``~/.claude.json``) is not re-parsed
per edit: the deepest container holding every edit is cut out (with its line's indent, so
the layout reads the same), edited as a small document, and put back; the bytes around it
are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.formats._jsonc_lazy import is_large, parse_document
from adapters.formats._jsonc_scan import Node, Token, to_python
from adapters.formats._jsonc_style import Style, detect_style, line_indent, render
from adapters.formats._model import DELETE, Edit, PathKey
from adapters.formats._text import same_value, validate_value

__all__ = ["apply_json_edits"]


def apply_json_edits(text: str, edits: Sequence[Edit], *, strict: bool) -> str:
    """Apply ``edits`` in order to JSON (``strict``) or JSONC ``text``.

    Raises:
        ConfigParseError: the original text is not valid in its format.
        ValueError, TypeError: an edit addresses an impossible path or carries a bad value.
    """
    root, _ = parse_document(text, strict=strict)
    for edit in edits:
        if edit.value is not DELETE:
            validate_value(edit.value)
    if edits and is_large(text, strict=strict):
        return _apply_within(text, root, edits)
    for edit in edits:
        text = _apply(text, edit.path, edit.value, strict=strict)
    return text


def _apply_within(text: str, root: Node, edits: Sequence[Edit]) -> str:
    """Apply ``edits`` (strict JSON) inside the deepest existing container holding them all."""
    paths = [edit.path for edit in edits]
    shared = 0
    while all(len(p) > shared + 1 and p[shared] == paths[0][shared] for p in paths):
        shared += 1  # every edit stays strictly below the container, never edits it whole
    node, depth = root, 0
    for key in paths[0][:shared]:
        index = None if node.kind == "scalar" else _find(node, key, deleting=True)
        if index is None or node.children[index].value.kind == "scalar":
            break
        node, depth = node.children[index].value, depth + 1
    if depth == 0:  # no container holds them all: edit the whole text
        for edit in edits:
            text = _apply(text, edit.path, edit.value, strict=True)
        return text
    indent = line_indent(text, node.start)
    part = indent + text[node.start : node.end]
    # Layout choices that depend on the whole document being one line must see the whole.
    content = text.strip(" \t\r\n")
    offset = text.index(content[:1])
    outer = "\n" in content[: node.start - offset] or "\n" in content[node.end - offset :]
    for edit in edits:
        flat = not outer and "\n" not in part
        part = _apply(part, edit.path[depth:], edit.value, strict=True, flat=flat)
    return text[: node.start] + part[len(indent) :] + text[node.end :]


def _build(keys: Sequence[PathKey], value: object) -> object:
    """Wrap ``value`` in the objects/arrays that ``keys`` would create."""
    for key in reversed(keys):
        if isinstance(key, str):
            value = {key: value}
        elif key == 0:
            value = [value]
        else:
            raise ValueError(f"cannot create array index {key} in a missing array")
    return value


def _find(node: Node, key: PathKey, *, deleting: bool) -> int | None:
    if node.kind == "object":
        if not isinstance(key, str):
            if deleting:
                return None
            raise ValueError(f"index {key!r} used on an object")
        return next((i for i, c in enumerate(node.children) if c.key == key), None)
    if node.kind == "array":
        if not isinstance(key, int) or isinstance(key, bool) or key < 0:
            if deleting:
                return None
            raise ValueError(f"key {key!r} used on an array")
        if key > len(node.children):
            if deleting:
                return None
            raise ValueError(f"index {key} out of range for an array of {len(node.children)}")
        return key if key < len(node.children) else None
    return None


def _apply(
    text: str, path: tuple[PathKey, ...], value: object, *, strict: bool, flat: bool | None = None
) -> str:
    """Apply one edit; ``flat``: the whole document is one line (None: ``text`` is it)."""
    if flat is None:
        flat = "\n" not in text.strip() and text.strip() not in ("{}", "[]")
    root, tokens = parse_document(text, strict=strict)
    splicer = _Splicer(text, tokens, detect_style(text, root), flat=flat)
    node, parent = root, None
    for depth, key in enumerate(path):
        index = _find(node, key, deleting=value is DELETE)
        if index is None:
            if value is DELETE:
                return text
            if node.kind == "scalar":
                return splicer.replace(node, parent, _build(path[depth:], value))
            name = key if node.kind == "object" else None
            assert name is None or isinstance(name, str)
            return splicer.insert(node, name, _build(path[depth + 1 :], value))
        node, parent = node.children[index].value, node
    if value is DELETE:
        if parent is None:
            raise ValueError("cannot delete the document root")
        index = next(i for i, c in enumerate(parent.children) if c.value is node)
        return splicer.delete(parent, index)
    current = to_python(node)
    if same_value(current, value):
        return text
    if node.kind == "object" and isinstance(value, dict) and isinstance(current, dict):
        # Merge key by key so comments and layout inside the object survive.
        for key in current:
            if key not in value:
                text = _apply(text, (*path, key), DELETE, strict=strict, flat=flat)
        for key, child in value.items():
            text = _apply(text, (*path, key), child, strict=strict, flat=flat)
        return text
    return splicer.replace(node, parent, value)


class _Splicer:
    """Text surgery on one parsed version of the document."""

    def __init__(self, text: str, tokens: list[Token], style: Style, *, flat: bool) -> None:
        self.flat = flat  # the whole document is one line (a cut-out part may not say so)
        self.text = text
        self.comments = [t for t in tokens if t.kind == "comment"]
        self.style = style

    def _multiline(self, node: Node | None) -> bool:
        span = self.text if node is None else self.text[node.start : node.end]
        return "\n" in span

    def _starts_line(self, pos: int) -> bool:
        return self.text[self.text.rfind("\n", 0, pos) + 1 : pos].strip(" \t") == ""

    def _skip_trailing(self, pos: int) -> int:
        """Return the end of spaces and same-line comments after ``pos``."""
        while True:
            end = pos
            while end < len(self.text) and self.text[end] in " \t":
                end += 1
            comment = next((c for c in self.comments if c.start == end), None)
            if comment is None or "\n" in self.text[comment.start : comment.end]:
                return pos
            pos = comment.end

    def _entry(self, key: str | None, value: object, *, indent: str, multiline: bool) -> str:
        prefix = "" if key is None else render(key, self.style, indent="", multiline=False)
        rendered = render(value, self.style, indent=indent, multiline=multiline)
        return (prefix + self.style.colon if key is not None else "") + rendered

    def replace(self, node: Node, parent: Node | None, value: object) -> str:
        multiline = self._multiline(parent)
        indent = line_indent(self.text, node.start)
        rendered = render(value, self.style, indent=indent, multiline=multiline)
        return self.text[: node.start] + rendered + self.text[node.end :]

    def insert(self, node: Node, key: str | None, value: object) -> str:
        text, style, nl = self.text, self.style, self.style.newline
        own = line_indent(text, node.start)
        close = node.end - 1
        if not node.children:
            if text[node.start + 1 : close].strip():  # only comments inside: keep them
                inner = own + style.unit
                entry = self._entry(key, value, indent=inner, multiline=True)
                if self._starts_line(close):
                    at = text.rfind("\n", 0, close) + 1
                    return text[:at] + inner + entry + nl + text[at:]
                return text[:close] + nl + inner + entry + nl + own + text[close:]
            if self.flat:
                entry = self._entry(key, value, indent=own, multiline=False)
                pad = style.pad if node.kind == "object" else ""
                return text[: node.start + 1] + pad + entry + pad + text[close:]
            inner = own + style.unit
            entry = self._entry(key, value, indent=inner, multiline=True)
            return text[: node.start + 1] + nl + inner + entry + nl + own + text[close:]
        last = node.children[-1]
        if not self._multiline(node):
            entry = self._entry(key, value, indent=own, multiline=False)
            if last.comma is not None:
                at = last.comma + 1
                return text[:at] + " " + entry + "," + text[at:]
            at = last.value.end
            return text[:at] + style.comma + entry + text[at:]
        inner = line_indent(text, last.start) if self._starts_line(last.start) else own + style.unit
        entry = nl + inner + self._entry(key, value, indent=inner, multiline=True)
        if last.comma is not None:
            at = self._skip_trailing(last.comma + 1)
            return text[:at] + entry + "," + text[at:]
        end = last.value.end
        at = self._skip_trailing(end)
        return text[:end] + "," + text[end:at] + entry + text[at:]

    def delete(self, node: Node, index: int) -> str:
        text = self.text
        children = node.children
        has_comments = any(node.start < c.start < node.end for c in self.comments)
        if len(children) == 1 and not has_comments:
            empty = "{}" if node.kind == "object" else "[]"
            return text[: node.start] + empty + text[node.end :]
        child = children[index]
        start = child.start
        end = child.comma + 1 if child.comma is not None else child.value.end
        cuts: list[tuple[int, int]] = []
        if self._multiline(node) and self._starts_line(start):
            after = self._skip_trailing(end)
            rest = text[after:]
            stripped = rest.lstrip(" \t")
            if stripped.startswith(("\n", "\r\n")):
                line_start = text.rfind("\n", 0, start) + 1
                newline_len = 1 if stripped.startswith("\n") else 2
                cuts.append((line_start, after + (len(rest) - len(stripped)) + newline_len))
            else:
                cuts.append((start, after + (len(rest) - len(stripped))))
            if child.comma is None and index > 0:
                previous = children[index - 1]
                assert previous.comma is not None
                cuts.append((previous.comma, previous.comma + 1))
        elif child.comma is not None:
            while end < len(text) and text[end] in " \t":
                end += 1
            cuts.append((start, end))
        elif index > 0:
            previous = children[index - 1]
            assert previous.comma is not None
            cuts.append((previous.value.end, end))
        else:
            cuts.append((start, end))
        for cut_start, cut_end in sorted(cuts, reverse=True):
            text = text[:cut_start] + text[cut_end:]
        return text
