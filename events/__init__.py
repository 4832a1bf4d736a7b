"""Domain events, aggregates and the event store (the lowest layer of Synapse)."""

from events.domain import Aggregate, AggregateSnapshot, DomainEvent
from events.errors import SynapseError
from events.store import EventStore, PostgresConfig, StoreConfig, aggregate_id, load_cipher_key

__all__ = [
    "Aggregate",
    "AggregateSnapshot",
    "DomainEvent",
    "EventStore",
    "PostgresConfig",
    "StoreConfig",
    "SynapseError",
    "aggregate_id",
    "load_cipher_key",
]
