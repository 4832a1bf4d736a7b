"""Gateway notices become Agent and Task events in a real in-memory EventStore."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

from actors.agent_stream import (
    AgentBackend,
    AgentRequest,
    Capability,
    FailureKind,
    StreamEvent,
    StreamKind,
)
from actors.gateway import AgentEntry, Gateway, GatewayEvent, GatewayEventSink, VirtualClock
from events.agent import agent_id, task_id
from events.store import EventStore, StoreConfig


class _Once(AgentBackend):
    """Fails with ``failure`` on the first call, then answers "ok"."""

    def __init__(self, name: str, failure: FailureKind | None) -> None:
        self.name = name
        self.failure = failure

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Fail once, then stream a short answer."""
        yield StreamEvent(seq=1, kind=StreamKind.START, session_id="s")
        if self.failure is not None:
            failure, self.failure = self.failure, None
            yield StreamEvent(seq=2, kind=StreamKind.ERROR, failure=failure)
            return
        yield StreamEvent(seq=2, kind=StreamKind.DELTA, text="ok")
        yield StreamEvent(seq=3, kind=StreamKind.FINAL)


def test_router_notices_are_recorded_once_each() -> None:
    """A request with an auth failure and a fallback leaves a full, replayable history."""
    store = EventStore(StoreConfig(backend="memory"))
    sink = GatewayEventSink(store, epoch="e1")
    seen: list[GatewayEvent] = []

    def both(event: GatewayEvent) -> None:
        seen.append(event)
        sink(event)

    agents = [
        AgentEntry(_Once("a", FailureKind.AUTH), frozenset(Capability)),
        AgentEntry(_Once("b", None), frozenset(Capability)),
    ]
    gw = Gateway(agents, clock=VirtualClock(), rng=random.Random(0), on_event=both)
    text, summary = asyncio.run(gw.run("req-1", Capability.REVIEW, "review token=abc123"))
    assert text == "ok"
    assert summary.agent == "b"

    task_events = [type(e).__qualname__ for e in store.events_of(task_id("req-1"))]
    assert task_events == [
        "Task.Submitted",
        "Task.AttemptStarted",
        "Task.AttemptFailed",
        "Task.FallbackUsed",
        "Task.AttemptStarted",
        "Task.Completed",
    ]
    agent_a = [type(e).__qualname__ for e in store.events_of(agent_id("a"))]
    assert agent_a == ["Agent.Registered", "Agent.CircuitOpened"]
    task = store.repository.get(task_id("req-1"))
    assert task.status == "completed"
    assert "abc123" not in task.prompt_preview

    head = store.head()
    for event in seen:  # redelivery (at-least-once) appends nothing
        sink(event)
    assert store.head() == head
