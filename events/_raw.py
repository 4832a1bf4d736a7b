"""Rows read straight from the SQLite event table (see ``EventStore.read_raw``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RawNotification", "dashed"]


@dataclass(frozen=True, slots=True)
class RawNotification:
    """A stored event as read straight from SQLite (see :meth:`EventStore.read_raw`)."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


def dashed(originator_id: str) -> str:
    """eventsourcing stores UUIDs as 32 hex digits; show them the usual dashed way."""
    h = originator_id
    if len(h) == 32:
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return h
