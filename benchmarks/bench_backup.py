"""Backup and restore of the SQLite event log, against a plain file copy (the floor).

* backup: :func:`events.backup.backup` (one read snapshot, SQLite backup API in steps, SHA-256,
  fsync, atomic rename, manifest) of an N-event log;
* restore: :func:`events.backup.restore` (copy next to the log while hashing, open it as an
  event store, checkpoint the live log, hard-link it aside, atomic rename); the projection
  rebuild that ``synapse restore`` runs afterwards is the projections suite's rebuild figure;
* floor: ``shutil.copyfile`` of the same file, measured in the same run;
* incremental: the events appended after the full backup, as a chained segment.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

from benchmarks._harness import Figure, repeat, save
from events.backup import backup, restore
from events.runtime import Alert
from events.store import EventStore, StoreConfig


def fill(db: Path, n: int, per_save: int = 10_000) -> int:
    """Append ``n`` events (alerts raised + acknowledged) to the log at ``db``; return its head."""
    store = EventStore(StoreConfig(sqlite_path=db))
    done = 0
    while done < n:
        aggs = []
        for i in range(min(per_save, n - done) // 2):
            alert = Alert._create(
                Alert.Raised,
                id=uuid4(),
                command_id=f"c{done}-{i}",
                alert_id=f"{done}-{i}",
                severity="info",
                source="bench",
                message="backup benchmark",
            )
            alert.acknowledge(by="bench")
            aggs.append(alert)
        store.save_all(*aggs)
        done += 2 * len(aggs)
    head = store.head()
    store.close()
    return head


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(quick: bool = False) -> list[Figure]:
    runs = 3
    n = 100_000 if quick else 1_000_000
    n_new = 10_000
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        live = root / "home" / "events.sqlite"
        fill(live, n)
        size_mb = live.stat().st_size / 1e6
        out = root / "backups" / "events.sqlite"
        target = root / "restored" / "events.sqlite"
        copy = root / "copy" / "events.sqlite"
        copy.parent.mkdir()

        def one_restore() -> float:
            seconds = _timed(lambda: restore(out, target))
            for kept in target.parent.glob("*.before-restore-*"):
                kept.unlink()
            return seconds

        backup_runs = repeat(lambda: _timed(lambda: backup(live, out)), runs)
        copy_runs = repeat(lambda: _timed(lambda: shutil.copyfile(live, copy)), runs)
        restore_runs = repeat(one_restore, runs)
        fill(live, n_new, per_save=n_new)
        segment = out.with_name("since.sqlite")
        incremental_runs = repeat(lambda: _timed(lambda: backup(live, segment, since=out)), runs)
    note = f"{n:,} events, {size_mb:,.0f} MB file"
    figures = [
        Figure(
            f"backup, {n:,} events (online snapshot + SHA-256 + fsync)",
            "s",
            backup_runs,
            floor_name="shutil.copyfile",
            floor_runs=copy_runs,
            higher_is_better=False,
            note=note,
        ),
        Figure(
            f"restore, {n:,} events (verify + open + swap, no rebuild)",
            "s",
            restore_runs,
            floor_name="shutil.copyfile",
            floor_runs=copy_runs,
            higher_is_better=False,
            note=note,
        ),
        Figure(
            f"incremental backup, {n_new:,} new events on {n:,}",
            "s",
            incremental_runs,
            higher_is_better=False,
            note="includes re-hashing the full parent backup, which dominates",
        ),
    ]
    save("backup", figures)
    return figures


if __name__ == "__main__":
    main()
