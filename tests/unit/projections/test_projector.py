"""Projector: exactly-once catch-up, crash resume, rebuild, time travel, redaction."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import event

from events.domain import Aggregate
from events.errors import ProjectionError, QueryRejectedError
from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from projections.read_model import ProjectedEvent, ReadModel

REPO = Path(__file__).resolve().parents[3]
CANARY_TOKEN = "ghp_Zq8XyW3vU7tS1rQ9pO5nM2lK4jH6gF0dE8cB"
CANARY_KEY = "canary-api-key-value-do-not-leak"


class Vault(Aggregate):
    """A test aggregate whose event carries a field named like a secret."""

    class Stored(Aggregate.Created):
        """A value was stored (carrying a key named api_key)."""

        api_key: str
        note: str

    @event(Stored)
    def __init__(self, api_key: str, note: str) -> None:
        self.api_key = api_key


def _store(tmp_path: Path, **config: Any) -> EventStore:
    return EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.db", **config))


def _append_lifecycles(store: EventStore, actors: int, starts: int) -> None:
    aggs = []
    for i in range(actors):
        agg = ActorLifecycle(actor=f"actor-{i}")
        for pid in range(starts):
            agg.start(actor=f"actor-{i}", node="node-1", pid=pid)
        aggs.append(agg)
    store.save_all(*aggs)


def _append_story(store: EventStore) -> None:
    worker = ActorLifecycle(actor="worker")
    worker.start(actor="worker", node="n1", pid=10)
    worker.restart(actor="worker", restarts=1, reason="oom", node="n2", pid=11)
    idle = ActorLifecycle(actor="idle")
    idle.start(actor="idle", node="n1", pid=12)
    idle.stop(actor="idle", reason="down")
    doomed = ActorLifecycle(actor="doomed")
    doomed.exhaust(actor="doomed", restarts=3)
    alert = Alert(alert_id="a-1", severity="high", source="supervisor", message="doomed died")
    store.save_all(worker, idle, doomed, alert)
    alert.acknowledge(by="ops")
    store.save_all(alert, Alert(alert_id="a-2", severity="low", source="sync", message="slow"))


def _tables(projector: Projector) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "events": projector.query("SELECT * FROM events ORDER BY position"),
        "actors": projector.query("SELECT * FROM actors ORDER BY name"),
        "alerts": projector.query("SELECT * FROM alerts ORDER BY alert_id"),
        "tracking": projector.query("SELECT * FROM tracking"),
    }


def test_catch_up_projects_runtime_read_models(tmp_path: Path) -> None:
    """Lifecycle and alert events fold into the actors and alerts tables."""
    store = _store(tmp_path)
    _append_story(store)
    with Projector(tmp_path / "p.duckdb") as projector:
        assert projector.catch_up(store, batch_size=3) == store.head()
        actors = projector.query("SELECT name, status, restarts, pid, node FROM actors ORDER BY 1")
        alerts = projector.query("SELECT alert_id, severity, acknowledged FROM alerts ORDER BY 1")
        types = projector.query("SELECT DISTINCT aggregate_type FROM events ORDER BY 1")
    assert actors == [
        ("doomed", "dead", 3, None, None),
        ("idle", "stopped", 0, 12, "n1"),
        ("worker", "running", 1, 11, "n2"),
    ]
    assert alerts == [("a-1", "high", True), ("a-2", "low", False)]
    assert types == [("ActorLifecycle",), ("Alert",)]


def test_event_columns_are_filled(tmp_path: Path) -> None:
    """Each event row carries its type, topic, version, timestamp and body."""
    store = _store(tmp_path)
    _append_story(store)
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(store)
        row = projector.query(
            "SELECT type, topic, aggregate_version, ts IS NOT NULL, body->>'reason' "
            "FROM events WHERE type = 'ActorLifecycle.Restarted'"
        )
    assert row == [
        ("ActorLifecycle.Restarted", "events.runtime:ActorLifecycle.Restarted", 3, True, "oom")
    ]


def test_catch_up_twice_is_idempotent(tmp_path: Path) -> None:
    """A second catch-up with nothing new applies nothing and changes no row."""
    store = _store(tmp_path)
    _append_lifecycles(store, actors=5, starts=20)
    with Projector(tmp_path / "p.duckdb") as projector:
        assert projector.catch_up(store, batch_size=30) == 105
        before = _tables(projector)
        assert projector.catch_up(store, batch_size=30) == 0
        assert _tables(projector) == before
        assert projector.position == store.head()


def test_reopened_projector_resumes_from_tracking(tmp_path: Path) -> None:
    """A new projector on the same file continues after the committed position."""
    store = _store(tmp_path)
    _append_lifecycles(store, actors=2, starts=9)
    with Projector(tmp_path / "p.duckdb") as first:
        first.catch_up(store)
    _append_lifecycles(store, actors=1, starts=4)
    with Projector(tmp_path / "p.duckdb") as second:
        assert second.position == 20
        assert second.catch_up(store) == 5
        assert second.query("SELECT count(*) FROM events") == [(25,)]


def test_kill_mid_batch_then_resume_has_no_gaps_or_duplicates(tmp_path: Path) -> None:
    """SIGKILL after a batch is written but before it commits loses nothing on resume."""
    store = _store(tmp_path)
    _append_lifecycles(store, actors=4, starts=49)
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from events.store import EventStore, StoreConfig
        from projections.projector import Projector
        home = Path({str(tmp_path)!r})
        store = EventStore(StoreConfig(backend="sqlite", sqlite_path=home / "events.db"))
        projector = Projector(home / "p.duckdb")
        batches = []
        def hook():
            batches.append(1)
            if len(batches) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        projector.catch_up(store, batch_size=50, before_commit=hook)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, check=False, timeout=120)
    assert done.returncode == -9
    with Projector(tmp_path / "p.duckdb") as projector:
        assert projector.position == 100
        projector.catch_up(store, batch_size=50)
        counts = projector.query("SELECT count(*), count(DISTINCT position) FROM events")
        actors = projector.query("SELECT count(*), max(pid) FROM actors")
    assert counts == [(200, 200)]
    assert actors == [(4, 48)]


def test_rebuild_equals_incremental(tmp_path: Path) -> None:
    """Replaying the log into a new file gives exactly the incrementally built tables."""
    store = _store(tmp_path)
    _append_story(store)
    _append_lifecycles(store, actors=3, starts=7)
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(store, batch_size=4)
        incremental = _tables(projector)
        assert projector.rebuild(store, batch_size=1000) == store.head()
        assert _tables(projector) == incremental
    assert sorted(p.name for p in tmp_path.glob("p*")) == ["p.duckdb"]


def test_rebuild_in_memory_equals_incremental(tmp_path: Path) -> None:
    """An in-memory projector rebuilds to the same tables too."""
    store = _store(tmp_path)
    _append_story(store)
    projector = Projector(":memory:")
    projector.catch_up(store, batch_size=2)
    incremental = _tables(projector)
    projector.rebuild(store)
    assert _tables(projector) == incremental


def test_as_of_holds_exactly_the_first_p_events(tmp_path: Path) -> None:
    """as_of(P) replays up to and including position P, no further."""
    store = _store(tmp_path)
    _append_story(store)
    with Projector(tmp_path / "p.duckdb") as projector:
        past = projector.as_of(store, 4)
    assert past.position == 4
    assert past.query("SELECT count(*), max(position) FROM events") == [(4, 4)]
    assert past.query("SELECT name, status, restarts FROM actors ORDER BY name") == [
        ("idle", "registered", 0),
        ("worker", "running", 1),
    ]


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    """A ghp_ token and an api_key value are masked in rows and absent from the file bytes."""
    store = _store(tmp_path)
    store.save_all(Vault(api_key=CANARY_KEY, note=f"token is {CANARY_TOKEN}"))
    store.save_all(Alert(alert_id="x", severity="high", source="s", message=CANARY_TOKEN))
    path = tmp_path / "p.duckdb"
    with Projector(path) as projector:
        projector.catch_up(store)
        bodies = projector.query("SELECT body::VARCHAR FROM events ORDER BY position")
        message = projector.query("SELECT message FROM alerts")
        projector.query("CHECKPOINT")
    assert message == [("***",)]
    assert '"api_key":"***"' in bodies[0][0]
    data = path.read_bytes()
    assert CANARY_KEY.encode() not in data
    assert CANARY_TOKEN.encode() not in data
    assert all(CANARY_TOKEN not in b[0] and CANARY_KEY not in b[0] for b in bodies)


def test_encrypted_store_is_decoded_and_redacted(tmp_path: Path) -> None:
    """With a cipher the slow path decrypts via the store and still redacts."""
    from eventsourcing.cryptography import AESCipher

    store = _store(tmp_path, cipher_key=AESCipher.create_key(32))
    _append_story(store)
    store.save_all(Alert(alert_id="x", severity="high", source="s", message=CANARY_TOKEN))
    with Projector(":memory:") as projector:
        projector.catch_up(store)
        assert projector.query("SELECT count(*) FROM events") == [(store.head(),)]
        assert projector.query("SELECT message FROM alerts WHERE alert_id = 'x'") == [("***",)]


class _Counting(ReadModel):
    name = "counting"
    topics = ("events.runtime:Alert.",)
    SCHEMA = ("CREATE TABLE IF NOT EXISTS seen (position BIGINT)",)

    def apply_batch(self, con: Any, rows: list[ProjectedEvent]) -> None:
        con.execute("INSERT INTO seen SELECT unnest(?)", [[r.position for r in rows]])


class _Exploding(_Counting):
    name = "exploding"

    def apply_batch(self, con: Any, rows: list[ProjectedEvent]) -> None:
        con.execute("INSERT INTO no_such_table VALUES (1)")


def test_custom_read_model_sees_only_its_topics(tmp_path: Path) -> None:
    """A plug-in read model receives only the events whose topics it asked for."""
    store = _store(tmp_path)
    _append_story(store)
    with Projector(":memory:", read_models=[_Counting()]) as projector:
        projector.catch_up(store)
        seen = projector.query("SELECT count(*) FROM seen")
        alerts = projector.query("SELECT count(*) FROM events WHERE aggregate_type = 'Alert'")
    assert seen == alerts == [(3,)]


def test_failing_read_model_rolls_back_the_whole_batch(tmp_path: Path) -> None:
    """When a read model fails, neither events nor tracking move."""
    store = _store(tmp_path)
    _append_story(store)
    with Projector(":memory:", read_models=[_Exploding()]) as projector:
        with pytest.raises(ProjectionError, match="no_such_table"):
            projector.catch_up(store)
        assert projector.position == 0
        assert projector.query("SELECT count(*) FROM events") == [(0,)]


def test_duplicate_read_model_names_are_refused() -> None:
    """Two read models with one name would share rows; the projector refuses them."""
    with pytest.raises(ProjectionError, match="unique"):
        Projector(":memory:", read_models=[_Counting(), _Counting()])


def test_progress_reports_each_batch(tmp_path: Path) -> None:
    """Progress is called once per committed batch with the position and running total."""
    store = _store(tmp_path)
    _append_lifecycles(store, actors=1, starts=9)
    seen: list[tuple[int, int]] = []
    with Projector(":memory:") as projector:
        projector.catch_up(store, batch_size=4, progress=lambda p, n: seen.append((p, n)))
    assert seen == [(4, 4), (8, 8), (10, 10)]


def test_queries_keep_answering_during_rebuild(tmp_path: Path) -> None:
    """Readers on other threads see a consistent table before, during and after the swap."""
    import threading

    store = _store(tmp_path)
    _append_lifecycles(store, actors=4, starts=200)
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(store)
        done = threading.Event()
        counts: list[int] = []
        errors: list[BaseException] = []

        def reader() -> None:
            while not done.is_set() or not counts:
                try:
                    counts.append(projector.query("SELECT count(*) FROM events")[0][0])
                except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                    errors.append(exc)
                    return

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for thread in threads:
            thread.start()
        projector.rebuild(store, batch_size=100)
        done.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert set(counts) == {804}


def test_user_sql_and_exports_go_through_the_projector(tmp_path: Path) -> None:
    """run_sql applies the guard and limits; export writes a file from the live tables."""
    store = _store(tmp_path)
    _append_story(store)
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(store)
        result = projector.run_sql("SELECT name FROM actors ORDER BY name", limit=2)
        with pytest.raises(QueryRejectedError):
            projector.run_sql("DELETE FROM actors")
        exported = projector.export("actors", "parquet", tmp_path / "actors.parquet")
    assert result.rows == [("doomed",), ("idle",)]
    assert result.truncated
    assert exported.rows == 3
