"""SseLines: the OpenAI backend's line splitter, whatever the network reads' boundaries."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from actors.agents.openai_backend import LineTooLongError, SseLines

# Any text but CR and LF, including U+2028 and other characters str.splitlines would split on.
_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)))
_LINES = st.lists(st.tuples(_TEXT, st.sampled_from(["\n", "\r\n", "\r"])), max_size=12)


@example(lines=[("a", "\r\n"), ("b", "\n")], tail="", cut_at=[2])  # between CR and LF
@example(lines=[("é", "\n")], tail="", cut_at=[1])  # inside a UTF-8 sequence
@given(lines=_LINES, tail=_TEXT, cut_at=st.lists(st.integers(min_value=0), max_size=20))
def test_lines_survive_any_chunking(
    lines: list[tuple[str, str]], tail: str, cut_at: list[int]
) -> None:
    """The same lines come out however the bytes are cut (mid-CRLF, mid-UTF-8 sequence)."""
    # "x\r" then an empty LF line *is* "x\r\n": one CRLF line; the format cannot tell them apart.
    assume(
        not any(end == "\r" and nxt == ("", "\n") for (_, end), nxt in itertools.pairwise(lines))
    )
    data = ("".join(t + e for t, e in lines) + tail).encode()
    cuts = sorted({c % (len(data) + 1) for c in cut_at})
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    splitter = SseLines()
    out = [line for chunk in chunks for line in splitter.feed(chunk)]
    out += splitter.end()
    assert out == [t for t, _ in lines] + ([tail] if tail else [])


def test_unicode_line_separator_stays_inside_its_line() -> None:
    """A raw U+2028 inside a JSON string does not cut the data line (str.splitlines would)."""
    splitter = SseLines()
    assert splitter.feed('data: {"content": "a\u2028b"}\n'.encode()) == [
        'data: {"content": "a\u2028b"}'
    ]


def test_unfinished_line_is_bounded() -> None:
    """A line that never ends cannot grow past the limit."""
    splitter = SseLines(max_line=16)
    assert splitter.feed(b"data: 0123456789") == []
    with pytest.raises(LineTooLongError):
        splitter.feed(b"abcdef")
