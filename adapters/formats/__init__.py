"""Format-preserving load and surgical edit of AI-client config files.

``load`` turns JSON, JSONC, TOML, YAML or Markdown-with-frontmatter text into plain Python
data and refuses anything malformed or hostile with a one-line
:class:`~events.errors.ConfigParseError` that names the line and column. ``apply_edits``
changes only the spans at the edited paths: comments, key order, indentation, number formats
and unknown keys are left byte-identical, and a no-op edit returns the very same string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.formats._jsonc_edit import apply_json_edits
from adapters.formats._jsonc_lazy import is_large, load_large
from adapters.formats._jsonc_scan import parse, to_python
from adapters.formats._markdown import apply_markdown_edits, load_markdown
from adapters.formats._model import DELETE, Edit, Format
from adapters.formats._toml import apply_toml_edits, load_toml
from adapters.formats._yaml import apply_yaml_edits, load_yaml

__all__ = ["DELETE", "Edit", "Format", "apply_edits", "load"]


def load(fmt: Format, text: str) -> Any:
    """Parse ``text`` in format ``fmt`` into plain Python data.

    Args:
        fmt: the file's format; strict JSON refuses comments and trailing commas.
        text: the whole file, already decoded from UTF-8.

    Returns:
        dict/list/str/int/float/bool/None data. For Markdown: ``{"frontmatter": dict,
        "body": str}`` with ``{}`` frontmatter when the file has none.

    Raises:
        ConfigParseError: invalid syntax, comments or trailing commas in strict JSON,
            duplicate keys, NaN/Infinity, nesting deeper than 64 levels, a UTF-8 byte-order
            mark, or NUL (binary) content; the message names line and column.
    """
    if fmt in (Format.JSON, Format.JSONC):
        strict = fmt is Format.JSON
        if is_large(text, strict=strict):
            return load_large(text)  # a 100 MB ~/.claude.json: the C decoder, same checks
        root, _ = parse(text, strict=strict)
        return to_python(root)
    if fmt is Format.TOML:
        return load_toml(text)
    if fmt is Format.YAML:
        return load_yaml(text)
    return load_markdown(text)


def apply_edits(fmt: Format, text: str, edits: Sequence[Edit]) -> str:
    """Apply ``edits`` in order, changing only the spans at the edited paths.

    Args:
        fmt: the file's format.
        text: the current file content; it must load cleanly in ``fmt``.
        edits: set (any JSON-like value) or remove (:data:`DELETE`) the value at each path.
            Missing parents are created; for Markdown, paths start with ``"frontmatter"``
            or ``"body"``.

    Returns:
        The edited text; exactly ``text`` when there are no edits or none changes a value.

    Raises:
        ConfigParseError: ``text`` does not load in ``fmt``.
        ValueError: an edit path is impossible (index out of range, key on an array,
            deleting the root) or a value is NaN/infinite or nests too deep.
        TypeError: an edit value is not JSON-like.
    """
    if fmt in (Format.JSON, Format.JSONC):
        if not text.strip() and edits:
            # A new (or emptied) file: edits create its top-level object.
            text = "{}\n"
        return apply_json_edits(text, edits, strict=fmt is Format.JSON)
    if fmt is Format.TOML:
        return apply_toml_edits(text, edits)
    if fmt is Format.YAML:
        return apply_yaml_edits(text, edits)
    return apply_markdown_edits(text, edits)
