"""Incremental backups: the events after a position, as a small SQLite segment file.

A segment holds one table, ``segment_events``, keyed by log position. Its manifest names its
parent backup (a full one or another segment, in the same folder) with the parent's SHA-256
and head, so a restore walks the chain back to a full backup and refuses a chain whose links
do not match.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from events._backup_files import BackupError, Manifest, connect, head_and_count, manifest_path

__all__ = ["apply_segment", "attach_segment", "resolve_chain", "write_segment"]

_SEGMENT_DDL = """
    CREATE TABLE seg.segment_events (
        position INTEGER PRIMARY KEY,
        originator_id TEXT NOT NULL,
        originator_version INTEGER NOT NULL,
        topic TEXT NOT NULL,
        state BLOB
    )
"""


def attach_segment(src: sqlite3.Connection, segment: Path) -> None:
    """Attach a new, empty segment file to ``src`` as ``seg`` (before any transaction)."""
    src.execute("ATTACH DATABASE ? AS seg", [str(segment)])
    src.execute(_SEGMENT_DDL)


def write_segment(src: sqlite3.Connection, after: int) -> int:
    """Copy the events after ``after`` into the attached segment; return how many.

    Runs inside the caller's read transaction on the log, so the segment and the head the
    caller read come from one snapshot.
    """
    cur = src.execute(
        "INSERT INTO seg.segment_events "
        "SELECT rowid, originator_id, originator_version, topic, state "
        "FROM main.stored_events WHERE rowid > ? ORDER BY rowid",
        [after],
    )
    return int(cur.rowcount)


def resolve_chain(backup_path: Path, manifest: Manifest) -> list[tuple[Path, Manifest]]:
    """Return the backups to apply for ``backup_path``, full backup first.

    Raises:
        BackupError: a parent is missing, or its hash or head does not match the link.
    """
    chain = [(backup_path, manifest)]
    while chain[-1][1].kind == "incremental":
        path, child = chain[-1]
        name = child.parent or ""
        if not name or Path(name).name != name:
            msg = f"{path.name} names no usable parent backup: refused"
            raise BackupError(msg)
        parent_path = path.with_name(name)
        if any(p == parent_path for p, _ in chain):
            msg = f"the backup chain of {backup_path.name} loops: refused"
            raise BackupError(msg)
        parent = Manifest.read(manifest_path(parent_path))
        if parent.sha256 != child.parent_sha256 or parent.head != child.base_head:
            msg = f"{path.name} does not follow {name} (hash or head differs): refused"
            raise BackupError(msg, hint="restore from a full backup")
        chain.append((parent_path, parent))
    if chain[-1][1].kind != "full":
        msg = f"{chain[-1][0].name} is a {chain[-1][1].kind!r} backup; expected full or incremental"
        raise BackupError(msg)
    return chain[::-1]


def apply_segment(staged: Path, segment: Path, manifest: Manifest) -> None:
    """Append a verified segment's events to the staged log, at their own positions.

    Raises:
        BackupError: the segment's positions do not continue the staged log up to the
            manifest's head, or its count differs from the manifest.
    """
    con = connect(staged)
    try:
        con.execute("ATTACH DATABASE ? AS seg", [f"file:{quote(str(segment))}?mode=ro"])
        lo, hi, count = con.execute(
            "SELECT min(position), max(position), count(*) FROM seg.segment_events"
        ).fetchone()
        con.execute("BEGIN IMMEDIATE")
        head = head_and_count(con)[0]
        fits = count == manifest.events and head == manifest.base_head
        if count:
            fits = fits and lo > manifest.base_head and hi == manifest.head
        if not fits:
            con.execute("ROLLBACK")
            msg = f"a segment does not continue the log at position {head}: refused"
            raise BackupError(msg)
        con.execute(
            "INSERT INTO main.stored_events "
            "(rowid, originator_id, originator_version, topic, state) "
            "SELECT position, originator_id, originator_version, topic, state "
            "FROM seg.segment_events ORDER BY position"
        )
        con.execute("COMMIT")
        con.execute("DETACH DATABASE seg")
    finally:
        con.close()
