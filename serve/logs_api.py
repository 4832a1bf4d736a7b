"""``GET /api/v1/logs``: the structured logs of the API host, filtered, newest lines last.

Reads the same ``$SYNAPSE_HOME/logs/*.jsonl`` files ``synapse logs`` reads (see
:mod:`events.log_reader`), masked again on the way out. Viewer role (a GET).
"""

from __future__ import annotations

import collections
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ValidationError

from events.log_reader import LogFilter, read_logs
from serve.schemas import MAX_LOG_PAGE, LogLevel, LogLine, LogPage

__all__ = ["logs_router", "tail_logs"]

_FIELDS = tuple(LogLine.model_fields)


def _line(raw: dict[str, Any]) -> LogLine | None:
    kept = {k: raw[k] for k in _FIELDS if k in raw}
    try:
        return LogLine(**kept)
    except ValidationError:
        # A foreign or hand-edited line: keep what always validates, drop the rest.
        core = {k: str(kept[k]) for k in ("ts", "level", "logger", "actor", "msg") if k in kept}
        try:
            return LogLine(**core)
        except ValidationError:
            return None


def tail_logs(log_dir: Path | None, where: LogFilter, limit: int) -> LogPage:
    """The newest ``limit`` lines under ``log_dir`` that pass ``where``, oldest first.

    Args:
        log_dir: ``$SYNAPSE_HOME/logs`` (None: no logs here, an empty page).
        where: the filters.
        limit: at most this many lines.
    """
    if log_dir is None:
        return LogPage(items=[], truncated=False)
    newest: collections.deque[dict[str, Any]] = collections.deque(maxlen=limit)
    seen = 0
    for raw in read_logs(log_dir, where):
        newest.append(raw)
        seen += 1
    items = [line for line in map(_line, newest) if line is not None]
    return LogPage(items=items, truncated=seen > limit)


def logs_router(log_dir: Path | None) -> APIRouter:
    """Build the router answering ``GET /api/v1/logs`` from the files under ``log_dir``."""
    router = APIRouter(prefix="/api/v1", tags=["ops"])

    @router.get("/logs", response_model=LogPage)
    def logs(
        actor: Annotated[str | None, Query(max_length=200, description="role or prefix")] = None,
        level: Annotated[LogLevel | None, Query(description="lowest level kept")] = None,
        since: Annotated[datetime | None, Query(description="ISO-8601; naive = UTC")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = 200,
    ) -> LogPage:
        """The newest log lines of every process on this host that pass the filters.

        A plain ``def``: FastAPI runs it in its thread pool, so reading files never blocks
        the event loop.
        """
        return tail_logs(log_dir, LogFilter(actor=actor, level=level, since=since), limit)

    return router
