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
from events.secrets import looks_like_credential
from serve._redact import redact
from serve.auth import needs
from serve.schemas import (
    ApprovalList,
    ClientFile,
    ConflictList,
    EntityState,
    LossRecord,
    ResumeOutcome,
    SyncLogRow,
    SyncOutcome,
    SyncPlan,
    SyncStatus,
)
from serve.sync_services import (
    CLIENT_SQL,
    CONFLICT_SQL,
    ENTITY_SQL,
    LOG_SQL,
    LOSS_SQL,
    SyncServices,
)
from serve.users import Role

__all__ = ["ApplyRequest", "ResolveRequest", "sync_router"]

_ID = r"^[A-Za-z0-9_:@.\-]{1,200}$"
# The response models document backend dicts; an absent field must stay absent.
_AS_IS: dict[str, Any] = {"response_model_exclude_unset": True}


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
    _add_read_routes(router, services)

    # A plan rescans and records what it saw, but writes no client file: a viewer may ask.
    @router.post("/sync/plan", response_model=SyncPlan, **_AS_IS, **needs(Role.VIEWER))
    async def plan() -> dict[str, Any]:
        """Rescan and return the plan: hash, redacted unified diffs, pending decisions."""
        return redact(await services.plan())  # type: ignore[no-any-return]

    @router.post("/sync/apply", response_model=SyncOutcome, **_AS_IS, **needs(Role.OPERATOR))
    async def apply(body: ApplyRequest) -> dict[str, Any]:
        """Apply a plan by hash; 409 when anything changed since it was made."""
        result = await services.apply(body.plan_hash)
        if result.get("stale"):
            raise HTTPException(409, "the plan changed since it was made; plan again")
        return result

    @router.post(
        "/sync/revert/{write_id}",
        response_model=SyncOutcome,
        **_AS_IS,
        **needs(Role.OPERATOR),
    )
    async def revert(write_id: Annotated[str, Path(pattern=_ID)]) -> dict[str, Any]:
        """Restore the exact bytes a write replaced (recorded as ChangeReverted)."""
        try:
            return await services.revert(write_id)
        except ActorError as e:
            raise HTTPException(409, redact(e.message)) from e

    @router.get("/sync/log", response_model=list[SyncLogRow], **_AS_IS)
    async def log(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        """Recent writes, reverts and abandoned writes."""
        return redact(await services.rows(LOG_SQL.format(limit=int(limit))))  # type: ignore[no-any-return]

    @router.post(
        "/sync/approve-deletions/{client}",
        response_model=SyncOutcome,
        **_AS_IS,
        **needs(Role.OPERATOR),
    )
    async def approve(client: Annotated[str, Path(pattern=_ID)]) -> dict[str, Any]:
        """Approve the deletions held back for one client."""
        return await services.approve_deletions(client)

    @router.get("/conflicts", response_model=ConflictList, **_AS_IS)
    async def conflicts() -> dict[str, Any]:
        """Conflicts recorded in the read model, and those open right now."""
        rows = await services.rows(CONFLICT_SQL)
        current = (await services.status()).get("open", [])
        return redact({"conflicts": rows, "open": current})  # type: ignore[no-any-return]

    @router.post(
        "/conflicts/{conflict_id}/resolve",
        response_model=SyncOutcome,
        **_AS_IS,
        **needs(Role.OPERATOR),
    )
    async def resolve(
        conflict_id: Annotated[str, Path(pattern=_ID)],
        body: Annotated[ResolveRequest, Body()],
    ) -> dict[str, Any]:
        """Settle a conflict by taking a client's side or giving a value."""
        if (body.take is None) == (body.value is None):
            raise HTTPException(422, "give exactly one of take or value")
        markdown = (body.value or {}).get("markdown")
        if isinstance(markdown, str) and looks_like_credential(markdown):
            # an instruction conflict's text; refused before it reaches a file or an event
            msg = "refused: the value looks like a credential, and secrets are never synced"
            raise HTTPException(422, msg)
        try:
            return await services.resolve(conflict_id, body.take, body.value)
        except ActorError as e:
            raise HTTPException(404, redact(e.message)) from e

    _add_breaker_routes(router, services)
    _add_approval_routes(router, services)
    return router


def _add_read_routes(router: APIRouter, services: SyncServices) -> None:
    @router.get("/clients", response_model=list[ClientFile], **_AS_IS)
    async def clients() -> list[dict[str, Any]]:
        """Each client file: last seen, hash, and in-sync / drifted / conflict / error."""
        return redact(await services.rows(CLIENT_SQL))  # type: ignore[no-any-return]

    @router.get("/sync/entities", response_model=list[EntityState], **_AS_IS)
    async def entities() -> list[dict[str, Any]]:
        """Each entity as each client holds it: digest and in-sync / drifted / conflict."""
        return redact(await services.rows(ENTITY_SQL))  # type: ignore[no-any-return]

    @router.get("/sync/losses", response_model=list[LossRecord], **_AS_IS)
    async def losses() -> list[dict[str, Any]]:
        """Fields each client cannot express, and why."""
        return redact(await services.rows(LOSS_SQL))  # type: ignore[no-any-return]

    @router.get("/sync/status", response_model=SyncStatus, **_AS_IS)
    async def status() -> dict[str, Any]:
        """Mode, effective policy, files per client, open decisions and write breakers."""
        return redact(await services.status())  # type: ignore[no-any-return]


def _add_approval_routes(router: APIRouter, services: SyncServices) -> None:
    @router.get("/sync/approvals", response_model=ApprovalList, **_AS_IS)
    async def approvals() -> dict[str, Any]:
        """Changes that would run new code (project MCP servers) and held deletions."""
        return redact({"approvals": await services.approvals()})  # type: ignore[no-any-return]

    @router.post(
        "/sync/approvals/{approval_id}/{verdict}",
        response_model=SyncOutcome,
        **_AS_IS,
        **needs(Role.OPERATOR),
    )
    async def judge(
        approval_id: Annotated[str, Path(pattern=_ID)],
        verdict: Annotated[str, Path(pattern=r"^(approve|reject)$")],
    ) -> dict[str, Any]:
        """Approve (written now in apply mode, at the next apply in observe mode) or reject
        (not asked again until the value changes); 404 for an unknown or outdated id."""
        try:
            return await services.judge(approval_id, approve=verdict == "approve")
        except ActorError as e:
            detail = f"{e.message} ({e.hint})" if e.hint else e.message
            raise HTTPException(404, redact(detail)) from e


def _add_breaker_routes(router: APIRouter, services: SyncServices) -> None:
    @router.post(
        "/sync/resume/{client}",
        response_model=ResumeOutcome,
        **_AS_IS,
        **needs(Role.OPERATOR),
    )
    async def resume(client: Annotated[str, Path(pattern=_ID)]) -> dict[str, Any]:
        """Close one client's open write breakers (reliability E7) and rescan it."""
        try:
            return await services.resume(client)
        except ActorError as e:
            raise HTTPException(501, redact(e.message)) from e
