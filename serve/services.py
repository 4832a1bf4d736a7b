"""The seam between the HTTP app and the rest of Synapse.

The app depends only on :class:`Services`. The composition root implements it over Ray actor
handles; tests implement it in memory. Keeping Ray behind this interface is what lets the whole
HTTP surface be tested without a cluster.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from events.errors import ActorError
from serve.schemas import (
    AuditExportRun,
    EventPage,
    EventQuery,
    EventRow,
    ExportFile,
    ExportFormat,
    ExportSource,
    HealthReport,
    QueryResult,
    S3ExportDone,
    S3ExportRequest,
)

__all__ = ["Services"]


class Services(ABC):
    """Everything the HTTP API needs from the event store, projections and actors."""

    @abstractmethod
    async def health(self) -> HealthReport:
        """Report each component (``store``, ``projector``, ``ray``) as ok, degraded or down."""

    @abstractmethod
    async def head(self) -> int:
        """Return the position of the newest event (0 when the log is empty).

        Raises:
            StoreUnavailableError: the event store cannot be read.
        """

    @abstractmethod
    async def list_events(self, q: EventQuery) -> EventPage:
        """Return events matching ``q`` in position order, at most ``q.limit``.

        Raises:
            StoreUnavailableError: the event store cannot be read.
        """

    @abstractmethod
    async def events_after(self, position: int, limit: int) -> list[EventRow]:
        """Return up to ``limit`` events with position greater than ``position``, in order.

        Raises:
            StoreUnavailableError: the event store cannot be read.
        """

    @abstractmethod
    async def sql(self, query: str, limit: int) -> QueryResult:
        """Run a read-only query against the projections.

        Raises:
            QueryRejectedError: the guard refused the query or it failed to run.
        """

    @abstractmethod
    async def export(self, source: ExportSource, fmt: ExportFormat) -> ExportFile:
        """Write a table or query result to a file in ``fmt`` and describe it.

        CSV cells starting with ``= + - @`` must already be prefixed with ``'``.

        Raises:
            QueryRejectedError: the query or table was refused.
            UserInputError: the table does not exist.
        """

    async def export_s3(self, request: S3ExportRequest) -> S3ExportDone:
        """Export a table or query to S3-compatible storage, from where the projections live.

        Raises:
            UserInputError: a bad target, table or neither/both of table and query.
            QueryRejectedError: the guard refused the query.
            ProjectionError: the storage refused or failed (nothing is at the key).
            ActorError: this deployment cannot run it.
        """
        msg = "exports to S3 are not available here"
        raise ActorError(msg)

    async def acknowledge_alert(self, alert_id: str, by: str) -> bool:
        """Record that ``by`` saw the alert (once); False when there is no such alert.

        Raises:
            ActorError: this deployment cannot record it.
        """
        msg = "acknowledging alerts is not available here"
        raise ActorError(msg)

    async def audit_export(self, target: str | None, tables: list[str] | None) -> AuditExportRun:
        """Run the audit export now, where the projections live.

        Raises:
            UserInputError: no target configured or given, or an unknown table.
            ProjectionError: the storage refused or failed (nothing recorded).
            ActorError: this deployment cannot run it.
        """
        msg = "the audit export is not available here"
        raise ActorError(msg)

    async def metrics_text(self) -> bytes | None:
        """Return extra Prometheus exposition text from the actors, or None."""
        return None
