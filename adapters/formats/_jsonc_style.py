"""Detect a JSON file's layout (indent, separators, line ending) and render new values in it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from adapters.formats._jsonc_scan import Node

__all__ = ["Style", "detect_style", "line_indent", "render"]


@dataclass(frozen=True)
class Style:
    """How a file lays out values, so inserted text looks like the client wrote it."""

    newline: str = "\n"
    unit: str = "  "
    colon: str = ": "
    comma: str = ", "
    pad: str = ""
    multiline_scalar_arrays: bool = True


def line_indent(text: str, pos: int) -> str:
    """Return the leading whitespace of the line containing ``pos``."""
    start = text.rfind("\n", 0, pos) + 1
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def _containers(root: Node) -> list[Node]:
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.kind != "scalar":
            found.append(node)
            if not node.folded:  # a large file's folded containers stay unparsed
                stack.extend(child.value for child in reversed(node.children))
    found.sort(key=lambda n: n.start)
    return found


def detect_style(text: str, root: Node) -> Style:
    """Infer the file's indent unit, separators and array layout from its existing containers."""
    newline = "\r\n" if "\r\n" in text else "\n"
    unit = colon = comma = pad = None
    multiline_arrays = None
    for node in _containers(root):
        if node.folded or not node.children:
            continue
        first = node.children[0]
        spans_lines = "\n" in text[node.start : node.end]
        if unit is None and "\n" in text[node.start : first.start]:
            outer, inner = line_indent(text, node.start), line_indent(text, first.start)
            if inner.startswith(outer) and len(inner) > len(outer):
                unit = inner[len(outer) :]
        if colon is None and first.key is not None:
            between = text[first.start : first.value.start]
            after = between[between.rfind(":") + 1 :]
            colon = ":" + (after if "\n" not in after and "/" not in after else " ")
        if not spans_lines and comma is None and first.comma is not None:
            comma = "," + (" " if text[first.comma + 1 : first.comma + 2] == " " else "")
        if not spans_lines and pad is None and node.kind == "object":
            pad = " " if text[node.start + 1 : node.start + 2] == " " else ""
        scalars_only = all(child.value.kind == "scalar" for child in node.children)
        if multiline_arrays is None and node.kind == "array" and scalars_only:
            multiline_arrays = spans_lines
    return Style(
        newline=newline,
        unit=unit or "  ",
        colon=colon or ": ",
        comma=comma or (", " if colon != ":" else ","),
        pad=pad or "",
        multiline_scalar_arrays=True if multiline_arrays is None else multiline_arrays,
    )


def _scalar(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def render(value: object, style: Style, *, indent: str, multiline: bool) -> str:
    """Render a JSON-like value in ``style``; ``indent`` is the indent of the line it starts on."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + style.unit
        items = [
            f"{_scalar(k)}{style.colon}{render(v, style, indent=inner, multiline=multiline)}"
            for k, v in value.items()
        ]
        return _wrap("{", "}", items, style, indent=indent, multiline=multiline, pad=style.pad)
    if isinstance(value, list):
        if not value:
            return "[]"
        scalars = all(not isinstance(v, dict | list) for v in value)
        multiline = multiline and (style.multiline_scalar_arrays or not scalars)
        items = [render(v, style, indent=indent + style.unit, multiline=multiline) for v in value]
        return _wrap("[", "]", items, style, indent=indent, multiline=multiline, pad="")
    return _scalar(value)


def _wrap(
    open_: str,
    close: str,
    items: list[str],
    style: Style,
    *,
    indent: str,
    multiline: bool,
    pad: str,
) -> str:
    if not multiline:
        return open_ + pad + style.comma.join(items) + pad + close
    inner = indent + style.unit
    body = ("," + style.newline).join(inner + item for item in items)
    return open_ + style.newline + body + style.newline + indent + close
