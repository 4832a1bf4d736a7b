"""ProjectorService: follows the log into DuckDB, gathering bursts without delaying readers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from actors.projector_service import ProjectorService
from events.runtime import ActorLifecycle
from events.store import EventStore, StoreConfig

Follower = tuple[EventStore, ProjectorService, ActorLifecycle]


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[Follower]:
    """A store, a projector following it with a one-minute gathering window and poll, and an
    actor aggregate not saved yet."""
    config = StoreConfig(sqlite_path=tmp_path / "e.sqlite")
    store = EventStore(config)
    service = ProjectorService(
        config, tmp_path / "p.duckdb", poll_interval_s=60.0, min_interval_s=60.0
    )
    agg = ActorLifecycle._create(ActorLifecycle.Registered, id=uuid4(), command_id="r", actor="t")
    try:
        yield store, service, agg
    finally:
        service.close()
        store.close()


def _append(store: EventStore, agg: ActorLifecycle, pid: int) -> int:
    agg.start(actor="t", node="n", pid=pid)
    return store.save_all(agg)


def test_a_reader_waiting_for_its_write_is_not_held_by_the_gathering_window(
    follower: Follower,
) -> None:
    """With a one-minute gathering window, wait_for still sees a fresh write at once."""
    store, service, agg = follower
    first = store.save_all(agg)
    service.hint(first)
    assert service.wait_for(first, timeout_s=20)  # first after a quiet spell
    second = _append(store, agg, 2)
    service.hint(second)  # the follower is now inside its 60 s gathering window
    assert service.wait_for(second, timeout_s=20)
    rows = service.query(f"SELECT count(*) FROM events WHERE position = {second}").rows
    assert rows[0][0] == 1


def test_lone_appends_are_projected_at_once_despite_the_gathering_window(
    follower: Follower,
) -> None:
    """One append at a time (nothing to gather) never waits out the gathering window."""
    store, service, agg = follower

    def appends() -> Iterator[int]:  # lazily: each one after the previous is visible
        yield store.save_all(agg)
        for pid in range(3):
            yield _append(store, agg, pid)

    for head in appends():
        service.hint(head)
        sql = f"SELECT count(*) FROM events WHERE position = {head}"
        deadline = time.monotonic() + 20  # bounded: the window alone would take 60 s
        while service.query(sql).rows[0][0] == 0:
            assert time.monotonic() < deadline, "a lone append waited for the window"
            service.hint(head)


def test_a_hint_ahead_of_the_projection_makes_the_follower_gather(follower: Follower) -> None:
    """One event applied while a hint already announced more: the next batch is gathered."""
    store, service, agg = follower
    first = store.save_all(agg)
    service.hint(first)
    assert service.wait_for(first, timeout_s=20)
    assert service.gathers == 0  # a lone append: nothing to gather
    second = _append(store, agg, 1)
    service.hint(second + 1)  # a writer announced more than the follower will find
    assert service.wait_gathered(1, timeout_s=20), "the follower did not gather"
    assert service.position() == second
    third = _append(store, agg, 2)
    service.hint(third)
    assert service.wait_for(third, timeout_s=20)  # a reader still cuts the window short
