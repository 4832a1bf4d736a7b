"""Every writer's rename is followed by an fsync of the folder it renamed into.

The writers live in several packages (client files, pre-images, exports, ``sync.toml``) but
share one helper, :func:`adapters.files.replace_durably`; these tests check the system calls
themselves, recorded at the ``os`` boundary, so a writer that bypasses the helper fails.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import pytest
from pydantic import BaseModel

from actors._sync_write import PreimageStore
from actors.agents._ledger import FileExecuteLedger
from adapters.files import atomic_write, sha256_hex
from events.store import EventStore, StoreConfig
from projections.exports import export
from projections.projector import Projector
from synapse.settings import SYNC_FILE, Settings, load_sync_settings


class Syscalls:
    """Renames, links and fsyncs, in the order the process made them (real calls, recorded)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[tuple[str, str]] = []
        fsync, replace, rename, link = os.fsync, os.replace, os.rename, os.link

        def recorded_fsync(fd: int) -> None:
            kind = "fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"
            self.log.append((kind, os.readlink(f"/proc/self/fd/{fd}")))
            fsync(fd)

        def moved(call: object, kind: str) -> object:
            def wrapper(src: object, dst: object, *args: object, **kw: object) -> None:
                call(src, dst, *args, **kw)  # type: ignore[operator]
                self.log.append((kind, os.path.realpath(dst)))  # type: ignore[call-overload]

            return wrapper

        monkeypatch.setattr(os, "fsync", recorded_fsync)
        monkeypatch.setattr(os, "replace", moved(replace, "rename"))
        monkeypatch.setattr(os, "rename", moved(rename, "rename"))
        monkeypatch.setattr(os, "link", moved(link, "rename"))

    def renamed_then_dir_synced(self, target: Path) -> bool:
        """``target`` was put in place, and its folder fsynced after the last such rename."""
        real = os.path.realpath(target)
        moves = [i for i, entry in enumerate(self.log) if entry == ("rename", real)]
        return bool(moves) and ("fsync-dir", os.path.dirname(real)) in self.log[moves[-1] + 1 :]


def test_client_file_writes_fsync_the_folder_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating and replacing a client file each end with the folder's fsync."""
    calls = Syscalls(monkeypatch)
    created = tmp_path / "new.json"
    atomic_write(created, b"{}", expected_sha256=None, allowed_roots=[tmp_path])
    replaced = tmp_path / "old.json"
    replaced.write_bytes(b"old")
    atomic_write(replaced, b"new", expected_sha256=sha256_hex(b"old"), allowed_roots=[tmp_path])
    assert calls.renamed_then_dir_synced(created)
    assert calls.renamed_then_dir_synced(replaced)


def test_pre_images_fsync_their_folder_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored pre-image is renamed into place and its folder fsynced."""
    store = PreimageStore(tmp_path / "preimages")
    calls = Syscalls(monkeypatch)
    ref = store.put(b"the previous bytes")
    assert calls.renamed_then_dir_synced(store.directory / ref)


def test_exports_fsync_the_file_then_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export's file (written by DuckDB, which does not fsync it) is fsynced before the
    rename and its folder after."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    dest = tmp_path / "out.csv"
    calls = Syscalls(monkeypatch)
    export(con, "t", "csv", dest)
    con.close()
    assert calls.renamed_then_dir_synced(dest)
    synced_files = [p for kind, p in calls.log if kind == "fsync-file"]
    assert synced_files, "the exported data is fsynced before it is renamed into place"
    assert dest.read_text().splitlines() == ["x", "1"]


def test_the_sync_toml_template_is_written_durably_and_never_over_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first start writes ``sync.toml`` through a temp, renamed in, folder fsynced; a file
    already there is never replaced."""
    calls = Syscalls(monkeypatch)
    load_sync_settings(Settings(home=tmp_path), {})
    path = tmp_path / SYNC_FILE
    assert calls.renamed_then_dir_synced(path)
    path.write_text('mode = "apply"\n')
    load_sync_settings(Settings(home=tmp_path), {})
    assert path.read_text() == 'mode = "apply"\n'
    assert [p.name for p in tmp_path.iterdir()] == [SYNC_FILE], "no temp file left behind"


def test_the_execute_ledger_records_an_outcome_durably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An execute outcome (what keeps a finished command from running twice) is renamed into
    place and its folder fsynced."""
    ledger = FileExecuteLedger(tmp_path / "ledger", Outcome)
    assert ledger.claim("k")
    calls = Syscalls(monkeypatch)
    ledger.record("k", Outcome(code=0))
    (outcome,) = [p for p in (tmp_path / "ledger").iterdir() if p.name.endswith("outcome")]
    assert calls.renamed_then_dir_synced(outcome)
    assert ledger.lookup("k") == Outcome(code=0)


def test_a_projection_rebuild_swaps_its_file_in_durably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuilt DuckDB file is fsynced, renamed over the old one, and the folder fsynced."""
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))
    with Projector(tmp_path / "p.duckdb") as projector:
        calls = Syscalls(monkeypatch)
        projector.rebuild(store)
        assert calls.renamed_then_dir_synced(tmp_path / "p.duckdb")
        assert [kind for kind, _ in calls.log].count("fsync-file") >= 1


class Outcome(BaseModel):
    """A minimal execute outcome."""

    code: int
