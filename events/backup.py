"""Online backup and verified restore of the SQLite event log.

:func:`backup` copies the live log while writers keep appending. It holds one read
transaction on the source for the whole copy, so the copy is one consistent snapshot (WAL
lets writers go on meanwhile) and the manifest's head and count come from that same
snapshot. The copy goes into a hidden temporary file in the target folder and is fsynced
before ``os.replace`` puts it in place, so a crash or ``kill -9`` mid-way leaves the
previous backup as it was. A JSON manifest beside it records the head, the event count, the
SHA-256 of the file and whether the bodies are encrypted. With ``since=`` it writes only the
events after a previous backup's head, as a segment chained to it (``events._backup_chain``).

:func:`restore` copies a backup next to the live log, checks the copy's SHA-256 against the
manifest (a segment: every link of its chain, applied onto the full backup), opens it as an
event store (a wrong or missing cipher key fails there), refuses to go back in time over a
newer log unless forced, keeps the old log as ``<name>.before-restore-<ts>`` and swaps the
copy in with one rename. The projections are
derived data; rebuilding them is the caller's job (``projections`` sits above ``events``).

The cipher key is never part of a backup: the log holds the encrypted bodies only, and the
key stays in ``$SYNAPSE_HOME/cipher.key``. An encrypted backup needs that key to restore.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from events._backup_chain import apply_segment, attach_segment, resolve_chain, write_segment
from events._backup_files import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_SUFFIX,
    BackupError,
    Manifest,
    connect,
    event_at,
    hash_and_sync,
    head_and_count,
    is_ciphered,
    manifest_path,
    replace_durably,
    sha256_of,
    write_atomically,
)
from events._store_config import StoreConfig
from events.errors import StoreError
from events.store import EventStore

__all__ = [
    "MANIFEST_SUFFIX",
    "BackupError",
    "Manifest",
    "RestoreResult",
    "backup",
    "log_head",
    "manifest_path",
    "restore",
]

#: Pages copied per backup step (4 KiB pages: 4 MiB per step).
STEP_PAGES = 1024
#: ``progress(pages_done, pages_total)`` after each backup step.
BackupProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore` did.

    Attributes:
        head: the log head after the restore (the backup's head).
        previous_head: the head of the log that was replaced (0 when there was none).
        kept: where the replaced log was kept (None when there was none).
    """

    head: int
    previous_head: int
    kept: Path | None


def backup(
    db_path: Path,
    out_path: Path,
    *,
    since: Path | None = None,
    progress: BackupProgress | None = None,
) -> Manifest:
    """Take a consistent online backup of the SQLite log at ``db_path`` into ``out_path``.

    Writers may keep appending meanwhile; the backup holds the log as of the moment the copy
    started. ``out_path`` and its manifest are replaced only once the copy is complete and
    on disk.

    Args:
        db_path: the live event store file.
        out_path: the backup file to write (its folder is created, 0700).
        since: a previous backup (full or incremental) in ``out_path``'s folder: write only
            the events after its head, as a segment chained to it.
        progress: called after each step of a full copy (also a test seam for interruptions).

    Returns:
        The manifest, also written to :func:`manifest_path` of ``out_path``.

    Raises:
        BackupError: there is no event store at ``db_path``, the copy failed, or ``since`` is
            damaged, elsewhere, or from another log.
    """
    if not db_path.is_file():
        msg = f"no event store at {db_path}"
        raise BackupError(msg, hint="check SYNAPSE_HOME")
    parent = None if since is None else _parent_of(since, out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(
        dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".partial"
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        created_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        src = connect(db_path)
        try:
            if parent is not None:
                attach_segment(src, tmp)  # SQLite attaches only outside a transaction
            # One read transaction for the whole copy: every step reads the same snapshot,
            # and other connections' commits neither restart the copy nor leak into it.
            src.execute("BEGIN")
            head, count = head_and_count(src)
            ciphered = is_ciphered(src)
            head_event = event_at(src, head)
            if parent is None:
                _copy_pages(src, tmp, progress)
            else:
                _check_continues(src, parent, head)
                count = write_segment(src, parent.head)
            src.execute("COMMIT")
        finally:
            src.close()
        sha256, size = hash_and_sync(tmp)
        manifest = Manifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            created_at=created_at,
            head=head,
            events=count,
            sha256=sha256,
            size_bytes=size,
            ciphered=ciphered,
            source=db_path.name,
            head_event=head_event,
            kind="full" if parent is None else "incremental",
            base_head=0 if parent is None else parent.head,
            parent=None if since is None else since.name,
            parent_sha256=None if parent is None else parent.sha256,
        )
        replace_durably(tmp, out_path)
    except (sqlite3.Error, OSError) as exc:
        msg = f"backup of {db_path.name} failed: {exc}"
        raise BackupError(msg, hint="check free disk space in the backup folder") from exc
    finally:
        for leftover in ("", "-journal"):
            tmp.with_name(tmp.name + leftover).unlink(missing_ok=True)
    write_atomically(manifest_path(out_path), manifest.to_json())
    return manifest


def _copy_pages(src: sqlite3.Connection, tmp: Path, progress: BackupProgress | None) -> None:
    dst = sqlite3.connect(tmp)
    try:
        src.backup(
            dst,
            pages=STEP_PAGES,
            progress=None
            if progress is None
            else lambda _status, remaining, total: progress(total - remaining, total),
        )
    finally:
        dst.close()


def _parent_of(since: Path, out_path: Path) -> Manifest:
    """Read and verify the previous backup an incremental one will follow."""
    if since.parent.resolve() != out_path.parent.resolve():
        msg = f"an incremental backup goes in the folder of {since.name}"
        raise BackupError(msg, hint=f"write it into {since.parent}")
    parent = Manifest.read(manifest_path(since))
    try:
        intact = since.is_file() and sha256_of(since) == parent.sha256
    except OSError:
        intact = False
    if not intact:
        msg = f"the previous backup {since.name} is missing or damaged"
        raise BackupError(msg, hint="take a full backup (without --since-last)")
    return parent


def _check_continues(src: sqlite3.Connection, parent: Manifest, head: int) -> None:
    """The live log must still hold the parent's head event: the same log, moved on."""
    if head < parent.head or (parent.head and event_at(src, parent.head) != parent.head_event):
        msg = "the log is not the one the previous backup was taken from"
        raise BackupError(msg, hint="take a full backup (without --since-last)")


def log_head(db_path: Path) -> int:
    """Return the head position of the SQLite log at ``db_path`` (0 when absent or empty)."""
    if not db_path.is_file():
        return 0
    con = connect(db_path)
    try:
        return head_and_count(con)[0]
    finally:
        con.close()


def _copy_verified(backup_path: Path, manifest: Manifest, staged: Path) -> None:
    """Copy the backup to ``staged`` and check the copy's own bytes against the manifest."""
    digest = hashlib.sha256()
    with backup_path.open("rb") as src, staged.open("wb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if digest.hexdigest() != manifest.sha256:
        msg = f"{backup_path.name} does not match its manifest (SHA-256 differs): refused"
        raise BackupError(msg, hint="the backup is damaged or was altered; use another one")


def _stage_chain(backup_path: Path, manifest: Manifest, staged: Path) -> int:
    """Build the log in ``staged`` from the full backup and its segments; return the count."""
    chain = resolve_chain(backup_path, manifest)
    full_path, full = chain[0]
    _copy_verified(full_path, full, staged)
    events = full.events
    for path, segment in chain[1:]:
        copy = staged.with_name(staged.name + ".segment")
        try:
            _copy_verified(path, segment, copy)
            apply_segment(staged, copy, segment)
        finally:
            for leftover in ("", "-journal"):
                copy.with_name(copy.name + leftover).unlink(missing_ok=True)
        events += segment.events
    return events


def _check_opens(staged: Path, manifest: Manifest, cipher_key: str | None, events: int) -> None:
    """Open the staged log as an event store (durability, cipher key); check head and count."""
    if manifest.ciphered and not cipher_key:
        msg = "this backup's events are encrypted and no cipher key was given: refused"
        raise BackupError(msg, hint="set SYNAPSE_ENCRYPT=1 with the source home's cipher.key")
    store = EventStore(StoreConfig(sqlite_path=staged, cipher_key=cipher_key))
    try:
        head = store.head()
    finally:
        store.close()
    con = connect(staged)
    try:
        count = head_and_count(con)[1]
    finally:
        con.close()
    if (head, count) != (manifest.head, events):
        msg = (
            f"the restored log ends at {head} with {count} events; the manifests say"
            f" {manifest.head} and {events}: refused"
        )
        raise BackupError(msg)


def _quiesce(db_path: Path) -> int:
    """Checkpoint the live log into its main file and return its head.

    Raises:
        BackupError: another process still has the log open (its WAL outlived our close).
    """
    con = connect(db_path)
    try:
        head = head_and_count(con)[0]
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    if db_path.with_name(db_path.name + "-wal").exists():
        msg = f"{db_path.name} is open in another process: refused"
        raise BackupError(msg, hint="stop Synapse first (`synapse down`)")
    return head


def _kept_name(db_path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    kept = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
    n = 1
    while kept.exists():
        kept = db_path.with_name(f"{db_path.name}.before-restore-{stamp}-{n}")
        n += 1
    return kept


def restore(
    backup_path: Path,
    db_path: Path,
    *,
    force: bool = False,
    cipher_key: str | None = None,
) -> RestoreResult:
    """Replace the log at ``db_path`` with a verified backup; keep the old log beside it.

    Nothing is changed unless every check passes. The backup file itself is only read.

    Args:
        backup_path: the backup file (its manifest sits beside it).
        db_path: the event store file to replace (created when absent).
        force: restore even over a log whose head is newer than the backup's.
        cipher_key: the key the log's bodies are encrypted with (None: not encrypted).

    Returns:
        The new and previous heads and where the previous log was kept.

    Raises:
        BackupError: the manifest is missing or does not match, the key is missing or wrong,
            the live log is newer (without ``force``) or open in another process.
    """
    manifest = Manifest.read(manifest_path(backup_path))
    if not backup_path.is_file():
        msg = f"no backup file {backup_path}"
        raise BackupError(msg)
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, staged_name = tempfile.mkstemp(
        dir=db_path.parent, prefix=f".{db_path.name}.", suffix=".restoring"
    )
    os.close(fd)
    staged = Path(staged_name)
    try:
        events = _stage_chain(backup_path, manifest, staged)
        try:
            _check_opens(staged, manifest, cipher_key, events)
        except BackupError:
            raise
        except StoreError as exc:
            msg = f"the backup does not open as an event store: {exc.message}"
            raise BackupError(msg, hint=exc.hint) from exc
        previous = _quiesce(db_path) if db_path.exists() else 0
        if previous > manifest.head and not force:
            msg = (
                f"the log's head ({previous}) is newer than the backup's ({manifest.head}): refused"
            )
            raise BackupError(msg, hint="pass --force to go back anyway (the log is kept)")
        kept = None
        if db_path.exists():
            kept = _kept_name(db_path)
            # A hard link keeps the old log under its new name while the live name still
            # points at it: a crash before the swap below leaves both, never neither.
            os.link(db_path, kept)
        replace_durably(staged, db_path)
    except (sqlite3.Error, OSError) as exc:
        msg = f"restore of {backup_path.name} failed: {exc}"
        raise BackupError(msg, hint="check free disk space beside the event store") from exc
    finally:
        for leftover in ("", "-wal", "-shm"):
            staged.with_name(staged.name + leftover).unlink(missing_ok=True)
    return RestoreResult(head=manifest.head, previous_head=previous, kept=kept)
