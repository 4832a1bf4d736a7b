"""One run of the scheduled audit export: what is new since the last run, to a folder or S3.

A table with a ``position`` column (``events``, the log itself) is exported incrementally:
the rows after the position the previous run reached, up to the projector's position now. A
derived table without one (``sync_log``, ``conflicts``, …) is exported whole, as a snapshot,
when the log has moved since its last export. A run's own record (an ``AuditExport`` event)
does not count as movement, so an idle system writes nothing. Each object is written through
the same export code as ``synapse export`` (temp file, fsync, rename; S3 through a staging
key), named ``<table>/<table>-<from+1>-<to>.<ext>`` under the target, and described in a
manifest (rows, positions, SHA-256) written last as ``manifests/<run id>.json``. The caller
records the manifest as an :class:`events.audit_export.AuditExport.Exported` event only after
all of it landed, so a failed run is retried whole by the next one and nothing is reported
done early.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from adapters.files import replace_durably, write_durably
from events.errors import UserInputError
from projections.exports import ExportFormat, export
from projections.s3_target import S3Config, S3Target, is_s3_url, upload_file, upload_stream

__all__ = ["AuditRun", "run_audit_export"]

_EXT = {"csv": "csv", "ndjson": "ndjson", "parquet": "parquet"}
_TABLE = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class AuditRun:
    """What one run wrote: its id, the position it reflects, one record per object."""

    run_id: str
    head: int
    objects: list[dict[str, Any]]
    manifest_url: str


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The table's column names (the table must exist and be named plainly)."""
    if not _TABLE.fullmatch(table):
        msg = f"not a table name: {table!r}"
        raise UserInputError(msg, hint="audit tables are read-model names, e.g. events,sync_log")
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
        [table],
    ).fetchall()
    if not rows:
        msg = f"no table {table!r} to audit-export"
        raise UserInputError(
            msg, hint="`synapse export --help` lists the tables (GET /api/v1/exports)"
        )
    return {str(r[0]) for r in rows}


def _moved(cur: duckdb.DuckDBPyConnection, start: int, head: int) -> bool:
    """Whether events other than the audit export's own arrived in ``(start, head]``.

    The record of a run is itself an event; without this, every run would find the previous
    run's record new and write a tiny export of it forever. Such records are exported with
    the next run that has something else to export.
    """
    found = cur.execute(
        "SELECT EXISTS (SELECT 1 FROM events WHERE position > ? AND position <= ? "
        "AND aggregate_type <> 'AuditExport')",
        [start, head],
    ).fetchone()
    return bool(found and found[0])


class _Target:
    """A folder or an ``s3://bucket/prefix`` that objects are published to."""

    def __init__(self, target: str, s3: S3Config | None) -> None:
        self.text = target.rstrip("/")
        self.s3 = s3
        if is_s3_url(self.text):
            bucket, _, prefix = self.text[len("s3://") :].partition("/")
            self.bucket, self.prefix = bucket, prefix.strip("/")
            self.folder: Path | None = None
        else:
            self.folder = Path(self.text).expanduser()

    def _key(self, name: str) -> S3Target:
        return S3Target(self.bucket, f"{self.prefix}/{name}" if self.prefix else name)

    def url(self, name: str) -> str:
        if self.folder is not None:
            return str(self.folder / name)
        return f"s3://{self.bucket}/{self.prefix + '/' if self.prefix else ''}{name}"

    def publish(self, local: Path, name: str, fmt: ExportFormat) -> tuple[int, str]:
        """Put a finished local file at ``name``; return its bytes and SHA-256."""
        if self.folder is None:
            upload = upload_file(local, self._key(name), self.s3 or S3Config(), fmt)
            return upload.bytes, upload.sha256
        dest = self.folder / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with local.open("rb") as f:  # streamed: an export may be far larger than memory
            sha = hashlib.file_digest(f, "sha256").hexdigest()
        staged = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.partial"
        try:
            shutil.copyfile(local, staged)
            replace_durably(staged, dest, sync_source=True)
        finally:
            staged.unlink(missing_ok=True)
        return local.stat().st_size, sha

    def publish_bytes(self, data: bytes, name: str) -> None:
        """Write a small object (the manifest) at ``name``."""
        if self.folder is not None:
            dest = self.folder / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            write_durably(dest, data)
            return
        config = self.s3 or S3Config()
        upload_stream(io.BytesIO(data), self._key(name), config, content_type="application/json")


def run_audit_export(
    cur: duckdb.DuckDBPyConnection,
    *,
    target: str,
    tables: Sequence[str],
    since: Mapping[str, int],
    head: int,
    fmt: ExportFormat = "parquet",
    s3: S3Config | None = None,
    workdir: Path,
) -> AuditRun:
    """Export what is new in ``tables`` since ``since`` up to ``head`` to ``target``.

    Args:
        cur: a cursor on the projections (their content reflects log position ``head``).
        target: a folder, or ``s3://bucket/prefix``.
        tables: read-model tables to export.
        since: per table, the position the last run reached (missing: 0, everything).
        head: the projector's position now.
        fmt: the objects' format.
        s3: how to reach S3 (for an ``s3://`` target).
        workdir: where the local files are written before they are published (removed after).

    Returns:
        The run; ``objects`` is empty when nothing was new (no manifest is written then).

    Raises:
        UserInputError: a table does not exist.
        ProjectionError: the storage refused or failed (nothing is reported exported).
        OSError: a local write failed.
    """
    out = _Target(target, s3)
    run_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
    objects: list[dict[str, Any]] = []
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for table in tables:
        start = int(since.get(table, 0))
        if not _moved(cur, start, head):
            continue
        incremental = "position" in _columns(cur, table)
        # Both bounds are ints and the table name was checked against the catalog.
        rows = f"position > {start} AND position <= {head}"
        query = f'SELECT * FROM "{table}" WHERE {rows} ORDER BY position' if incremental else table
        local = workdir / f".audit-{uuid.uuid4().hex}.{_EXT[fmt]}"
        try:
            result = export(cur, query, fmt, local)
            if incremental and result.rows == 0:
                continue
            name = f"{table}/{table}-{start + 1:012d}-{head:012d}.{_EXT[fmt]}"
            size, sha = out.publish(local, name, fmt)
        finally:
            local.unlink(missing_ok=True)
        objects.append(
            {
                "table": table,
                "mode": "incremental" if incremental else "snapshot",
                "from_position": start,
                "to_position": head,
                "rows": result.rows,
                "url": out.url(name),
                "bytes": size,
                "sha256": sha,
            }
        )
    manifest_url = ""
    if objects:
        manifest = {"run_id": run_id, "head": head, "format": fmt, "objects": objects}
        name = f"manifests/{run_id}.json"
        out.publish_bytes(json.dumps(manifest, indent=2).encode() + b"\n", name)
        manifest_url = out.url(name)
    return AuditRun(run_id=run_id, head=head, objects=objects, manifest_url=manifest_url)
