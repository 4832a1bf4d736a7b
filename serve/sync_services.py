"""The seam between the sync HTTP routes and the orchestrator, plus an in-process version.

Production implements :class:`SyncServices` over the orchestrator's actor handle and the
projector (``serve/deployments.py``); tests and the offline CLI use
:class:`InProcessSyncServices` over a real :class:`~actors.sync_service.SyncService` and a real
:class:`~projections.projector.Projector`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from abc import ABC, abstractmethod
from typing import Any

from actors.sync_actor import policy_status, resume_client
from actors.sync_service import SyncService
from events.errors import ActorError
from events.store import EventStore
from projections.projector import Projector

__all__ = [
    "CLIENT_SQL",
    "CONFLICT_SQL",
    "ENTITY_SQL",
    "LOG_SQL",
    "LOSS_SQL",
    "InProcessSyncServices",
    "SyncServices",
]

CLIENT_SQL = (
    "SELECT client, path, scope, present, status, error, error_since, sha256, size, last_seen "
    "FROM clients ORDER BY client, path"
)
CONFLICT_SQL = (
    "SELECT conflict_id, kind, name, scope, sides, status, detected_at, resolved_at, "
    "resolution, chosen_client FROM conflicts ORDER BY detected_at DESC"
)
ENTITY_SQL = (
    "SELECT kind, name, scope, client, digest, base_digest, present, updated_at, status "
    "FROM entities ORDER BY kind, name, scope, client"
)
LOSS_SQL = "SELECT client, kind, name, field, reason, ts FROM losses ORDER BY client, kind, name"
LOG_SQL = (
    "SELECT write_id, ts, action, client, path, sha256, pre_image_ref, entities, reason "
    "FROM sync_log ORDER BY ts DESC LIMIT {limit}"
)


class SyncServices(ABC):
    """What the sync routes need. Every answer is JSON-safe and free of secret values."""

    @abstractmethod
    async def status(self) -> dict[str, Any]:
        """Mode, per-client files and open decisions."""

    @abstractmethod
    async def rows(self, sql: str) -> list[dict[str, Any]]:
        """Run a fixed read-model query (one of this module's ``*_SQL``)."""

    @abstractmethod
    async def plan(self) -> dict[str, Any]:
        """Rescan and return the plan (hash, redacted diffs, decisions)."""

    @abstractmethod
    async def apply(self, plan_hash: str) -> dict[str, Any]:
        """Apply the plan with this hash; ``stale`` true when it changed."""

    @abstractmethod
    async def revert(self, write_id: str) -> dict[str, Any]:
        """Restore the pre-image of one write."""

    @abstractmethod
    async def resolve(
        self, conflict_id: str, take: str | None, value: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Settle a conflict (or approval) by id or ``kind:name[@scope]``."""

    @abstractmethod
    async def approve_deletions(self, client: str) -> dict[str, Any]:
        """Approve the held deletions of one client."""

    async def resume(self, client: str) -> dict[str, Any]:
        """Close the open write breakers of one client and rescan it.

        Raises:
            ActorError: this implementation cannot resume (override it).
        """
        msg = f"resuming {client} is not available here"
        raise ActorError(msg)

    async def approvals(self) -> list[dict[str, Any]]:
        """Pending approvals: what, from which file, the command line, who would get it.

        Raises:
            ActorError: this implementation cannot list them (override it).
        """
        msg = "approvals are not available here"
        raise ActorError(msg)

    async def judge(self, approval_id: str, *, approve: bool) -> dict[str, Any]:
        """Approve or reject one pending approval.

        Raises:
            ActorError: no pending approval has that id (or this implementation cannot).
        """
        msg = f"approving {approval_id} is not available here"
        raise ActorError(msg)


class InProcessSyncServices(SyncServices):
    """:class:`SyncServices` over objects in this process.

    Args:
        service: the orchestrator.
        store: the event store the projector follows.
        projector: the read models.
    """

    def __init__(self, service: SyncService, store: EventStore, projector: Projector) -> None:
        self.service = service
        self.store = store
        self.projector = projector

    async def status(self) -> dict[str, Any]:
        """See :meth:`SyncServices.status` (plus the effective policy and open breakers)."""

        def run() -> dict[str, Any]:
            return {**self.service.status(), **policy_status(self.service)}

        return await asyncio.to_thread(run)

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        """See :meth:`SyncServices.rows` (catches the projector up first)."""

        def run() -> list[dict[str, Any]]:
            self.projector.catch_up(self.store)
            result = self.projector.run_sql(sql)
            return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

        return await asyncio.to_thread(run)

    async def plan(self) -> dict[str, Any]:
        """See :meth:`SyncServices.plan`."""
        return dataclasses.asdict(await asyncio.to_thread(self.service.plan))

    async def apply(self, plan_hash: str) -> dict[str, Any]:
        """See :meth:`SyncServices.apply`."""
        return dataclasses.asdict(await asyncio.to_thread(self.service.apply, plan_hash))

    async def revert(self, write_id: str) -> dict[str, Any]:
        """See :meth:`SyncServices.revert`."""
        return dataclasses.asdict(await asyncio.to_thread(self.service.revert, write_id))

    async def resolve(
        self, conflict_id: str, take: str | None, value: dict[str, Any] | None
    ) -> dict[str, Any]:
        """See :meth:`SyncServices.resolve`."""
        result = await asyncio.to_thread(
            lambda: self.service.resolve(conflict_id, take=take, value=value)
        )
        return dataclasses.asdict(result)

    async def approve_deletions(self, client: str) -> dict[str, Any]:
        """See :meth:`SyncServices.approve_deletions`."""
        return dataclasses.asdict(await asyncio.to_thread(self.service.approve_deletions, client))

    async def resume(self, client: str) -> dict[str, Any]:
        """See :meth:`SyncServices.resume`."""
        return await asyncio.to_thread(resume_client, self.service, client)

    async def approvals(self) -> list[dict[str, Any]]:
        """See :meth:`SyncServices.approvals`."""
        return await asyncio.to_thread(self.service.approvals)

    async def judge(self, approval_id: str, *, approve: bool) -> dict[str, Any]:
        """See :meth:`SyncServices.judge`."""
        result = await asyncio.to_thread(lambda: self.service.judge(approval_id, approve=approve))
        return dataclasses.asdict(result)
