"""AgentActor as a plain object: streams its backend's events as JSON."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from actors._remote_backend import RemoteAgentBackend
from actors.agent_actor import AgentActor
from actors.agent_stream import (
    AgentBackend,
    AgentRequest,
    Capability,
    FailureKind,
    StreamEvent,
    StreamKind,
)
from actors.agents.config import AgentConfig

_BATCH = TypeAdapter(list[StreamEvent])
_REQUEST = AgentRequest(request_id="r:1", capability=Capability.PLAN, prompt="plan")


async def _batches(actor: AgentActor, request: AgentRequest) -> list[list[StreamEvent]]:
    return [_BATCH.validate_json(raw) async for raw in actor.stream(request.model_dump_json())]


async def _collect(actor: AgentActor, request: AgentRequest) -> list[StreamEvent]:
    return [event for batch in await _batches(actor, request) for event in batch]


class _Burst(AgentBackend):
    """Yields start, then (after one network wait) three deltas and final back to back."""

    name = "burst"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Start; a pause; then a burst, or an exception when ``fail``."""
        yield StreamEvent(seq=0, kind=StreamKind.START)
        await asyncio.sleep(0.01)
        for i in range(1, 4):
            yield StreamEvent(seq=i, kind=StreamKind.DELTA, text=f"t{i}")
        if self.fail:
            msg = "backend broke"
            raise RuntimeError(msg)
        yield StreamEvent(seq=4, kind=StreamKind.FINAL)


class _FakeHandle:
    """Stands in for a Ray actor handle: ``stream.options(...).remote(json)`` → refs."""

    def __init__(self, actor: AgentActor, break_after: int | None = None) -> None:
        self.actor = actor
        self.break_after = break_after
        self.stream = self

    def options(self, **_: Any) -> _FakeHandle:
        return self

    async def remote(self, request_json: str) -> AsyncIterator[asyncio.Future[str]]:
        sent = 0
        async for item in self.actor.stream(request_json):
            if sent == self.break_after:
                msg = "actor died"
                raise ConnectionError(msg)
            done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            done.set_result(item)
            sent += 1
            yield done


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


def test_events_ready_together_travel_in_one_batch() -> None:
    """A burst of events already produced is one streamed item, in order, after the start."""
    actor = AgentActor(AgentConfig(name="burst", backend="scripted"), backend=_Burst())
    batches = asyncio.run(_batches(actor, _REQUEST))
    assert [[e.seq for e in b] for b in batches] == [[0], [1, 2, 3, 4]]


def test_a_backend_exception_follows_the_events_it_produced() -> None:
    """The events before a backend crash are delivered, then the crash is raised."""
    actor = AgentActor(AgentConfig(name="burst", backend="scripted"), backend=_Burst(fail=True))
    seen: list[StreamEvent] = []

    async def run() -> None:
        async for raw in actor.stream(_REQUEST.model_dump_json()):
            seen.extend(_BATCH.validate_json(raw))

    with pytest.raises(RuntimeError, match="backend broke"):
        asyncio.run(run())
    assert [e.seq for e in seen] == [0, 1, 2, 3]
    assert actor.health()["active"] == 0


def test_remote_backend_unpacks_batches_until_the_terminal_event() -> None:
    """Through a handle, the gateway sees the same event sequence the backend produced."""
    actor = AgentActor(AgentConfig(name="burst", backend="scripted"), backend=_Burst())
    remote = RemoteAgentBackend("burst", _FakeHandle(actor))

    async def run() -> list[StreamEvent]:
        return [e async for e in remote.stream(_REQUEST)]

    events = asyncio.run(run())
    assert [e.seq for e in events] == [0, 1, 2, 3, 4]
    assert events[-1].kind is StreamKind.FINAL


def test_a_dead_actor_mid_stream_is_a_cut_stream() -> None:
    """The actor failing after its first batch ends the attempt with a CUT error event."""
    actor = AgentActor(AgentConfig(name="burst", backend="scripted"), backend=_Burst())
    remote = RemoteAgentBackend("burst", _FakeHandle(actor, break_after=1))

    async def run() -> list[StreamEvent]:
        return [e async for e in remote.stream(_REQUEST)]

    events = asyncio.run(run())
    assert [e.kind for e in events] == [StreamKind.START, StreamKind.ERROR]
    assert events[-1].failure is FailureKind.CUT
    assert events[-1].seq == 1


class _Gated(AgentBackend):
    """Start and a delta; a second delta once ``gates[0]`` opens; the rest after ``gates[1]``."""

    name = "gated"

    def __init__(self) -> None:
        self.gates = (asyncio.Event(), asyncio.Event())

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Each group of events waits for the consumer to open the next gate."""
        yield StreamEvent(seq=0, kind=StreamKind.START)
        yield StreamEvent(seq=1, kind=StreamKind.DELTA, text="a")
        await self.gates[0].wait()
        yield StreamEvent(seq=2, kind=StreamKind.DELTA, text="b")
        await self.gates[1].wait()
        yield StreamEvent(seq=3, kind=StreamKind.DELTA, text="c")
        yield StreamEvent(seq=4, kind=StreamKind.FINAL)


def _windowed(window_s: float) -> str:
    return _REQUEST.model_copy(update={"batch_window_s": window_s}).model_dump_json()


def test_a_batch_window_holds_events_after_the_first_token_until_the_end() -> None:
    """With a long window, the first token goes at once and the rest rides with final."""
    actor = AgentActor(AgentConfig(name="burst", backend="scripted"), backend=_Burst())

    async def run() -> list[list[int]]:
        return [
            [e.seq for e in _BATCH.validate_json(raw)] async for raw in actor.stream(_windowed(60))
        ]

    assert asyncio.run(run()) == [[0, 1, 2, 3, 4]]


def test_a_held_event_leaves_when_its_window_runs_out() -> None:
    """An event held while the backend is quiet is sent when the window expires."""
    backend = _Gated()
    actor = AgentActor(AgentConfig(name="gated", backend="scripted"), backend=backend)

    async def run() -> list[list[int]]:
        out: list[list[int]] = []
        async for raw in actor.stream(_windowed(0.01)):
            out.append([e.seq for e in _BATCH.validate_json(raw)])
            # seq 2 arrives while the backend waits for gates[1]: only the timer can send it.
            if len(out) <= len(backend.gates):
                backend.gates[len(out) - 1].set()
        return out

    assert asyncio.run(run()) == [[0, 1], [2], [3, 4]]


class _Lingering(AgentBackend):
    """Answers, then keeps its stream open (cleanup after ``final``) until cancelled."""

    name = "lingering"

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Start, a delta, another delta, final; then waits forever."""
        yield StreamEvent(seq=0, kind=StreamKind.START)
        yield StreamEvent(seq=1, kind=StreamKind.DELTA, text="a")
        await asyncio.sleep(0)
        yield StreamEvent(seq=2, kind=StreamKind.DELTA, text="b")
        yield StreamEvent(seq=3, kind=StreamKind.FINAL)
        await asyncio.Event().wait()


def test_a_final_event_is_never_held_by_the_window() -> None:
    """The batch with final leaves at once, though the backend has not finished."""
    actor = AgentActor(AgentConfig(name="lingering", backend="scripted"), backend=_Lingering())

    async def run() -> list[list[int]]:
        out: list[list[int]] = []
        stream = actor.stream(_windowed(60))
        async for raw in stream:
            out.append([e.seq for e in _BATCH.validate_json(raw)])
            if out[-1][-1] == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        return out

    assert asyncio.run(run())[-1][-1] == 3
    assert actor.health()["active"] == 0
