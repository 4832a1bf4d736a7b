"""Online backup and verified restore of a PostgreSQL event store, with ``pg_dump``.

The backup is consistent with its manifest: one REPEATABLE READ transaction exports its
snapshot (``pg_export_snapshot()``), reads the head position and the event count in it, and
``pg_dump --snapshot`` dumps exactly that snapshot while writers keep appending. The dump
(custom format) is written to a hidden temp file, fsynced and renamed into place, then the
manifest beside it — the same :class:`~events._backup_files.Manifest` as SQLite backups, kind
``pg_dump``. A restore checks the dump's SHA-256, refuses to go back over a newer log unless
forced, first dumps the current database beside the backup (nothing is lost), then
``pg_restore --clean --single-transaction`` and checks the restored head and count. The
password reaches the tools through ``PGPASSWORD`` in their environment, never their argv.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from events._backup_files import (
    FORMAT,
    FORMAT_VERSION,
    Manifest,
    hash_and_sync,
    manifest_path,
    replace_durably,
    sha256_of,
    write_atomically,
)
from events._store_config import PostgresConfig
from events.errors import BackupError
from events.store import EventStore

__all__ = ["PgRestoreResult", "pg_backup", "pg_restore", "pg_tool"]

KIND = "pg_dump"


@dataclass(frozen=True)
class PgRestoreResult:
    """A finished PostgreSQL restore."""

    head: int
    previous_head: int
    kept: Path


def pg_tool(name: str) -> str:
    """The path of ``pg_dump`` / ``pg_restore``: on PATH, else Debian's versioned folder.

    Raises:
        BackupError: the tool is not installed.
    """
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        msg = f"{name} is not installed"
        raise BackupError(
            msg, hint="install the PostgreSQL client tools (apt-get install postgresql-client)"
        )
    return found


def _table(pg: PostgresConfig) -> str:
    schema = pg.schema or "public"
    return f'"{schema}"."{EventStore.name.lower()}_events"'


def _connect(pg: PostgresConfig) -> Any:
    import psycopg

    return psycopg.connect(
        host=pg.host, port=pg.port, user=pg.user, password=pg.password or None, dbname=pg.dbname
    )


def _env(pg: PostgresConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if pg.password:
        env["PGPASSWORD"] = pg.password
    return env


def _conn_args(pg: PostgresConfig) -> list[str]:
    return ["-h", pg.host, "-p", str(pg.port), "-U", pg.user, "-d", pg.dbname]


def _head_and_count(cur: Any, pg: PostgresConfig) -> tuple[int, int]:
    cur.execute(f"SELECT coalesce(max(notification_id), 0), count(*) FROM {_table(pg)}")
    head, count = cur.fetchone()
    return int(head), int(count)


def _run(argv: list[str], pg: PostgresConfig, what: str) -> None:
    result = subprocess.run(
        argv, capture_output=True, text=True, env=_env(pg), check=False, timeout=3600
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        msg = f"{what} failed: {detail[0]}"
        raise BackupError(msg)


def pg_backup(pg: PostgresConfig, out_path: Path, *, ciphered: bool) -> Manifest:
    """Dump the event store's database to ``out_path`` and write its manifest.

    Raises:
        BackupError: the tools are missing, the server refused, or the dump failed (the
            previous file at ``out_path``, if any, is untouched).
    """
    out_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".partial")
    os.close(fd)
    tmp = Path(name)
    try:
        with _connect(pg) as con, con.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = str(cur.fetchone()[0])
            head, count = _head_and_count(cur, pg)
            argv = [pg_tool("pg_dump"), *_conn_args(pg), "--format=custom", "--no-owner"]
            _run([*argv, f"--snapshot={snapshot}", f"--file={tmp}"], pg, "pg_dump")
            cur.execute("COMMIT")
        sha, size = hash_and_sync(tmp)
        replace_durably(tmp, out_path)
    except BackupError:
        raise
    except Exception as exc:
        msg = f"could not back up PostgreSQL at {pg.host}:{pg.port}/{pg.dbname}: {exc}"
        raise BackupError(msg) from exc
    finally:
        tmp.unlink(missing_ok=True)
    manifest = Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        head=head,
        events=count,
        sha256=sha,
        size_bytes=size,
        ciphered=ciphered,
        source=f"postgresql://{pg.host}:{pg.port}/{pg.dbname}",
        kind=KIND,
    )
    write_atomically(manifest_path(out_path), manifest.to_json())
    return manifest


def pg_restore(backup_path: Path, pg: PostgresConfig, *, force: bool = False) -> PgRestoreResult:
    """Restore the event store's database from a :func:`pg_backup` dump.

    Raises:
        BackupError: no manifest or not a PostgreSQL dump, a hash mismatch (tampered or
            damaged), a newer log without ``force``, or a restore that did not land.
    """
    manifest = Manifest.read(manifest_path(backup_path))
    if manifest.kind != KIND:
        msg = f"{backup_path.name} is a {manifest.kind} backup of SQLite, not a PostgreSQL dump"
        raise BackupError(msg, hint="restore it with SYNAPSE_STORE=sqlite")
    if sha256_of(backup_path) != manifest.sha256:
        msg = f"{backup_path.name} does not match its manifest's SHA-256: refusing to restore it"
        raise BackupError(msg, hint="the file is damaged or was altered; use another backup")
    try:
        with _connect(pg) as con, con.cursor() as cur:
            previous, _ = _head_and_count(cur, pg)
    except Exception as exc:
        msg = f"could not read the current log at {pg.host}:{pg.port}/{pg.dbname}: {exc}"
        raise BackupError(msg) from exc
    if previous > manifest.head and not force:
        msg = f"the log (head {previous}) is newer than the backup (head {manifest.head})"
        raise BackupError(msg, hint="pass --force to go back; the current log is dumped first")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    kept = backup_path.with_name(f"{pg.dbname}.before-restore-{stamp}.dump")
    pg_backup(pg, kept, ciphered=manifest.ciphered)
    argv = [pg_tool("pg_restore"), *_conn_args(pg), "--clean", "--if-exists", "--no-owner"]
    _run([*argv, "--single-transaction", str(backup_path)], pg, "pg_restore")
    with _connect(pg) as con, con.cursor() as cur:
        head, count = _head_and_count(cur, pg)
    if (head, count) != (manifest.head, manifest.events):
        found, wanted = f"{head} / {count}", f"{manifest.head} / {manifest.events}"
        msg = f"restored head / events {found}, the manifest says {wanted}"
        raise BackupError(msg, hint=f"the previous database was dumped to {kept}")
    return PgRestoreResult(head=head, previous_head=previous, kept=kept)
