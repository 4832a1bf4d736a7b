"""A deterministic in-process backend for the demo and for gateway tests.

It answers each capability with a canned text, streamed word by word, and can inject the
faults the gateway must survive: fail the first N calls with a chosen failure kind, or cut the
stream after k tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from actors.agent_stream import (
    AgentBackend,
    AgentRequest,
    Capability,
    FailureKind,
    StreamEvent,
    StreamKind,
)

__all__ = ["DEFAULT_ANSWERS", "ScriptedBackend"]

DEFAULT_ANSWERS: Mapping[Capability, str] = {
    Capability.PLAN: "Plan: 1. read the code 2. write a failing test 3. make it pass 4. review",
    Capability.CODE: "def add(a: int, b: int) -> int:\n    return a + b\n",
    Capability.ANALYZE: "Analysis: the module is small, typed and covered by tests.",
    Capability.REVIEW: "Review: looks good; consider a test for the empty input.",
    Capability.EXECUTE: "Execution finished with exit code 0.",
}


class ScriptedBackend(AgentBackend):
    """Canned answers per capability, with optional injected faults.

    Attributes:
        calls: how many attempts have been made so far.
    """

    def __init__(
        self,
        name: str,
        *,
        answers: Mapping[Capability, str] | None = None,
        fail_first: int = 0,
        failure: FailureKind = FailureKind.OVERLOADED,
        retry_after_s: float | None = None,
        cut_after_tokens: int | None = None,
        token_delay_s: float = 0.0,
        session_prefix: str = "scripted",
    ) -> None:
        """Configure the script.

        Args:
            name: the agent's configured name.
            answers: text per capability (defaults to :data:`DEFAULT_ANSWERS`).
            fail_first: the first N attempts fail with ``failure``.
            failure: the failure kind of those attempts.
            retry_after_s: sent with injected RATE_LIMIT failures.
            cut_after_tokens: every attempt is cut after this many tokens (a CUT error).
            token_delay_s: pause between tokens (0 for tests).
            session_prefix: prefix of the session ids reported in ``start``.
        """
        self.name = name
        self._answers = dict(DEFAULT_ANSWERS if answers is None else answers)
        self._fail_first = fail_first
        self._failure = failure
        self._retry_after_s = retry_after_s
        self._cut_after = cut_after_tokens
        self._delay = token_delay_s
        self._prefix = session_prefix
        self.calls = 0

    def answer_for(self, request: AgentRequest) -> str:
        """The full canned answer for a request (continuations get the remaining text)."""
        text = self._answers.get(request.capability, f"{request.capability} done.")
        if request.continuation_of and text.startswith(request.continuation_of):
            return text[len(request.continuation_of) :]
        return text

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Yield start, word deltas and final, or the injected failure.

        Args:
            request: the attempt.

        Yields:
            Normalised events with increasing ``seq``.
        """
        self.calls += 1
        session = request.resume_session_id or f"{self._prefix}-{request.request_id}"
        seq = 0

        def event(kind: StreamKind, **fields: object) -> StreamEvent:
            nonlocal seq
            built = StreamEvent(seq=seq, kind=kind, session_id=session, **fields)  # type: ignore[arg-type]
            seq += 1
            return built

        yield event(StreamKind.START, data={"agent": self.name, "attempt": self.calls})
        if self.calls <= self._fail_first:
            retry = self._retry_after_s if self._failure is FailureKind.RATE_LIMIT else None
            yield event(
                StreamKind.ERROR,
                text=f"injected {self._failure} failure",
                is_error=True,
                failure=self._failure,
                retry_after_s=retry,
            )
            return
        answer = self.answer_for(request)
        words = answer.split(" ")
        tokens = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        sent = ""
        for index, token in enumerate(tokens):
            if self._cut_after is not None and index == self._cut_after:
                yield event(
                    StreamKind.ERROR,
                    text="injected cut",
                    is_error=True,
                    failure=FailureKind.CUT,
                    data={"partial_text_len": len(sent)},
                )
                return
            if self._delay:
                await asyncio.sleep(self._delay)
            sent += token
            yield event(StreamKind.DELTA, text=token)
        usage = {"input_tokens": len(request.prompt.split()), "output_tokens": len(tokens)}
        yield event(StreamKind.FINAL, text=sent, usage=usage, data={"cost_usd": 0.0})
