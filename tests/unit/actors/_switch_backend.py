"""An in-process agent backend the test switches between answering and failing."""

from __future__ import annotations

from collections.abc import AsyncIterator

from actors.agent_stream import AgentBackend, AgentRequest, FailureKind, StreamEvent, StreamKind


class SwitchBackend(AgentBackend):
    """Answers ``answer`` word by word, or fails with ``failure`` while it is set.

    Attributes:
        failure: the failure of every attempt from now on; None = answer.
        requests: every attempt received, in order.
    """

    def __init__(self, name: str, answer: str) -> None:
        self.name = name
        self.answer = answer
        self.failure: FailureKind | None = None
        self.requests: list[AgentRequest] = []

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """One attempt: start, then the answer and ``final``, or one terminal error."""
        self.requests.append(request)
        yield StreamEvent(seq=0, kind=StreamKind.START)
        if self.failure is not None:
            yield StreamEvent(
                seq=1, kind=StreamKind.ERROR, is_error=True, failure=self.failure, text="down"
            )
            return
        seq = 1
        for word in self.answer.split(" "):
            yield StreamEvent(seq=seq, kind=StreamKind.DELTA, text=word + " ")
            seq += 1
        yield StreamEvent(seq=seq, kind=StreamKind.FINAL)
