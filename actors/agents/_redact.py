"""Redact secrets from command lines before they are logged, audited or stored.

The rules are :mod:`events.secrets`' (one rule set for every sink): the value after a
credential flag (``--token x``, ``--api-key=x``), ``NAME=value`` with a credential name, URL
passwords, credential query parameters, and credential shapes (``sk-…``, ``ghp_…``,
``AKIA…``, ``Bearer …``, long random runs) become ``***``.
"""

from __future__ import annotations

from collections.abc import Sequence

from events.secrets import MARKER, mask_argv

__all__ = ["REDACTED", "redact_argv"]

REDACTED = MARKER


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Return a copy of ``argv`` with secret values replaced by ``***``.

    Args:
        argv: the command line.

    Returns:
        The redacted command line, same length as ``argv``.
    """
    return mask_argv(argv)
