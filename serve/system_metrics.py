"""Prometheus families for sync, the event log, the actors and workflows.

Built from plain values that crossed actor calls: the projector's status, the figures it
reads from its read models (:func:`projections.metrics_figures.read_figures`) and the sync
orchestrator's live gauges (approvals waiting, open write breakers). Pure functions, tested
without a cluster. Labels come from bounded sets only: client, agent and actor names, outcomes
and statuses.
"""

from __future__ import annotations

from typing import Any

from prometheus_client.core import Metric

from projections.metrics_figures import LATENCY_BUCKETS_S
from serve.metrics_exposition import counter, gauge, histogram

__all__ = [
    "projector_families",
    "runtime_families",
    "store_free_family",
    "sync_families",
    "sync_gauge_families",
]

#: Actor statuses of the ``actors`` read model, each a 0/1 series of ``synapse_actor_status``.
_ACTOR_STATUSES = ("registered", "running", "stopped", "dead")


def projector_families(status: dict[str, Any]) -> list[Metric]:
    """Log head, projector position and lag from ``ProjectorService.status()``."""
    families = [
        gauge(
            "synapse_projector_position",
            "Last event log position committed into DuckDB.",
            [],
            [((), status["position"])],
        )
    ]
    if status.get("head") is not None and status["head"] >= 0:
        families.append(
            counter(
                "synapse_events_appended_total",
                "Events appended to the log (its head position).",
                [],
                [((), status["head"])],
            )
        )
    if status.get("lag") is not None:
        families.append(
            gauge(
                "synapse_projector_lag_events",
                "Events appended to the log but not yet projected into DuckDB.",
                [],
                [((), status["lag"])],
            )
        )
    families.append(
        gauge(
            "synapse_store_up",
            "1 when the event store answers, 0 when it does not.",
            [],
            [((), 1 if status.get("store_ok", True) else 0)],
        )
    )
    return families


def _latency(name: str, help_text: str, label: str, rows: list[dict[str, Any]]) -> Metric:
    return histogram(
        name,
        help_text,
        [label],
        [((r["label"],), r["buckets"], r["count"], r["sum"]) for r in rows],
        LATENCY_BUCKETS_S,
    )


def sync_families(figures: dict[str, Any]) -> list[Metric]:
    """Sync latency, writes, parse failures, files in error and conflicts."""
    return [
        _latency(
            "synapse_sync_latency_seconds",
            "From an observed entity change to the write that landed it in another client.",
            "client",
            figures["sync_latency"],
        ),
        counter(
            "synapse_sync_writes_total",
            "Client-file writes by target client and outcome (applied or abandoned).",
            ["client", "outcome"],
            [((c, o), n) for c, o, n in figures["writes"]],
        ),
        counter(
            "synapse_sync_parse_failures_total",
            "Times a client file could not be read or parsed.",
            ["client"],
            [((c,), n) for c, n in figures["parse_failures"]],
        ),
        gauge(
            "synapse_sync_files_in_error",
            "Client files whose last read failed.",
            ["client"],
            [((c,), n) for c, n in figures["files_in_error"]],
        ),
        gauge(
            "synapse_sync_conflicts_open",
            "Sync conflicts waiting for a person.",
            [],
            [((), figures["conflicts_open"])],
        ),
        counter(
            "synapse_sync_conflicts_total",
            "Sync conflicts ever detected.",
            [],
            [((), figures["conflicts_total"])],
        ),
    ]


def runtime_families(figures: dict[str, Any]) -> list[Metric]:
    """Actors (status, restarts), workflows and steps, open alerts, task latency."""
    actors = figures["actors"]
    return [
        gauge(
            "synapse_actor_status",
            "1 for the actor's current status (registered, running, stopped, dead), else 0.",
            ["actor", "status"],
            [((a, s), 1 if status == s else 0) for a, status, _ in actors for s in _ACTOR_STATUSES],
        ),
        counter(
            "synapse_actor_restarts_total",
            "Restarts of each supervised actor.",
            ["actor"],
            [((a,), restarts) for a, _, restarts in actors],
        ),
        gauge(
            "synapse_workflow_steps",
            "Workflow steps by status.",
            ["status"],
            [((s,), n) for s, n in figures["workflow_steps"]],
        ),
        gauge(
            "synapse_workflows",
            "Workflows by status.",
            ["status"],
            [((s,), n) for s, n in figures["workflows"]],
        ),
        gauge(
            "synapse_alerts_open",
            "Alerts raised and not yet acknowledged, by severity.",
            ["severity"],
            [((s,), n) for s, n in figures["alerts_open"]],
        ),
        _latency(
            "synapse_task_duration_seconds",
            "Completed gateway tasks, submit to answer, by the agent that answered.",
            "agent",
            figures["task_latency"],
        ),
    ]


def sync_gauge_families(gauges: dict[str, Any]) -> list[Metric]:
    """Approvals waiting and open write breakers per client (the orchestrator's live state)."""
    breakers: dict[str, int] = gauges.get("breakers_open") or {}
    return [
        gauge(
            "synapse_sync_approvals_waiting",
            "Held changes (new code to run, mass deletions) waiting for approval.",
            [],
            [((), gauges.get("approvals_waiting", 0))],
        ),
        gauge(
            "synapse_sync_write_breakers_open",
            "Client files whose write breaker is open, by client.",
            ["client"],
            [((c,), n) for c, n in sorted(breakers.items())],
        ),
    ]


def store_free_family(free_bytes: int) -> Metric:
    """Free space on the event store's filesystem (SQLite only)."""
    return gauge(
        "synapse_store_free_bytes",
        "Free bytes on the filesystem holding the event store.",
        [],
        [((), free_bytes)],
    )
