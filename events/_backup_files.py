"""Files of a backup: the manifest, hashing, durable renames, SQLite connections."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from events.errors import BackupError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_SUFFIX",
    "BackupError",
    "Manifest",
    "connect",
    "event_at",
    "hash_and_sync",
    "head_and_count",
    "is_ciphered",
    "manifest_path",
    "replace_durably",
    "sha256_of",
    "write_atomically",
]

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "synapse-event-log-backup"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """What a backup file holds, written beside it as ``<file>.manifest.json``.

    Attributes:
        format: always ``"synapse-event-log-backup"``.
        format_version: the manifest layout version.
        created_at: UTC time of the snapshot, ISO 8601.
        head: the newest log position (notification id) in the backup.
        events: how many events the backup holds.
        sha256: hex SHA-256 of the backup file.
        size_bytes: size of the backup file.
        ciphered: the event bodies are encrypted; restoring needs the source's cipher key.
        source: file name of the log that was backed up.
        head_event: ``originator_id:version`` of the event at ``head`` (ties an incremental
            backup to the very log its parent came from).
        kind: ``"full"`` (a whole log) or ``"incremental"`` (the events after ``base_head``).
        base_head: for an incremental backup, its parent's head (0 for a full one).
        parent: for an incremental backup, the file name of its parent, in the same folder.
        parent_sha256: the parent file's SHA-256, so a chain cannot be re-linked silently.
    """

    format: str
    format_version: int
    created_at: str
    head: int
    events: int
    sha256: str
    size_bytes: int
    ciphered: bool
    source: str
    head_event: str = ""
    kind: str = "full"
    base_head: int = 0
    parent: str | None = None
    parent_sha256: str | None = None

    def to_json(self) -> str:
        """Return the manifest as indented JSON."""
        data = asdict(self) | {"key_needed": self.ciphered}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Load a manifest file.

        Raises:
            BackupError: the file is missing, not JSON, or not a Synapse backup manifest.
        """
        try:
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT:
                msg = f"{path.name} is not a Synapse backup manifest"
                raise BackupError(msg)
            if int(data["format_version"]) > FORMAT_VERSION:
                msg = f"{path.name} has format version {data['format_version']}; too new"
                raise BackupError(msg, hint="restore with a newer Synapse")
            return cls(
                format=str(data["format"]),
                format_version=int(data["format_version"]),
                created_at=str(data["created_at"]),
                head=int(data["head"]),
                events=int(data["events"]),
                sha256=str(data["sha256"]),
                size_bytes=int(data["size_bytes"]),
                ciphered=bool(data["ciphered"]),
                source=str(data["source"]),
                head_event=str(data.get("head_event", "")),
                kind=str(data.get("kind", "full")),
                base_head=int(data.get("base_head", 0)),
                parent=None if data.get("parent") is None else str(data["parent"]),
                parent_sha256=(
                    None if data.get("parent_sha256") is None else str(data["parent_sha256"])
                ),
            )
        except FileNotFoundError as exc:
            msg = f"no manifest {path.name} beside the backup"
            raise BackupError(msg, hint="a backup is the .sqlite file plus its manifest") from exc
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            msg = f"manifest {path.name} is unreadable: {exc}"
            raise BackupError(msg) from exc


def manifest_path(backup_path: Path) -> Path:
    """Return the manifest file that belongs to ``backup_path``."""
    return backup_path.with_name(backup_path.name + MANIFEST_SUFFIX)


def connect(path: Path) -> sqlite3.Connection:
    """Open an existing SQLite file read-write without ever creating it."""
    uri = f"file:{quote(str(path))}?mode=rw"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10)


def head_and_count(con: sqlite3.Connection) -> tuple[int, int]:
    """Return the newest position and the event count (0, 0 for a file with no log yet)."""
    try:
        row = con.execute("SELECT max(rowid), count(*) FROM stored_events").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0, 0
        raise
    return int(row[0] or 0), int(row[1])


def is_ciphered(con: sqlite3.Connection) -> bool:
    """Plain bodies are JSON objects; anything else is the AES-GCM cipher's output."""
    try:
        rows = con.execute(
            "SELECT state FROM stored_events WHERE rowid IN "
            "((SELECT min(rowid) FROM stored_events), (SELECT max(rowid) FROM stored_events))"
        ).fetchall()
    except sqlite3.OperationalError:
        return False
    for (state,) in rows:
        try:
            if not isinstance(json.loads(bytes(state)), dict):
                return True
        except ValueError:
            return True
    return False


def hash_and_sync(path: Path) -> tuple[str, int]:
    """Return the SHA-256 and size of ``path`` and fsync it (one pass over the file)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(fh.fileno())
    return digest.hexdigest(), size


def replace_durably(source: Path, target: Path) -> None:
    """Rename ``source`` over ``target`` and fsync the folder, so the rename survives a crash."""
    os.replace(source, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to a fsynced temporary file beside ``target``, then rename it over."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        replace_durably(Path(tmp), target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def event_at(con: sqlite3.Connection, position: int) -> str:
    """Return ``originator_id:version`` of the event at ``position`` ("" when none)."""
    try:
        row = con.execute(
            "SELECT originator_id, originator_version FROM stored_events WHERE rowid = ?",
            [position],
        ).fetchone()
    except sqlite3.OperationalError:
        return ""
    return "" if row is None else f"{row[0]}:{row[1]}"


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
