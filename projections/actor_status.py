"""Read model ``actors``: the supervised actors and their current status.

Contract (events from :mod:`events.runtime`, keyed by the ``actor`` field of every body):

=================================  ==========================================================
``ActorLifecycle.Registered``      ``actor`` → status ``registered``, restarts 0
``ActorLifecycle.Started``         ``actor, node, pid`` → status ``running``
``ActorLifecycle.Restarted``       ``actor, restarts, reason`` (+ ``node, pid``) → ``running``
``ActorLifecycle.Stopped``         ``actor, reason`` → status ``stopped``
``ActorLifecycle.RestartsExhausted`` ``actor, restarts`` → status ``dead``
=================================  ==========================================================

Fields an event does not carry keep their previous value.
"""

from __future__ import annotations

from typing import Any, ClassVar

import duckdb

from projections.read_model import ProjectedEvent, ReadModel, scratch_table

__all__ = ["ActorsReadModel"]

_STATUS = {
    "Registered": "registered",
    "Started": "running",
    "Restarted": "running",
    "Stopped": "stopped",
    "RestartsExhausted": "dead",
}
_FIELDS = ("status", "restarts", "last_change", "pid", "node", "reason")


class ActorsReadModel(ReadModel):
    """Maintains ``actors(name PK, status, restarts, last_change, pid, node, reason)``."""

    name = "actors"
    topics: ClassVar[tuple[str, ...]] = ("events.runtime:ActorLifecycle.",)
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS actors (
            name VARCHAR PRIMARY KEY,
            status VARCHAR NOT NULL,
            restarts BIGINT NOT NULL,
            last_change TIMESTAMP,
            pid BIGINT,
            node VARCHAR,
            reason VARCHAR
        )
    """

    def apply_batch(self, con: duckdb.DuckDBPyConnection, rows: list[ProjectedEvent]) -> None:
        """Fold the batch to one row per actor, then insert-if-missing and update."""
        folded: dict[str, dict[str, Any]] = {}
        for row in rows:
            body = row.body
            actor = body.get("actor")
            if not isinstance(actor, str):
                continue
            state = folded.setdefault(actor, dict.fromkeys(_FIELDS))
            kind = row.type.rsplit(".", 1)[-1]
            state["status"] = _STATUS.get(kind, state["status"])
            state["last_change"] = row.timestamp or state["last_change"]
            if kind == "Registered":
                state["restarts"] = 0
            for key in ("restarts", "pid", "node", "reason"):
                if key in body:
                    state[key] = body[key]
        if not folded:
            return
        columns: dict[str, list[Any]] = {"name": list(folded)}
        for key in _FIELDS:
            columns[key] = [state[key] for state in folded.values()]
        columns["restarts"] = [None if v is None else int(v) for v in columns["restarts"]]
        columns["pid"] = [None if v is None else int(v) for v in columns["pid"]]
        with scratch_table(con, "_actors_batch", columns) as batch:
            con.execute(
                f"INSERT OR IGNORE INTO actors (name, status, restarts) "
                f"SELECT name, 'unknown', 0 FROM {batch}"
            )
            con.execute(
                f"""UPDATE actors SET
                    status = coalesce(b.status, actors.status),
                    restarts = coalesce(b.restarts, actors.restarts),
                    last_change = coalesce(CAST(b.last_change AS TIMESTAMP), actors.last_change),
                    pid = coalesce(b.pid, actors.pid),
                    node = coalesce(b.node, actors.node),
                    reason = coalesce(b.reason, actors.reason)
                FROM {batch} b WHERE actors.name = b.name"""
            )
