"""Figures for ``/metrics`` computed from the DuckDB read models at scrape time.

Sync, runtime and workflow figures are facts of the event log, so they are read from its
projections rather than counted again in memory: a restarted process reports the same totals,
and a figure can be checked with SQL. Every query groups by a bounded set only (client names,
agent names, actor names, statuses); no path, prompt or id becomes a label.

Sync latency is the time from the entity change that caused a write (the last
``SyncLedger.EntityChanged`` of the same entity at or before it) to the ``WriteApplied`` that
landed it — an edit, once the watcher saw it, to the other client's file being written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

__all__ = ["LATENCY_BUCKETS_S", "SEVERITIES", "read_figures"]

#: Upper bounds (seconds) of the latency histograms: a fast local write to a slow agent.
LATENCY_BUCKETS_S: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

#: Alert severities always reported (zero included), so a rule on them has a series to watch.
SEVERITIES = ("critical", "error", "info", "warning")

_SYNC_LATENCY = """
WITH w AS (
    SELECT aggregate_id, position, ts, json_extract_string(body, '$.client') AS client
    FROM events WHERE type = 'SyncLedger.WriteApplied' AND ts IS NOT NULL
), c AS (
    SELECT aggregate_id, position, ts FROM events
    WHERE type = 'SyncLedger.EntityChanged' AND ts IS NOT NULL
)
SELECT w.client, greatest(epoch(w.ts) - epoch(c.ts), 0) AS seconds
FROM w ASOF JOIN c ON w.aggregate_id = c.aggregate_id AND w.position >= c.position
"""

_WRITES = """
SELECT json_extract_string(body, '$.client') AS client,
       CASE type WHEN 'SyncLedger.WriteApplied' THEN 'applied' ELSE 'abandoned' END AS outcome,
       count(*)
FROM events WHERE type IN ('SyncLedger.WriteApplied', 'SyncLedger.WriteAbandoned')
GROUP BY ALL ORDER BY ALL
"""

_PARSE_FAILURES = """
WITH files AS (
    SELECT aggregate_id, any_value(json_extract_string(body, '$.client')) AS client
    FROM events WHERE type = 'ClientFile.Discovered' GROUP BY aggregate_id
)
SELECT coalesce(files.client, ''), count(*)
FROM events e LEFT JOIN files USING (aggregate_id)
WHERE e.type = 'ClientFile.ParseFailed' GROUP BY ALL ORDER BY ALL
"""

_TASK_LATENCY = """
SELECT coalesce(agent, ''), duration_ms / 1000.0 FROM tasks
WHERE status = 'completed' AND duration_ms IS NOT NULL
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _histograms(
    observations: Sequence[tuple[Any, Any]], bounds: Sequence[float] = LATENCY_BUCKETS_S
) -> list[dict[str, Any]]:
    """Per label value: cumulative bucket counts over ``bounds``, count and sum."""
    by_label: dict[str, list[float]] = {}
    for label, seconds in observations:
        by_label.setdefault(str(label or ""), []).append(float(seconds))
    return [
        {
            "label": label,
            "buckets": [sum(1 for v in values if v <= b) for b in bounds],
            "count": len(values),
            "sum": sum(values),
        }
        for label, values in sorted(by_label.items())
    ]


def _with_zeros(rows: list[tuple[Any, ...]], keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows`` (key columns, then a count) plus a zero row for each key in ``keys`` missing."""
    counts = {tuple(r[:-1]): r[-1] for r in rows}
    return sorted([(*k, counts.pop(k, 0)) for k in keys] + [(*k, n) for k, n in counts.items()])


def read_figures(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Read every figure ``/metrics`` takes from the read models.

    Args:
        con: a cursor on the projector's DuckDB file (all read models created).

    Returns:
        Plain values (they cross an actor call): ``sync_latency`` and ``task_latency``
        histograms (``label`` is the client or agent), ``writes`` (client, outcome, n),
        ``parse_failures`` (client, n), ``files_in_error`` (client, n), ``conflicts_open``
        and ``conflicts_total``, ``actors`` (name, status, restarts), ``workflow_steps``
        and ``workflows`` (status, n), ``alerts_open`` (severity, n), ``agents_opened``
        (agent, times its breaker opened) and ``events`` (rows projected). Counts per client
        include a zero for every client with a file, and alert counts one for each of
        :data:`SEVERITIES`, so their series exist before the first failure.
    """
    clients = [r[0] for r in _rows(con, "SELECT DISTINCT client FROM clients ORDER BY 1")]
    conflicts = _rows(
        con, "SELECT count(*) FILTER (WHERE status = 'open'), count(*) FROM conflicts"
    )[0]
    return {
        "sync_latency": _histograms(_rows(con, _SYNC_LATENCY)),
        "task_latency": _histograms(_rows(con, _TASK_LATENCY)),
        "writes": _with_zeros(
            _rows(con, _WRITES), [(c, o) for c in clients for o in ("abandoned", "applied")]
        ),
        "parse_failures": _with_zeros(_rows(con, _PARSE_FAILURES), [(c,) for c in clients]),
        "files_in_error": _rows(
            con,
            "SELECT client, count(*) FILTER (WHERE status = 'error') FROM clients "
            "GROUP BY ALL ORDER BY ALL",
        ),
        "conflicts_open": int(conflicts[0]),
        "conflicts_total": int(conflicts[1]),
        "actors": _rows(con, "SELECT name, status, restarts FROM actors ORDER BY name"),
        "workflow_steps": _rows(con, "SELECT status, count(*) FROM steps GROUP BY ALL ORDER BY 1"),
        "workflows": _rows(con, "SELECT status, count(*) FROM workflows GROUP BY ALL ORDER BY 1"),
        "alerts_open": _with_zeros(
            _rows(
                con,
                "SELECT coalesce(severity, ''), count(*) FROM alerts WHERE NOT acknowledged "
                "GROUP BY ALL",
            ),
            [(s,) for s in SEVERITIES],
        ),
        "agents_opened": _rows(con, "SELECT name, opened_count FROM agents ORDER BY name"),
        "events": int(_rows(con, "SELECT count(*) FROM events")[0][0]),
    }
