"""Malformed and hostile input is refused with one clear line that names line and column."""

from __future__ import annotations

import pytest

from adapters.formats import DELETE, Edit, Format, apply_edits, load
from events.errors import ConfigParseError

POSITION = r"line \d+, column \d+"


@pytest.mark.parametrize(
    ("fmt", "text", "pattern"),
    [
        (Format.JSON, '{"a": 1,,}', r"expected a string key, found ','.*line 1, column 9"),
        (Format.JSON, '{"a": 1', r"unexpected end of file"),
        (Format.JSON, '{"a": 1, // c\n"b": 2}', r"comments are not allowed in strict JSON"),
        (Format.JSON, '{"a": 1,}', r"trailing comma not allowed in strict JSON.*column 8"),
        (Format.JSONC, '{"a": 1,\n "a": 2}', r"duplicate key 'a' at line 2, column 2"),
        (Format.JSON, '{"a": NaN}', r"NaN is not valid JSON"),
        (Format.JSONC, '{"a": -Infinity}', r"-Infinity is not valid JSON"),
        (Format.JSON, '{"a": 1e999}', r"out of range"),
        (Format.JSON, '{"a": "x\ny"}', r"control character inside a string"),
        (Format.JSON, '{"a": 01}', r"invalid number"),
        (Format.JSONC, '{"a": 1 /* open', r"unterminated /\* comment"),
        (Format.JSON, '{"a": "\\ud800"}', r"unpaired surrogate"),
        (Format.JSON, "\ufeff{}", r"starts with a byte-order mark"),
        (Format.JSONC, '{"a": "\x00"}', r"binary content \(NUL byte\)"),
        (Format.TOML, "a = \n", r"invalid TOML.*line 1, column"),
        (Format.TOML, "a = 1\na = 2\n", r"invalid TOML.*line 2"),
        (Format.TOML, "a = nan\n", r"nan and inf values are refused"),
        (Format.TOML, "\ufeffa = 1\n", r"starts with a byte-order mark"),
        (Format.YAML, "a: [1\n", r"invalid YAML.*line 2, column 1"),
        (Format.YAML, "a: 1\na: 2\n", r"invalid YAML.*duplicate key.*line 2, column 1"),
        (Format.YAML, "a:\n  b: .nan\n", r"nan and inf values are refused at line 2, column 6"),
        (Format.MARKDOWN, "---\na:\n  - [x\n---\nbody\n", r"invalid YAML.*line 4"),
        (Format.MARKDOWN, "---\n- a\n---\nbody\n", r"frontmatter must be a YAML mapping"),
        (Format.MARKDOWN, "---\na: 1\na: 2\n---\n", r"duplicate key.*line 3"),
    ],
)
def test_bad_input_is_a_one_line_parse_error(fmt: Format, text: str, pattern: str) -> None:
    """Each malformed input raises ConfigParseError with a one-line message and its position."""
    with pytest.raises(ConfigParseError, match=pattern) as caught:
        load(fmt, text)
    assert "\n" not in caught.value.message
    with pytest.raises(ConfigParseError):
        apply_edits(fmt, text, [])


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (Format.JSON, "[" * 100_000 + "]" * 100_000),
        (Format.JSONC, '{"a":' * 100_000 + "1" + "}" * 100_000),
        (Format.TOML, "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        (Format.TOML, "a = " + "{b = " * 100_000 + "1" + "}" * 100_000 + "\n"),
        (Format.YAML, "a: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        (Format.MARKDOWN, "---\na:\n  c: " + "{b: " * 100_000 + "1" + "}" * 100_000 + "\n---\n"),
    ],
)
def test_deep_nesting_is_refused_not_recursion_error(fmt: Format, text: str) -> None:
    """100k-deep nesting is a ConfigParseError, never a RecursionError."""
    with pytest.raises(ConfigParseError, match=r"nest|invalid"):
        load(fmt, text)


@pytest.mark.parametrize("fmt", [Format.JSON, Format.JSONC, Format.YAML])
def test_sixty_four_levels_load_and_sixty_five_do_not(fmt: Format) -> None:
    """The depth limit is exactly 64 levels of containers."""
    assert load(fmt, "[" * 64 + "]" * 64) is not None
    with pytest.raises(ConfigParseError, match="nesting deeper than 64 levels"):
        load(fmt, "[" * 65 + "]" * 65)


def test_deep_nesting_error_names_the_position() -> None:
    """The JSON depth error points at the bracket that went too deep."""
    with pytest.raises(ConfigParseError, match=r"line 1, column 65"):
        load(Format.JSON, "[" * 65 + "]" * 65)


def test_huge_integer_is_a_parse_error() -> None:
    """A 5,000-digit integer is refused cleanly (the int() digit limit) instead of crashing."""
    with pytest.raises(ConfigParseError, match="too many digits"):
        load(Format.JSON, "1" * 5000)


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        (("a", 5), 1, ValueError),
        (("a", "x"), 1, ValueError),
        (("b",), float("nan"), ValueError),
        (("b",), {1, 2}, TypeError),
        ((), None, ValueError),
    ],
)
def test_impossible_edits_are_refused(
    path: tuple[str | int, ...], value: object, error: type
) -> None:
    """Edits that address impossible paths or carry non-JSON values raise, never corrupt."""
    text = '{"a": [1]}'
    with pytest.raises(error):
        apply_edits(Format.JSON, text, [Edit(path, DELETE if path == () else value)])
