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

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from events.domain import Aggregate
from events.errors import ConcurrencyError
from events.store import EventStore

__all__ = ["AggregateCache", "Command", "execute_batch", "execute_one"]

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


class AggregateCache:
    """Aggregates exactly as the last successful batch saved them (an identity map).

    For one writer that keeps coming back to the same aggregates — the gateway's sink writes
    a task's ``Submitted`` in one batch and its ``Completed`` in the next — so a batch need
    not read and replay what the previous one just wrote. Only the thread that runs the
    batches may use it. Correct as long as a stale entry cannot be saved: another writer's
    append makes the save fail on the expected version, and any failure empties the cache.

    Args:
        capacity: aggregates kept at most (least recently used go first).
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, agg_id: UUID) -> Aggregate | None:
        """The cached aggregate, or None."""
        agg = self._items.get(agg_id)
        if agg is not None:
            self._items.move_to_end(agg_id)
        return agg

    def keep(self, aggregates: Iterable[Aggregate]) -> None:
        """Remember ``aggregates`` as saved."""
        for agg in aggregates:
            self._items[agg.id] = agg
            self._items.move_to_end(agg.id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (after a failed batch: its aggregates hold unsaved changes)."""
        self._items.clear()


def execute_one(store: EventStore, command: Command[Any]) -> None:
    """Run one command through :meth:`EventStore.execute` (its own transaction)."""
    store.execute(
        command.cls, command.agg_id, command.command_id, command.action, create=command.create
    )


def execute_batch(
    store: EventStore, commands: Sequence[Command[Any]], cache: AggregateCache | None = None
) -> int:
    """Apply ``commands`` in order and save them all in one transaction.

    Args:
        store: the event store.
        commands: the commands, in order.
        cache: aggregates saved by earlier batches of the same writer, used instead of
            loading them; updated after the save, emptied when anything fails.

    Returns:
        The new head position.

    Raises:
        ConcurrencyError: another writer changed one of the aggregates first (nothing of
            the batch was saved; the caller may run the commands one by one).
        eventsourcing.application.AggregateNotFoundError: a command needs an aggregate that
            neither exists nor is created by an earlier command of the batch.
    """
    loaded: dict[UUID, Aggregate] = {}
    try:
        for cmd in commands:
            _apply(store, cmd, loaded, cache)
        head = store.save_all(*loaded.values())
    except BaseException:
        if cache is not None:
            cache.clear()
        raise
    if cache is not None:
        cache.keep(loaded.values())
    return head


def _apply(
    store: EventStore,
    cmd: Command[Any],
    loaded: dict[UUID, Aggregate],
    cache: AggregateCache | None,
) -> None:
    agg = loaded.get(cmd.agg_id)
    created = False
    if agg is None:
        agg = cache.get(cmd.agg_id) if cache is not None else None
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
        return
    with agg.command(cmd.command_id):
        cmd.action(agg)
