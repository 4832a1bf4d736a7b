"""Projection throughput, rebuild, export and append-to-visible latency.

Floors measured in the same run: DuckDB's Arrow insert alone (same rows, no decode, no
read models) for the projector; DuckDB's ``COPY … TO parquet`` alone for the export.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import duckdb
import pyarrow as pa

from benchmarks._harness import Figure, repeat, save
from events.runtime import ActorLifecycle
from events.store import EventStore, StoreConfig
from projections.exports import export
from projections.projector import Projector


def _fill(store: EventStore, n: int, actors: int = 1000) -> None:
    """Append ``n`` lifecycle events spread over ``actors`` aggregates, 10k per save."""
    aggs = [
        ActorLifecycle._create(
            ActorLifecycle.Registered, id=uuid4(), command_id=f"r{i}", actor=f"a{i}"
        )
        for i in range(actors)
    ]
    store.save_all(*aggs)
    done = actors
    while done < n:
        batch = min(10_000, n - done)
        for i in range(batch):
            agg = aggs[(done + i) % actors]
            if i % 3:
                agg.start(actor=agg.actor, node="n1", pid=done + i)
            else:
                agg.restart(actor=agg.actor, restarts=1, reason="bench", node="n1", pid=i)
        store.save_all(*aggs)
        done += batch


def _floor_rows(store: EventStore) -> pa.Table:
    notes = store.read(0, 10_000_000)
    return pa.table(
        {
            "position": [n.id for n in notes],
            "aggregate_id": [str(n.originator_id) for n in notes],
            "aggregate_version": [n.originator_version for n in notes],
            "topic": [n.topic for n in notes],
            "body": [n.state.decode() for n in notes],
        }
    )


def projector_rate(store: EventStore, n: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        projector = Projector(Path(d) / "p.duckdb")
        t0 = time.perf_counter()
        projector.catch_up(store)
        dt = time.perf_counter() - t0
        projector.close()
        return n / dt


def arrow_floor(table: pa.Table) -> float:
    with tempfile.TemporaryDirectory() as d:
        con = duckdb.connect(str(Path(d) / "f.duckdb"))
        con.execute(
            "CREATE TABLE events (position BIGINT PRIMARY KEY, aggregate_id VARCHAR, "
            "aggregate_version BIGINT, topic VARCHAR, body JSON)"
        )
        t0 = time.perf_counter()
        for batch in table.to_batches(10_000):
            chunk = pa.Table.from_batches([batch])  # noqa: F841 - read by DuckDB by name
            con.execute("INSERT INTO events SELECT * FROM chunk")
        dt = time.perf_counter() - t0
        con.close()
        return table.num_rows / dt


def rebuild_seconds(store: EventStore, path: Path) -> float:
    projector = Projector(path)
    projector.catch_up(store)
    t0 = time.perf_counter()
    projector.rebuild(store)
    dt = time.perf_counter() - t0
    projector.close()
    return dt


def export_seconds(path: Path, dest: Path) -> float:
    projector = Projector(path)
    t0 = time.perf_counter()
    with projector.cursor() as cur:
        export(cur, "events", "parquet", dest)
    dt = time.perf_counter() - t0
    projector.close()
    return dt


def copy_floor_seconds(path: Path, dest: Path) -> float:
    con = duckdb.connect(str(path), read_only=True)
    t0 = time.perf_counter()
    con.execute(f"COPY events TO '{dest}' (FORMAT parquet, COMPRESSION zstd)")
    dt = time.perf_counter() - t0
    con.close()
    return dt


def visible_latency_ms(samples: int) -> list[float]:
    """Append one event, then time until it is visible to SQL through the projector actor."""
    from actors import supervision
    from actors.projector_service import ProjectorService

    with tempfile.TemporaryDirectory() as d:
        config = StoreConfig(sqlite_path=Path(d) / "e.sqlite")
        store = EventStore(config)
        supervision.connect(None, namespace="bench", num_cpus=2)
        try:
            actor = supervision.spawn(
                ProjectorService,
                supervision.REBUILDS_FROM_LOG,
                name="bench-projector",
                namespace="bench",
                args=(config, Path(d) / "p.duckdb"),
                kwargs={"poll_interval_s": 1.0},
                max_concurrency=16,
            )
            supervision.get(actor.ping.remote(), timeout=120)
            store.add_listener(lambda head: actor.hint.remote(head))
            lat = []
            agg = ActorLifecycle._create(
                ActorLifecycle.Registered, id=uuid4(), command_id="r", actor="lat"
            )
            store.save_all(agg)
            for i in range(samples):
                agg.start(actor="lat", node="n", pid=i)
                t0 = time.perf_counter()
                head = store.save_all(agg)
                sql = f"SELECT count(*) FROM events WHERE position = {head}"
                while supervision.get(actor.query.remote(sql)).rows[0][0] == 0:
                    pass
                lat.append((time.perf_counter() - t0) * 1000)
            return lat
        finally:
            supervision.shutdown()
            store.close()


def main(quick: bool = False) -> list[Figure]:
    runs = 3 if quick else 5
    n = 100_000 if quick else 300_000
    n_big = 200_000 if quick else 1_000_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as d:
        store = EventStore(StoreConfig(sqlite_path=Path(d) / "e.sqlite"))
        _fill(store, n)
        table = _floor_rows(store)
        figures.append(
            Figure(
                f"projector catch-up, {n:,} events (decode, redact, events + actors)",
                "events/s",
                repeat(lambda: projector_rate(store, n), runs),
                target=">= 50,000",
                floor_name="DuckDB Arrow insert alone",
                floor_runs=repeat(lambda: arrow_floor(table), runs),
            )
        )
        store.close()
    with tempfile.TemporaryDirectory() as d:
        store = EventStore(StoreConfig(sqlite_path=Path(d) / "e.sqlite"))
        _fill(store, n_big)
        path = Path(d) / "p.duckdb"
        figures.append(
            Figure(
                f"rebuild of {n_big:,} events into a new file + swap",
                "s",
                repeat(lambda: rebuild_seconds(store, path), 3 if not quick else 1),
                target="<= 30 (1M)",
                higher_is_better=False,
            )
        )
        dest = Path(d) / "out.parquet"
        figures.append(
            Figure(
                f"export of {n_big:,} rows to Parquet",
                "s",
                repeat(lambda: export_seconds(path, dest), runs),
                target="<= 2 (1M)",
                floor_name="DuckDB COPY alone",
                floor_runs=repeat(lambda: copy_floor_seconds(path, dest), runs),
                higher_is_better=False,
            )
        )
        store.close()
    lat = visible_latency_ms(50 if quick else 200)
    cuts = statistics.quantiles(lat, n=100)
    figures.append(
        Figure(
            "append-to-visible-in-SQL p50 (Ray actor, push hint)",
            "ms",
            [statistics.median(lat)],
            target="<= 50",
            higher_is_better=False,
            note=f"p95 {cuts[94]:.1f} ms, p99 {cuts[98]:.1f} ms over {len(lat)}",
        )
    )
    save("projections", figures)
    return figures


if __name__ == "__main__":
    main()
