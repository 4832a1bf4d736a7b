"""Stream checkpoints and the resume plan after a stream breaks.

The gateway checkpoints ``(request id, agent, seq, session id, sha256 of emitted text)``
every N events or T milliseconds. When an attempt fails:

* before the first token, nothing reached the client: retry transparently;
* after the first token, continue where the client is: resume the agent's chat session when
  the backend supports it, otherwise send a continuation prompt carrying the emitted text.

Either way the resumed stream may repeat text the client already has (a CLI that restarts
its answer), so :class:`PrefixDeduplicator` drops a re-emitted prefix and passes on only the
rest: the client receives every character exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from actors.gateway.clock import Clock

__all__ = [
    "PrefixDeduplicator",
    "ResumeMode",
    "ResumePlan",
    "StreamCheckpoint",
    "StreamCheckpointer",
    "resume_plan",
]


@dataclass(frozen=True)
class StreamCheckpoint:
    """Where one logical stream stands, as far as the client is concerned."""

    request_id: str
    agent: str
    seq: int
    session_id: str | None
    emitted_chars: int
    text_sha256: str
    first_token: bool


class StreamCheckpointer:
    """Tracks the emitted text and produces a checkpoint every N events or T ms.

    Args:
        request_id: the logical request.
        clock: source of time for the T-ms rule.
        every_events: checkpoint after this many events since the last one.
        every_s: or after this much time since the last one.
        on_checkpoint: called with each checkpoint taken.
    """

    def __init__(
        self,
        request_id: str,
        clock: Clock,
        *,
        every_events: int = 20,
        every_s: float = 1.0,
        on_checkpoint: Callable[[StreamCheckpoint], None] | None = None,
    ) -> None:
        self.request_id = request_id
        self._clock = clock
        self.every_events = every_events
        self.every_s = every_s
        self._on_checkpoint = on_checkpoint
        self._parts: list[str] = []
        self._hash = hashlib.sha256()
        self._chars = 0
        self.agent = ""
        self.seq = 0
        self.session_id: str | None = None
        self.first_token = False
        self._since = 0
        self._last_at = clock.now()
        self.last: StreamCheckpoint | None = None

    @property
    def text(self) -> str:
        """Everything emitted to the client so far."""
        return "".join(self._parts)

    def observe(
        self,
        seq: int,
        agent: str,
        *,
        text: str = "",
        session_id: str | None = None,
        token: bool = False,
    ) -> StreamCheckpoint | None:
        """Account for one event sent to the client; return a checkpoint when one is due."""
        self.seq = seq
        self.agent = agent
        if session_id:
            self.session_id = session_id
        if text:
            self._parts.append(text)
            self._hash.update(text.encode())
            self._chars += len(text)
        self.first_token = self.first_token or token or bool(text)
        self._since += 1
        due = self._since >= self.every_events or self._clock.now() - self._last_at >= self.every_s
        return self.checkpoint() if due else None

    def checkpoint(self) -> StreamCheckpoint:
        """Take a checkpoint now."""
        self._since = 0
        self._last_at = self._clock.now()
        self.last = StreamCheckpoint(
            request_id=self.request_id,
            agent=self.agent,
            seq=self.seq,
            session_id=self.session_id,
            emitted_chars=self._chars,
            text_sha256=self._hash.hexdigest(),
            first_token=self.first_token,
        )
        if self._on_checkpoint is not None:
            self._on_checkpoint(self.last)
        return self.last


class ResumeMode(StrEnum):
    """How the next attempt continues a broken stream."""

    RETRY = "retry"  # nothing reached the client: start over transparently
    SESSION = "session"  # resume the backend's chat session
    CONTINUATION = "continuation"  # new call with the emitted text in the prompt


@dataclass(frozen=True)
class ResumePlan:
    """What the next attempt sends."""

    mode: ResumeMode
    session_id: str | None = None
    continuation_of: str = ""


def resume_plan(
    checkpoint: StreamCheckpoint | None, emitted_text: str, *, supports_resume: bool
) -> ResumePlan:
    """Decide how to continue after a failure.

    Args:
        checkpoint: the latest checkpoint (None if the stream never produced one).
        emitted_text: the text the client already has.
        supports_resume: whether the next backend can resume the checkpoint's session.

    Returns:
        A transparent retry before the first token; otherwise a session resume or a
        continuation prompt, both carrying the emitted text so the agent knows where to go on.
    """
    if checkpoint is None or not checkpoint.first_token:
        return ResumePlan(ResumeMode.RETRY)
    if supports_resume and checkpoint.session_id:
        return ResumePlan(ResumeMode.SESSION, checkpoint.session_id, emitted_text)
    return ResumePlan(ResumeMode.CONTINUATION, None, emitted_text)


class PrefixDeduplicator:
    """Drops text the client already has from the start of a resumed stream.

    A resumed backend either continues (its first characters differ from the emitted text)
    or replays from the beginning (its text starts with the emitted text). Incoming text is
    held back while it is still a prefix of the emitted text, then released accordingly.

    Args:
        emitted: the text already delivered to the client.
    """

    def __init__(self, emitted: str) -> None:
        self._emitted = emitted
        self._pending = ""
        self._checking = bool(emitted)
        self.skipped = 0

    def feed(self, text: str) -> str:
        """Return the part of ``text`` the client has not seen yet."""
        if not self._checking:
            return text
        self._pending += text
        if self._emitted.startswith(self._pending):
            if len(self._pending) == len(self._emitted):
                self.skipped = len(self._pending)
                self._checking = False
                self._pending = ""
            return ""
        self._checking = False
        pending, self._pending = self._pending, ""
        if pending.startswith(self._emitted):
            self.skipped = len(self._emitted)
            return pending[len(self._emitted) :]
        return pending

    def flush(self) -> str:
        """Release held text at the end of the stream.

        Text still held is a strict prefix of what the client has, i.e. a partial replay;
        it is dropped, because repeating visible text is the failure this class prevents.
        """
        self.skipped += len(self._pending)
        self._pending = ""
        self._checking = False
        return ""
