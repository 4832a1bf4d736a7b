"""Turn a page of notifications into Arrow columns for ``events`` plus read-model rows.

Per event the only Python work is: a topic lookup (cached), a regex screen over the raw JSON,
and, only for bodies that may hold secrets, need upcasting or are encrypted, a decode +
:func:`~projections.redact.redact` + re-encode. Timestamps and command ids are pulled out of
the JSON by DuckDB, not Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import orjson
import pyarrow as pa
from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic

from events.errors import ProjectionError
from projections.read_model import ProjectedEvent, ReadModel
from projections.redact import redact, suspects

__all__ = ["Batch", "BatchBuilder", "EventSource"]


class EventSource(Protocol):
    """What the projector needs from the event store (``events.store.EventStore`` fits)."""

    mapper: Any

    def read(self, after: int, limit: int, *, stop: int | None = None) -> list[Notification]:
        """Return up to ``limit`` notifications after ``after`` (up to ``stop``)."""

    def decode_body(self, notification: Notification) -> dict[str, Any]:
        """Return the decrypted, upcast JSON body of a notification."""


@dataclass
class Batch:
    """One page, ready to insert: Arrow columns and per-read-model rows."""

    table: pa.Table
    last_position: int
    rows_for: dict[str, list[ProjectedEvent]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _TopicInfo:
    aggregate_type: str
    type: str
    upcast: bool
    models: tuple[ReadModel, ...]


class BatchBuilder:
    """Builds :class:`Batch` objects, caching what it learns about each topic."""

    def __init__(self, read_models: Sequence[ReadModel]) -> None:
        self._models = tuple(read_models)
        self._topics: dict[str, _TopicInfo] = {}

    def _topic(self, topic: str) -> _TopicInfo:
        info = self._topics.get(topic)
        if info is None:
            qualname = topic.split(":", 1)[-1]
            aggregate_type = qualname.rsplit(".", 1)[0] if "." in qualname else ""
            try:
                upcast = getattr(resolve_topic(topic), "class_version", 1) > 1
            except Exception:  # noqa: BLE001 - an unimportable topic is projected as stored
                upcast = False
            models = tuple(m for m in self._models if m.wants(topic))
            info = _TopicInfo(aggregate_type, qualname, upcast, models)
            self._topics[topic] = info
        return info

    def build(self, store: EventSource, notes: Sequence[Notification]) -> Batch:
        """Decode, redact and column-ise ``notes`` (non-empty, in log order)."""
        mapper = getattr(store, "mapper", None)
        plain = getattr(mapper, "cipher", None) is None and (
            getattr(mapper, "compressor", None) is None
        )
        # Columns that need no decoding are read in comprehensions (far cheaper per event
        # than appends inside the loop below, which only does what needs the body).
        positions = [note.id for note in notes]
        versions = [note.originator_version for note in notes]
        topics = [note.topic for note in notes]
        topic_info = self._topics.get
        infos = [topic_info(t) or self._topic(t) for t in topics]
        agg_ids: list[str] = []
        bodies: list[bytes] = []
        rows_for: dict[str, list[ProjectedEvent]] = {}
        id_text: dict[Any, str] = {}
        suspect = suspects([note.state for note in notes]) if plain else set()
        for i, (note, info) in enumerate(zip(notes, infos, strict=True)):
            body: dict[str, Any] | None = None
            try:
                if plain and not info.upcast:
                    raw = note.state
                    if i in suspect:
                        body = redact(orjson.loads(raw))
                        raw = orjson.dumps(body)
                else:
                    body = redact(store.decode_body(note))
                    raw = orjson.dumps(body)
                if info.models and body is None:
                    body = orjson.loads(raw)
            except (ValueError, TypeError) as exc:
                msg = f"event at position {note.id} ({note.topic}) could not be decoded: {exc}"
                raise ProjectionError(msg) from exc
            uid = note.originator_id
            # UUID.__hash__ runs in Python; its .int hashes in C.
            key = uid.int if isinstance(uid, UUID) else uid
            text = id_text.get(key)
            if text is None:
                text = id_text[key] = str(uid)
            agg_ids.append(text)
            bodies.append(raw)
            if info.models and body is not None:
                event = ProjectedEvent(
                    position=note.id,
                    aggregate_id=text,
                    aggregate_version=note.originator_version,
                    topic=note.topic,
                    type=info.type,
                    timestamp=str(body.get("timestamp", "")),
                    command_id=str(body.get("command_id", "")),
                    body=body,
                )
                for model in info.models:
                    rows_for.setdefault(model.name, []).append(event)
        agg_types = [info.aggregate_type for info in infos]
        types = [info.type for info in infos]
        table = pa.table(
            {
                "position": pa.array(positions, pa.int64()),
                "aggregate_id": pa.array(agg_ids, pa.string()),
                "aggregate_version": pa.array(versions, pa.int64()),
                "aggregate_type": pa.array(agg_types, pa.string()),
                "type": pa.array(types, pa.string()),
                "topic": pa.array(topics, pa.string()),
                "body": pa.array(bodies, pa.binary()).cast(pa.string()),
            }
        )
        return Batch(table=table, last_position=positions[-1], rows_for=rows_for)
