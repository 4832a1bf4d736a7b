"""Redaction at egress: the last line of defence before data leaves over HTTP.

Secrets should never reach the event store or the projections in the first place; this walk
exists so that a bug upstream does not become a leak in an API answer, an SSE frame or a
dashboard cell. Keys and column names are judged by whole words (``max_tokens`` is no
secret); string values by the one rule set of :mod:`events.secrets`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from events.secrets import MARKER, mask

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_rows"]

REDACTED = MARKER
_SECRET_WORDS = frozenset(
    {
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "authorization",
        "apikey",
        "credential",
        "credentials",
        "cookie",
        "bearer",
    }
)
# Split snake_case, kebab-case, dotted and camelCase names into words.
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_secret_key(name: str) -> bool:
    """Return True when a mapping key or column name looks like it holds a secret.

    Matches whole words, so ``api_key``, ``GITHUB_TOKEN`` and ``clientSecret`` match while
    ``max_tokens`` and ``keybinding`` do not.
    """
    return any(word.lower() in _SECRET_WORDS for word in _WORDS.findall(name))


def redact(obj: Any) -> Any:
    """Return a copy of ``obj`` with secret-looking keys and values replaced by ``***``.

    Args:
        obj: any JSON-like value (mappings, sequences, scalars).

    Returns:
        The same structure with redactions; non-container values other than strings pass
        through unchanged.
    """
    if isinstance(obj, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) and v is not None else redact(v)
            for k, v in obj.items()
        }
    if isinstance(obj, str):
        return mask(obj)
    if isinstance(obj, Sequence) and not isinstance(obj, bytes | bytearray):
        return [redact(v) for v in obj]
    return obj


def redact_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Redact tabular data: whole columns whose name looks secret, and values everywhere.

    Args:
        columns: column names, in row order.
        rows: the rows.

    Returns:
        The redacted rows as lists.
    """
    secret = [is_secret_key(c) for c in columns]
    return [
        [
            REDACTED if i < len(secret) and secret[i] and v is not None else redact(v)
            for i, v in enumerate(row)
        ]
        for row in rows
    ]
