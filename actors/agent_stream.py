"""The one event model every agent backend's stream is normalised to.

Claude, Gemini, Codex and Qwen CLIs, OpenAI-compatible HTTP endpoints and the scripted demo
backend all yield :class:`StreamEvent` values with strictly increasing ``seq`` numbers:
``start`` (with the backend's session or thread id when it has one), ``delta`` (text),
``tool_call``, ``tool_result``, ``retry`` (the backend retried internally), ``error`` and exactly
one terminal ``final``. A backend failure is classified into a :class:`FailureKind` so the
gateway can decide between retrying, opening a circuit and falling back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgentBackend",
    "AgentRequest",
    "Capability",
    "FailureKind",
    "StreamEvent",
    "StreamKind",
]


class Capability(StrEnum):
    """What an agent can be asked to do."""

    PLAN = "plan"
    CODE = "code"
    ANALYZE = "analyze"
    REVIEW = "review"
    EXECUTE = "execute"


class StreamKind(StrEnum):
    """Kinds of normalised stream events."""

    START = "start"
    DELTA = "delta"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    RETRY = "retry"
    ERROR = "error"
    FINAL = "final"


class FailureKind(StrEnum):
    """Why an attempt failed; decides retry, breaker and fallback behaviour."""

    AUTH = "auth"  # credentials missing or rejected: open the circuit at once, never retry
    CONFIG = "config"  # bad flags, untrusted workspace, missing binary: open at once
    RATE_LIMIT = "rate_limit"  # 429: retry after Retry-After
    OVERLOADED = "overloaded"  # 5xx / 529: retry with backoff
    TIMEOUT = "timeout"  # TTFT, idle or total timeout
    CUT = "cut"  # stream ended without a final event
    MALFORMED = "malformed"  # unparsable output
    REFUSED = "refused"  # the model or policy refused; do not retry
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class StreamEvent(BaseModel):
    """One normalised event from an agent backend."""

    model_config = ConfigDict(frozen=True)

    seq: int
    kind: StreamKind
    text: str = ""
    session_id: str | None = None
    tool: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    is_error: bool = False
    failure: FailureKind | None = None
    retry_after_s: float | None = None
    usage: dict[str, Any] = Field(default_factory=dict)


class AgentRequest(BaseModel):
    """What the gateway asks one backend to do in one attempt."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    capability: Capability
    prompt: str
    context: str = ""
    resume_session_id: str | None = None
    continuation_of: str = ""  # text already delivered, for a continuation prompt
    ttft_timeout_s: float = 60.0
    idle_timeout_s: float = 60.0
    total_timeout_s: float = 600.0
    #: How long an agent actor may hold events after the first token to send them together
    #: (0 = each batch as soon as anything is ready). The gateway sets it only for answers
    #: nobody watches live (JSON requests); the first token is never held.
    batch_window_s: float = 0.0


class AgentBackend(ABC):
    """A source of normalised stream events for one configured agent."""

    name: str

    @abstractmethod
    def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Run one attempt and yield its normalised events, ending with ``final`` or ``error``."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, default no-op
        """Release resources (processes, HTTP clients)."""
