"""Read model ``agents``: each gateway agent's breaker state, attempts and latency.

Contract (events from :mod:`events.agent`):

=========================  =================================================================
``Agent.Registered``       ``name, backend`` → a row, breaker ``closed``
``Agent.CircuitOpened``    breaker ``open``, ``opened_count`` + 1 (agent from the command id)
``Agent.CircuitHalfOpened``  breaker ``half_open``
``Agent.CircuitClosed``    breaker ``closed``
``Task.AttemptStarted``    ``agent`` → ``attempts`` + 1
``Task.AttemptFailed``     ``agent`` → ``failures`` + 1
``Task.Completed``         ``agent, duration_ms`` → EWMA latency (α = 0.3) of answered requests
=========================  =================================================================

``error_rate`` is ``failures / attempts``. Execute outcomes (agent ``execute``) are skipped.
"""

from __future__ import annotations

from typing import Any, ClassVar

import duckdb

from projections._upsert import load_rows, replace_rows
from projections.read_model import ProjectedEvent, ReadModel

__all__ = ["AgentsReadModel"]

ALPHA = 0.3
_COLUMNS = (
    "name",
    "backend",
    "breaker_state",
    "opened_count",
    "last_change",
    "attempts",
    "failures",
    "error_rate",
    "ewma_latency_ms",
)
_BREAKER = {"CircuitOpened": "open", "CircuitHalfOpened": "half_open", "CircuitClosed": "closed"}


def _fresh(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "backend": None,
        "breaker_state": "closed",
        "opened_count": 0,
        "last_change": None,
        "attempts": 0,
        "failures": 0,
        "error_rate": 0.0,
        "ewma_latency_ms": None,
    }


def _agent_of(row: ProjectedEvent) -> str | None:
    kind = row.type.rsplit(".", 1)[-1]
    if row.type.startswith("Agent."):
        if kind == "Registered":
            return str(row.body.get("name") or "") or None
        return row.command_id.split(":", 1)[0] or None
    agent = row.body.get("agent")
    return agent if isinstance(agent, str) and agent and agent != "execute" else None


class AgentsReadModel(ReadModel):
    """Maintains ``agents(name PK, backend, breaker_state, opened_count, ...)``."""

    name = "agents"
    topics: ClassVar[tuple[str, ...]] = (
        "events.agent:Agent.",
        "events.agent:Task.AttemptStarted",
        "events.agent:Task.AttemptFailed",
        "events.agent:Task.Completed",
    )
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS agents (
            name VARCHAR PRIMARY KEY,
            backend VARCHAR,
            breaker_state VARCHAR NOT NULL,
            opened_count BIGINT NOT NULL,
            last_change TIMESTAMP,
            attempts BIGINT NOT NULL,
            failures BIGINT NOT NULL,
            error_rate DOUBLE NOT NULL,
            ewma_latency_ms DOUBLE
        )
    """

    def apply_batch(self, con: duckdb.DuckDBPyConnection, rows: list[ProjectedEvent]) -> None:
        """Fold the batch per agent over the current rows, then replace those rows."""
        named = [(agent, row) for row in rows if (agent := _agent_of(row)) is not None]
        keys = list(dict.fromkeys((agent,) for agent, _ in named))
        current = load_rows(con, "agents", ("name",), keys)
        folded = {key: dict(current.get(key) or _fresh(key[0])) for key in keys}
        for agent, row in named:
            state = folded[(agent,)]
            kind = row.type.rsplit(".", 1)[-1]
            if kind == "Registered":
                state["backend"] = row.body.get("backend")
                state["last_change"] = row.timestamp or state["last_change"]
            elif kind in _BREAKER:
                state["breaker_state"] = _BREAKER[kind]
                state["opened_count"] += kind == "CircuitOpened"
                state["last_change"] = row.timestamp or state["last_change"]
            elif kind == "AttemptStarted":
                state["attempts"] += 1
            elif kind == "AttemptFailed":
                state["failures"] += 1
            elif kind == "Completed" and not row.body.get("degraded"):
                sample = float(row.body.get("duration_ms") or 0)
                prev = state["ewma_latency_ms"]
                state["ewma_latency_ms"] = (
                    sample if prev is None else ALPHA * sample + (1 - ALPHA) * prev
                )
            tried = state["attempts"]
            state["error_rate"] = state["failures"] / tried if tried else 0.0
        replace_rows(con, "agents", ("name",), _COLUMNS, list(folded.values()))
