"""The ``/api/v1`` routes: events (list, one, stream), SQL and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Header, HTTPException, Path, Query
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from events.errors import UserInputError
from serve._redact import redact, redact_rows
from serve.auth import needs
from serve.schemas import (
    MAX_EVENT_PAGE,
    EventPage,
    EventQuery,
    EventRow,
    ExportFile,
    ExportFormat,
    ExportRequest,
    ExportSource,
    ExportTables,
    HeadPosition,
    QueryResult,
    SqlRequest,
)
from serve.services import Services
from serve.sse import SseSettings, event_stream, parse_last_event_id
from serve.users import Role

__all__ = ["api_router"]

_TABLE = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
_EXTENSIONS: dict[str, str] = {"csv": "csv", "ndjson": "ndjson", "parquet": "parquet"}
# The tables an export can name: the same catalogue the export itself checks names against.
_TABLES_SQL = (
    "SELECT table_name FROM duckdb_tables() "
    "UNION SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1"
)


def _redacted(row: EventRow) -> EventRow:
    return row.model_copy(update={"body": redact(row.body)})


def _download(file: ExportFile, stem: str, fmt: ExportFormat) -> FileResponse:
    cleanup = BackgroundTask(file.path.unlink, missing_ok=True) if file.temporary else None
    return FileResponse(
        file.path,
        media_type=file.media_type,
        filename=f"{stem}.{_EXTENSIONS[fmt]}",
        headers={"X-Export-Rows": str(file.rows)},
        background=cleanup,
    )


def api_router(services: Services, sse: SseSettings) -> APIRouter:
    """Build the ``/api/v1`` router over ``services``.

    Args:
        services: the backend.
        sse: tuning for event streams.

    Returns:
        The router; the app's guard protects it.
    """
    router = APIRouter(prefix="/api/v1")

    @router.get("/head", response_model=HeadPosition, tags=["events"])
    async def head() -> HeadPosition:
        """Return the position of the newest event."""
        return HeadPosition(position=await services.head())

    @router.get("/events", response_model=EventPage, tags=["events"])
    async def list_events(
        type: Annotated[str | None, Query(max_length=300)] = None,
        aggregate: Annotated[str | None, Query(max_length=300)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_EVENT_PAGE)] = 100,
    ) -> EventPage:
        """List events matching the filters, oldest first; page with ``after=next_after``."""
        query = EventQuery(
            type=type,
            aggregate=aggregate,
            since=since,
            until=until,
            after_position=after,
            limit=limit,
        )
        page = await services.list_events(query)
        return EventPage(items=[_redacted(r) for r in page.items], next_after=page.next_after)

    @router.get("/events/stream", tags=["events"], response_class=StreamingResponse)
    async def stream_events(
        after: Annotated[int | None, Query(ge=0)] = None,
        max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        named: bool = True,
        last_event_id: Annotated[str | None, Header(max_length=40)] = None,
    ) -> StreamingResponse:
        """Stream events as SSE after ``Last-Event-ID`` (wins) or ``after`` (default: now).

        ``named=false`` leaves out ``event:`` so browsers get every frame as ``message``.
        """
        start = parse_last_event_id(last_event_id)
        if start is None:
            start = after if after is not None else await services.head()
        return StreamingResponse(
            event_stream(services, start, max_events=max_events, named=named, settings=sse),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.get("/events/{position}", response_model=EventRow, tags=["events"])
    async def get_event(position: Annotated[int, Path(ge=1)]) -> EventRow:
        """Return the event at ``position``."""
        page = await services.list_events(EventQuery(after_position=position - 1, limit=1))
        if not page.items or page.items[0].position != position:
            raise HTTPException(404, f"no event at position {position}")
        return _redacted(page.items[0])

    # POST only to carry the query: both run read-only SQL, so a viewer may.
    @router.post("/sql", response_model=QueryResult, tags=["sql"], **needs(Role.VIEWER))
    async def run_sql(request: SqlRequest) -> QueryResult:
        """Run a read-only SQL query against the DuckDB projections."""
        result = await services.sql(request.query, request.limit)
        return result.model_copy(update={"rows": redact_rows(result.columns, result.rows)})

    @router.get("/exports", response_model=ExportTables, tags=["exports"])
    async def export_tables() -> ExportTables:
        """List the projection tables that ``GET /api/v1/exports/{table}`` downloads."""
        result = await services.sql(_TABLES_SQL, 1000)
        return ExportTables(tables=[str(row[0]) for row in result.rows])

    @router.get("/exports/{table}", tags=["exports"], response_class=FileResponse)
    async def export_table(
        table: Annotated[str, Path(pattern=_TABLE)],
        format: ExportFormat = "csv",
    ) -> FileResponse:
        """Download a projection table as CSV, NDJSON or Parquet."""
        file = await services.export(ExportSource(table=table), format)
        return _download(file, table, format)

    @router.post("/exports", tags=["exports"], response_class=FileResponse, **needs(Role.VIEWER))
    async def export_query(request: Annotated[ExportRequest, Body()]) -> FileResponse:
        """Download the result of a read-only query as CSV, NDJSON or Parquet."""
        if not request.query.strip():
            raise UserInputError("the export query is empty")
        file = await services.export(ExportSource(query=request.query), request.format)
        return _download(file, "export", request.format)

    return router
