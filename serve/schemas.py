"""Request and response models of the HTTP API.

These are the API's own shapes; domain events are never exposed as API schemas, they are
flattened into :class:`EventRow` by the services layer first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_EVENT_PAGE",
    "MAX_SQL_ROWS",
    "ComponentHealth",
    "ErrorBody",
    "EventPage",
    "EventQuery",
    "EventRow",
    "ExportFile",
    "ExportFormat",
    "ExportRequest",
    "ExportSource",
    "HeadPosition",
    "HealthReport",
    "HealthStatus",
    "QueryResult",
    "SqlRequest",
]

MAX_EVENT_PAGE = 1000
MAX_SQL_ROWS = 10_000

HealthStatus = Literal["ok", "degraded", "down"]
ExportFormat = Literal["csv", "ndjson", "parquet"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ComponentHealth(_Model):
    """The state of one component (store, projector, ray)."""

    status: HealthStatus
    detail: str = ""


class HealthReport(_Model):
    """What ``GET /health`` answers: one entry per component."""

    components: dict[str, ComponentHealth]

    @property
    def status(self) -> HealthStatus:
        """The worst status of any component (``ok`` when there are none)."""
        states = {c.status for c in self.components.values()}
        for worst in ("down", "degraded"):
            if worst in states:
                return worst  # type: ignore[return-value]
        return "ok"

    @property
    def is_store_down(self) -> bool:
        """True when the event store cannot serve; the API then answers 503."""
        store = self.components.get("store")
        return store is None or store.status == "down"


class EventQuery(_Model):
    """Filters and paging for the event log.

    ``type`` matches the event topic exactly, by prefix when it ends in ``*`` or by glob.
    """

    type: str | None = None
    aggregate: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_position: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=MAX_EVENT_PAGE)


class EventRow(_Model):
    """One event as the API shows it; ``body`` is already redacted by the services layer."""

    position: int
    timestamp: datetime
    aggregate_id: str
    aggregate_type: str
    type: str
    body: dict[str, Any]


class HeadPosition(_Model):
    """The position of the newest event (0 when the log is empty)."""

    position: int = Field(ge=0)


class EventPage(_Model):
    """A page of events plus the cursor for the next page (None when this was the last)."""

    items: list[EventRow]
    next_after: int | None


class SqlRequest(_Model):
    """A read-only SQL query against the DuckDB projections."""

    query: str = Field(min_length=1, max_length=100_000)
    limit: int = Field(default=1000, ge=1, le=MAX_SQL_ROWS)


class QueryResult(_Model):
    """Rows of a SQL query; ``truncated`` is True when ``limit`` cut the result."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False


class ExportSource(_Model):
    """What to export: a projection table or a read-only query, exactly one of them."""

    table: str | None = None
    query: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ExportSource:
        if (self.table is None) == (self.query is None):
            msg = "give exactly one of table or query"
            raise ValueError(msg)
        return self


class ExportRequest(_Model):
    """Body of ``POST /api/v1/exports``."""

    query: str = Field(min_length=1, max_length=100_000)
    format: ExportFormat = "csv"


class ExportFile(_Model):
    """A file the services layer wrote for download.

    Attributes:
        path: where the file is; on the same host as the HTTP server.
        media_type: the Content-Type to send.
        rows: how many rows it holds.
        temporary: when True the app deletes the file after sending it.
    """

    path: Path
    media_type: str
    rows: int = Field(ge=0)
    temporary: bool = True


class ErrorBody(_Model):
    """Every error answer: a stable machine code plus one line for humans."""

    error: str
    detail: str
