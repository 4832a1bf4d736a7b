"""Redaction of secrets from event bodies before they reach a DuckDB file.

Events are meant to be free of secret values, but a projection file is plaintext and easy to
copy or export, so every body is scrubbed on the way in as a second line of defence:

* a string under a key that names a secret (``token``, ``api_key``, ``password``, …) becomes
  ``"***"``, as does a whole object or list under such a key;
* numbers, booleans and nulls under such keys stay, because ``max_tokens: 4096`` or
  ``input_tokens: 12`` are usage figures, not credentials;
* a secret span in a string under any key becomes ``"***"``, by the rules of
  :mod:`events.secrets` (``ghp_…``, ``sk-…``, ``xoxb-…``, ``AKIA…``, a JWT, a long random
  run, a URL password, ``--token=…``).

:func:`might_hold_secrets` is a cheap screen over the raw JSON bytes so the common body (no
suspicious key or value) skips the walk entirely; the projector runs the same screen over a
whole batch at once (:func:`suspects`), which flags exactly the bodies it would.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from events.secrets import MARKER, mask

__all__ = [
    "MASK",
    "looks_like_credential",
    "mask_credentials",
    "might_hold_secrets",
    "redact",
    "suspects",
]

MASK = MARKER

_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api[_-]?key|credential", re.I)
# The screen runs on every event, so it is two C-speed passes instead of one big regex: a
# keyword alternation over the lower-cased bytes, and a search for a 32-character run of
# base64 characters after mapping every byte to "a" (base64) or " " (anything else).
_SCREEN_WORDS = re.compile(
    rb"token|secret|passw|authoriz|api[_-]?key|credential"
    rb"|gh[pousr]_|github_pat_|sk-|xox[bpars]-|akia|asia|eyj"
)
_B64_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_B64_MAP = bytes(0x61 if b in _B64_BYTES else 0x20 for b in range(256))
_B64_RUN = b"a" * 32
_B64_RUNS = re.compile(rb"a{32}")
_key_cache: dict[str, bool] = {}


def might_hold_secrets(raw: bytes) -> bool:
    """Return False when the raw JSON body certainly needs no redaction."""
    return _B64_RUN in raw.translate(_B64_MAP) or _SCREEN_WORDS.search(raw.lower()) is not None


def suspects(raws: Sequence[bytes]) -> set[int]:
    """Return the indexes of ``raws`` that :func:`might_hold_secrets` flags, screened at once.

    The bodies are joined with a newline, which maps to a non-base64 byte and occurs in no
    screened word, so no hit spans two bodies; each hit belongs to the body it starts in.
    Two C passes over the whole batch instead of two per body; a clean batch (the usual
    case) costs no Python work per body at all.
    """
    joined = b"\n".join(raws)
    mapped = joined.translate(_B64_MAP)
    hits = [m.start() for m in _B64_RUNS.finditer(mapped)] if _B64_RUN in mapped else []
    hits += [m.start() for m in _SCREEN_WORDS.finditer(joined.lower())]
    if not hits:
        return set()
    starts = []
    offset = 0
    for raw in raws:
        starts.append(offset)
        offset += len(raw) + 1
    return {bisect_right(starts, hit) - 1 for hit in hits}


def _secret_key(key: str) -> bool:
    hit = _key_cache.get(key)
    if hit is None:
        hit = _SECRET_KEY.search(key) is not None
        if len(_key_cache) < 10_000:
            _key_cache[key] = hit
    return hit


def looks_like_credential(value: str) -> bool:
    """Return True when ``value`` holds a token, key or other credential anywhere in it."""
    return mask_credentials(value) != value


def mask_credentials(value: str) -> str:
    """Return ``value`` with every secret span replaced by ``"***"`` (the rules of
    :mod:`events.secrets`: credential shapes, URL passwords, credential query parameters,
    ``--token=…`` and ``NAME=…`` assignments)."""
    return mask(value)


def redact(value: Any) -> Any:
    """Return a copy of a JSON value with secrets replaced by ``"***"``.

    Args:
        value: a decoded JSON value (dict, list, str, number, bool or None).

    Returns:
        The same structure with secret keys' values and credential-looking strings masked.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if _secret_key(key) and isinstance(item, str | dict | list) and item:
                out[key] = MASK
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return mask_credentials(value)
    return value
