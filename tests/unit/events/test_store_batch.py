"""EventStore.batch / flush / load: many saves, one transaction, same order, same semantics."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from events.errors import ConcurrencyError
from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, StoreConfig, aggregate_id


class Heads:
    """A listener remembering every head it was told about (one call per commit)."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, head: int) -> None:
        self.seen.append(head)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(StoreConfig(sqlite_path=tmp_path / "events.sqlite"))
    yield s
    s.close_quietly()


def _create(actor: str) -> Callable[[str], ActorLifecycle]:
    def build(command_id: str) -> ActorLifecycle:
        return ActorLifecycle._create(
            ActorLifecycle.Registered,
            id=aggregate_id("actor", actor),
            command_id=command_id,
            actor=actor,
        )

    return build


def _start(store: EventStore, actor: str, command_id: str, pid: int = 1) -> ActorLifecycle:
    return store.execute(
        ActorLifecycle,
        aggregate_id("actor", actor),
        command_id,
        lambda a: a.start(actor=actor, node="n", pid=pid),
        create=_create(actor),
    )


def _alert(name: str) -> Alert:
    return Alert(alert_id=name, severity="low", source="test", message=name)


def test_saves_in_a_batch_commit_once_when_it_ends(store: EventStore) -> None:
    """Saves inside a batch are invisible until it ends, then land in one commit."""
    heads = Heads()
    store.add_listener(heads)
    with store.batch():
        store.save_all(_alert("a"))
        store.save_all(_alert("b"))
        _start(store, "p", "cmd-1")
        assert store.head() == 0
    assert store.head() == 4
    assert heads.seen == [4]


def test_a_batch_keeps_the_order_of_saves_across_aggregates(store: EventStore) -> None:
    """Events interleaved over two aggregates are stored in the order they were saved."""
    a, b = _alert("a"), _alert("b")
    with store.batch():
        store.save_all(a)
        store.save_all(b)
        a.acknowledge(by="x")
        store.save_all(a)
        b.acknowledge(by="y")
        store.save_all(b)
    bodies = [store.decode_body(n) for n in store.read(0, 10)]
    assert [(b["alert_id"] if "alert_id" in b else b["by"]) for b in bodies] == [
        "a",
        "b",
        "x",
        "y",
    ]


def test_commands_in_a_batch_build_on_each_other_and_stay_idempotent(store: EventStore) -> None:
    """A second command sees the first's deferred events; a repeated command id is skipped."""
    with store.batch():
        _start(store, "p", "cmd-1")
        _start(store, "p", "cmd-1")
        _start(store, "p", "cmd-2", pid=2)
        assert store.load(aggregate_id("actor", "p")).version == 3
    agg = store.repository.get(aggregate_id("actor", "p"))
    assert agg.version == 3
    assert [store.decode_body(n)["command_id"] for n in store.read(0, 10)] == [
        "cmd-1",
        "cmd-1",
        "cmd-2",
    ]


def test_flush_commits_now_and_the_batch_goes_on(store: EventStore) -> None:
    """flush() inside a batch makes what was saved durable; later saves wait for the end."""
    heads = Heads()
    store.add_listener(heads)
    with store.batch():
        store.save_all(_alert("a"))
        assert store.flush() == 1
        assert store.head() == 1
        store.save_all(_alert("b"))
        assert store.head() == 1
    assert heads.seen == [1, 2]


def test_nested_batches_join_the_outer_one(store: EventStore) -> None:
    """An inner batch commits nothing of its own; the outermost block commits everything."""
    with store.batch():
        with store.batch():
            store.save_all(_alert("a"))
        assert store.head() == 0
    assert store.head() == 1


def test_a_failing_block_still_writes_what_it_saved(store: EventStore) -> None:
    """Saves made before an exception are written, as they would have been unbatched."""

    def fail_after_saving() -> None:
        with store.batch():
            store.save_all(_alert("a"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_saving()
    assert store.head() == 1


def test_another_thread_is_not_part_of_the_batch(store: EventStore) -> None:
    """A save from another thread during a batch commits at once."""
    with store.batch():
        worker = threading.Thread(target=lambda: store.save_all(_alert("t")))
        worker.start()
        worker.join()
        assert store.head() == 1
        store.save_all(_alert("mine"))
    assert store.head() == 2


def test_saving_nothing_commits_nothing(store: EventStore) -> None:
    """save_all of aggregates with no pending events appends nothing and tells nobody."""
    heads = Heads()
    store.add_listener(heads)
    alert = _alert("a")
    store.save_all(alert)
    store.save_all(alert)
    with store.batch():
        store.save_all(alert)
    assert store.head() == 1
    assert heads.seen == [1]


def test_flush_outside_a_batch_is_a_no_op(store: EventStore) -> None:
    """flush() with no batch open returns the head and writes nothing."""
    store.save_all(_alert("a"))
    assert store.flush() == 1


def test_a_kept_aggregate_is_reused_while_the_log_has_nothing_newer(store: EventStore) -> None:
    """With a keep map, the next batch gets the very object it saved, not a copy."""
    keep: dict[UUID, Any] = {}
    alert = _alert("a")
    with store.batch(keep=keep):
        store.save_all(alert)
    agg_id = alert.id
    saved = keep[agg_id]
    with store.batch(keep=keep):
        assert store.load(agg_id) is saved
    assert store.load(agg_id) is not saved  # outside a batch: the repository's copy


def test_a_kept_aggregate_changed_elsewhere_is_read_afresh(store: EventStore) -> None:
    """Another writer's event makes the kept object stale; load returns the new state."""
    keep: dict[UUID, Any] = {}
    alert = _alert("a")
    with store.batch(keep=keep):
        store.save_all(alert)
    agg_id = alert.id
    other = store.load(agg_id)
    other.acknowledge(by="someone")
    store.save_all(other)
    with store.batch(keep=keep):
        fresh = store.load(agg_id)
    assert fresh.acknowledged
    assert fresh.version == 2


def test_a_failed_flush_forgets_the_objects_it_could_not_save(store: EventStore) -> None:
    """After a concurrency clash the kept object (now ahead of the log) is never reused."""
    keep: dict[UUID, Any] = {}
    alert = _alert("a")
    with store.batch(keep=keep):
        store.save_all(alert)
    agg_id = alert.id

    def clash() -> None:
        with store.batch(keep=keep):
            mine = store.load(agg_id)
            mine.acknowledge(by="me")
            store.save_all(mine)
            worker = threading.Thread(target=lambda: _ack(store, agg_id, "them"))
            worker.start()
            worker.join()

    with pytest.raises(ConcurrencyError):
        clash()
    assert agg_id not in keep
    with store.batch(keep=keep):
        assert store.load(agg_id).version == 2


def _ack(store: EventStore, agg_id: UUID, by: str) -> None:
    agg = store.load(agg_id)
    agg.acknowledge(by=by)
    store.save_all(agg)
