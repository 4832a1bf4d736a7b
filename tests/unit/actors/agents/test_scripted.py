"""ScriptedBackend: deterministic answers and injected faults."""

from __future__ import annotations

import asyncio

from actors.agent_stream import AgentRequest, Capability, FailureKind, StreamEvent, StreamKind
from actors.agents.scripted import DEFAULT_ANSWERS, ScriptedBackend


def run(backend: ScriptedBackend, **kw: object) -> list[StreamEvent]:
    req = AgentRequest(request_id="r7", capability=Capability.REVIEW, prompt="p", **kw)  # type: ignore[arg-type]

    async def go() -> list[StreamEvent]:
        return [e async for e in backend.stream(req)]

    return asyncio.run(go())


def test_answers_are_deterministic() -> None:
    """Same request, same events: start, word deltas, final with the canned review."""
    first, second = run(ScriptedBackend("a")), run(ScriptedBackend("a"))
    assert first == second
    assert first[0].session_id == "scripted-r7"
    assert first[-1].kind is StreamKind.FINAL
    assert first[-1].text == DEFAULT_ANSWERS[Capability.REVIEW]
    assert [e.seq for e in first] == list(range(len(first)))


def test_fail_first_n_then_succeed() -> None:
    """The first N attempts fail with the injected kind and Retry-After; then it works."""
    backend = ScriptedBackend("a", fail_first=2, failure=FailureKind.RATE_LIMIT, retry_after_s=1.5)
    outcomes = [run(backend)[-1] for _ in range(3)]
    assert [o.failure for o in outcomes] == [FailureKind.RATE_LIMIT, FailureKind.RATE_LIMIT, None]
    assert outcomes[0].retry_after_s == 1.5
    assert outcomes[2].kind is StreamKind.FINAL


def test_cut_after_k_tokens() -> None:
    """A cut after k tokens delivers k deltas, then a CUT error with the partial length."""
    events = run(ScriptedBackend("a", cut_after_tokens=2))
    deltas = [e for e in events if e.kind is StreamKind.DELTA]
    assert len(deltas) == 2
    assert events[-1].failure is FailureKind.CUT
    assert events[-1].data["partial_text_len"] == len("".join(d.text for d in deltas))


def test_continuation_yields_the_rest() -> None:
    """A continuation request streams only the text after what was already delivered."""
    answer = DEFAULT_ANSWERS[Capability.REVIEW]
    events = run(ScriptedBackend("a"), continuation_of=answer[:10], resume_session_id="s")
    assert events[-1].text == answer[10:]
    assert events[0].session_id == "s"
