"""Group commit: several idempotent commands saved in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.application import AggregateNotFoundError

from events.agent import Task, task_id
from events.batch import Command, execute_batch, execute_one
from events.store import EventStore, StoreConfig


def _submit(request_id: str) -> Command[Task]:
    return Command(
        Task,
        task_id(request_id),
        f"{request_id}:0:submitted",
        lambda _t: None,
        create=lambda cid: Task.submit(request_id, "plan", "p", None, command_id=cid),
    )


def _start(request_id: str, attempt: int) -> Command[Task]:
    return Command(
        Task,
        task_id(request_id),
        f"{request_id}:{attempt}:attempt_started",
        lambda t: t.start_attempt(attempt, "a"),
    )


def _store() -> EventStore:
    return EventStore(StoreConfig(backend="memory"))


def test_a_batch_creates_and_updates_aggregates_in_order() -> None:
    """Creation and later commands for two tasks in one batch leave both histories whole."""
    store = _store()
    batch: list[Command[Any]] = [_submit("r1"), _submit("r2"), _start("r1", 1), _start("r2", 1)]
    head = execute_batch(store, batch)
    assert head == 4
    for rid in ("r1", "r2"):
        kinds = [type(e).__qualname__ for e in store.events_of(task_id(rid))]
        assert kinds == ["Task.Submitted", "Task.AttemptStarted"]


def test_repeated_commands_append_nothing() -> None:
    """A batch redelivered (or a command repeated within it) is applied once."""
    store = _store()
    execute_batch(store, [_submit("r1"), _start("r1", 1), _start("r1", 1)])
    head = store.head()
    execute_batch(store, [_submit("r1"), _start("r1", 1)])
    execute_one(store, _start("r1", 1))
    assert store.head() == head == 2


def test_a_batch_missing_its_aggregate_saves_nothing() -> None:
    """A command on an unknown aggregate fails the whole batch before anything is saved."""
    store = _store()
    with pytest.raises(AggregateNotFoundError):
        execute_batch(store, [_submit("r1"), _start("r2", 1)])
    assert store.head() == 0
