"""Parser for OpenAI-compatible streaming chat completions (SSE ``data:`` frames).

Frames are ``data: <chunk json>``; the stream ends with ``data: [DONE]``. Gateways such as the
LiteLLM proxy send a mid-stream failure in-band as ``data: {"error": {...}}`` and then close
without ``[DONE]``, so that is a terminal error; a close with neither is a CUT.
"""

from __future__ import annotations

import json
from typing import Any

from actors.agent_stream import StreamEvent, StreamKind
from actors.agents._classify import CliKind
from actors.agents._parsing import StreamParser

__all__ = ["OpenAISseParser"]


class OpenAISseParser(StreamParser):
    """SSE chat-completion chunk parser."""

    cli: CliKind = "openai"

    def __init__(self) -> None:
        """Start empty; tool-call fragments are assembled by index until the stream ends."""
        super().__init__()
        self._tools: dict[int, dict[str, Any]] = {}
        self._finish_reason: str | None = None
        self._usage: dict[str, Any] = {}
        self._model: str | None = None

    def feed(self, line: str) -> list[StreamEvent]:
        """Parse one SSE line; comments, blank lines and non-data fields are ignored."""
        stripped = line.strip()
        if not stripped.startswith("data:"):
            return []
        payload = stripped[len("data:") :].strip()
        if payload == "[DONE]":
            if self.result is None:
                self.result = {"finish_reason": self._finish_reason}
                self.succeeded = True
            return self._flush_tools()
        return super().feed(payload)

    def handle(self, obj: dict[str, Any]) -> list[StreamEvent]:
        """Map one chunk to deltas; an in-band error becomes the run's result."""
        if "error" in obj:
            error = obj["error"]
            error = error if isinstance(error, dict) else {"message": str(error)}
            self.result = {"error": error}
            if isinstance(error.get("code"), int):
                self.result["api_error_status"] = error["code"]
            return []
        if isinstance(obj.get("model"), str):
            self._model = obj["model"]
        if isinstance(obj.get("usage"), dict):
            self._usage = obj["usage"]
        events: list[StreamEvent] = []
        for choice in obj.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                if delta.get("content"):
                    events.append(self.event(StreamKind.DELTA, text=str(delta["content"])))
                for call in delta.get("tool_calls") or []:
                    self._merge_tool(call)
            if choice.get("finish_reason"):
                self._finish_reason = str(choice["finish_reason"])
        return events

    def _merge_tool(self, call: Any) -> None:
        if not isinstance(call, dict):
            return
        slot = self._tools.setdefault(int(call.get("index", 0)), {"name": "", "args": ""})
        if call.get("id"):
            slot["id"] = call["id"]
        function = call.get("function")
        if isinstance(function, dict):
            slot["name"] += str(function.get("name") or "")
            slot["args"] += str(function.get("arguments") or "")

    def _flush_tools(self) -> list[StreamEvent]:
        events = []
        for _, slot in sorted(self._tools.items()):
            try:
                args: Any = json.loads(slot["args"]) if slot["args"] else {}
            except ValueError:
                args = slot["args"]
            data = {"id": slot.get("id"), "args": args}
            events.append(self.event(StreamKind.TOOL_CALL, tool=slot["name"], data=data))
        self._tools.clear()
        return events

    def final_fields(self) -> dict[str, Any]:
        """Usage and finish reason."""
        return {
            "usage": self._usage,
            "data": {"finish_reason": self._finish_reason, "model": self._model},
        }
