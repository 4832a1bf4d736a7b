"""DuckDB read models over the event log: projector, read-only SQL, exports and replay."""

from projections.actor_status import ActorsReadModel
from projections.alerts import AlertsReadModel
from projections.exports import ExportResult, export
from projections.projector import Projector, default_read_models
from projections.read_model import ProjectedEvent, ReadModel, scratch_table
from projections.redact import redact
from projections.replay import AggregateHistory, aggregate_at, state_as_of
from projections.sql_guard import QueryResult, check_query, run_query, run_query_arrow

__all__ = [
    "ActorsReadModel",
    "AggregateHistory",
    "AlertsReadModel",
    "ExportResult",
    "ProjectedEvent",
    "Projector",
    "QueryResult",
    "ReadModel",
    "aggregate_at",
    "check_query",
    "default_read_models",
    "export",
    "redact",
    "run_query",
    "run_query_arrow",
    "scratch_table",
    "state_as_of",
]
