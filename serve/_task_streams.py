"""Per-request replay buffers that make a task's SSE stream resumable with ``Last-Event-ID``.

A streamed task runs in a background producer that appends every StreamEvent to the
request's buffer, independent of the HTTP connection. A client that drops and reconnects
with the same request id and ``Last-Event-ID: n`` gets the events after ``n`` from the
buffer, then the live rest — each event once, and the task is not run a second time.
Buffers are kept for ``ttl_s`` after the task ends and at most ``max_requests`` at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

__all__ = ["TaskStream", "TaskStreams"]


class TaskStream:
    """The events of one streamed task so far, and whether it has ended."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.done = False
        self.ended_at: float | None = None
        self._changed = asyncio.Condition()
        self.producer: asyncio.Task[None] | None = None

    async def append(self, event: dict[str, Any]) -> None:
        """Add one event and wake the readers."""
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def finish(self, now: float) -> None:
        """Mark the stream ended and wake the readers."""
        async with self._changed:
            self.done = True
            self.ended_at = now
            self._changed.notify_all()

    async def read(self, after: int | None) -> AsyncIterator[dict[str, Any]]:
        """Yield the events with ``seq`` greater than ``after`` (all when None), then live."""
        index = 0

        def ready() -> bool:
            return self.done or len(self.events) > index

        while True:
            async with self._changed:
                await self._changed.wait_for(ready)
                fresh, index = self.events[index:], len(self.events)
                done = self.done
            for event in fresh:
                if after is None or int(event.get("seq", -1)) > after:
                    yield event
            if done and index == len(self.events):
                return


class TaskStreams:
    """The replay buffers of recent streamed tasks, by request id.

    Args:
        ttl_s: how long a finished task's events stay replayable.
        max_requests: most buffers kept; the oldest finished ones are dropped first.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        ttl_s: float = 300.0,
        max_requests: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._max = max_requests
        self._clock = clock
        self._streams: OrderedDict[str, TaskStream] = OrderedDict()

    def get(self, request_id: str) -> TaskStream | None:
        """The buffer of ``request_id``, if it is still kept."""
        self._expire()
        return self._streams.get(request_id)

    def open(
        self, request_id: str, source: Callable[[], AsyncIterator[dict[str, Any]]]
    ) -> TaskStream:
        """Return the buffer of ``request_id``, starting its producer over ``source`` if new."""
        existing = self.get(request_id)
        if existing is not None:
            return existing
        stream = TaskStream()
        self._streams[request_id] = stream
        stream.producer = asyncio.ensure_future(self._produce(stream, source))
        self._expire()
        return stream

    async def _produce(
        self, stream: TaskStream, source: Callable[[], AsyncIterator[dict[str, Any]]]
    ) -> None:
        try:
            async for event in source():
                await stream.append(event)
        except Exception as exc:  # noqa: BLE001 - the failure travels in-band to every reader
            seq = int(stream.events[-1].get("seq", -1)) + 1 if stream.events else 0
            error = {"seq": seq, "kind": "error", "is_error": True, "text": type(exc).__name__}
            await stream.append(error)
        finally:
            await stream.finish(self._clock())

    def _expire(self) -> None:
        now = self._clock()
        for rid, stream in list(self._streams.items()):
            if stream.ended_at is not None and now - stream.ended_at > self._ttl:
                del self._streams[rid]
        finished = [rid for rid, s in self._streams.items() if s.done]
        while len(self._streams) > self._max and finished:
            del self._streams[finished.pop(0)]
