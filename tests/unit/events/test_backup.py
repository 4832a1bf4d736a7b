"""Online backup and verified restore of the SQLite event log (issue #17).

Real SQLite files, real DuckDB projections, a real writer thread, a real SIGKILL.
"""

from __future__ import annotations

import base64
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from events.backup import (
    BackupError,
    Manifest,
    backup,
    log_head,
    manifest_path,
    restore,
)
from events.runtime import ActorLifecycle, Alert
from events.store import EventStore, StoreConfig
from projections.projector import Projector

REPO_ROOT = Path(__file__).resolve().parents[3]


def _append(store: EventStore, tag: str, saves: int) -> None:
    """Append ``saves`` batches: two alerts (raised + acknowledged) and one actor start."""
    for i in range(saves):
        alerts = [
            Alert(alert_id=f"{tag}-{i}-{k}", severity="low", source="bk", message=tag)
            for k in range(2)
        ]
        alerts[0].acknowledge(by=tag)
        actor = ActorLifecycle(actor=f"{tag}-{i}")
        actor.start(actor=f"{tag}-{i}", node="n1", pid=i)
        store.save_all(*alerts, actor)


def _store(path: Path, **config: Any) -> EventStore:
    return EventStore(StoreConfig(sqlite_path=path, **config))


@pytest.fixture
def live(tmp_path: Path) -> Path:
    """A closed event log with 40 saves (200 events) in ``tmp_path/home``."""
    db = tmp_path / "home" / "events.sqlite"
    store = _store(db)
    _append(store, "base", 40)
    store.close()
    return db


def _tables(projections: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a DuckDB file, rows sorted, for a row-for-row comparison."""
    con = duckdb.connect(str(projections), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY 1"
            ).fetchall()
        ]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}
    finally:
        con.close()


def test_backup_during_appends_restores_to_the_manifest_head(tmp_path: Path, live: Path) -> None:
    """A backup taken while a thread appends restores to a log that opens, replays, and ends
    exactly at the manifest's head; appends made during the copy are not in it."""
    store = _store(live)
    copying = threading.Event()
    wrote_during_copy = threading.Event()
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            _append(store, f"w{n}", 1)
            n += 1
            if copying.is_set():
                wrote_during_copy.set()

    def progress(_done: int, _total: int) -> None:
        copying.set()
        assert wrote_during_copy.wait(30), "the writer made no append during the copy"

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = backup(live, tmp_path / "bk" / "events.sqlite", progress=progress)
    finally:
        stop.set()
        thread.join(30)
    final_head = store.head()
    store.close()

    assert manifest.head >= 200
    assert manifest.head < final_head
    assert manifest.events == manifest.head
    restored = tmp_path / "restored" / "events.sqlite"
    result = restore(tmp_path / "bk" / "events.sqlite", restored)
    assert result.head == manifest.head
    assert result.kept is None
    again = _store(restored)
    try:
        assert again.head() == manifest.head
        notes = again.read(0, 1_000_000)
        assert [n.id for n in notes] == list(range(1, manifest.head + 1))
        assert all(again.decode(n) is not None for n in notes)
        with Projector(":memory:") as projector:
            assert projector.catch_up(again) == manifest.head
    finally:
        again.close()
    assert Manifest.read(manifest_path(tmp_path / "bk" / "events.sqlite")) == manifest


def test_tampered_backup_is_refused_and_the_log_untouched(tmp_path: Path, live: Path) -> None:
    """One flipped byte in a backup: restore refuses with a SHA-256 error; the live log and
    its folder are byte-for-byte as they were."""
    out = tmp_path / "bk" / "events.sqlite"
    backup(live, out)
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    before = live.read_bytes()
    listing = sorted(p.name for p in live.parent.iterdir())

    with pytest.raises(BackupError, match="SHA-256"):
        restore(out, live, force=True)

    assert live.read_bytes() == before
    assert sorted(p.name for p in live.parent.iterdir()) == listing


def test_restore_over_a_newer_log_needs_force_and_keeps_it(tmp_path: Path, live: Path) -> None:
    """A log newer than the backup is not replaced without force; with force it is, and the
    old log stays beside it under a before-restore name, intact."""
    out = tmp_path / "bk" / "events.sqlite"
    manifest = backup(live, out)
    store = _store(live)
    _append(store, "later", 3)
    newer = store.head()
    store.close()

    with pytest.raises(BackupError, match="newer"):
        restore(out, live)
    assert log_head(live) == newer
    assert not list(live.parent.glob("*.before-restore-*"))

    result = restore(out, live, force=True)
    assert (result.head, result.previous_head) == (manifest.head, newer)
    assert result.kept is not None
    assert result.kept.name.startswith("events.sqlite.before-restore-")
    assert log_head(result.kept) == newer
    assert log_head(live) == manifest.head


def test_encrypted_log_backup_holds_no_key_and_needs_one(tmp_path: Path) -> None:
    """An encrypted log's backup keeps the bodies encrypted, holds no copy of the key, says a
    key is needed, and restores only with the key."""
    key = base64.b64encode(os.urandom(32)).decode()
    db = tmp_path / "home" / "events.sqlite"
    store = _store(db, cipher_key=key)
    _append(store, "secret-tag", 5)
    store.close()
    out = tmp_path / "bk" / "events.sqlite"

    manifest = backup(db, out)

    assert manifest.ciphered
    assert '"key_needed": true' in manifest_path(out).read_text()
    for blob in (out.read_bytes(), manifest_path(out).read_bytes()):
        assert key.encode() not in blob
        assert base64.b64decode(key) not in blob
        assert b"secret-tag" not in blob
    target = tmp_path / "restored" / "events.sqlite"
    with pytest.raises(BackupError, match="encrypted"):
        restore(out, target)
    assert not target.exists()
    wrong = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(BackupError, match="does not open"):
        restore(out, target, cipher_key=wrong)
    assert not target.exists()
    assert restore(out, target, cipher_key=key).head == manifest.head


def test_restored_log_replays_to_the_same_projections(tmp_path: Path, live: Path) -> None:
    """Projections rebuilt from a restored log equal the ones built before, row for row,
    even after the live log (and its projections) had moved on."""
    projections = tmp_path / "home" / "projections.duckdb"
    store = _store(live)
    with Projector(projections) as projector:
        projector.catch_up(store)
    store.close()
    expected = _tables(projections)
    out = tmp_path / "bk" / "events.sqlite"
    backup(live, out)
    store = _store(live)
    _append(store, "after", 4)
    with Projector(projections) as projector:
        projector.catch_up(store)
    store.close()
    assert _tables(projections) != expected

    restore(out, live, force=True)
    store = _store(live)
    try:
        with Projector(projections) as projector:
            projector.rebuild(store)
    finally:
        store.close()

    assert _tables(projections) == expected


CHILD = """
import sys
from pathlib import Path

import events.backup as bk

bk.STEP_PAGES = 4  # many small steps, so the kill lands mid-copy


def hold(done: int, total: int) -> None:
    print(done, total, flush=True)
    sys.stdin.readline()  # never answered: the parent kills us here


bk.backup(Path(sys.argv[1]), Path(sys.argv[2]), progress=hold)
"""


def test_kill_9_mid_backup_leaves_the_previous_backup_intact(tmp_path: Path, live: Path) -> None:
    """SIGKILL while a backup is copying into its temporary file: the previous backup and
    its manifest are byte-identical, and still restore."""
    out = tmp_path / "bk" / "events.sqlite"
    backup(live, out)
    before = out.read_bytes()
    before_manifest = manifest_path(out).read_bytes()
    store = _store(live)
    _append(store, "more", 200)
    store.close()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(live), str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert child.stdout is not None
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready, "the backup never reached its first step"
        done, total = map(int, child.stdout.readline().split())
        partial = [p for p in out.parent.iterdir() if p.name.endswith(".partial")]
        assert len(partial) == 1
        assert 0 < done < total
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)

    assert child.returncode == -signal.SIGKILL
    assert out.read_bytes() == before
    assert manifest_path(out).read_bytes() == before_manifest
    assert restore(out, tmp_path / "restored" / "events.sqlite").head == 200


def test_restore_refuses_while_another_process_has_the_log_open(tmp_path: Path, live: Path) -> None:
    """A log some other connection still holds open (its WAL outlives our checkpoint) is not
    swapped out from under it."""
    out = tmp_path / "bk" / "events.sqlite"
    backup(live, out)
    store = _store(live)
    try:
        _append(store, "open", 1)
        with pytest.raises(BackupError, match="open in another process"):
            restore(out, live, force=True)
        assert store.head() == 205
    finally:
        store.close()


def test_missing_source_and_missing_manifest_are_clear_errors(tmp_path: Path) -> None:
    """Backing up a log that is not there, or restoring a file with no manifest, fails with
    a message naming what is missing and creates nothing."""
    with pytest.raises(BackupError, match="no event store"):
        backup(tmp_path / "nope.sqlite", tmp_path / "bk" / "x.sqlite")
    stray = tmp_path / "stray.sqlite"
    stray.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(BackupError, match="no manifest"):
        restore(stray, tmp_path / "home" / "events.sqlite")
    assert not (tmp_path / "home").exists()


def test_incremental_chain_restores_to_each_link_head(tmp_path: Path, live: Path) -> None:
    """Incremental backups hold only the events after their parent's head, chained by hash;
    restoring any link rebuilds the log up to exactly that link's head."""
    folder = tmp_path / "bk"
    full = backup(live, folder / "full.sqlite")
    store = _store(live)
    _append(store, "i1", 2)
    first = backup(live, folder / "i1.sqlite", since=folder / "full.sqlite")
    _append(store, "i2", 3)
    second = backup(live, folder / "i2.sqlite", since=folder / "i1.sqlite")
    store.close()

    assert (first.kind, first.base_head, first.head, first.events) == ("incremental", 200, 210, 10)
    assert (second.base_head, second.head, second.events) == (210, 225, 15)
    assert second.parent == "i1.sqlite"
    assert second.parent_sha256 == first.sha256
    assert (folder / "i2.sqlite").stat().st_size < (folder / "full.sqlite").stat().st_size
    assert full.kind == "full"
    for link, head in (("i1.sqlite", 210), ("i2.sqlite", 225)):
        target = tmp_path / link / "events.sqlite"
        assert restore(folder / link, target).head == head
        again = _store(target)
        try:
            notes = again.read(0, 10_000)
            assert [n.id for n in notes] == list(range(1, head + 1))
            assert all(again.decode(n) is not None for n in notes)
        finally:
            again.close()


def test_a_broken_chain_or_tampered_segment_is_refused(tmp_path: Path, live: Path) -> None:
    """A segment whose bytes changed, or whose parent was replaced by another backup, is
    refused and the target is left alone."""
    folder = tmp_path / "bk"
    backup(live, folder / "full.sqlite")
    store = _store(live)
    _append(store, "i1", 2)
    store.close()
    backup(live, folder / "i1.sqlite", since=folder / "full.sqlite")
    target = tmp_path / "restored" / "events.sqlite"

    data = bytearray((folder / "i1.sqlite").read_bytes())
    data[-100] ^= 0x01
    (folder / "i1.sqlite").write_bytes(bytes(data))
    with pytest.raises(BackupError, match="SHA-256"):
        restore(folder / "i1.sqlite", target)
    assert not target.exists()

    backup(live, folder / "i1.sqlite", since=folder / "full.sqlite")
    backup(live, folder / "full.sqlite")  # a newer full backup takes the parent's name
    with pytest.raises(BackupError, match="does not follow"):
        restore(folder / "i1.sqlite", target)
    assert not target.exists()


def test_incremental_needs_an_intact_parent_from_the_same_log(tmp_path: Path, live: Path) -> None:
    """An incremental backup refuses a damaged parent, a parent in another folder, and a
    parent taken from a different log."""
    folder = tmp_path / "bk"
    backup(live, folder / "full.sqlite")
    other = tmp_path / "other" / "events.sqlite"
    store = _store(other)
    _append(store, "other", 41)
    store.close()

    with pytest.raises(BackupError, match="not the one"):
        backup(other, folder / "i.sqlite", since=folder / "full.sqlite")
    with pytest.raises(BackupError, match="folder"):
        backup(live, tmp_path / "elsewhere" / "i.sqlite", since=folder / "full.sqlite")
    (folder / "full.sqlite").write_bytes(b"damaged")
    with pytest.raises(BackupError, match="damaged"):
        backup(live, folder / "i.sqlite", since=folder / "full.sqlite")
    assert sorted(p.name for p in folder.iterdir()) == ["full.sqlite", "full.sqlite.manifest.json"]
