"""The batching sink records the same history as the synchronous one, off the caller's thread."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from actors.agent_stream import AgentBackend, AgentRequest, Capability, StreamEvent, StreamKind
from actors.gateway import AgentEntry, Gateway, GatewayEvent, GatewayEventSink, VirtualClock
from actors.gateway.batch_sink import BatchingEventSink
from actors.gateway.report import GatewayEventKind
from events.agent import agent_id, task_id
from events.store import EventStore, StoreConfig


class _Answer(AgentBackend):
    """Streams a fixed two-word answer."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Start, two deltas, final."""
        yield StreamEvent(seq=1, kind=StreamKind.START)
        yield StreamEvent(seq=2, kind=StreamKind.DELTA, text="a ")
        yield StreamEvent(seq=3, kind=StreamKind.DELTA, text="b")
        yield StreamEvent(seq=4, kind=StreamKind.FINAL)


def _history(store: EventStore, request_ids: list[str]) -> list[list[str]]:
    ids = [agent_id("a")] + [task_id(r) for r in request_ids]
    return [[type(e).__qualname__ for e in store.events_of(i)] for i in ids]


def _run(sink: GatewayEventSink, request_ids: list[str]) -> list[GatewayEvent]:
    seen: list[GatewayEvent] = []

    def both(event: GatewayEvent) -> None:
        seen.append(event)
        sink(event)

    gw = Gateway(
        [AgentEntry(_Answer("a"), frozenset(Capability))],
        clock=VirtualClock(),
        rng=random.Random(0),
        on_event=both,
    )

    async def requests() -> None:
        await asyncio.gather(*(gw.run(r, Capability.PLAN, "p") for r in request_ids))

    asyncio.run(requests())
    return seen


def test_batched_history_equals_the_synchronous_one() -> None:
    """Concurrent requests through the batching sink leave the synchronous sink's history."""
    ids = [f"r{i}" for i in range(20)]
    sync_store = EventStore(StoreConfig(backend="memory"))
    _run(GatewayEventSink(sync_store, epoch="e"), ids)
    store = EventStore(StoreConfig(backend="memory"))
    sink = BatchingEventSink(store, epoch="e")
    _run(sink, ids)
    assert sink.flush(10)
    assert _history(store, ids) == _history(sync_store, ids)
    assert store.head() == sync_store.head()
    stats = sink.stats()
    assert stats["written"] == store.head()
    assert stats["failed"] == 0
    assert stats["pending"] == 0
    sink.close()


def test_redelivered_notices_append_nothing() -> None:
    """Notices delivered twice are recorded once, however the batches fall."""
    store = EventStore(StoreConfig(backend="memory"))
    sink = BatchingEventSink(store, epoch="e", max_batch=3)
    seen = _run(sink, ["r1", "r2"])
    assert sink.flush(10)
    head = store.head()
    for event in seen:
        sink(event)
    assert sink.flush(10)
    assert store.head() == head
    sink.close()


def test_an_unwritable_notice_is_counted_and_the_rest_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A notice for an unknown task fails alone: it is logged and counted, its batch is kept."""
    store = EventStore(StoreConfig(backend="memory"))
    sink = BatchingEventSink(store, epoch="e")
    orphan = GatewayEvent(GatewayEventKind.ATTEMPT_STARTED, request_id="nope", agent="a", attempt=1)
    submitted = GatewayEvent(GatewayEventKind.SUBMITTED, request_id="r1", capability="plan")
    sink(orphan)
    sink(submitted)
    assert sink.flush(10)
    assert sink.failed == 1
    assert [type(e).__qualname__ for e in store.events_of(task_id("r1"))] == ["Task.Submitted"]
    assert "could not be recorded" in caplog.text
    sink.close()


def test_close_writes_the_queue_and_later_notices_synchronously() -> None:
    """Everything accepted before close is written; a notice after close is written at once."""
    store = EventStore(StoreConfig(backend="memory"))
    sink = BatchingEventSink(store, epoch="e")
    for i in range(50):
        sink(GatewayEvent(GatewayEventKind.SUBMITTED, request_id=f"r{i}", capability="plan"))
    sink.close()
    assert store.head() == 50
    sink(GatewayEvent(GatewayEventKind.SUBMITTED, request_id="late", capability="plan"))
    assert store.head() == 51


class _Recording(_Answer):
    """Remembers the requests it was sent."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.requests: list[AgentRequest] = []

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Record, then answer."""
        self.requests.append(request)
        async for event in super().stream(request):
            yield event


def test_only_json_answers_let_agents_batch_events() -> None:
    """run() (a JSON answer) asks for a batch window; stream() (watched live) does not."""
    backend = _Recording("a")
    gw = Gateway([AgentEntry(backend, frozenset(Capability))], clock=VirtualClock())

    async def both() -> None:
        await gw.run("r1", Capability.PLAN, "p")
        async for _ in gw.stream("r2", Capability.PLAN, "p"):
            pass

    asyncio.run(both())
    assert [r.batch_window_s for r in backend.requests] == [gw.config.batch_window_s, 0.0]
    assert gw.config.batch_window_s > 0
