"""One attempt against one backend, bounded by TTFT, inter-event idle and total timeouts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from actors.agent_stream import (
    AgentBackend,
    AgentRequest,
    Capability,
    FailureKind,
    StreamEvent,
    StreamKind,
)
from actors.gateway.checkpoint import StreamCheckpointer
from actors.gateway.clock import Clock
from actors.gateway.fallback import cache_key

__all__ = [
    "AttemptResult",
    "RequestState",
    "stream_attempt",
]

T = TypeVar("T")

_TOKENS = frozenset({StreamKind.DELTA, StreamKind.TOOL_CALL, StreamKind.TOOL_RESULT})


@dataclass
class RequestState:
    """The router's state for one logical request."""

    request_id: str
    capability: Capability
    prompt: str
    context: str
    started: float
    checkpointer: StreamCheckpointer
    seq: int = 0
    attempts: int = 0
    sent_start: bool = False
    session_agent: str | None = None
    nested_retries: int = 0
    done: bool = False
    #: A client watches the events as they come (SSE); False for a JSON answer.
    live: bool = True
    agent_hint: str | None = None
    #: Agent → kind of its last failure in this request (told to the caller at the end).
    failures: dict[str, str] = field(default_factory=dict)

    def cache_key(self) -> str:
        """This request's key in the answer cache (:func:`~actors.gateway.fallback.cache_key`)."""
        return cache_key(self.capability, self.prompt, self.context, agent_hint=self.agent_hint)

    def next_seq(self) -> int:
        """Return the next client-facing sequence number."""
        self.seq += 1
        return self.seq


class _Timeout(Exception):
    """The wait for the next event ran out."""


@dataclass
class AttemptResult:
    """How one attempt ended (filled in while its events are consumed)."""

    ok: bool = False
    failure: FailureKind | None = None
    detail: str = ""
    retry_after_s: float | None = None
    timeout_phase: str = ""  # "ttft", "idle" or "total" when failure is TIMEOUT
    ttft_s: float | None = None
    duration_s: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)

    def fail(self, kind: FailureKind, detail: str, retry_after_s: float | None = None) -> None:
        """Record the failure."""
        self.ok = False
        self.failure = kind
        self.detail = detail
        self.retry_after_s = retry_after_s


async def _next_within(agen: AsyncIterator[T], clock: Clock, timeout_s: float) -> T:
    """The next event, or :class:`_Timeout` when ``timeout_s`` passes first.

    A timer on the clock interrupts the read itself (no task per event); the interrupted
    stream is not read again, since a timeout ends the attempt. A TimeoutError the backend
    raises on its own is not ours: it propagates as the backend's failure.
    """
    deadline = clock.timeout(max(0.0, timeout_s))
    try:
        async with deadline:
            return await agen.__anext__()
    except TimeoutError:
        if deadline.expired():
            raise _Timeout from None
        raise


async def stream_attempt(
    backend: AgentBackend, request: AgentRequest, clock: Clock, result: AttemptResult
) -> AsyncIterator[StreamEvent]:
    """Yield the backend's non-terminal events; record the outcome in ``result``.

    ``final`` and ``error`` events are not yielded: they end the attempt and are folded into
    ``result``. A stream that stops without either is a ``cut``; a backend exception is
    ``unknown`` and any deadline is ``timeout``.
    """
    start = clock.now()
    agen = backend.stream(request)
    try:
        while True:
            now = clock.now()
            total_left = start + request.total_timeout_s - now
            if result.ttft_s is None:
                phase, phase_left = "ttft", start + request.ttft_timeout_s - now
            else:
                phase, phase_left = "idle", request.idle_timeout_s
            if total_left <= phase_left:
                phase, phase_left = "total", total_left
            try:
                event = await _next_within(agen, clock, phase_left)
            except StopAsyncIteration:
                result.fail(FailureKind.CUT, "stream ended without a final event")
                return
            except _Timeout:
                result.timeout_phase = phase
                result.fail(FailureKind.TIMEOUT, f"{phase} timeout after {phase_left:.3g}s")
                return
            except Exception as exc:  # noqa: BLE001 - any backend crash is one failed attempt
                result.fail(FailureKind.UNKNOWN, f"{type(exc).__name__}: {exc}")
                return
            if event.kind in _TOKENS and result.ttft_s is None:
                result.ttft_s = clock.now() - start
            if event.kind is StreamKind.ERROR or (
                event.kind is StreamKind.FINAL and event.is_error
            ):
                result.fail(event.failure or FailureKind.UNKNOWN, event.text, event.retry_after_s)
                return
            if event.kind is StreamKind.FINAL:
                result.ok = True
                result.usage = dict(event.usage)
                return
            yield event
    finally:
        result.duration_s = clock.now() - start
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
