"""The record of scheduled audit exports: what went to one target, up to which log position.

One :class:`AuditExport` aggregate per target (id ``aggregate_id("audit_export", target)``,
the target an ``s3://bucket/prefix`` URL or a folder). Each run that wrote something appends
:class:`AuditExport.Exported` with its manifest: per table the log positions it covers, its
row count, the object written and that object's SHA-256. The aggregate's ``positions`` (table
→ last position exported) is where the next run starts, so a run writes only what is new.
A manifest names objects and hashes only, never credentials.
"""

from __future__ import annotations

from typing import Any

from events.domain import Aggregate
from events.store import aggregate_id

__all__ = ["AuditExport", "audit_export_id"]


def audit_export_id(target: str) -> Any:
    """Return the aggregate id of the audit exports to ``target``."""
    return aggregate_id("audit_export", target)


class AuditExport(Aggregate):
    """Every audit export run to one target, and where the next one starts."""

    class Started(Aggregate.Created):
        """The first export to ``target``."""

        target: str

    class Exported(Aggregate.Event):
        """One run's manifest.

        Attributes:
            run_id: the run (also the manifest object's name at the target).
            head: the last log position the run's data reflects.
            objects: per table: ``table``, ``from_position`` (exclusive), ``to_position``
                (inclusive), ``mode`` (``incremental`` rows after the last run, or
                ``snapshot`` of a whole derived table), ``rows``, ``url``, ``bytes``,
                ``sha256``.
            manifest_url: where the manifest itself was written.
        """

        run_id: str
        head: int
        objects: list[dict[str, Any]]
        manifest_url: str

        def apply(self, aggregate: AuditExport) -> None:
            """Move each exported table's start position to this run's end."""
            for obj in self.objects:
                aggregate.positions[str(obj["table"])] = int(obj["to_position"])
            aggregate.runs += 1

    def __init__(self, target: str) -> None:
        self.target = target
        self.positions: dict[str, int] = {}
        self.runs = 0

    @classmethod
    def start(cls, target: str, *, command_id: str) -> AuditExport:
        """The record of a target's first export."""
        return cls._create(
            cls.Started, id=audit_export_id(target), command_id=command_id, target=target
        )

    def record(
        self, run_id: str, head: int, objects: list[dict[str, Any]], manifest_url: str
    ) -> None:
        """Append one run's manifest (the caller records only runs that wrote objects)."""
        self.trigger_event(
            self.Exported, run_id=run_id, head=head, objects=objects, manifest_url=manifest_url
        )
