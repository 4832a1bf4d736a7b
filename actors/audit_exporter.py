"""The scheduled audit export: one run (:func:`export_once`) or one every interval.

It runs where the DuckDB file is (the projector actor, or the CLI when Synapse is down), reads
where the previous run to the same target stopped from the :class:`~events.audit_export.AuditExport`
aggregate, exports what is new (:func:`projections.audit_export.run_audit_export`) and then
records the manifest as an event. Credentials for an ``s3://`` target come from the AWS
environment of the process that runs the export; they never travel in arguments or events.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.application import AggregateNotFoundError

from events.audit_export import AuditExport, audit_export_id
from events.errors import SynapseError
from events.store import EventStore
from projections.audit_export import AuditRun, run_audit_export
from projections.exports import ExportFormat
from projections.projector import Projector
from projections.s3_target import S3Config

__all__ = ["AuditPolicy", "AuditSchedule", "export_once", "tables_of"]


@dataclass(frozen=True)
class AuditPolicy:
    """What the scheduled audit export writes, where, and how often.

    Attributes:
        target: a folder, or ``s3://bucket/prefix``.
        tables: read-model tables; ``events`` (the log) goes incrementally by position.
        interval_s: seconds between runs (0: never scheduled; still runnable on demand).
        fmt: the objects' format.
    """

    target: str
    tables: tuple[str, ...] = ("events",)
    interval_s: float = 0.0
    fmt: ExportFormat = "parquet"


def export_once(
    store: EventStore, projector: Projector, policy: AuditPolicy, workdir: Path
) -> AuditRun:
    """Export what is new since the last run to ``policy.target`` and record its manifest.

    Raises:
        UserInputError: a table does not exist.
        ProjectionError: the storage refused or failed (nothing recorded).
        OSError: a local write failed (nothing recorded).
    """
    try:
        record: AuditExport = store.load(audit_export_id(policy.target))
    except AggregateNotFoundError:
        record = AuditExport.start(policy.target, command_id=f"audit:{policy.target}")
    with projector.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")  # one snapshot: the rows and the head agree
        try:
            found = cur.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
            head = int(found[0]) if found else 0
            run = run_audit_export(
                cur,
                target=policy.target,
                tables=policy.tables,
                since=record.positions,
                head=head,
                fmt=policy.fmt,
                s3=S3Config.from_environ(os.environ),
                workdir=workdir,
            )
        finally:
            cur.execute("ROLLBACK")
    if run.objects:
        record.record(run.run_id, run.head, run.objects, run.manifest_url)
        store.save_all(record)
    return run


class AuditSchedule:
    """Runs :func:`export_once` every ``policy.interval_s`` on a daemon thread.

    A failed run is reported to ``on_error`` and retried whole at the next interval (its
    objects, if any landed, are overwritten by the same names; nothing was recorded).
    """

    def __init__(
        self,
        run: Callable[[], object],
        interval_s: float,
        on_error: Callable[[str], None],
    ) -> None:
        self._run = run
        self._interval = interval_s
        self._on_error = on_error
        self._stop = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name="audit-export", daemon=True)

    def start(self) -> None:
        """Start the schedule (the first run comes after one interval)."""
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._run()
            except (SynapseError, OSError) as exc:
                self._on_error(f"audit export failed: {exc}")
            self.runs += 1

    def stop(self) -> None:
        """Stop after the run in progress, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


def tables_of(text: str | Sequence[str]) -> tuple[str, ...]:
    """``events,sync_log`` (or a sequence) as a tuple of table names."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    return tuple(p.strip() for p in parts if p.strip())
