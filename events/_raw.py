"""Rows read straight from the SQLite event table (see ``EventStore.read_raw``)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["RawNotification", "dashed"]


class RawNotification(NamedTuple):
    """A stored event as read straight from SQLite (see :meth:`EventStore.read_raw`).

    A named tuple for the same reason as :class:`projections.read_model.ProjectedEvent`: one
    is made per event read, and a frozen dataclass's constructor costs three times as much.
    """

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
