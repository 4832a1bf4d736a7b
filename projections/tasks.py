"""Read models ``tasks`` and ``attempts``: every gateway request and each of its attempts.

Contract (``events.agent:Task.*``; the request id is the command id minus its last two
``:``-separated parts, as written by :class:`~actors.gateway.sink.GatewayEventSink`):

======================  =====================================================================
``Submitted``           ``capability`` → status ``submitted``, ``submitted_at``
``AttemptStarted``      ``attempt, agent`` → status ``running``; attempt row ``running``
``AttemptFailed``       ``attempt, failure`` → attempt row ``failed`` with its failure
``FallbackUsed``        ``kind`` → ``fallback``
``Completed``           ``agent, attempts, degraded, duration_ms`` → ``completed`` or
                        ``degraded``; the last attempt row, still running, becomes ``ok``
``Failed``              status ``failed``
======================  =====================================================================
"""

from __future__ import annotations

from typing import Any, ClassVar

import duckdb

from projections._upsert import load_rows, replace_rows
from projections.read_model import ProjectedEvent, ReadModel

__all__ = ["TasksReadModel", "request_id_of"]

_TASK_COLUMNS = (
    "request_id",
    "capability",
    "agent",
    "status",
    "attempts",
    "degraded",
    "fallback",
    "duration_ms",
    "submitted_at",
    "completed_at",
)
_ATTEMPT_COLUMNS = ("request_id", "attempt", "agent", "outcome", "failure")


def request_id_of(command_id: str) -> str:
    """Return the gateway request id inside a Task command id."""
    return command_id.rsplit(":", 2)[0]


def _fresh_task(request_id: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(_TASK_COLUMNS)
    row.update(request_id=request_id, status="submitted", attempts=0, degraded=False)
    return row


class TasksReadModel(ReadModel):
    """Maintains ``tasks(request_id PK, ...)`` and ``attempts((request_id, attempt) PK, ...)``."""

    name = "tasks"
    topics: ClassVar[tuple[str, ...]] = ("events.agent:Task.",)
    SCHEMA = (
        """CREATE TABLE IF NOT EXISTS tasks (
            request_id VARCHAR PRIMARY KEY,
            capability VARCHAR,
            agent VARCHAR,
            status VARCHAR NOT NULL,
            attempts BIGINT NOT NULL,
            degraded BOOLEAN NOT NULL,
            fallback VARCHAR,
            duration_ms BIGINT,
            submitted_at TIMESTAMP,
            completed_at TIMESTAMP
        )""",
        """CREATE TABLE IF NOT EXISTS attempts (
            request_id VARCHAR NOT NULL,
            attempt BIGINT NOT NULL,
            agent VARCHAR,
            outcome VARCHAR NOT NULL,
            failure VARCHAR,
            PRIMARY KEY (request_id, attempt)
        )""",
    )

    def apply_batch(self, con: duckdb.DuckDBPyConnection, rows: list[ProjectedEvent]) -> None:
        """Fold tasks and attempts per key over their current rows, then replace them."""
        task_keys = list(dict.fromkeys((request_id_of(r.command_id),) for r in rows))
        tasks = load_rows(con, "tasks", ("request_id",), task_keys)
        folded = {k: dict(tasks.get(k) or _fresh_task(k[0])) for k in task_keys}
        attempt_keys = list(
            dict.fromkeys(
                (request_id_of(r.command_id), int(r.body.get("attempt", r.body.get("attempts", 0))))
                for r in rows
                if "attempt" in r.body or "attempts" in r.body
            )
        )
        attempts = {
            k: dict(v)
            for k, v in load_rows(con, "attempts", ("request_id", "attempt"), attempt_keys).items()
        }
        for row in rows:
            self._fold(row, folded[(request_id_of(row.command_id),)], attempts)
        replace_rows(con, "tasks", ("request_id",), _TASK_COLUMNS, list(folded.values()))
        replace_rows(
            con, "attempts", ("request_id", "attempt"), _ATTEMPT_COLUMNS, list(attempts.values())
        )

    @staticmethod
    def _fold(
        row: ProjectedEvent, task: dict[str, Any], attempts: dict[tuple[str, int], dict[str, Any]]
    ) -> None:
        kind, body, rid = row.type.rsplit(".", 1)[-1], row.body, task["request_id"]
        if kind == "Submitted":
            task.update(capability=body.get("capability"), submitted_at=row.timestamp or None)
        elif kind == "AttemptStarted":
            n = int(body["attempt"])
            task.update(status="running", agent=body.get("agent"))
            task["attempts"] = max(task["attempts"], n)
            attempts[(rid, n)] = {
                "request_id": rid,
                "attempt": n,
                "agent": body.get("agent"),
                "outcome": "running",
                "failure": None,
            }
        elif kind == "AttemptFailed":
            n = int(body["attempt"])
            attempt = attempts.setdefault(
                (rid, n), {"request_id": rid, "attempt": n, "agent": body.get("agent")}
            )
            attempt.update(outcome="failed", failure=body.get("failure"))
        elif kind == "FallbackUsed":
            task["fallback"] = body.get("kind")
        elif kind == "Completed":
            degraded = bool(body.get("degraded"))
            task.update(
                status="degraded" if degraded else "completed",
                agent=body.get("agent"),
                attempts=int(body.get("attempts") or task["attempts"]),
                degraded=degraded,
                duration_ms=body.get("duration_ms"),
                completed_at=row.timestamp or None,
            )
            last = attempts.get((rid, task["attempts"]))
            if last is not None and last.get("outcome") == "running" and not degraded:
                last["outcome"] = "ok"
        elif kind == "Failed":
            task.update(status="failed", completed_at=row.timestamp or None)
