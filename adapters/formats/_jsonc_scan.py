"""A small JSON / JSONC tokenizer and parser that keeps the position of every value.

One parser serves both loading (with the strict checks the stdlib ``json`` lacks: duplicate keys,
NaN, depth) and surgical editing, which needs the exact span of each key, value and comma.
"""

from __future__ import annotations

import functools
import json
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Final, Literal

from adapters.formats._model import MAX_DEPTH
from adapters.formats._text import check_text, parse_error

__all__ = ["Child", "Node", "Source", "Token", "parse", "to_python"]

_WS: Final = re.compile(r"[ \t\r\n]+")
_STRING: Final = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.DOTALL)
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORD: Final = re.compile(r"-?[A-Za-z_$][A-Za-z0-9_$]*")
_LINE_COMMENT: Final = re.compile(r"//[^\n]*")
_LITERALS: Final[dict[str, object]] = {"true": True, "false": False, "null": None}
_PUNCT: Final = frozenset("{}[]:,")

TokenKind = Literal["{", "}", "[", "]", ":", ",", "string", "number", "literal", "comment"]


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind, span ``[start, end)`` and decoded value."""

    kind: TokenKind
    start: int
    end: int
    value: object = None


@dataclass
class Child:
    """A member of an object (with ``key``) or an item of an array (``key`` is None).

    ``start`` is where the member begins (its key, or the item's value) and ``comma`` the
    offset of the comma that follows it, if any.
    """

    key: str | None
    start: int
    value: Node
    comma: int | None = None


class Source(ABC):
    """Where a *folded* container gets its members when first asked (see :class:`Node`)."""

    @abstractmethod
    def fill(self, node: Node) -> list[Child]:
        """Parse and set the members of ``node`` (one level; deeper containers stay folded)."""

    @abstractmethod
    def decode(self, node: Node) -> object:
        """The plain Python value of ``node``, checked as strictly as a full parse."""


@dataclass
class Node:
    """A parsed value with its span; containers carry their children in file order.

    A container of a large text may be *folded* (``members`` None): its span is known, its
    members are parsed by its ``source`` on first access to :attr:`children`, so an edit
    deep inside a 100 MB file parses only the containers on its path.
    """

    kind: Literal["object", "array", "scalar"]
    start: int
    end: int
    value: object = None
    members: list[Child] | None = field(default_factory=list, repr=False)
    source: Source | None = field(default=None, repr=False, compare=False)

    @property
    def children(self) -> list[Child]:
        """The members, in file order (parsed now if the container was folded)."""
        if self.members is not None:
            return self.members
        assert self.source is not None
        return self.source.fill(self)

    @property
    def folded(self) -> bool:
        """Whether the members have not been parsed yet."""
        return self.members is None


def _tokenize(text: str, *, strict: bool) -> list[Token]:
    tokens: list[Token] = []
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char in " \t\r\n":
            match = _WS.match(text, pos)
            assert match is not None
            pos = match.end()
        elif char in _PUNCT:
            tokens.append(Token(char, pos, pos + 1))  # type: ignore[arg-type]
            pos += 1
        elif char == '"':
            tokens.append(_string(text, pos))
            pos = tokens[-1].end
        elif char == "/":
            tokens.append(_comment(text, pos, strict=strict))
            pos = tokens[-1].end
        elif char == "-" or char.isdigit():
            tokens.append(_number_or_word(text, pos))
            pos = tokens[-1].end
        else:
            tokens.append(_word(text, pos))
            pos = tokens[-1].end
    return tokens


def _string(text: str, pos: int) -> Token:
    match = _STRING.match(text, pos)
    if match is None:
        end = pos + 1
        while end < len(text) and text[end] != '"':
            if text[end] < " ":
                raise parse_error(text, end, "control character inside a string")
            end += 2 if text[end] == "\\" else 1
        raise parse_error(text, pos, "unterminated string")
    try:
        value = json.loads(match.group())
    except ValueError as e:
        raise parse_error(text, pos, "invalid escape in string") from e
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise parse_error(text, pos, "unpaired surrogate escape in string")
    return Token("string", pos, match.end(), value)


def _comment(text: str, pos: int, *, strict: bool) -> Token:
    if strict:
        raise parse_error(text, pos, "comments are not allowed in strict JSON")
    if text.startswith("//", pos):
        match = _LINE_COMMENT.match(text, pos)
        assert match is not None
        return Token("comment", pos, match.end())
    if text.startswith("/*", pos):
        end = text.find("*/", pos + 2)
        if end < 0:
            raise parse_error(text, pos, "unterminated /* comment")
        return Token("comment", pos, end + 2)
    raise parse_error(text, pos, "unexpected '/'")


def _number_or_word(text: str, pos: int) -> Token:
    match = _NUMBER.match(text, pos)
    if match is None:
        return _word(text, pos)
    raw = match.group()
    end = match.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "._$"):
        raise parse_error(text, pos, f"invalid number {text[pos : end + 1]!r}")
    try:
        value: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError as e:  # more digits than int() accepts (CVE-2020-10735 guard)
        raise parse_error(text, pos, "number has too many digits") from e
    if isinstance(value, float) and not math.isfinite(value):
        raise parse_error(text, pos, f"number {raw} is out of range")
    return Token("number", pos, end, value)


def _word(text: str, pos: int) -> Token:
    match = _WORD.match(text, pos)
    if match is None:
        raise parse_error(text, pos, f"unexpected character {text[pos]!r}")
    word = match.group()
    if word.lstrip("-") in ("NaN", "Infinity"):
        raise parse_error(text, pos, f"{word} is not valid JSON (NaN and Infinity are refused)")
    if word not in _LITERALS:
        raise parse_error(text, pos, f"unexpected {word!r}")
    return Token("literal", pos, match.end(), _LITERALS[word])


class _Parser:
    def __init__(self, text: str, tokens: list[Token], *, strict: bool) -> None:
        self.text = text
        self.tokens = [t for t in tokens if t.kind != "comment"]
        self.strict = strict
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            message = f"unexpected end of file, expected {expected}"
            raise parse_error(self.text, len(self.text), message)
        self.index += 1
        return token

    def fail(self, token: Token, expected: str) -> Exception:
        found = self.text[token.start : token.end]
        return parse_error(self.text, token.start, f"expected {expected}, found {found!r}")

    def value(self, depth: int) -> Node:
        token = self.take("a value")
        if token.kind in ("string", "number", "literal"):
            return Node("scalar", token.start, token.end, token.value)
        if token.kind in ("{", "["):
            if depth >= MAX_DEPTH:
                raise parse_error(self.text, token.start, f"nesting deeper than {MAX_DEPTH} levels")
            return self.container(token, depth + 1)
        raise self.fail(token, "a value")

    def container(self, opener: Token, depth: int) -> Node:
        is_object = opener.kind == "{"
        closer = "}" if is_object else "]"
        node = Node("object" if is_object else "array", opener.start, opener.start)
        seen: set[str] = set()
        while True:
            token = self.peek()
            if token is not None and token.kind == closer:
                if node.children and node.children[-1].comma is not None and self.strict:
                    comma = node.children[-1].comma
                    raise parse_error(self.text, comma, "trailing comma not allowed in strict JSON")
                self.index += 1
                node.end = token.end
                return node
            if node.children and node.children[-1].comma is None:
                raise self.fail(self.take(closer), f"',' or '{closer}'")
            node.children.append(self.member(seen, depth) if is_object else self.item(depth))
            token = self.peek()
            if token is not None and token.kind == ",":
                node.children[-1].comma = token.start
                self.index += 1

    def member(self, seen: set[str], depth: int) -> Child:
        key = self.take("a string key")
        if key.kind != "string":
            raise self.fail(key, "a string key")
        assert isinstance(key.value, str)
        if key.value in seen:
            raise parse_error(self.text, key.start, f"duplicate key {key.value!r}")
        seen.add(key.value)
        colon = self.take("':'")
        if colon.kind != ":":
            raise self.fail(colon, "':'")
        return Child(key.value, key.start, self.value(depth))

    def item(self, depth: int) -> Child:
        value = self.value(depth)
        return Child(None, value.start, value)


def parse(text: str, *, strict: bool) -> tuple[Node, list[Token]]:
    """Parse JSON (``strict``) or JSONC text into a positioned tree.

    The last few parses are memoised: loading a file, planning it and applying an edit (which
    re-parses after each splice, and once per member when merging an object whose other
    members are unchanged) all parse the same text. The tree is never mutated after it is
    built, so sharing it is safe; callers must not mutate it either.

    Returns:
        The root node and every token, comments included, for the editor's trivia checks.

    Raises:
        ConfigParseError: with line and column, for any syntax error, a comment or trailing
            comma in strict JSON, a duplicate key, NaN/Infinity, a BOM, NUL bytes or nesting
            deeper than 64 levels.
    """
    return _parse_memo(text, strict)


@functools.lru_cache(maxsize=16)
def _parse_memo(text: str, strict: bool) -> tuple[Node, list[Token]]:
    check_text(text)
    tokens = _tokenize(text, strict=strict)
    parser = _Parser(text, tokens, strict=strict)
    root = parser.value(0)
    extra = parser.peek()
    if extra is not None:
        raise parse_error(text, extra.start, "unexpected content after the top-level value")
    return root, tokens


def to_python(node: Node) -> object:
    """Return the plain Python value of a parsed node."""
    if node.kind == "scalar":
        return node.value
    if node.members is None and node.source is not None:
        return node.source.decode(node)
    if node.kind == "array":
        return [to_python(child.value) for child in node.children]
    return {child.key: to_python(child.value) for child in node.children}
