"""Server-sent events for the event log: ``id:`` is the position, so browsers resume for free.

A stream polls :meth:`Services.events_after` and, once started, can no longer turn a failure
into an HTTP status (Ray Serve and Starlette both send error statuses only before the first
byte), so failures travel in-band as an ``event: error`` frame and the stream ends; the client
reconnects with ``Last-Event-ID`` and loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

from events.errors import SynapseError
from serve._redact import redact
from serve.schemas import EventRow
from serve.services import Services

__all__ = ["SseSettings", "event_stream", "format_error", "format_event", "parse_last_event_id"]


@dataclass(frozen=True)
class SseSettings:
    """Tuning for event streams.

    Attributes:
        poll_interval_s: wait between polls that found nothing new.
        keepalive_s: idle time after which a comment line keeps proxies from closing us.
        batch: events fetched per poll.
        retry_ms: reconnect delay suggested to browsers.
    """

    poll_interval_s: float = 0.25
    keepalive_s: float = 15.0
    batch: int = 100
    retry_ms: int = 2000


def _field(value: str) -> str:
    # A newline inside a field would end it and let data forge further fields.
    return value.replace("\r", " ").replace("\n", " ")


def format_event(row: EventRow, *, named: bool = True) -> bytes:
    """Render one event as an SSE frame with its position as ``id``.

    Args:
        row: the event.
        named: put the topic in ``event:``; without it browsers see a plain ``message``.
    """
    data = row.model_dump(mode="json")
    data["body"] = redact(data["body"])
    name = b"event: %s\n" % _field(row.type).encode() if named else b""
    return b"id: %d\n%sdata: %s\n\n" % (row.position, name, orjson.dumps(data))


def format_error(error: str, detail: str) -> bytes:
    """Render an in-band error frame (the HTTP status has already been sent)."""
    return b"event: error\ndata: %s\n\n" % orjson.dumps({"error": error, "detail": detail})


def parse_last_event_id(value: str | None) -> int | None:
    """Return the position in a ``Last-Event-ID`` header, or None when absent or not ours."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


async def event_stream(
    services: Services,
    after: int,
    *,
    max_events: int | None = None,
    named: bool = True,
    settings: SseSettings = SseSettings(),
) -> AsyncIterator[bytes]:
    """Yield SSE frames for every event after position ``after``, in order, exactly once.

    Args:
        services: where events come from.
        after: the last position the client already has.
        max_events: stop after this many events (bounded mode for tests and scripts).
        named: send the topic as the SSE event name.
        settings: poll and keep-alive tuning.

    Yields:
        Encoded SSE frames and keep-alive comments.
    """
    yield b"retry: %d\n\n" % settings.retry_ms
    position, sent, idle = after, 0, 0.0
    while max_events is None or sent < max_events:
        want = settings.batch if max_events is None else min(settings.batch, max_events - sent)
        try:
            rows = await services.events_after(position, want)
        except SynapseError as e:
            yield format_error(type(e).__name__, e.message)
            return
        fresh = [row for row in rows if row.position > position][:want]
        if not fresh:
            if idle >= settings.keepalive_s:
                yield b": keep-alive\n\n"
                idle = 0.0
            await asyncio.sleep(settings.poll_interval_s)
            idle += settings.poll_interval_s
            continue
        idle = 0.0
        for row in fresh:
            position = row.position
            sent += 1
            yield format_event(row, named=named)
