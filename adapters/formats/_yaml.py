"""YAML (Rovo Dev ``config.yml``, frontmatter): strict load and ruamel round-trip edits."""

from __future__ import annotations

import difflib
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.util import load_yaml_guess_indent

from adapters.formats._model import DELETE, MAX_DEPTH, Edit
from adapters.formats._text import check_text, validate_value
from adapters.formats._tree_edit import TreeOps, apply_tree_edit
from events.errors import ConfigParseError

__all__ = ["apply_yaml_edits", "dump_yaml", "load_yaml", "to_plain"]


def _error(message: str, line: int, column: int, *, offset: int = 0) -> ConfigParseError:
    return ConfigParseError(f"{message} at line {line + 1 + offset}, column {column + 1}")


#: Characters a YAML 1.1 reader takes for line breaks besides CR and LF (NEL, LS, PS).
_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")


class _Representer(RoundTripRepresenter):
    """ruamel's round-trip representer, except that a string holding NEL, LS or PS is written
    double-quoted, where they are escapes (``\\N``, ``\\L``, ``\\P``). ruamel would write
    them raw inside single quotes, and a reader folds a raw line break there into a space:
    a model id ``"\\x85x"`` came back as ``" x"``."""

    def represent_str(self, data: str) -> ScalarNode:
        if any(ch in data for ch in _UNICODE_BREAKS):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        node: ScalarNode = super().represent_str(data)
        return node


_Representer.add_representer(str, _Representer.represent_str)


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Representer = _Representer
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-fold long lines the user wrote on one line
    return yaml


def _parse(text: str, *, line_offset: int) -> Any:
    check_text(text)
    try:
        return _round_trip_yaml().load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        if mark is None:
            raise ConfigParseError(f"invalid YAML: {problem}") from e
        raise _error(f"invalid YAML: {problem}", mark.line, mark.column, offset=line_offset) from e
    except YAMLError as e:
        raise ConfigParseError(f"invalid YAML: {str(e).splitlines()[0]}") from e
    except RecursionError as e:
        raise ConfigParseError(f"invalid YAML: nesting deeper than {MAX_DEPTH} levels") from e


def to_plain(node: object, *, line_offset: int = 0) -> object:
    """Convert ruamel round-trip data to plain dict/list/str/int/float/bool/None.

    Raises:
        ConfigParseError: nesting deeper than 64 levels, or a .nan / .inf value.
    """

    def convert(value: object, depth: int, where: tuple[int, int]) -> object:
        if isinstance(value, Mapping | list) and depth >= MAX_DEPTH:
            raise _error(f"nesting deeper than {MAX_DEPTH} levels", *where, offset=line_offset)
        if isinstance(value, CommentedMap):
            return {
                (str(k) if not isinstance(k, str | int | float | bool) else k): convert(
                    v, depth + 1, value.lc.value(k) or where
                )
                for k, v in value.items()
            }
        if isinstance(value, CommentedSeq):
            return [convert(v, depth + 1, value.lc.item(i) or where) for i, v in enumerate(value)]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _error("nan and inf values are refused", *where, offset=line_offset)
            return float(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, str):
            return str(value)
        return value

    return convert(node, 0, (0, 0))


def load_yaml(text: str, *, line_offset: int = 0) -> object:
    """Parse one YAML document into plain Python data (``None`` for an empty document).

    Raises:
        ConfigParseError: invalid YAML, duplicate keys, .nan/.inf, depth over 64, BOM, NUL.
    """
    return to_plain(_parse(text, line_offset=line_offset), line_offset=line_offset)


def _wrap(value: object, parent: object) -> object:
    del parent
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, child in value.items():
            mapping[key] = _wrap(child, mapping)
        return mapping
    if isinstance(value, list):
        return CommentedSeq(_wrap(child, None) for child in value)
    return value


def dump_yaml(data: object, yaml: YAML | None = None) -> str:
    """Dump data with the round-trip dumper (block style, long lines kept whole)."""
    stream = io.StringIO()
    (yaml or _round_trip_yaml()).dump(data, stream)
    return stream.getvalue()


def _guess_indent(text: str) -> dict[str, int]:
    """Guess mapping indent, sequence indent and dash offset so a dump matches the file."""
    _, sequence, offset = load_yaml_guess_indent(text)
    widths = [
        len(line) - len(line.lstrip(" "))
        for line in text.splitlines()
        if line.startswith(" ") and not line.lstrip().startswith(("-", "#"))
    ]
    mapping = min((w for w in widths if w > 0), default=2)
    return {"mapping": mapping, "sequence": sequence or mapping, "offset": offset or 0}


def apply_yaml_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply ``edits`` through ruamel's round-trip model; comments and key order survive.

    Indentation is guessed from the file. Returns ``text`` unchanged when nothing changed.
    """
    load_yaml(text)
    if not edits:
        return text
    yaml = _round_trip_yaml()
    yaml.indent(**_guess_indent(text))
    data = yaml.load(text)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ValueError("only YAML documents whose root is a mapping can be edited")
    ops = TreeOps(_wrap, to_plain)
    changed = False
    for edit in edits:
        if edit.value is not DELETE:
            validate_value(edit.value)
        changed = apply_tree_edit(data, edit.path, edit.value, ops) or changed
    if not changed:
        return text
    return _keep_equivalent_lines(text, dump_yaml(data, yaml))


def _same_fragment(old: str, new: str) -> bool:
    indent_old = old[: len(old) - len(old.lstrip(" "))]
    if indent_old != new[: len(new) - len(new.lstrip(" "))]:
        return False
    try:
        return bool(load_yaml(old.strip()) == load_yaml(new.strip()))
    except ConfigParseError:
        return False


def _keep_equivalent_lines(original: str, dumped: str) -> str:
    """Undo the dumper's cosmetic rewrites (``{ a: 1 }`` → ``{a: 1}``) on lines we did not change.

    Where a rewritten line means the same YAML as the original line at the same indent, the
    original text is kept; the result is used only if it still loads to the dumped data.
    """
    old_lines = original.splitlines(keepends=True)
    new_lines = dumped.splitlines(keepends=True)
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "replace" and a1 - a0 == b1 - b0:
            pairs = zip(old_lines[a0:a1], new_lines[b0:b1], strict=True)
            merged.extend(old if _same_fragment(old, new) else new for old, new in pairs)
        else:
            merged.extend(new_lines[b0:b1])
    result = "".join(merged)
    try:
        return result if load_yaml(result) == load_yaml(dumped) else dumped
    except ConfigParseError:
        return dumped
