"""Group commit: several idempotent commands saved in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.application import AggregateNotFoundError

from events.agent import Task, task_id
from events.batch import AggregateCache, Command, execute_batch, execute_one
from events.errors import ConcurrencyError
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


def _counting_gets(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every aggregate id the store's repository is asked for."""
    asked: list[Any] = []
    real = store.repository.get

    def get(agg_id: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(agg_id)
        return real(agg_id, *args, **kwargs)

    monkeypatch.setattr(store.repository, "get", get)
    return asked


def test_a_cache_spares_the_next_batch_reading_what_the_last_one_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second batch of a task finds it in the cache; the log is the same as without."""
    store = _store()
    asked = _counting_gets(store, monkeypatch)
    cache = AggregateCache()
    execute_batch(store, [_submit("r1")], cache)
    assert asked == [task_id("r1")]  # a new task: the store must say it does not exist
    execute_batch(store, [_start("r1", 1), _start("r1", 1)], cache)
    assert asked == [task_id("r1")]  # not read again
    kinds = [type(e).__qualname__ for e in store.events_of(task_id("r1"))]
    assert kinds == ["Task.Submitted", "Task.AttemptStarted"]


def test_a_failed_batch_empties_the_cache_and_the_next_one_reads_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another writer moved an aggregate: the save fails, nothing stale survives."""
    store = _store()
    cache = AggregateCache()
    execute_batch(store, [_submit("r1")], cache)
    execute_one(store, _start("r1", 1))  # another writer, behind the cache's back
    with pytest.raises(ConcurrencyError):
        execute_batch(store, [_start("r1", 2)], cache)
    assert len(cache) == 0
    asked = _counting_gets(store, monkeypatch)
    execute_batch(store, [_start("r1", 2)], cache)
    assert asked == [task_id("r1")]
    kinds = [type(e).__qualname__ for e in store.events_of(task_id("r1"))]
    assert kinds == ["Task.Submitted", "Task.AttemptStarted", "Task.AttemptStarted"]


def test_the_cache_keeps_only_its_capacity() -> None:
    store = _store()
    cache = AggregateCache(capacity=2)
    for rid in ("r1", "r2", "r3"):
        execute_batch(store, [_submit(rid)], cache)
    assert len(cache) == 2
    assert cache.get(task_id("r1")) is None
    assert cache.get(task_id("r3")) is not None
