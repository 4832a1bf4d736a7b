"""kill -9 during multi-event appends leaves no half batch (reliability bar F3).

A child process appends batches of several events (three aggregates, two events each) to a
real SQLite store and is killed with SIGKILL, several times, at seeded random points: half the
rounds while it waits inside the append listener right after a commit (it prints each new head
and, in that mode, waits for the parent before going on), the other half while it runs freely
into the next batch. Afterwards every batch is either wholly in the log or not at all, every
aggregate's versions are contiguous, and ``PRAGMA integrity_check`` is ``ok``.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from events.store import EventStore, StoreConfig

REPO_ROOT = Path(__file__).resolve().parents[3]
PER_BATCH = 3  # aggregates per batch; each gets two events
ROUNDS = 6
CHILD = f"""
import sys
from pathlib import Path

from events.runtime import Alert
from events.store import EventStore, StoreConfig

db, run, mode = sys.argv[1], sys.argv[2], sys.argv[3]
store = EventStore(StoreConfig(sqlite_path=Path(db)))


def committed(head: int) -> None:
    print(head, flush=True)
    if mode == "pause":
        sys.stdin.readline()


store.add_listener(committed)
batch = 0
while True:
    tag = f"{{run}}-{{batch}}"
    with store.batch():
        alerts = [
            Alert(alert_id=f"{{tag}}-{{i}}", severity="low", source="kill", message=tag)
            for i in range({PER_BATCH})
        ]
        for alert in alerts:
            alert.acknowledge(by=tag)
        store.save_all(*alerts)
    batch += 1
"""


def _kill_during_appends(db: Path, run: int, mode: str, commits: int) -> None:
    """Start a writer, let ``commits`` appends be announced, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(run), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=env,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        for seen in range(1, commits + 1):
            assert child.stdout.readline(), "the writer died before it was killed"
            if mode == "pause" and seen < commits:
                child.stdin.write(b"\n")
                child.stdin.flush()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def test_kill_minus_nine_mid_batch_leaves_only_whole_batches(tmp_path: Path) -> None:
    """After six SIGKILLs mid-append, every batch is whole and the database is intact."""
    db = tmp_path / "events.sqlite"
    rng = random.Random(1303)
    announced: dict[str, int] = {}
    for run in range(ROUNDS):
        mode = "pause" if run % 2 == 0 else "free"
        announced[str(run)] = rng.randint(1, 2 * PER_BATCH - 1)
        _kill_during_appends(db, run, mode, commits=announced[str(run)])

    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    store = EventStore(StoreConfig(sqlite_path=db))
    try:
        notes = store.read(0, 100_000)
        bodies = [store.decode_body(n) for n in notes]
        versions: dict[object, list[int]] = {}
        for note in notes:
            versions.setdefault(note.originator_id, []).append(note.originator_version)
    finally:
        store.close_quietly()
    per_batch = Counter(str(body.get("message") or body.get("by")) for body in bodies)
    assert {tag for tag, n in per_batch.items() if n != 2 * PER_BATCH} == set()
    batches = Counter(tag.split("-")[0] for tag in per_batch)
    for writer, commits in announced.items():
        # A paused writer died right after its n-th announced commit: exactly n batches.
        # A free one had announced n and may have committed more before the signal landed.
        paused = int(writer) % 2 == 0
        assert batches[writer] == commits if paused else batches[writer] >= commits
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
