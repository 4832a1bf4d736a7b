"""The shared machinery of the CLI stream parsers: sequence numbers, JSON lines, the ending.

A parser is fed one stdout line at a time and returns the normalised events it implies. It never
emits the terminal event from :meth:`StreamParser.feed`: the backend first waits for the process
to end (killing it after a grace if it hangs after its result), then calls
:meth:`StreamParser.finish` with the exit code and stderr, which returns exactly one terminal
event, ``final`` on success or ``error`` (``is_error=True``) with a :class:`FailureKind`.

Non-terminal ``error`` events (a malformed line, a CLI warning) carry ``is_error=False``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from actors.agent_stream import FailureKind, StreamEvent, StreamKind
from actors.agents._classify import CliKind, classify_failure

__all__ = ["StreamParser", "is_terminal"]

_SNIPPET = 200


def is_terminal(event: StreamEvent) -> bool:
    """Whether an event ends its stream (``final``, or an ``error`` with ``is_error``).

    Args:
        event: any normalised event.

    Returns:
        True for the one terminal event of an attempt.
    """
    return event.kind is StreamKind.FINAL or (event.kind is StreamKind.ERROR and event.is_error)


class StreamParser(ABC):
    """Stateful JSON-lines → :class:`StreamEvent` parser for one attempt of one CLI.

    Attributes:
        cli: which CLI's format this parser reads.
        session_id: the session or thread id, once the stream announced it.
        malformed: how many lines were not JSON objects.
        result: the last result-like object (success or failure), if any.
        succeeded: whether that result was a success.
        first_token_seen: whether any text delta has been seen (ends the TTFT phase).
        reported_failure: a failure the stream itself stated in a structured field (Claude's
            ``assistant.error``); it wins over every guess from text, exit code or stderr.
    """

    cli: CliKind

    def __init__(self) -> None:
        """Start with seq 0 and nothing seen."""
        self._seq = 0
        self._text: list[str] = []
        self._valid_events = 0
        self.session_id: str | None = None
        self.malformed = 0
        self.result: dict[str, Any] | None = None
        self.succeeded = False
        self.first_token_seen = False
        self.reported_failure: FailureKind | None = None

    @property
    def done(self) -> bool:
        """Whether the stream reported its result; the process should now exit."""
        return self.result is not None

    @property
    def text(self) -> str:
        """All delta text so far."""
        return "".join(self._text)

    def event(self, kind: StreamKind, **fields: Any) -> StreamEvent:
        """Build the next event with the next seq and the known session id."""
        fields.setdefault("session_id", self.session_id)
        event = StreamEvent(seq=self._seq, kind=kind, **fields)
        self._seq += 1
        if kind is StreamKind.DELTA:
            self._text.append(event.text)
            self.first_token_seen = True
        return event

    def warning(self, message: str, **data: Any) -> StreamEvent:
        """Build a non-terminal error event (a CLI warning)."""
        return self.event(StreamKind.ERROR, text=message[:_SNIPPET], data={"warning": True, **data})

    def feed(self, line: str) -> list[StreamEvent]:
        """Parse one stdout line.

        Args:
            line: one line of the CLI's stdout, with or without its newline.

        Returns:
            The non-terminal events this line implies; a non-JSON line yields one
            non-terminal MALFORMED error and parsing goes on.
        """
        stripped = line.strip()
        if not stripped:
            return []
        try:
            obj = json.loads(stripped)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            self.malformed += 1
            return [
                self.event(
                    StreamKind.ERROR,
                    text="malformed stream line",
                    failure=FailureKind.MALFORMED,
                    data={"line": stripped[:_SNIPPET], "malformed_count": self.malformed},
                )
            ]
        self._valid_events += 1
        sid = obj.get("session_id")
        if isinstance(sid, str) and sid and self.session_id is None:
            self.session_id = sid
        return self.handle(obj)

    @abstractmethod
    def handle(self, obj: dict[str, Any]) -> list[StreamEvent]:
        """Map one JSON event of this CLI to normalised events (never the terminal one)."""

    @abstractmethod
    def final_fields(self) -> dict[str, Any]:
        """Fields of the ``final`` event built from :attr:`result` (text, usage, data)."""

    def finish(
        self, exit_code: int | None, stderr: str = "", timeout: str | None = None
    ) -> StreamEvent:
        """Build the one terminal event once the process has ended.

        Args:
            exit_code: the process exit code (None or negative if it was killed).
            stderr: captured stderr text.
            timeout: ``"ttft"``, ``"idle"`` or ``"total"`` if a watchdog fired, else None.

        Returns:
            ``final`` if the stream reported success (even if we then had to kill a process
            that would not exit), else an ``error`` with ``is_error=True`` and a failure kind.
        """
        if self.succeeded:
            fields = self.final_fields()
            fields.setdefault("text", self.text)
            data = {**fields.pop("data", {}), "exit_code": exit_code, "malformed": self.malformed}
            return self.event(StreamKind.FINAL, data=data, **fields)
        if timeout is not None and self.result is None:
            failure = FailureKind.TIMEOUT
            message = f"{timeout} timeout"
        elif self.reported_failure is not None:
            failure = self.reported_failure
            message = self.error_message(stderr)
        else:
            failure = classify_failure(
                self.cli,
                exit_code=exit_code,
                result=self.result,
                stderr=stderr,
                saw_output=self._valid_events > 0,
            )
            message = self.error_message(stderr)
        return self.event(
            StreamKind.ERROR,
            text=message[:_SNIPPET],
            is_error=True,
            failure=failure,
            data={
                "exit_code": exit_code,
                "timeout": timeout,
                "malformed": self.malformed,
                "stderr_tail": stderr[-_SNIPPET:],
                "partial_text_len": len(self.text),
            },
        )

    def error_message(self, stderr: str) -> str:
        """A one-line description of the failure for the terminal error event."""
        result = self.result or {}
        error = result.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        for key in ("result", "message"):
            if isinstance(result.get(key), str) and result[key]:
                return str(result[key])
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        if lines:
            return lines[-1]
        return "stream ended without a result" if not self.result else "agent reported an error"
