"""Parser for Gemini CLI ``-p -o stream-json``.

Shapes (agents.md §1.2): ``init``, ``message`` (assistant chunks have ``delta: true``),
``tool_use``, ``tool_result``, ``error`` (non-fatal warnings) and ``result`` with ``status``.
Missing auth prints plain text on stderr and exits 41 without any JSON; the classifier handles
that from the exit code.
"""

from __future__ import annotations

from typing import Any

from actors.agent_stream import StreamEvent, StreamKind
from actors.agents._classify import CliKind
from actors.agents._parsing import StreamParser

__all__ = ["GeminiParser"]


class GeminiParser(StreamParser):
    """Gemini CLI stream-json parser."""

    cli: CliKind = "gemini"

    def handle(self, obj: dict[str, Any]) -> list[StreamEvent]:
        """Map one Gemini event to normalised events."""
        kind = obj.get("type")
        if kind == "init":
            return [self.event(StreamKind.START, data={"model": obj.get("model")})]
        if kind == "message":
            if obj.get("role") == "assistant" and obj.get("content"):
                return [self.event(StreamKind.DELTA, text=str(obj["content"]))]
            return []
        if kind == "tool_use":
            data = {"id": obj.get("tool_id"), "args": obj.get("parameters", {})}
            return [self.event(StreamKind.TOOL_CALL, tool=str(obj.get("tool_name")), data=data)]
        if kind == "tool_result":
            data = {
                "id": obj.get("tool_id"),
                "is_error": obj.get("status") == "error",
                "output": str(obj.get("output", ""))[:2000],
            }
            return [self.event(StreamKind.TOOL_RESULT, data=data)]
        if kind == "error":
            return [self.warning(str(obj.get("message", "gemini warning")))]
        if kind == "result":
            self.result = obj
            self.succeeded = obj.get("status") == "success"
        return []

    def final_fields(self) -> dict[str, Any]:
        """Usage and duration from the ``result`` stats."""
        stats = (self.result or {}).get("stats")
        stats = stats if isinstance(stats, dict) else {}
        usage = {
            key: stats[key]
            for key in ("input_tokens", "output_tokens", "total_tokens", "cached")
            if key in stats
        }
        return {"usage": usage, "data": {"duration_ms": stats.get("duration_ms")}}
