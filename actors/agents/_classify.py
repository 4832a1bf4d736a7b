"""Classify a failed agent run from every signal it left, never from the exit code alone.

The real CLIs disagree on what an exit code means (Claude exits 1 for everything, Gemini has a
table of fatal codes, Codex is just non-zero), Claude reports auth failure as
``subtype: success, is_error: true``, and Gemini exits 41 with plain text on stderr and no JSON.
So the decision reads, in order: the CLI's own fatal exit codes, the HTTP status the CLI
reported, the error text of the last ``result`` event, then stderr.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from actors.agent_stream import FailureKind

__all__ = ["CliKind", "classify_failure", "classify_http_status", "classify_text"]

CliKind = Literal["claude", "gemini", "codex", "qwen", "openai"]

# Gemini CLI FatalError exit codes; Qwen inherits them (it is a Gemini fork).
_GEMINI_EXIT: dict[int, FailureKind] = {
    41: FailureKind.AUTH,
    42: FailureKind.CONFIG,  # bad input
    44: FailureKind.CONFIG,  # sandbox
    52: FailureKind.CONFIG,
    53: FailureKind.REFUSED,  # turn limit: retrying the same request hits it again
    55: FailureKind.CONFIG,  # untrusted workspace
    130: FailureKind.CANCELLED,
}

# Claude result subtypes that are limits we set, so a retry would fail the same way.
_CLAUDE_LIMIT_SUBTYPES = {
    "error_max_turns",
    "error_max_budget_usd",
    "error_max_structured_output_retries",
}

_TEXT_RULES: tuple[tuple[re.Pattern[str], FailureKind], ...] = (
    (
        re.compile(
            r"auth|not logged in|/login|api[ _-]?key|unauthori[sz]ed|forbidden|credential"
            r"|\b40[13]\b|no auth type",
            re.IGNORECASE,
        ),
        FailureKind.AUTH,
    ),
    (
        re.compile(r"rate.?limit|\b429\b|quota|too many requests", re.IGNORECASE),
        FailureKind.RATE_LIMIT,
    ),
    (
        re.compile(r"overloaded|\b5\d\d\b|unavailable|internal server error", re.IGNORECASE),
        FailureKind.OVERLOADED,
    ),
    (
        re.compile(
            r"unknown (option|argument)|invalid (option|argument|value)|untrusted|"
            r"no conversation found|no rollout found|already in use",
            re.IGNORECASE,
        ),
        FailureKind.CONFIG,
    ),
    (re.compile(r"refus|content.?policy|safety", re.IGNORECASE), FailureKind.REFUSED),
)


def classify_http_status(status: int) -> FailureKind:
    """Map an HTTP status (from an API or reported by a CLI) to a failure kind.

    Args:
        status: the HTTP status code.

    Returns:
        AUTH for 401/403, RATE_LIMIT for 429, OVERLOADED for 5xx/529, TIMEOUT for 408,
        CONFIG for other 4xx, UNKNOWN otherwise.
    """
    if status in (401, 403):
        return FailureKind.AUTH
    if status == 429:
        return FailureKind.RATE_LIMIT
    if status == 408:
        return FailureKind.TIMEOUT
    if status >= 500:
        return FailureKind.OVERLOADED
    if 400 <= status < 500:
        return FailureKind.CONFIG
    return FailureKind.UNKNOWN


def classify_text(text: str) -> FailureKind | None:
    """Classify an error message by its wording, or None when nothing matches.

    Args:
        text: an error message or stderr text.

    Returns:
        The first matching kind (auth before rate limit before overload), or None.
    """
    for pattern, kind in _TEXT_RULES:
        if pattern.search(text):
            return kind
    return None


def _result_text(result: dict[str, Any]) -> str:
    parts: list[str] = []
    for key in ("result", "message", "subtype"):
        value = result.get(key)
        if isinstance(value, str):
            parts.append(value)
    error = result.get("error")
    if isinstance(error, dict):
        parts.extend(str(v) for v in error.values())
    elif isinstance(error, str):
        parts.append(error)
    return " ".join(parts)


def classify_failure(
    cli: CliKind,
    *,
    exit_code: int | None,
    result: dict[str, Any] | None,
    stderr: str,
    saw_output: bool,
) -> FailureKind:
    """Decide why a CLI run failed.

    Args:
        cli: which CLI produced the run.
        exit_code: the process exit code, or None if it was killed by us.
        result: the last ``result`` / ``turn.failed`` object, if any was seen.
        stderr: the captured (bounded) stderr text.
        saw_output: whether any valid stream event was seen before the end.

    Returns:
        The failure kind. A run that produced events but ended without a result, for no
        reason stated anywhere, is a CUT.
    """
    if cli in ("gemini", "qwen") and exit_code in _GEMINI_EXIT:
        return _GEMINI_EXIT[exit_code]
    if exit_code in (126, 127):
        return FailureKind.CONFIG  # not executable / not found
    if result is not None:
        status = result.get("api_error_status")
        if isinstance(status, int):
            return classify_http_status(status)
        if result.get("subtype") in _CLAUDE_LIMIT_SUBTYPES:
            return FailureKind.REFUSED
        by_text = classify_text(_result_text(result))
        if by_text is not None:
            return by_text
        if result.get("subtype") == "success" and result.get("is_error"):
            # Claude's observed auth-failure shape: success subtype, is_error, nothing else.
            return FailureKind.AUTH
    by_stderr = classify_text(stderr)
    if by_stderr is not None:
        return by_stderr
    if result is None and (saw_output or exit_code == 0):
        return FailureKind.CUT
    return FailureKind.UNKNOWN
