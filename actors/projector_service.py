"""The projector actor's logic: follow the log into DuckDB, answer queries and exports.

One instance owns the DuckDB file (DuckDB allows one writer process). A background thread
catches up from the tracked position whenever a push hint arrives (``hint``, sent by writers
after each append) and, as a safety net, on a slow poll. Because the position is committed in
the same DuckDB transaction as the rows, a killed projector resumes where its last batch
committed: nothing lost, nothing doubled. Ray restarts it by re-running this constructor.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from actors.audit_exporter import AuditPolicy, AuditSchedule, export_once
from actors.lifecycle import acknowledge_alert, raise_alert
from events.errors import ProjectionError, StoreUnavailableError, SynapseError, UserInputError
from events.store import EventStore, StoreConfig
from projections.exports import ExportResult, export
from projections.metrics_figures import read_figures
from projections.projector import Projector
from projections.read_model import ReadModel
from projections.s3_target import S3Config, S3Target, export_to_s3
from projections.sql_guard import QueryResult, run_query

__all__ = ["ProjectorService"]


#: A catch-up that applied this many events saw appends outpacing it: gather before the next.
BUSY_BATCH = 2
#: Under a steady stream of appends the follower spends at most 1 / (1 + DUTY_GAP) of its
#: time catching up: after a busy catch-up that took T it gathers for at least DUTY_GAP × T.
DUTY_GAP = 3.0


class ProjectorService:
    """Follow the event log into the DuckDB read models.

    Args:
        store_config: where the event log lives.
        duckdb_path: the DuckDB file this service owns.
        read_models: read models to maintain (besides the ``events`` table).
        poll_interval_s: safety-net poll period when no hint arrives.
        min_interval_s: after a busy catch-up — one that applied :data:`BUSY_BATCH` or more
            events, or after which a hint already announced more — wait this long, or
            :data:`DUTY_GAP` times as long as the catch-up took if that is longer, before
            the next one. Each catch-up has a fixed DuckDB cost (20-30 ms of CPU on a small
            machine: scratch tables, one statement set per read model, a commit), so under a
            steady stream of appends (the gateway writes several events per request) fewer,
            bigger batches cost far less CPU and leave the cores to the request path; a lone
            append is still projected at once, and a reader waiting for its own write
            (:meth:`wait_for`) cuts the wait short.
        row_limit: default cap on SQL result rows.
        sql_timeout_s: cap on one SQL query's run time.
    """

    def __init__(
        self,
        store_config: StoreConfig,
        duckdb_path: Path,
        read_models: Sequence[ReadModel] | None = None,
        *,
        poll_interval_s: float = 1.0,
        min_interval_s: float = 0.1,
        row_limit: int = 10_000,
        sql_timeout_s: float = 10.0,
        audit: AuditPolicy | None = None,
    ) -> None:
        self._store = EventStore(store_config)
        self._path = Path(duckdb_path)
        self._read_models = list(read_models) if read_models is not None else None
        self._projector = self._open(self._path)
        self._poll = poll_interval_s
        self._min_interval = min_interval_s
        self._row_limit = row_limit
        self._sql_timeout = sql_timeout_s
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._hinted = 0  # the highest head a hint announced
        #: How many catch-ups were followed by a gathering wait.
        self.gathers = 0
        self._urgent = threading.Event()
        self._stop = threading.Event()
        self._caught_up = threading.Condition()
        self._last_error: str | None = None
        self._rebuild_progress: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._follow, name="projector", daemon=True)
        self._thread.start()
        self._audit = audit
        self._audit_lock = threading.Lock()  # one audit export at a time, scheduled or asked
        self._schedule: AuditSchedule | None = None
        if audit is not None and audit.interval_s > 0:
            self._schedule = AuditSchedule(
                lambda: self.audit_export(), audit.interval_s, self._audit_failed
            )
            self._schedule.start()

    def _open(self, path: Path) -> Projector:
        if self._read_models is None:
            return Projector(path)
        return Projector(path, read_models=self._read_models)

    # -- following ----------------------------------------------------------------------

    def hint(self, head: int = 0) -> None:
        """A writer appended up to ``head``: catch up now instead of at the next poll."""
        self._hinted = max(self._hinted, head)
        self._wake.set()

    def catch_up(self) -> int:
        """Project everything appended so far; return the number of events applied."""
        with self._lock:
            applied = int(self._projector.catch_up(self._store))
        with self._caught_up:
            self._caught_up.notify_all()
        return applied

    def _follow(self) -> None:
        while not self._stop.is_set():
            applied = 0
            started = time.monotonic()
            try:
                applied = self.catch_up()
                self._last_error = None
            except (SynapseError, OSError) as exc:
                self._last_error = str(exc)
            took = time.monotonic() - started
            busy = applied >= BUSY_BATCH or (applied > 0 and self._hinted > self.position())
            if busy and self._min_interval > 0:
                with self._caught_up:
                    self.gathers += 1
                    self._caught_up.notify_all()
                # Let appends gather into one batch; a reader waiting for its write (or
                # close) cuts the wait short.
                self._urgent.wait(max(self._min_interval, DUTY_GAP * took))
                self._urgent.clear()
            self._wake.wait(self._poll)
            self._wake.clear()

    def wait_for(self, position: int, timeout_s: float = 10.0) -> bool:
        """Block until the projections include ``position`` (read-your-writes)."""
        deadline = time.monotonic() + timeout_s
        self._urgent.set()
        self._wake.set()
        with self._caught_up:
            while self.position() < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._caught_up.wait(min(remaining, 0.5))
                self._urgent.set()
                self._wake.set()
        return True

    def wait_gathered(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block until the follower has begun ``count`` gathering waits in all."""
        with self._caught_up:
            return self._caught_up.wait_for(lambda: self.gathers >= count, timeout_s)

    def position(self) -> int:
        """Return the last log position committed into DuckDB."""
        return int(self._projector.position)

    # -- reading ------------------------------------------------------------------------

    def query(self, sql: str, limit: int | None = None) -> QueryResult:
        """Run a read-only query (guarded; row and time limits)."""
        with self._projector.cursor() as cur:
            return run_query(
                cur,
                sql,
                limit=min(limit or self._row_limit, self._row_limit),
                timeout_s=self._sql_timeout,
            )

    def events_page(
        self,
        *,
        type_pattern: str | None = None,
        aggregate: str | None = None,
        since: str | None = None,
        until: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Return projected events after ``after`` matching the filters, oldest first.

        ``type_pattern`` matches the event type (``Alert.Raised``) or full topic, by prefix
        when it ends in ``*`` and as a glob when it holds ``?`` or ``[``.
        """
        where: list[str] = ["position > ?"]
        params: list[object] = [after]
        if type_pattern:
            if type_pattern.endswith("*") and not any(c in type_pattern[:-1] for c in "*?["):
                where.append("(starts_with(type, ?) OR starts_with(topic, ?))")
                params += [type_pattern[:-1], type_pattern[:-1]]
            elif any(c in type_pattern for c in "*?["):
                where.append("(glob(type, ?) OR glob(topic, ?))")
                params += [type_pattern, type_pattern]
            else:
                where.append("(type = ? OR topic = ?)")
                params += [type_pattern, type_pattern]
        if aggregate:
            where.append("aggregate_id = ?")
            params.append(aggregate)
        if since:
            where.append("ts >= CAST(? AS TIMESTAMP)")
            params.append(since)
        if until:
            where.append("ts <= CAST(? AS TIMESTAMP)")
            params.append(until)
        sql = (
            "SELECT position, ts, aggregate_id, aggregate_type, type, body FROM events "
            f"WHERE {' AND '.join(where)} ORDER BY position LIMIT ?"
        )
        params.append(max(1, min(limit, 10_001)))
        rows = self._projector.query(sql, params)
        return [
            {
                "position": r[0],
                "ts": r[1].isoformat() if r[1] is not None else None,
                "aggregate_id": r[2],
                "aggregate_type": r[3],
                "type": r[4],
                "body": orjson.loads(r[5]) if isinstance(r[5], str) else (r[5] or {}),
            }
            for r in rows
        ]

    def export(self, source: str, fmt: str, dest: str) -> ExportResult:
        """Export a table or read query to ``dest`` in ``fmt``."""
        with self._projector.cursor() as cur:
            return export(cur, source, fmt, Path(dest))  # type: ignore[arg-type]

    # -- audit export -------------------------------------------------------------------

    def audit_export(
        self, target: str | None = None, tables: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Run the audit export now (see :func:`actors.audit_exporter.export_once`).

        Args:
            target: where to (default: the configured policy's target).
            tables: which tables (default: the policy's, else ``events``).

        Returns:
            The run: ``run_id``, ``head``, ``objects`` and ``manifest_url``.

        Raises:
            UserInputError: no target given and none configured, or an unknown table.
            ProjectionError: the storage refused or failed (nothing recorded).
        """
        policy = self._audit or AuditPolicy(target="")
        chosen = AuditPolicy(
            target=target or policy.target,
            tables=tuple(tables) if tables else policy.tables,
            fmt=policy.fmt,
        )
        if not chosen.target:
            msg = "no audit export target: give one, or set SYNAPSE_AUDIT_TARGET"
            raise UserInputError(msg, hint="e.g. s3://bucket/synapse-audit or a folder")
        with self._audit_lock, self._lock:  # the file is not swapped by a rebuild meanwhile
            self.catch_up()
            run = export_once(self._store, self._projector, chosen, self._path.parent / "exports")
        return dataclasses.asdict(run)

    def export_s3(self, source: str, fmt: str, url: str) -> dict[str, Any]:
        """Export a table or read query to ``url`` (``s3://bucket/key``); credentials come from
        this process's AWS environment (see :func:`projections.s3_target.export_to_s3`)."""
        target = S3Target.parse(url)
        config = S3Config.from_environ(os.environ)
        work = self._path.parent / "exports"
        work.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._projector.cursor() as cur:
            done = export_to_s3(cur, source, fmt, target, config, work)  # type: ignore[arg-type]
        return dataclasses.asdict(done)

    def acknowledge_alert(self, alert_id: str, by: str) -> bool:
        """See :func:`actors.lifecycle.acknowledge_alert` (then catch the read models up)."""
        found = acknowledge_alert(self._store, alert_id, by)
        if found:
            self.catch_up()
        return found

    def _audit_failed(self, message: str) -> None:
        raise_alert(
            self._store,
            alert_id=f"audit-export:{uuid.uuid4().hex}",
            severity="error",
            source="audit-export",
            message=message,
        )

    def metrics_figures(self) -> dict[str, Any]:
        """See :func:`projections.metrics_figures.read_figures`."""
        with self._projector.cursor() as cur:
            return read_figures(cur)

    def status(self) -> dict[str, Any]:
        """Return position, log head, lag and the last follow error."""
        try:
            head = self._store.head()
            store_ok = True
        except StoreUnavailableError as exc:
            head, store_ok = -1, False
            self._last_error = str(exc)
        position = self.position()
        return {
            "position": position,
            "head": head,
            "lag": max(0, head - position) if head >= 0 else None,
            "store_ok": store_ok,
            "last_error": self._last_error,
            "rebuild": self._rebuild_progress,
        }

    # -- rebuilding ---------------------------------------------------------------------

    def rebuild(self) -> int:
        """Replay the whole log into a new file, then swap it in; return its position."""

        head = self._store.head()

        def progress(position: int, _applied: int) -> None:
            self._rebuild_progress = (position, head)

        try:
            with self._lock:
                self._projector.rebuild(self._store, progress=progress)
            return self.position()
        except SynapseError:
            raise
        except Exception as exc:
            msg = f"rebuild failed: {exc}"
            raise ProjectionError(msg) from exc
        finally:
            self._rebuild_progress = None

    def rebuild_progress(self) -> tuple[int, int] | None:
        """Return (done, total) while a rebuild runs, else None."""
        return self._rebuild_progress

    def close(self) -> None:
        """Stop following (and the audit schedule) and close the DuckDB file."""
        if self._schedule is not None:
            self._schedule.stop()
        self._stop.set()
        self._urgent.set()
        self._wake.set()
        self._thread.join(timeout=5)
        with self._lock:
            self._projector.close()
        self._store.close_quietly()
