"""Parser for Codex ``exec --json``.

Shapes (agents.md §1.3): ``thread.started`` carries the thread id used for resume, ``item.*``
events carry agent messages, commands, tool calls and file changes, ``turn.completed`` ends a
successful run with usage and ``turn.failed`` a failed one. Transport retries arrive as a
top-level ``error`` "Reconnecting... n/m".
"""

from __future__ import annotations

import re
from typing import Any

from actors.agent_stream import StreamEvent, StreamKind
from actors.agents._classify import CliKind
from actors.agents._parsing import StreamParser

__all__ = ["CodexParser"]

_RECONNECT = re.compile(r"Reconnecting\.*\s*(\d+)/(\d+)")
_TOOL_ITEMS = {"command_execution", "mcp_tool_call", "file_change", "web_search"}


class CodexParser(StreamParser):
    """Codex exec JSONL parser."""

    cli: CliKind = "codex"

    def __init__(self) -> None:
        """Start empty; agent-message text is tracked per item to emit only new suffixes."""
        super().__init__()
        self._item_text: dict[str, str] = {}
        self._last_error: str | None = None

    def handle(self, obj: dict[str, Any]) -> list[StreamEvent]:
        """Map one Codex event to normalised events."""
        kind = obj.get("type")
        if kind == "thread.started":
            if isinstance(obj.get("thread_id"), str):
                self.session_id = obj["thread_id"]
            return [self.event(StreamKind.START)]
        item = obj.get("item")
        if isinstance(kind, str) and kind.startswith("item.") and isinstance(item, dict):
            return self._item(kind, item)
        if kind == "turn.completed":
            self.result = obj
            self.succeeded = True
        elif kind == "turn.failed":
            error = obj.get("error")
            self.result = {"error": error if isinstance(error, dict) else {"message": str(error)}}
        elif kind == "error":
            message = str(obj.get("message", ""))
            match = _RECONNECT.search(message)
            if match:
                data = {"attempt": int(match[1]), "max": int(match[2]), "message": message}
                return [self.event(StreamKind.RETRY, data=data)]
            self._last_error = message
            return [self.warning(message)]
        return []

    def _item(self, kind: str, item: dict[str, Any]) -> list[StreamEvent]:
        itype = item.get("type")
        item_id = str(item.get("id", ""))
        if itype == "agent_message" and kind in ("item.updated", "item.completed"):
            text = str(item.get("text", ""))
            seen = self._item_text.get(item_id, "")
            self._item_text[item_id] = text
            new = text[len(seen) :] if text.startswith(seen) else text
            return [self.event(StreamKind.DELTA, text=new)] if new else []
        if itype in _TOOL_ITEMS and kind == "item.started":
            args = {k: item[k] for k in ("command", "server", "arguments", "query") if k in item}
            data = {"id": item_id, "args": args}
            tool = str(item.get("tool") or itype)
            return [self.event(StreamKind.TOOL_CALL, tool=tool, data=data)]
        if itype in _TOOL_ITEMS and kind == "item.completed":
            failed = item.get("status") == "failed" or item.get("exit_code") not in (0, None)
            output = str(item.get("aggregated_output", ""))[:2000]
            result = {"id": item_id, "is_error": failed, "output": output}
            return [self.event(StreamKind.TOOL_RESULT, data=result)]
        if itype == "error" and kind == "item.completed":
            return [self.warning(str(item.get("message", "codex error item")))]
        return []

    def final_fields(self) -> dict[str, Any]:
        """Usage from ``turn.completed``."""
        usage = (self.result or {}).get("usage")
        return {"usage": usage if isinstance(usage, dict) else {}}

    def error_message(self, stderr: str) -> str:
        """Prefer the turn.failed message, then the last top-level error, then stderr."""
        if self.result is None and self._last_error:
            return self._last_error
        return super().error_message(stderr)
