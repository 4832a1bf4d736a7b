"""Public entry points to the per-CLI stream parsers.

Each CLI's format has its own private module (``_claude``, ``_gemini``, ``_codex``,
``_openai``); this module picks one and offers :func:`parse_stream`, a pure function from a
finished run's stdout lines, exit code and stderr to the normalised events.
"""

from __future__ import annotations

from collections.abc import Iterable

from actors.agent_stream import StreamEvent
from actors.agents._classify import CliKind, classify_failure, classify_http_status, classify_text
from actors.agents._claude import ClaudeParser, QwenParser
from actors.agents._codex import CodexParser
from actors.agents._gemini import GeminiParser
from actors.agents._openai import OpenAISseParser
from actors.agents._parsing import StreamParser, is_terminal

__all__ = [
    "CliKind",
    "StreamParser",
    "classify_failure",
    "classify_http_status",
    "classify_text",
    "is_terminal",
    "parse_stream",
    "parser_for",
]

_PARSERS: dict[CliKind, type[StreamParser]] = {
    "claude": ClaudeParser,
    "qwen": QwenParser,
    "gemini": GeminiParser,
    "codex": CodexParser,
    "openai": OpenAISseParser,
}


def parser_for(cli: CliKind) -> StreamParser:
    """A fresh parser for one attempt of the given CLI (or ``openai`` SSE).

    Args:
        cli: ``claude``, ``gemini``, ``codex``, ``qwen`` or ``openai``.

    Returns:
        A new stateful parser.
    """
    return _PARSERS[cli]()


def parse_stream(
    cli: CliKind,
    lines: Iterable[str],
    *,
    exit_code: int | None = 0,
    stderr: str = "",
    timeout: str | None = None,
) -> list[StreamEvent]:
    """Normalise a whole finished run.

    Args:
        cli: which CLI produced the lines.
        lines: stdout lines in order.
        exit_code: the process exit code.
        stderr: captured stderr text.
        timeout: which watchdog fired, if any.

    Returns:
        Events with strictly increasing ``seq``, ending in exactly one terminal event.
    """
    parser = parser_for(cli)
    events = [event for line in lines for event in parser.feed(line)]
    events.append(parser.finish(exit_code, stderr, timeout))
    return events
