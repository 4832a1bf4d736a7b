"""Several idempotent commands saved in one transaction (group commit).

:meth:`EventStore.execute <events.store.EventStore.execute>` pays one SQLite commit (an fsync
under ``synchronous=FULL``) per command. A writer that has many small commands queued — the
gateway's event sink records four or five per request — runs them here instead: each
aggregate is loaded once, every command is applied in order (skipping command ids already
applied, exactly as ``execute`` does), and everything is saved by one
:meth:`EventStore.save_all <events.store.EventStore.save_all>`, so one commit and one append
hint cover the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from events.domain import Aggregate
from events.errors import ConcurrencyError
from events.store import EventStore

__all__ = ["Command", "execute_batch", "execute_one"]

TAgg = TypeVar("TAgg", bound=Aggregate)


@dataclass(frozen=True)
class Command(Generic[TAgg]):
    """One command for :meth:`EventStore.execute`, kept as data so it can be queued.

    Attributes:
        cls: the aggregate class.
        agg_id: the aggregate id.
        command_id: deterministic id of the command; a repeat is a no-op.
        action: mutates the aggregate by calling its command methods.
        create: builds the aggregate when it does not exist yet (see ``execute``).
    """

    cls: type[TAgg]
    agg_id: UUID
    command_id: str
    action: Callable[[TAgg], None]
    create: Callable[[str], TAgg] | None = None


def execute_one(store: EventStore, command: Command[Any]) -> None:
    """Run one command through :meth:`EventStore.execute` (its own transaction)."""
    store.execute(
        command.cls, command.agg_id, command.command_id, command.action, create=command.create
    )


def execute_batch(store: EventStore, commands: Sequence[Command[Any]]) -> int:
    """Apply ``commands`` in order and save them all in one transaction.

    Returns:
        The new head position.

    Raises:
        ConcurrencyError: another writer changed one of the aggregates first (nothing of
            the batch was saved; the caller may run the commands one by one).
        eventsourcing.application.AggregateNotFoundError: a command needs an aggregate that
            neither exists nor is created by an earlier command of the batch.
    """
    loaded: dict[UUID, Aggregate] = {}
    for cmd in commands:
        agg = loaded.get(cmd.agg_id)
        created = False
        if agg is None:
            try:
                agg = store.repository.get(cmd.agg_id)
            except AggregateNotFoundError:
                if cmd.create is None:
                    raise
                agg = cmd.create(cmd.command_id)
                created = True
            loaded[cmd.agg_id] = agg
        if not isinstance(agg, cmd.cls):
            msg = f"aggregate {cmd.agg_id} is a {type(agg).__name__}, not a {cmd.cls.__name__}"
            raise ConcurrencyError(msg)
        if not created and agg.has_applied(cmd.command_id):
            continue
        with agg.command(cmd.command_id):
            cmd.action(agg)
    return store.save_all(*loaded.values())
