"""Large strict-JSON texts (a long-used ``~/.claude.json``): C-speed loads, lazy positioned trees.

The positioned parser in :mod:`._jsonc_scan` makes a Python object per token: fine for a
config file, some 30 s and gigabytes for the 100 MB ``~/.claude.json`` Claude grows (its
per-project prompt history). From :data:`LAZY_FROM` characters on, strict JSON takes this
path instead; JSONC never does (its files keep the 1 MiB read limit).

* :func:`load_large` decodes with the C decoder, as strictly as the full parser: duplicate
  keys, NaN/Infinity, out-of-range numbers, unpaired surrogate escapes and nesting deeper
  than :data:`~._model.MAX_DEPTH` are refused, naming line and column.
* :func:`parse_large` returns a tree whose top-level members are parsed (and the whole text
  checked, member by member) while every container below is *folded*: its span is known,
  its members are parsed on first access. An edit deep inside the file parses only the
  containers on its path; everything else is never materialised as positioned nodes.

Checked once at the top level, a folded container's text is known good, so unfolding it and
decoding it use the plain decoder (the same values, faster).
"""

from __future__ import annotations

import functools
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

from adapters.formats._jsonc_scan import Child, Node, Source, Token, parse
from adapters.formats._model import MAX_DEPTH
from adapters.formats._text import check_text, parse_error
from events.errors import ConfigParseError

__all__ = ["LAZY_FROM", "is_large", "load_large", "parse_document", "parse_large"]

#: Strict JSON texts this long (characters) are loaded and parsed here.
LAZY_FROM: Final = 1024 * 1024

_WS: Final = re.compile(r"[ \t\r\n]*")
_KEY: Final = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.DOTALL)
#: An escaped surrogate code unit; only then are decoded strings searched for a lone one.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


class _RefusedError(ValueError):
    """A value the strict parser refuses though the stdlib decoder would accept it."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RefusedError(f"duplicate key {key!r}")
            seen.add(key)
    return out


def _constant(word: str) -> float:
    raise _RefusedError(f"{word} is not valid JSON (NaN and Infinity are refused)")


def _float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise _RefusedError(f"number {raw} is out of range")
    return value


_STRICT: Final = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float
)
_PLAIN: Final = json.JSONDecoder()


def is_large(text: str, *, strict: bool) -> bool:
    """Whether ``text`` takes the large-file path (strict JSON of :data:`LAZY_FROM` or more)."""
    return strict and len(text) >= LAZY_FROM


def _too_deep(value: object, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels in ``value`` (level by level)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            below.extend(c for c in children if isinstance(c, dict | list))
        level = below
    return False


def _has_lone_surrogate(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= ch <= "\udfff" for ch in item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _decode_checked(text: str, pos: int, depth: int) -> tuple[object, int]:
    """Decode the value at ``pos`` strictly; return it and where it ends."""
    try:
        value, end = _STRICT.raw_decode(text, pos)
    except json.JSONDecodeError as e:
        raise parse_error(text, e.pos, e.msg[:1].lower() + e.msg[1:]) from e
    except _RefusedError as e:
        raise parse_error(text, pos, str(e)) from e
    except ValueError as e:  # more digits than int() accepts (CVE-2020-10735 guard)
        raise parse_error(text, pos, "number has too many digits") from e
    except RecursionError as e:
        raise parse_error(text, pos, f"nesting deeper than {MAX_DEPTH} levels") from e
    if _too_deep(value, MAX_DEPTH - depth):
        raise parse_error(text, pos, f"nesting deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(text, pos, end) and _has_lone_surrogate(value):
        raise parse_error(text, pos, "unpaired surrogate escape in string")
    return value, end


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    assert match is not None  # ``*`` always matches
    return match.end()


#: The last large texts that passed every check: a sync round loads, plans and edits the
#: same text, and only the first pass needs the (slower) checking decoder.
_CHECKED: OrderedDict[str, None] = OrderedDict()
_CHECKED_LOCK = threading.Lock()


def _was_checked(text: str) -> bool:
    with _CHECKED_LOCK:
        return text in _CHECKED


def _mark_checked(text: str) -> None:
    with _CHECKED_LOCK:
        _CHECKED[text] = None
        while len(_CHECKED) > 2:  # each entry pins a whole text
            _CHECKED.popitem(last=False)


def load_large(text: str) -> object:
    """Decode a large strict-JSON text with the checks of the full parser.

    Raises:
        ConfigParseError: as :func:`adapters.formats.load` would, naming line and column.
    """
    start = _skip(text, 0)
    if _was_checked(text):
        return _PLAIN.raw_decode(text, start)[0]
    check_text(text)
    value, end = _decode_checked(text, start, 0)
    if _skip(text, end) != len(text):
        raise parse_error(text, _skip(text, end), "unexpected content after the top-level value")
    _mark_checked(text)
    return value


class _LazySource(Source):
    """Unfolds the folded containers of one large text (already checked as a whole)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lock = threading.Lock()

    def fill(self, node: Node) -> list[Child]:
        with self._lock:
            if node.members is None:
                node.members = self.members(node, checked=True)
            return node.members

    def decode(self, node: Node) -> object:
        return _PLAIN.raw_decode(self.text, node.start)[0]

    def _value(self, pos: int, *, checked: bool) -> Node:
        text = self.text
        if checked:
            value, end = _PLAIN.raw_decode(text, pos)
        else:
            value, end = _decode_checked(text, pos, 1)
        if text[pos] == "{":
            return Node("object", pos, end, members=None, source=self)
        if text[pos] == "[":
            return Node("array", pos, end, members=None, source=self)
        return Node("scalar", pos, end, value)

    def members(self, node: Node, *, checked: bool) -> list[Child]:
        """Parse the members of container ``node``; ``checked``: its text is known good."""
        text = self.text
        is_object = node.kind == "object"
        closer = "}" if is_object else "]"
        children: list[Child] = []
        seen: set[str] = set()
        pos = _skip(text, node.start + 1)
        if text.startswith(closer, pos):
            return children
        while True:
            start, key = pos, None
            if is_object:
                pos, key = self._key(pos, seen)
            children.append(Child(key, start, self._value(pos, checked=checked)))
            pos = _skip(text, children[-1].value.end)
            if text.startswith(",", pos):
                children[-1].comma = pos
                pos = _skip(text, pos + 1)
                if text.startswith(closer, pos):
                    raise parse_error(text, children[-1].comma, "trailing comma not allowed")
                continue
            if text.startswith(closer, pos):
                return children
            raise parse_error(text, pos, f"expected ',' or '{closer}'")

    def _key(self, pos: int, seen: set[str]) -> tuple[int, str]:
        """Read ``"key":`` at ``pos``; return where its value starts, and the key."""
        text = self.text
        match = _KEY.match(text, pos)
        if match is None:
            raise parse_error(text, pos, "expected a string key")
        key = json.loads(match.group())
        if any("\ud800" <= ch <= "\udfff" for ch in key):
            raise parse_error(text, pos, "unpaired surrogate escape in string")
        if key in seen:
            raise parse_error(text, pos, f"duplicate key {key!r}")
        seen.add(key)
        pos = _skip(text, match.end())
        if not text.startswith(":", pos):
            raise parse_error(text, pos, "expected ':'")
        return _skip(text, pos + 1), key


def parse_large(text: str) -> Node:
    """The positioned tree of a large strict-JSON text, containers below the top folded.

    The top level is parsed (each member's value decoded and checked strictly) here, so a
    bad file fails now, as with the full parser.

    Raises:
        ConfigParseError: any syntax error, duplicate key, NaN, nesting too deep.
    """
    check_text(text)
    source = _LazySource(text)
    start = _skip(text, 0)
    if not text.startswith(("{", "["), start):
        return Node("scalar", start, len(text.rstrip(" \t\r\n")), load_large(text))
    end = _find_end(text, start)
    root = Node("object" if text[start] == "{" else "array", start, end, source=source)
    root.members = source.members(root, checked=_was_checked(text))
    last = root.members[-1].value.end if root.members else start + 1
    close = _skip(text, last)
    if close != end - 1:
        raise parse_error(text, close + 1, "unexpected content after the top-level value")
    _mark_checked(text)
    return root


@functools.lru_cache(maxsize=2)
def _parse_large_memo(text: str) -> Node:
    return parse_large(text)


def parse_document(text: str, *, strict: bool) -> tuple[Node, list[Token]]:
    """:func:`._jsonc_scan.parse`, or for a large strict text the folded tree (no tokens:
    strict JSON has no comments).

    Only the last two large trees are memoised: each pins its whole text.
    """
    if is_large(text, strict=strict):
        return _parse_large_memo(text), []
    return parse(text, strict=strict)


def _find_end(text: str, start: int) -> int:
    """Where the top-level container ends: after its last non-blank character."""
    end = len(text.rstrip(" \t\r\n"))
    closer = "}" if text[start] == "{" else "]"
    if end <= start or text[end - 1] != closer:
        raise ConfigParseError(f"unexpected end of file, expected '{closer}'")
    return end
