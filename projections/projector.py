"""The projector: follows the event log into one DuckDB file, exactly once per event.

Per page of notifications, in ONE DuckDB transaction: the raw events go into ``events``
(``position`` primary key), every registered read model folds its share, and the ``tracking``
row moves by compare-and-set. A crash anywhere before commit rolls all three back, so the next
:meth:`Projector.catch_up` re-reads the same page (at-least-once delivery, exactly-once effect;
``reference/eventstore.md`` §3.2).

DuckDB lets one process write a file and refuses concurrent calls on one connection, so all
reads go through :meth:`Projector.cursor` (a fresh cursor per call) and a readers-writer gate
lets :meth:`Projector.rebuild` swap the file only when no query is running.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from adapters.files import replace_durably
from events.errors import ProjectionError
from projections._batch import BatchBuilder, EventSource
from projections._rwlock import ReadersWriterGate
from projections.actor_status import ActorsReadModel
from projections.agents import AgentsReadModel
from projections.alerts import AlertsReadModel
from projections.exports import ExportFormat, ExportResult, export
from projections.read_model import ReadModel
from projections.sql_guard import QueryResult, run_query
from projections.sync_models import SyncReadModel
from projections.tasks import TasksReadModel
from projections.workflows import WorkflowsReadModel

__all__ = ["MEMORY", "Progress", "Projector", "default_read_models"]

MEMORY = ":memory:"
#: ``progress(position, applied_so_far)`` after each committed batch.
Progress = Callable[[int, int], None]

_EVENTS_DDL = """
    CREATE TABLE IF NOT EXISTS events (
        position BIGINT PRIMARY KEY,
        ts TIMESTAMP,
        aggregate_id VARCHAR NOT NULL,
        aggregate_version BIGINT NOT NULL,
        aggregate_type VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        topic VARCHAR NOT NULL,
        command_id VARCHAR,
        body JSON
    )
"""
_TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS tracking (name VARCHAR PRIMARY KEY, position BIGINT NOT NULL)"
)
_INSERT_EVENTS = """
    INSERT OR IGNORE INTO events
    SELECT position,
        TRY_CAST(json_extract_string(body, '$.timestamp') AS TIMESTAMP),
        aggregate_id, aggregate_version, aggregate_type, type, topic,
        json_extract_string(body, '$.command_id'),
        CAST(body AS JSON)
    FROM _events_batch
"""


def default_read_models() -> list[ReadModel]:
    """Return fresh instances of the built-in read models.

    ``actors``, ``alerts``, the gateway's ``agents``, ``tasks`` (+ ``attempts``) and
    ``workflows`` (+ ``steps``), and sync's ``clients``, ``entities``, ``sync_log``,
    ``conflicts`` and ``losses``.
    """
    return [
        ActorsReadModel(),
        AlertsReadModel(),
        AgentsReadModel(),
        TasksReadModel(),
        WorkflowsReadModel(),
        SyncReadModel(),
    ]


class _PositionMoved(Exception):
    """The tracking row changed under us (another projector on the same file)."""


class Projector:
    """Owns one DuckDB file (or ``":memory:"``) and keeps it in step with the event log.

    Args:
        path: the DuckDB file, or ``":memory:"``.
        read_models: the read models to maintain; ``None`` means :func:`default_read_models`.
        name: the tracking row's name (one per upstream log).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        read_models: Sequence[ReadModel] | None = None,
        name: str = "synapse",
    ) -> None:
        self.path: Path | None = None if str(path) == MEMORY else Path(path)
        self.name = name
        self.read_models: tuple[ReadModel, ...] = tuple(
            default_read_models() if read_models is None else read_models
        )
        names = [m.name for m in self.read_models]
        if len(set(names)) != len(names):
            msg = f"read model names must be unique, got {names}"
            raise ProjectionError(msg)
        self._builder = BatchBuilder(self.read_models)
        self._write_lock = threading.RLock()
        self._gate = ReadersWriterGate()
        self._con = self._open(self.path)
        self._position = self._load_position()

    # -- lifecycle ------------------------------------------------------------------------

    def _open(self, path: Path | None) -> duckdb.DuckDBPyConnection:
        target = MEMORY if path is None else str(path)
        try:
            # Python replacement scans would let SQL read any variable in scope.
            con = duckdb.connect(target, config={"python_enable_replacements": False})
        except duckdb.Error as exc:
            msg = f"cannot open projection {target}: {exc}"
            raise ProjectionError(msg) from exc
        if path is not None:
            # DuckDB creates its file with the umask's mode (often 0644); a projection holds
            # the whole history, so it is private like the log.
            with contextlib.suppress(OSError):
                path.chmod(0o600)
        con.execute(_EVENTS_DDL)
        con.execute(_TRACKING_DDL)
        for model in self.read_models:
            model.create(con)
        con.execute("INSERT OR IGNORE INTO tracking VALUES (?, 0)", [self.name])
        return con

    def _load_position(self) -> int:
        rows = self._con.execute(
            "SELECT position FROM tracking WHERE name = ?", [self.name]
        ).fetchall()
        return int(rows[0][0])

    def close(self) -> None:
        """Checkpoint and close the file (idempotent)."""
        with self._write_lock, self._gate.exclusive(), contextlib.suppress(duckdb.Error):
            self._con.close()

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def position(self) -> int:
        """The log position of the newest event applied (0 before any)."""
        return self._position

    # -- following the log ----------------------------------------------------------------

    def catch_up(
        self,
        store: EventSource,
        *,
        batch_size: int = 10_000,
        stop: int | None = None,
        progress: Progress | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> int:
        """Apply every event after :attr:`position` (up to ``stop``); return how many.

        Args:
            store: the event store to read.
            batch_size: events per page and per DuckDB transaction.
            stop: last position to apply (inclusive); ``None`` means the head.
            progress: called after each committed batch.
            before_commit: fault-injection hook for tests, called after a batch is written
                and before it commits.

        Raises:
            ProjectionError: an event could not be decoded or written; the batch rolled back.
        """
        applied = 0
        with self._write_lock:
            while stop is None or self._position < stop:
                start = self._position
                read = getattr(store, "read_raw", None) or store.read
                notes = read(start, batch_size, stop=stop)
                if not notes:
                    break
                batch = self._builder.build(store, notes)
                try:
                    self._commit_batch(start, batch, before_commit)
                except _PositionMoved:
                    self._position = self._load_position()
                    continue
                self._position = batch.last_position
                applied += len(notes)
                if progress is not None:
                    progress(self._position, applied)
        return applied

    def _commit_batch(
        self, start: int, batch: Any, before_commit: Callable[[], None] | None
    ) -> None:
        con = self._con
        con.begin()
        try:
            con.register("_events_batch", batch.table)
            try:
                con.execute(_INSERT_EVENTS)
            finally:
                con.unregister("_events_batch")
            for model in self.read_models:
                rows = batch.rows_for.get(model.name)
                if rows:
                    model.apply_batch(con, rows)
            moved = con.execute(
                "UPDATE tracking SET position = ? WHERE name = ? AND position = ? "
                "RETURNING position",
                [batch.last_position, self.name, start],
            ).fetchall()
            if not moved:
                raise _PositionMoved
            if before_commit is not None:
                before_commit()
            con.commit()
        except _PositionMoved:
            con.rollback()
            raise
        except duckdb.Error as exc:
            con.rollback()
            msg = f"projection batch after position {start} failed: {exc}"
            raise ProjectionError(msg) from exc
        except BaseException:
            con.rollback()
            raise

    # -- reading --------------------------------------------------------------------------

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a fresh cursor on the live file; it is closed when the block ends."""
        with self._gate.shared():
            cur = self._con.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run trusted SQL (ours, not a user's) and return all rows."""
        with self.cursor() as cur:
            return cur.execute(sql, params).fetchall()

    def run_sql(self, sql: str, *, limit: int = 1000, timeout_s: float = 10.0) -> QueryResult:
        """Run a user's read-only SQL through the guard (row and time limited).

        Raises:
            QueryRejectedError: the guard refused it, it failed, or it ran out of time.
        """
        with self.cursor() as cur:
            return run_query(cur, sql, limit=limit, timeout_s=timeout_s)

    def export(self, source: str, fmt: ExportFormat, dest: Path) -> ExportResult:
        """Export a table or a read-only query to ``dest`` (see :mod:`projections.exports`)."""
        with self.cursor() as cur:
            return export(cur, source, fmt, dest)

    # -- rebuild and time travel ----------------------------------------------------------

    def rebuild(
        self, store: EventSource, *, batch_size: int = 10_000, progress: Progress | None = None
    ) -> int:
        """Replay the whole log into a new file, then swap it in (blue/green).

        Queries keep answering from the old file until the swap; the swap waits for running
        queries, closes the old file, ``os.replace``-s the new one over it and reopens.

        Returns:
            The number of events replayed.
        """
        if self.path is None:
            fresh = Projector(MEMORY, read_models=self.read_models, name=self.name)
            applied = fresh.catch_up(store, batch_size=batch_size, progress=progress)
            with self._write_lock, self._gate.exclusive():
                self._con.close()
                self._con, self._position = fresh._con, fresh._position
            return applied
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.stem}.rebuild-{stamp}-{os.getpid()}.duckdb")
        try:
            with Projector(target, read_models=self.read_models, name=self.name) as fresh:
                applied = fresh.catch_up(store, batch_size=batch_size, progress=progress)
            with self._write_lock, self._gate.exclusive():
                self._con.close()
                replace_durably(target, self.path, sync_source=True)
                self._con = self._open(self.path)
                self._position = self._load_position()
        finally:
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
        return applied

    def as_of(self, store: EventSource, position: int) -> Projector:
        """Return an in-memory projector holding the state as of log ``position``."""
        past = Projector(MEMORY, read_models=self.read_models, name=self.name)
        past.catch_up(store, stop=position)
        return past
