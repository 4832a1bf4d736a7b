"""Fixtures for the serve tests: an in-memory ``Services`` with a real DuckDB behind SQL."""

from __future__ import annotations

import fnmatch
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import APIRouter
from starlette.exceptions import StarletteDeprecationWarning

from events.errors import QueryRejectedError, UserInputError
from serve.app import build_app
from serve.schemas import (
    ComponentHealth,
    EventPage,
    EventQuery,
    EventRow,
    ExportFile,
    ExportFormat,
    ExportSource,
    HealthReport,
    QueryResult,
)
from serve.security import loopback_hosts
from serve.services import Services
from serve.sse import SseSettings

# Starlette 1.10 prefers the httpx2 fork for its TestClient and warns once at import when it
# finds only httpx; the client works the same, so only that import warning is silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "t" * 8 + "-test-token-0123456789abcdefghijklmnop"
PORT = 8765
BASE_URL = f"http://127.0.0.1:{PORT}"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_MEDIA = {
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
_DUCK_FORMAT = {"csv": "FORMAT CSV, HEADER", "ndjson": "FORMAT JSON", "parquet": "FORMAT PARQUET"}
_READ_ONLY = re.compile(r"^\s*(select|with|from)\b", re.IGNORECASE)


def make_event(position: int, type_: str = "events.agent:Agent.Started", **kw: Any) -> EventRow:
    """Build an event row; position n happens n minutes after T0."""
    return EventRow(
        position=position,
        timestamp=kw.get("timestamp", T0 + timedelta(minutes=position)),
        aggregate_id=kw.get("aggregate_id", f"agg-{position % 3}"),
        aggregate_type=kw.get("aggregate_type", type_.split(".")[-2] if "." in type_ else "X"),
        type=type_,
        body=kw.get("body", {"n": position}),
    )


class FakeServices(Services):
    """In-memory Services: a list of events, and a real DuckDB for SQL and exports."""

    def __init__(self, tmp: Path, events: Sequence[EventRow] = ()) -> None:
        self.events = list(events)
        self.tmp = tmp
        self.components = {
            name: ComponentHealth(status="ok") for name in ("store", "projector", "ray")
        }
        self.store_error: Exception | None = None
        self.extra_metrics: bytes | None = None
        self.exported: bytes = b""
        self.polls = 0
        self.on_poll: Callable[[FakeServices], None] | None = None
        self.db = duckdb.connect(":memory:")
        self.db.execute("CREATE TABLE clients (name VARCHAR, note VARCHAR, api_key VARCHAR)")
        self.db.execute(
            "INSERT INTO clients VALUES ('codex', 'plain', 'sk-aaaaaaaaaaaaaaaaaaaaaaaa'),"
            " ('claude', '=HYPERLINK(\"x\")', NULL)"
        )

    def _store(self) -> None:
        if self.store_error is not None:
            raise self.store_error

    async def health(self) -> HealthReport:
        return HealthReport(components=dict(self.components))

    async def head(self) -> int:
        self._store()
        return self.events[-1].position if self.events else 0

    async def list_events(self, q: EventQuery) -> EventPage:
        self._store()
        matched = [e for e in self.events if e.position > q.after_position and _matches(e, q)]
        items = matched[: q.limit]
        more = len(matched) > q.limit
        return EventPage(items=items, next_after=items[-1].position if more else None)

    async def events_after(self, position: int, limit: int) -> list[EventRow]:
        self.polls += 1
        if self.on_poll is not None:
            self.on_poll(self)
        self._store()
        return [e for e in self.events if e.position > position][:limit]

    async def sql(self, query: str, limit: int) -> QueryResult:
        if not _READ_ONLY.match(query):
            raise QueryRejectedError("only SELECT queries are allowed")
        try:
            cursor = self.db.execute(query)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(limit + 1)
        except duckdb.Error as e:
            raise QueryRejectedError(f"query failed: {e}") from e
        return QueryResult(
            columns=columns, rows=[list(r) for r in rows[:limit]], truncated=len(rows) > limit
        )

    async def export(self, source: ExportSource, fmt: ExportFormat) -> ExportFile:
        if source.table is not None:
            tables = {r[0] for r in self.db.execute("SHOW TABLES").fetchall()}
            if source.table not in tables:
                raise UserInputError(f"no table named {source.table}")
            query = f"SELECT * FROM {source.table}"
        else:
            assert source.query is not None
            if not _READ_ONLY.match(source.query):
                raise QueryRejectedError("only SELECT queries are allowed")
            query = source.query
        path = self.tmp / f"export-{len(list(self.tmp.iterdir()))}.{fmt}"
        try:
            self.db.execute(f"COPY ({query}) TO '{path}' ({_DUCK_FORMAT[fmt]})")
        except duckdb.Error as e:
            raise QueryRejectedError(f"query failed: {e}") from e
        self.exported = path.read_bytes()
        rows = self.db.execute(f"SELECT count(*) FROM ({query})").fetchone()
        return ExportFile(path=path, media_type=_MEDIA[fmt], rows=rows[0] if rows else 0)

    async def metrics_text(self) -> bytes | None:
        return self.extra_metrics


def _matches(e: EventRow, q: EventQuery) -> bool:
    # Exact topic, or a glob (a trailing * is a prefix match).
    if q.type is not None and not (e.type == q.type or fnmatch.fnmatchcase(e.type, q.type)):
        return False
    if q.aggregate is not None and e.aggregate_id != q.aggregate:
        return False
    if q.since is not None and e.timestamp < q.since:
        return False
    return q.until is None or e.timestamp <= q.until


@pytest.fixture
def fake(tmp_path: Path) -> FakeServices:
    """Services holding ten events, positions 1..10."""
    exports = tmp_path / "exports"
    exports.mkdir()
    topics = ("events.agent:Agent.Started", "events.client_config:ClientConfig.Changed")
    return FakeServices(exports, [make_event(i, topics[i % 2]) for i in range(1, 11)])


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(fake: FakeServices) -> Iterator[AppFactory]:
    """Build a TestClient on 127.0.0.1 over ``fake`` (or other services), without a token."""
    clients: list[TestClient] = []

    def build(
        services: Services | None = None,
        *,
        extra_routers: Sequence[APIRouter] = (),
        authed: bool = False,
        **kw: Any,
    ) -> TestClient:
        app = build_app(
            services or fake,
            token=TOKEN,
            allowed_hosts=loopback_hosts(PORT),
            extra_routers=extra_routers,
            sse=kw.pop("sse", SseSettings(poll_interval_s=0.001, keepalive_s=0.003)),
            **kw,
        )
        headers = {"Authorization": f"Bearer {TOKEN}"} if authed else {}
        client = TestClient(app, base_url=BASE_URL, headers=headers)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """An unauthenticated client."""
    return make_client()


@pytest.fixture
def api(make_client: AppFactory) -> TestClient:
    """A client sending the bearer token."""
    return make_client(authed=True)


@pytest.fixture
def token() -> str:
    """The token the test apps are built with."""
    return TOKEN


@pytest.fixture
def event_factory() -> Callable[..., EventRow]:
    """Build event rows (see ``make_event``)."""
    return make_event
