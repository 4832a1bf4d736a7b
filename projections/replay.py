"""Time travel for debugging: one aggregate at a version, or the whole log at a position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from events.store import EventStore
from projections.projector import MEMORY, Projector
from projections.read_model import ReadModel
from projections.redact import redact

__all__ = ["AggregateHistory", "aggregate_at", "state_as_of"]

_EVENT_FIELDS = {"originator_id", "originator_version", "timestamp", "command_id"}


@dataclass(frozen=True)
class AggregateHistory:
    """One aggregate replayed up to a version, for display.

    Attributes:
        events: one dict per event (``type``, ``version``, ``timestamp``, redacted ``body``).
        state: the aggregate's attributes after the last event (redacted).
        version: the version reached (0 when the aggregate has no events).
    """

    events: list[dict[str, Any]]
    state: dict[str, Any]
    version: int


def aggregate_at(
    store: EventStore, aggregate_id: UUID, version: int | None = None
) -> AggregateHistory:
    """Replay one aggregate's events up to ``version`` (all when ``None``).

    Args:
        store: the event store.
        aggregate_id: the aggregate to replay.
        version: the last version to include.
    """
    events: list[dict[str, Any]] = []
    aggregate: Any = None
    for domain_event in store.events_of(aggregate_id, upto_version=version):
        body = domain_event.model_dump(mode="json")
        events.append(
            {
                "type": type(domain_event).__qualname__,
                "version": domain_event.originator_version,
                "timestamp": body.get("timestamp"),
                "command_id": body.get("command_id", ""),
                "body": redact({k: v for k, v in body.items() if k not in _EVENT_FIELDS}),
            }
        )
        aggregate = domain_event.mutate(aggregate)
    state: dict[str, Any] = {}
    if aggregate is not None:
        state = {
            k: _plain(v)
            for k, v in vars(aggregate).items()
            if not k.startswith("_") and k != "recent_commands"
        }
    return AggregateHistory(
        events=events, state=redact(state), version=len(events) and events[-1]["version"]
    )


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


def state_as_of(
    store: EventStore, position: int, *, read_models: Sequence[ReadModel] | None = None
) -> Projector:
    """Return an in-memory projector holding the read models as of log ``position``."""
    past = Projector(MEMORY, read_models=read_models)
    past.catch_up(store, stop=position)
    return past
