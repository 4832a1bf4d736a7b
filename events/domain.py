"""Base classes for Synapse aggregates and their pydantic domain events.

Events are frozen pydantic models nested inside their aggregate (``Agent.Registered``), named
as past participles, and stored under their ``module:QualName`` topic, so moving a class is
a data migration. Every event carries the ``command_id`` of the command that produced it: the
store uses it to make a retried command append nothing twice (see :mod:`events.store`).

A published event changes shape only through ``class_version = N`` plus static
``upcast_vN_vN+1(state)`` methods, which :class:`events._mapper.PydanticMapper` runs on read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate as _Aggregate
from eventsourcing.domain import (
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
)
from pydantic import BaseModel, ConfigDict

from events.audit import current_actor

__all__ = ["Aggregate", "AggregateSnapshot", "DomainEvent"]

#: How many recent command ids an aggregate remembers for de-duplication.
COMMAND_MEMORY = 512

TAggregate = TypeVar("TAggregate", bound="Aggregate")


class DomainEvent(BaseModel):
    """A fact that happened; immutable, versioned, free of secret values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    command_id: str = ""


class AggregateSnapshot(DomainEvent, CanSnapshotAggregate[UUID]):
    """A snapshot of an aggregate's state (used by snapshotting intervals)."""

    topic: str
    state: dict[str, Any]


class Aggregate(_Aggregate):
    """Base aggregate: remembers recent command ids so retried commands are no-ops."""

    #: Applications snapshot aggregates of this class every N events (0 = never).
    snapshot_interval: ClassVar[int] = 0

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        """Base of every non-creation event."""

        def mutate(self, aggregate: Any) -> Any:
            """Apply the event and remember its command id."""
            agg = super().mutate(aggregate)
            if agg is not None and self.command_id:
                agg.remember_command(self.command_id)
            return agg

    class Created(Event, CanInitAggregate[UUID]):
        """Base of every creation event."""

        originator_topic: str

    class Snapshot(AggregateSnapshot):
        """Snapshot class nested so the pydantic mapper can rebuild it."""

    _active_command: str = ""

    def remember_command(self, command_id: str) -> None:
        """Record that ``command_id`` was applied (bounded memory)."""
        seen = self.__dict__.get("recent_commands")
        if seen is None:
            seen = deque(maxlen=COMMAND_MEMORY)
            self.__dict__["recent_commands"] = seen
        seen.append(command_id)

    def has_applied(self, command_id: str) -> bool:
        """Return True when ``command_id`` was already applied to this aggregate."""
        return command_id in self.__dict__.get("recent_commands", ())

    @contextmanager
    def command(self, command_id: str) -> Iterator[None]:
        """Tag every event triggered inside the block with ``command_id``."""
        previous = self._active_command
        self._active_command = command_id
        try:
            yield
        finally:
            self._active_command = previous

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Trigger an event, stamping it with the active command id and acting user."""
        if self._active_command and "command_id" not in kwargs:
            kwargs["command_id"] = self._active_command
        _stamp_actor(event_class, kwargs)
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _create(cls: type[TAggregate], event_class: Any, **kwargs: Any) -> TAggregate:
        """Create the aggregate, stamping its creation event with the acting user."""
        _stamp_actor(event_class, kwargs)
        return super()._create(event_class, **kwargs)


def _stamp_actor(event_class: Any, kwargs: dict[str, Any]) -> None:
    # Only events that declare ``actor`` get it (see events/audit.py).
    fields = getattr(event_class, "model_fields", {})
    if "actor" in fields and kwargs.get("actor") is None:
        actor = current_actor()
        if actor is not None:
            kwargs["actor"] = actor
