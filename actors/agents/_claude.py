"""Parser for Claude Code ``-p --output-format stream-json --verbose`` (and Qwen Code's copy).

Shapes (agents.md §1.1): ``system/init`` carries the session id, ``assistant`` messages carry
text and ``tool_use`` blocks, ``user`` messages carry ``tool_result`` blocks, ``stream_event``
carries token deltas when ``--include-partial-messages`` is on, ``system/api_retry`` reports the
CLI's own retries, and ``result`` ends the run. ``is_error`` decides success, never ``subtype``.

An ``assistant`` message with an ``error`` field (``authentication_failed``, ``rate_limit``, …)
is a message the CLI wrote in place of an answer — "Not logged in · Please run /login" —
so its text is never forwarded: the error decides the failure kind instead.
"""

from __future__ import annotations

from typing import Any

from actors.agent_stream import FailureKind, StreamEvent, StreamKind
from actors.agents._classify import CliKind
from actors.agents._parsing import StreamParser

__all__ = ["ClaudeParser", "QwenParser"]

_OUTPUT_SNIPPET = 2000

#: ``assistant.error`` values of Claude Code's stream (the Agent SDK's AssistantMessageError).
_ASSISTANT_ERRORS: dict[str, FailureKind] = {
    "authentication_failed": FailureKind.AUTH,
    "billing_error": FailureKind.CONFIG,  # a human must fix the account; not a login
    "rate_limit": FailureKind.RATE_LIMIT,
    "invalid_request": FailureKind.CONFIG,
    "server_error": FailureKind.OVERLOADED,
}


def _blocks(obj: dict[str, Any]) -> list[dict[str, Any]]:
    message = obj.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [block for block in content if isinstance(block, dict)]
    return []


def _tool_output(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")[:_OUTPUT_SNIPPET]


class ClaudeParser(StreamParser):
    """Claude Code stream-json parser."""

    cli: CliKind = "claude"

    def __init__(self) -> None:
        """Start empty; token deltas switch off text from whole assistant messages."""
        super().__init__()
        self._partial = False

    def handle(self, obj: dict[str, Any]) -> list[StreamEvent]:
        """Map one Claude event to normalised events."""
        kind = obj.get("type")
        if kind == "system":
            return self._system(obj)
        if kind == "assistant":
            return self._assistant(obj)
        if kind == "user":
            return [
                self.event(
                    StreamKind.TOOL_RESULT,
                    data={
                        "id": block.get("tool_use_id"),
                        "is_error": bool(block.get("is_error")),
                        "output": _tool_output(block),
                    },
                )
                for block in _blocks(obj)
                if block.get("type") == "tool_result"
            ]
        if kind == "stream_event":
            return self._stream_event(obj)
        if kind == "result":
            self.result = obj
            self.succeeded = (
                not obj.get("is_error")
                and obj.get("subtype") == "success"
                and self.reported_failure is None
            )
        return []

    def _system(self, obj: dict[str, Any]) -> list[StreamEvent]:
        subtype = obj.get("subtype")
        if subtype in ("init", "session_start"):
            data = {"model": obj.get("model"), "api_key_source": obj.get("apiKeySource")}
            return [self.event(StreamKind.START, data=data)]
        if subtype == "api_retry":
            delay_ms = obj.get("retry_delay_ms")
            delay_s = float(delay_ms) / 1000 if isinstance(delay_ms, int | float) else None
            data = {
                "attempt": obj.get("attempt"),
                "max": obj.get("max_retries"),
                "delay_ms": delay_ms,
                "status": obj.get("error_status"),
            }
            return [self.event(StreamKind.RETRY, data=data, retry_after_s=delay_s)]
        return []

    def _assistant(self, obj: dict[str, Any]) -> list[StreamEvent]:
        error = obj.get("error")
        if isinstance(error, str) and error:
            self.reported_failure = _ASSISTANT_ERRORS.get(error, FailureKind.UNKNOWN)
            return []
        events: list[StreamEvent] = []
        for block in _blocks(obj):
            btype = block.get("type")
            if btype == "text" and not self._partial and block.get("text"):
                events.append(self.event(StreamKind.DELTA, text=str(block["text"])))
            elif btype == "tool_use":
                data = {"id": block.get("id"), "args": block.get("input", {})}
                events.append(
                    self.event(StreamKind.TOOL_CALL, tool=str(block.get("name")), data=data)
                )
        return events

    def _stream_event(self, obj: dict[str, Any]) -> list[StreamEvent]:
        inner = obj.get("event")
        if not isinstance(inner, dict) or inner.get("type") != "content_block_delta":
            return []
        delta = inner.get("delta")
        if isinstance(delta, dict) and delta.get("type") == "text_delta" and delta.get("text"):
            self._partial = True
            return [self.event(StreamKind.DELTA, text=str(delta["text"]))]
        return []

    def final_fields(self) -> dict[str, Any]:
        """Text, usage and cost from the ``result`` event."""
        result = self.result or {}
        fields: dict[str, Any] = {
            "usage": result.get("usage") if isinstance(result.get("usage"), dict) else {},
            "data": {
                "cost_usd": result.get("total_cost_usd"),
                "duration_ms": result.get("duration_ms"),
                "num_turns": result.get("num_turns"),
                "stop_reason": result.get("stop_reason"),
            },
        }
        if isinstance(result.get("result"), str) and result["result"]:
            fields["text"] = result["result"]
        return fields


class QwenParser(ClaudeParser):
    """Qwen Code stream-json parser: Claude's schema, Gemini's fatal exit codes."""

    cli: CliKind = "qwen"
