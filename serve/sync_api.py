"""The sync routes: ``/api/v1/clients``, ``/api/v1/sync/...``, ``/api/v1/conflicts``.

Mounted through ``build_app(..., extra_routers=[sync_router(services)])`` so the app's guard
(token, Host, Origin) covers them. Answers pass through the API's redaction as a second line
of defence; the orchestrator already returns only hashes, redacted diffs and fingerprints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from events.errors import ActorError
from serve._redact import redact
from serve.sync_services import CLIENT_SQL, CONFLICT_SQL, LOG_SQL, SyncServices

__all__ = ["ApplyRequest", "ResolveRequest", "sync_router"]

_ID = r"^[A-Za-z0-9_:@.\-]{1,200}$"


class ApplyRequest(BaseModel):
    """Apply the plan with this hash."""

    model_config = ConfigDict(extra="forbid")
    plan_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class ResolveRequest(BaseModel):
    """Take one client's side, or give the value to adopt."""

    model_config = ConfigDict(extra="forbid")
    take: str | None = Field(default=None, max_length=64)
    value: dict[str, Any] | None = None


def sync_router(services: SyncServices) -> APIRouter:
    """Build the sync router over ``services``."""
    router = APIRouter(prefix="/api/v1", tags=["sync"])

    @router.get("/clients")
    async def clients() -> list[dict[str, Any]]:
        """Each client file: last seen, hash, and in-sync / drifted / conflict / error."""
        return redact(await services.rows(CLIENT_SQL))  # type: ignore[no-any-return]

    @router.get("/sync/status")
    async def status() -> dict[str, Any]:
        """Mode, effective policy, files per client, open decisions and write breakers."""
        return redact(await services.status())  # type: ignore[no-any-return]

    @router.post("/sync/plan")
    async def plan() -> dict[str, Any]:
        """Rescan and return the plan: hash, redacted unified diffs, pending decisions."""
        return redact(await services.plan())  # type: ignore[no-any-return]

    @router.post("/sync/apply")
    async def apply(body: ApplyRequest) -> dict[str, Any]:
        """Apply a plan by hash; 409 when anything changed since it was made."""
        result = await services.apply(body.plan_hash)
        if result.get("stale"):
            raise HTTPException(409, "the plan changed since it was made; plan again")
        return result

    @router.post("/sync/revert/{write_id}")
    async def revert(write_id: Annotated[str, Path(pattern=_ID)]) -> dict[str, Any]:
        """Restore the exact bytes a write replaced (recorded as ChangeReverted)."""
        try:
            return await services.revert(write_id)
        except ActorError as e:
            raise HTTPException(409, redact(e.message)) from e

    @router.get("/sync/log")
    async def log(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        """Recent writes, reverts and abandoned writes."""
        return redact(await services.rows(LOG_SQL.format(limit=int(limit))))  # type: ignore[no-any-return]

    @router.post("/sync/approve-deletions/{client}")
    async def approve(client: Annotated[str, Path(pattern=_ID)]) -> dict[str, Any]:
        """Approve the deletions held back for one client."""
        return await services.approve_deletions(client)

    @router.get("/conflicts")
    async def conflicts() -> dict[str, Any]:
        """Conflicts recorded in the read model, and those open right now."""
        rows = await services.rows(CONFLICT_SQL)
        current = (await services.status()).get("open", [])
        return redact({"conflicts": rows, "open": current})  # type: ignore[no-any-return]

    @router.post("/conflicts/{conflict_id}/resolve")
    async def resolve(
        conflict_id: Annotated[str, Path(pattern=_ID)],
        body: Annotated[ResolveRequest, Body()],
    ) -> dict[str, Any]:
        """Settle a conflict by taking a client's side or giving a value."""
        if (body.take is None) == (body.value is None):
            raise HTTPException(422, "give exactly one of take or value")
        try:
            return await services.resolve(conflict_id, body.take, body.value)
        except ActorError as e:
            raise HTTPException(404, redact(e.message)) from e

    _add_breaker_routes(router, services)
    return router


def _add_breaker_routes(router: APIRouter, services: SyncServices) -> None:
    @router.post("/sync/resume/{client}")
    async def resume(client: Annotated[str, Path(pattern=_ID)]) -> dict[str, Any]:
        """Close one client's open write breakers (reliability E7) and rescan it."""
        try:
            return await services.resume(client)
        except ActorError as e:
            raise HTTPException(501, redact(e.message)) from e
