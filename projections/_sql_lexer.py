"""A small SQL lexer: just enough to see identifiers and string literals outside comments.

It handles ``-- …`` and ``/* … */`` comments, ``'…'`` strings (``''`` escapes), ``"…"``
identifiers and ``$tag$ … $tag$`` strings. Where it and DuckDB disagree (nested comments,
``E'…'`` escapes) it sees *more* tokens than DuckDB does, which can only make the guard stricter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Token",
    "tokens",
]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is ``word``, ``quoted`` (a "…" identifier), ``string`` or ``punct``."""

    kind: str
    text: str


def tokens(sql: str) -> list[Token]:
    """Split ``sql`` into tokens, dropping comments and whitespace."""
    out: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            body = sql[i + 1 : j].replace(ch * 2, ch)
            out.append(Token("string" if ch == "'" else "quoted", body))
            i = j + 1
        elif (dollar := _DOLLAR.match(sql, i)) is not None:
            end = sql.find(dollar.group(0), dollar.end())
            stop = n if end < 0 else end
            out.append(Token("string", sql[dollar.end() : stop]))
            i = n if end < 0 else end + len(dollar.group(0))
        elif (word := _WORD.match(sql, i)) is not None:
            out.append(Token("word", word.group(0).lower()))
            i = word.end()
        else:
            out.append(Token("punct", ch))
            i += 1
    return out
