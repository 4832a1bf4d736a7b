"""One attempt's deadlines on the real clock (the router tests run on a virtual one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from actors.agent_stream import AgentBackend, AgentRequest, Capability, FailureKind, StreamEvent
from actors.agent_stream import StreamKind as K
from actors.gateway import MonotonicClock
from actors.gateway._attempt import AttemptResult, stream_attempt


class _Backend(AgentBackend):
    """Starts, then hangs, raises, or answers (one token, then final)."""

    def __init__(self, then: str) -> None:
        self.name = "b"
        self.then = then
        self.closed = False

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        try:
            yield StreamEvent(seq=0, kind=K.START)
            if self.then == "hang":
                await asyncio.Event().wait()
            if self.then == "raise":
                raise TimeoutError("the backend's own socket timeout")
            yield StreamEvent(seq=1, kind=K.DELTA, text="hi")
            yield StreamEvent(seq=2, kind=K.FINAL, text="hi")
        finally:
            self.closed = True


def _attempt(backend: _Backend) -> tuple[list[StreamEvent], AttemptResult]:
    request = AgentRequest(
        request_id="r", capability=Capability.ANALYZE, prompt="p", ttft_timeout_s=0.05
    )
    result = AttemptResult()

    async def main() -> list[StreamEvent]:
        return [e async for e in stream_attempt(backend, request, MonotonicClock(), result)]

    return asyncio.run(main()), result


def test_hung_backend_is_a_ttft_timeout_and_is_closed() -> None:
    """No token within the TTFT budget: TIMEOUT (ttft), and the backend stream is closed."""
    backend = _Backend("hang")
    events, result = _attempt(backend)
    assert [e.kind for e in events] == [K.START]
    assert (result.failure, result.timeout_phase) == (FailureKind.TIMEOUT, "ttft")
    assert backend.closed


def test_backend_timeout_error_is_its_failure_not_a_deadline() -> None:
    """A TimeoutError raised by the backend is an UNKNOWN failure, not our TTFT deadline."""
    events, result = _attempt(_Backend("raise"))
    assert [e.kind for e in events] == [K.START]
    assert result.failure is FailureKind.UNKNOWN
    assert result.timeout_phase == ""
    assert "socket timeout" in result.detail


def test_prompt_answer_is_not_cut_by_its_deadlines() -> None:
    """A quick answer completes: a deadline that lapses later cancels nothing."""
    for _ in range(3):
        events, result = _attempt(_Backend("answer"))
        assert result.ok
        assert [e.kind for e in events] == [K.START, K.DELTA]
