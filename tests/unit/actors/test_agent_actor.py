"""AgentActor as a plain object: streams its backend's events as JSON."""

from __future__ import annotations

import asyncio

from actors.agent_actor import AgentActor
from actors.agent_stream import AgentRequest, Capability, StreamEvent, StreamKind
from actors.agents.config import AgentConfig


async def _collect(actor: AgentActor, request: AgentRequest) -> list[StreamEvent]:
    return [
        StreamEvent.model_validate_json(raw)
        async for raw in actor.stream(request.model_dump_json())
    ]


def test_stream_yields_the_backends_events_as_json() -> None:
    """A scripted agent's attempt arrives as start, deltas and one final, in seq order."""
    actor = AgentActor(AgentConfig(name="demo-a", backend="scripted"))
    request = AgentRequest(request_id="r:1", capability=Capability.PLAN, prompt="plan")
    events = asyncio.run(_collect(actor, request))
    assert events[0].kind is StreamKind.START
    assert events[-1].kind is StreamKind.FINAL
    assert [e.seq for e in events] == list(range(len(events)))
    health = actor.health()
    assert health["streams"] == 1
    assert health["active"] == 0


def test_injected_failure_is_a_terminal_error() -> None:
    """An agent configured to fail its first call ends that attempt with an error event."""
    actor = AgentActor(AgentConfig(name="flaky", backend="scripted", fail_first=1))
    request = AgentRequest(request_id="r:1", capability=Capability.CODE, prompt="code")
    first = asyncio.run(_collect(actor, request))
    second = asyncio.run(_collect(actor, request))
    assert first[-1].is_error
    assert second[-1].kind is StreamKind.FINAL
