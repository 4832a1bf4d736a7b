"""Replay helpers: one aggregate at a version, the read models at a log position."""

from __future__ import annotations

from pathlib import Path

from events.runtime import ActorLifecycle
from events.store import EventStore, StoreConfig
from projections.replay import aggregate_at, state_as_of


def _store(tmp_path: Path) -> tuple[EventStore, ActorLifecycle]:
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db"))
    agg = ActorLifecycle(actor="worker")
    agg.start(actor="worker", node="n1", pid=1)
    agg.restart(
        actor="worker",
        restarts=1,
        reason="token ghp_Zq8XyW3vU7tS1rQ9pO5nM2lK4jH6",
        node="n2",
        pid=2,
    )
    agg.stop(actor="worker", reason="down")
    store.save_all(agg)
    return store, agg


def test_aggregate_at_version_replays_only_that_far(tmp_path: Path) -> None:
    """Replaying to version 2 lists two events and the state after the second."""
    store, agg = _store(tmp_path)
    history = aggregate_at(store, agg.id, 2)
    assert [e["type"] for e in history.events] == [
        "ActorLifecycle.Registered",
        "ActorLifecycle.Started",
    ]
    assert history.version == 2
    assert history.state["status"] == "running"
    assert history.state["pid"] == 1


def test_aggregate_history_is_redacted(tmp_path: Path) -> None:
    """Credential-shaped text in an event body is masked in the replayed history."""
    store, agg = _store(tmp_path)
    history = aggregate_at(store, agg.id)
    assert history.version == 4
    assert history.events[2]["body"]["reason"] == "token ***"
    assert history.state["status"] == "stopped"


def test_state_as_of_position(tmp_path: Path) -> None:
    """The read models as of position 3 show the restart but not the stop."""
    store, _ = _store(tmp_path)
    past = state_as_of(store, 3)
    assert past.position == 3
    assert past.query("SELECT status, restarts, node FROM actors") == [("running", 1, "n2")]
