"""DuckDB read models over the event log: projector, read-only SQL, exports and replay."""

from projections.actor_status import ActorsReadModel
from projections.alerts import AlertsReadModel
from projections.projector import Projector, default_read_models
from projections.read_model import ProjectedEvent, ReadModel
from projections.redact import redact

__all__ = [
    "ActorsReadModel",
    "AlertsReadModel",
    "ProjectedEvent",
    "Projector",
    "ReadModel",
    "default_read_models",
    "redact",
]
