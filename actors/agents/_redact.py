"""Redact secrets from command lines before they are logged, audited or stored.

Values after secret-looking flags (``--token x``, ``--api-key=x``, ``--password x``), ``NAME=value``
assignments whose name looks secret, and arguments that look like credentials themselves
(``sk-…``, ``ghp_…``, ``AKIA…``, ``Bearer …``, long high-entropy strings) become ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["REDACTED", "redact_argv"]

REDACTED = "***"

# A pattern of secret-ish names, not a secret.
_SECRET_WORD = (
    r"(token|password|passwd|pwd|secret|key|apikey|auth|authorization|bearer|credentials?|cookie)"  # noqa: S105
)
_SECRET_FLAG = re.compile(
    rf"^-{{1,2}}([a-z0-9]+[-_])*{_SECRET_WORD}([-_][a-z0-9]+)*$", re.IGNORECASE
)
_ASSIGNMENT = re.compile(rf"^([A-Za-z0-9_.-]*{_SECRET_WORD}[A-Za-z0-9_.-]*)=(.+)$", re.IGNORECASE)
_VALUE_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\b(ghp|gho|ghs|ghr|github_pat)_[A-Za-z0-9_]{10,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"),
    re.compile(r"\bBearer\s+\S+", re.IGNORECASE),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
_HIGH_ENTROPY = re.compile(r"^[A-Za-z0-9+/_=-]{32,}$")


def _looks_secret(value: str) -> bool:
    if any(p.search(value) for p in _VALUE_PATTERNS):
        return True
    # Long mixed letter+digit tokens are keys far more often than they are paths or words.
    return bool(
        _HIGH_ENTROPY.match(value) and re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value)
    )


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Return a copy of ``argv`` with secret values replaced by ``***``.

    Args:
        argv: the command line.

    Returns:
        The redacted command line, same length as ``argv``.
    """
    out: list[str] = []
    redact_next = False
    for arg in argv:
        if redact_next:
            out.append(REDACTED)
            redact_next = False
            continue
        flag, sep, _ = arg.partition("=")
        if arg.startswith("-") and _SECRET_FLAG.match(flag):
            if sep:
                out.append(f"{flag}={REDACTED}")
            else:
                out.append(arg)
                redact_next = True
            continue
        assignment = _ASSIGNMENT.match(arg)
        if assignment and not arg.startswith("-"):
            out.append(f"{assignment[1]}={REDACTED}")
        elif _looks_secret(arg):
            out.append(REDACTED)
        else:
            out.append(arg)
    return out
