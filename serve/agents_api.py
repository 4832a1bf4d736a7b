"""HTTP routes for agents, tasks and workflows (an ``APIRouter`` passed to ``build_app``).

``POST /api/v1/tasks`` answers JSON, or with ``"stream": true`` a ``text/event-stream`` whose
``id:`` is the event's ``seq``. The request id comes from the ``Idempotency-Key`` header
(hashed, so the same key is the same request) or is random; it is returned in
``X-Task-Id``. Repeating the POST with the same key and ``Last-Event-ID`` — or
``GET /api/v1/tasks/{request_id}/stream`` — replays the rest from a per-request buffer
without running the task again. The original per-CLI paths (``/api/v1/claude/plan`` ...)
map to a task for that capability, hinted to an enabled agent of that backend kind.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from serve._task_streams import TaskStreams
from serve.agent_services import (
    AgentApiError,
    AgentServices,
    ApprovalRequest,
    TaskRequest,
    WorkflowRequest,
)
from serve.auth import ensure_role, needs, principal_of
from serve.schemas import AgentList, WorkflowList, WorkflowRecord
from serve.sse import parse_last_event_id
from serve.users import Role

__all__ = ["LEGACY_PATHS", "LegacyRequest", "agents_router", "request_id_for"]

#: path → (backend kind, capability) of the original API.
LEGACY_PATHS: dict[str, tuple[str, str]] = {
    "/api/v1/claude/plan": ("claude", "plan"),
    "/api/v1/claude/code": ("claude", "code"),
    "/api/v1/gemini/analyze": ("gemini", "analyze"),
    "/api/v1/gemini/review": ("gemini", "review"),
    "/api/v1/codex/execute": ("codex", "execute"),
}
_RETRY_MS = 2000
_MAX_PROMPT = 200_000


class LegacyRequest(BaseModel):
    """Body of the per-CLI paths: a prompt, optional context, nothing about permissions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1, max_length=_MAX_PROMPT)
    context: str = Field(default="", max_length=_MAX_PROMPT)
    stream: bool = False
    argv: tuple[str, ...] = Field(default=(), max_length=64)
    cwd: str | None = Field(default=None, max_length=4096)


def request_id_for(idempotency_key: str | None) -> str:
    """A deterministic request id for an idempotency key, else a random one.

    Ids stay under 32 characters: the projections mask longer alphanumeric runs as likely
    credentials, and the request id travels inside every Task event's command id.
    """
    if idempotency_key:
        return "idem-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
    return "req-" + uuid.uuid4().hex[:20]


def _frame(event: dict[str, Any]) -> bytes:
    kind = str(event.get("kind", "message")).replace("\n", " ")
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        int(event.get("seq", 0)),
        kind.encode(),
        orjson.dumps(event),
    )


def _error(exc: AgentApiError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.detail}, exc.status)


async def _guarded(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except AgentApiError as exc:
        return _error(exc)


async def _sse(buffers: TaskStreams, request_id: str, after: int | None) -> AsyncIterator[bytes]:
    yield b"retry: %d\n\n" % _RETRY_MS
    stream = buffers.get(request_id)
    if stream is None:
        return
    async for event in stream.read(after):
        yield _frame(event)


def _streaming(buffers: TaskStreams, request_id: str, after: int | None) -> StreamingResponse:
    return StreamingResponse(
        _sse(buffers, request_id, after),
        media_type="text/event-stream",
        headers={"X-Task-Id": request_id, "Cache-Control": "no-store"},
    )


def agents_router(services: AgentServices, streams: TaskStreams | None = None) -> APIRouter:
    """Build the agent, task and workflow routes over ``services``.

    Args:
        services: the gateway and workflow operations.
        streams: replay buffers for streamed tasks (a fresh set by default).

    Returns:
        The router (``build_app`` puts it behind the security guard).
    """
    router = APIRouter(tags=["agents"])
    _task_routes(router, services, streams or TaskStreams())
    _workflow_routes(router, services)
    return router


def _task_routes(router: APIRouter, services: AgentServices, buffers: TaskStreams) -> None:

    async def submit(task: TaskRequest, key: str | None, last_id: str | None) -> Response:
        request_id = request_id_for(key)
        after = parse_last_event_id(last_id)
        if task.stream:
            if buffers.get(request_id) is None:
                try:
                    await services.check_task(request_id, task)
                except AgentApiError as exc:
                    return _error(exc)
                buffers.open(request_id, lambda: services.stream_task(request_id, task))
            return _streaming(buffers, request_id, after)
        try:
            answer = await services.run_task(request_id, task)
        except AgentApiError as exc:
            return _error(exc)
        return JSONResponse(answer, headers={"X-Task-Id": request_id})

    # Exclude unset: the model documents the gateway's rows without adding absent fields.
    @router.get("/api/v1/agents", response_model=AgentList, response_model_exclude_unset=True)
    async def list_agents() -> dict[str, Any]:
        """Every configured agent with its breaker state, latency and load."""
        return {"agents": await services.agents()}

    @router.post("/api/v1/tasks", response_model=None, **needs(Role.OPERATOR))
    async def post_task(
        request: Request,
        task: TaskRequest,
        idempotency_key: Annotated[str | None, Header(max_length=256)] = None,
        last_event_id: Annotated[str | None, Header(max_length=32)] = None,
    ) -> Response:
        """Run a task through the gateway: a JSON answer, or an SSE stream (``execute``
        runs a command on this machine: admin only)."""
        if task.capability == "execute":
            ensure_role(request, Role.ADMIN, "the execute lane")
        return await submit(task, idempotency_key, last_event_id)

    @router.get("/api/v1/tasks/{request_id}/stream", response_model=None)
    async def resume_task(
        request_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")],
        last_event_id: Annotated[str | None, Header(max_length=32)] = None,
    ) -> Response:
        """Replay a streamed task's events after ``Last-Event-ID`` (404 once expired)."""
        if buffers.get(request_id) is None:
            return JSONResponse({"error": "no_such_stream", "detail": request_id}, 404)
        return _streaming(buffers, request_id, parse_last_event_id(last_event_id))

    for path, (kind, capability) in LEGACY_PATHS.items():
        lane = Role.ADMIN if capability == "execute" else Role.OPERATOR
        router.add_api_route(
            path,
            _legacy(services, submit, kind, capability),
            methods=["POST"],
            response_model=None,
            **needs(lane),
        )


def _workflow_routes(router: APIRouter, services: AgentServices) -> None:
    @router.post(
        "/api/v1/workflow",
        response_model=WorkflowRecord,
        response_model_exclude_unset=True,
        **needs(Role.OPERATOR),
    )
    async def start_workflow(request: Request, body: WorkflowRequest) -> Any:
        """Start a workflow; it runs in the background up to its approval gate (without
        the gate it reaches execute by itself: admin only)."""
        if not body.approval_required:
            ensure_role(request, Role.ADMIN, "a workflow without the approval gate")
        if body.workflow_id is None:
            body = body.model_copy(update={"workflow_id": f"wf-{uuid.uuid4().hex[:16]}"})
        return await _guarded(services.start_workflow(body))

    @router.get("/api/v1/workflows", response_model=WorkflowList, response_model_exclude_unset=True)
    async def list_workflows() -> Any:
        """Statuses of the known workflows."""
        return {"workflows": await services.workflows()}

    @router.get(
        "/api/v1/workflows/{workflow_id}",
        response_model=WorkflowRecord,
        response_model_exclude_unset=True,
    )
    async def get_workflow(workflow_id: str) -> Any:
        """One workflow's status (404 when unknown)."""
        return await _guarded(services.workflow(workflow_id))

    # Approving releases the gated execute step: the execute lane, admin only.
    @router.post(
        "/api/v1/workflows/{workflow_id}/approve",
        response_model=WorkflowRecord,
        response_model_exclude_unset=True,
        **needs(Role.ADMIN),
    )
    async def approve(request: Request, workflow_id: str, body: ApprovalRequest) -> Any:
        """Release the gated step; the workflow continues in the background."""
        return await _guarded(services.approve(workflow_id, _signed(request, body)))

    @router.post(
        "/api/v1/workflows/{workflow_id}/reject",
        response_model=WorkflowRecord,
        response_model_exclude_unset=True,
        **needs(Role.OPERATOR),
    )
    async def reject(request: Request, workflow_id: str, body: ApprovalRequest) -> Any:
        """Refuse the gated step; the workflow fails."""
        return await _guarded(services.reject(workflow_id, _signed(request, body)))


def _signed(request: Request, body: ApprovalRequest) -> ApprovalRequest:
    """``by`` is the logged-in user, whatever the body says (the install token's caller,
    the CLI, names itself)."""
    principal = principal_of(request)
    if principal is None or principal.via == "token":
        return body
    return body.model_copy(update={"by": principal.name})


def _legacy(
    services: AgentServices,
    submit: Callable[[TaskRequest, str | None, str | None], Awaitable[Response]],
    kind: str,
    capability: str,
) -> Callable[..., Awaitable[Response]]:
    async def legacy(
        body: LegacyRequest,
        idempotency_key: Annotated[str | None, Header(max_length=256)] = None,
        last_event_id: Annotated[str | None, Header(max_length=32)] = None,
    ) -> Response:
        kinds = await services.agent_kinds()
        agent = next((name for name, k in sorted(kinds.items()) if k == kind), "any")
        task = TaskRequest(capability=capability, agent=agent, **body.model_dump())  # type: ignore[arg-type]
        return await submit(task, idempotency_key, last_event_id)

    legacy.__doc__ = f"The original {kind} {capability} path: a {capability} task."
    return legacy
