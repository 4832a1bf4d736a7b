"""Event-store append throughput: Synapse's store vs eventsourcing alone (the floor).

* one event per command: ``EventStore.execute`` (idempotent command, version check, save)
  against a bare eventsourcing ``Application.save`` of one event;
* batched: 1,000 events per save through Synapse's mapper against the bare library.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate as PlainAggregate
from eventsourcing.domain import event

from benchmarks._harness import Figure, repeat, save
from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, StoreConfig, aggregate_id


class PlainCounter(PlainAggregate):
    """A bare eventsourcing aggregate (the library floor)."""

    @event("Created")
    def __init__(self) -> None:
        self.n = 0

    @event("Bumped")
    def bump(self, by: int) -> None:
        self.n += by


def _plain_app(path: Path) -> Application:
    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )


def _alert(store: EventStore, i: int) -> None:
    alert_id = f"bench-{i}"
    agg_id = aggregate_id("alert", alert_id)
    store.execute(
        Alert,
        agg_id,
        f"ack:{alert_id}",
        lambda a: a.acknowledge(by="bench"),
        create=lambda cid: Alert._create(
            Alert.Raised,
            id=agg_id,
            command_id=cid,
            alert_id=alert_id,
            severity="info",
            source="bench",
            message="m",
        ),
    )


def single_ours(n: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        store = EventStore(StoreConfig(sqlite_path=Path(d) / "e.sqlite"))
        t0 = time.perf_counter()
        for i in range(n):
            _alert(store, i)  # two events (raised + acknowledged) in one save
        dt = time.perf_counter() - t0
        store.close()
        return 2 * n / dt


def single_floor(n: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        app = _plain_app(Path(d) / "e.sqlite")
        t0 = time.perf_counter()
        for _ in range(n):
            c = PlainCounter()
            c.bump(by=1)
            app.save(c)
        dt = time.perf_counter() - t0
        app.close()
        return 2 * n / dt


def batched_ours(n: int, batch: int = 1000) -> float:
    with tempfile.TemporaryDirectory() as d:
        store = EventStore(StoreConfig(sqlite_path=Path(d) / "e.sqlite"))
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            aggs = []
            for i in range(start, min(n, start + batch) // 2 * 2, 2):
                a = Alert._create(
                    Alert.Raised,
                    id=uuid4(),
                    command_id=f"c{i}",
                    alert_id=str(i),
                    severity="info",
                    source="bench",
                    message="m",
                )
                a.acknowledge(by="bench")
                aggs.append(a)
            store.save_all(*aggs)
        dt = time.perf_counter() - t0
        store.close()
        return n / dt


def batched_floor(n: int, batch: int = 1000) -> float:
    with tempfile.TemporaryDirectory() as d:
        app = _plain_app(Path(d) / "e.sqlite")
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            aggs = []
            for _ in range(start, min(n, start + batch) // 2 * 2, 2):
                c = PlainCounter()
                c.bump(by=1)
                aggs.append(c)
            app.save(*aggs)
        dt = time.perf_counter() - t0
        app.close()
        return n / dt


def batched_one_aggregate_ours(n: int, batch: int = 1000) -> float:
    with tempfile.TemporaryDirectory() as d:
        store = EventStore(StoreConfig(sqlite_path=Path(d) / "e.sqlite"))
        lifecycle = ActorLifecycle._create(
            ActorLifecycle.Registered, id=uuid4(), command_id="c", actor="bench"
        )
        store.save_all(lifecycle)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            for i in range(start, min(n, start + batch)):
                lifecycle.start(actor="bench", node="n", pid=i)
            store.save_all(lifecycle)
        dt = time.perf_counter() - t0
        store.close()
        return n / dt


def batched_one_aggregate_floor(n: int, batch: int = 1000) -> float:
    with tempfile.TemporaryDirectory() as d:
        app = _plain_app(Path(d) / "e.sqlite")
        c = PlainCounter()
        app.save(c)
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            for _ in range(start, min(n, start + batch)):
                c.bump(by=1)
            app.save(c)
        dt = time.perf_counter() - t0
        app.close()
        return n / dt


def main(quick: bool = False) -> list[Figure]:
    runs = 3 if quick else 5
    n_single = 500 if quick else 2000
    n_batch = 20_000 if quick else 100_000
    figures = [
        Figure(
            "append, one command per save (SQLite, fsync)",
            "events/s",
            repeat(lambda: single_ours(n_single), runs),
            target=">= 3,000",
            floor_name="eventsourcing alone",
            floor_runs=repeat(lambda: single_floor(n_single), runs),
        ),
        Figure(
            "append, batched 1,000 events per save (SQLite)",
            "events/s",
            repeat(lambda: batched_one_aggregate_ours(n_batch), runs),
            target=">= 40,000",
            floor_name="eventsourcing alone",
            floor_runs=repeat(lambda: batched_one_aggregate_floor(n_batch), runs),
        ),
        Figure(
            "append, batched 500 aggregates x 2 events per save",
            "events/s",
            repeat(lambda: batched_ours(n_batch), runs),
            floor_name="eventsourcing alone",
            floor_runs=repeat(lambda: batched_floor(n_batch), runs),
        ),
    ]
    save("store", figures)
    return figures


if __name__ == "__main__":
    main()
