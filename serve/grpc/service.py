"""The ``synapse.v1.Gateway`` gRPC service over :class:`~serve.agent_services.AgentServices`.

Ray Serve's gRPC proxy routes a call to the deployment method named like the RPC
(``RunTask``, ``StreamTask``, ``ListAgents``); those methods delegate here, so everything but
the Serve wiring is plain Python tested with in-process services and a fake context.

Every call must carry the per-install token as ``authorization: Bearer <token>`` metadata,
the same token the HTTP API checks; otherwise it fails with ``UNAUTHENTICATED``. Refusals
from the gateway become gRPC status codes (404 → ``NOT_FOUND``, 422 → ``INVALID_ARGUMENT``,
503 → ``UNAVAILABLE``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import grpc
from pydantic import ValidationError

from events.errors import SynapseError
from serve.agent_services import AgentApiError, AgentServices, TaskRequest
from serve.agents_api import request_id_for
from serve.grpc import synapse_pb2 as pb

__all__ = [
    "GrpcContext",
    "GrpcGateway",
    "GrpcRefusedError",
    "bearer_token_ok",
    "status_for",
]

_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


class GrpcRefusedError(SynapseError):
    """A call refused with the status code already set on its context.

    It carries only a message, so it survives the pickling trip from the replica to the
    proxy (an :class:`AgentApiError` with its three arguments would not).
    """


class GrpcContext(Protocol):
    """The part of Serve's ``RayServegRPCContext`` the service uses."""

    def invocation_metadata(self) -> list[tuple[str, str]]:
        """The call's metadata as (key, value) pairs."""
        ...

    def set_code(self, code: grpc.StatusCode) -> None:
        """Set the status the proxy answers with."""
        ...

    def set_details(self, details: str) -> None:
        """Set the status message."""
        ...


def bearer_token_ok(metadata: Iterable[tuple[str, str]], token: str) -> bool:
    """True when ``metadata`` carries ``authorization: Bearer <token>`` (constant-time)."""
    for key, value in metadata:
        if key.lower() != "authorization":
            continue
        scheme, _, given = str(value).partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    return False


def status_for(http_status: int) -> grpc.StatusCode:
    """The gRPC status code for one of the agent services' HTTP refusal statuses."""
    return _STATUS.get(http_status, grpc.StatusCode.UNKNOWN)


class GrpcGateway:
    """Implements the three RPCs; each fails by setting the context's code and raising.

    Args:
        services: the agent services the HTTP routes use too.
        token: the per-install token every call must present.
    """

    def __init__(self, services: AgentServices, token: str) -> None:
        self._services = services
        self._token = token

    async def run_task(self, request: pb.TaskRequest, context: GrpcContext) -> pb.TaskReply:
        """Serve one task to completion.

        Raises:
            GrpcRefusedError: unauthenticated, invalid or refused (code set on ``context``).
        """
        request_id, task = self._admit(request, context)
        try:
            answer = await self._services.run_task(request_id, task)
        except AgentApiError as exc:
            _fail(context, exc)
        return _reply(request_id, answer)

    async def stream_task(
        self, request: pb.TaskRequest, context: GrpcContext
    ) -> AsyncIterator[pb.TaskEvent]:
        """Serve one task, yielding its events (``seq`` increasing, one ``final`` last).

        Raises:
            GrpcRefusedError: unauthenticated, invalid or refused before the first event.
        """
        request_id, task = self._admit(request, context)
        try:
            await self._services.check_task(request_id, task)
        except AgentApiError as exc:
            _fail(context, exc)
        async for event in self._services.stream_task(request_id, task):
            yield _event(event)

    async def list_agents(self, request: pb.Empty, context: GrpcContext) -> pb.AgentList:
        """One row per configured agent.

        Raises:
            GrpcRefusedError: unauthenticated.
        """
        self._authenticate(context)
        rows = await self._services.agents()
        return pb.AgentList(agents=[_agent(row) for row in rows])

    def _authenticate(self, context: GrpcContext) -> None:
        if not bearer_token_ok(context.invocation_metadata(), self._token):
            _fail(context, AgentApiError(401, "unauthenticated", "missing or wrong bearer token"))

    def _admit(self, request: pb.TaskRequest, context: GrpcContext) -> tuple[str, TaskRequest]:
        self._authenticate(context)
        try:
            task = TaskRequest(
                capability=request.capability,  # type: ignore[arg-type]  # validated here
                agent=request.agent or "any",
                prompt=request.prompt,
                context=request.context,
                argv=tuple(request.argv),
                cwd=request.cwd or None,
            )
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            _fail(context, AgentApiError(422, "invalid_request", detail))
        return request_id_for(request.request_id or None), task


def _fail(context: GrpcContext, exc: AgentApiError) -> Any:
    """Set the status on ``context`` and raise (Serve keeps a code set before a raise)."""
    details = f"{exc.code}: {exc.detail}"
    context.set_code(status_for(exc.status))
    context.set_details(details)
    raise GrpcRefusedError(details) from exc


def _reply(request_id: str, answer: dict[str, Any]) -> pb.TaskReply:
    return pb.TaskReply(
        request_id=request_id,
        text=str(answer.get("text") or ""),
        agent=str(answer.get("agent") or ""),
        attempts=int(answer.get("attempts") or 0),
        fallback=str(answer.get("fallback") or ""),
        degraded=bool(answer.get("degraded")),
        ok=bool(answer.get("ok")),
    )


def _event(event: dict[str, Any]) -> pb.TaskEvent:
    data = event.get("data")
    return pb.TaskEvent(
        seq=int(event.get("seq") or 0),
        kind=str(event.get("kind") or ""),
        text=str(event.get("text") or ""),
        is_error=bool(event.get("is_error")),
        data_json=json.dumps(data) if data else "",
    )


def _agent(row: dict[str, Any]) -> pb.Agent:
    return pb.Agent(
        name=str(row.get("name", "")),
        backend=str(row.get("backend", "")),
        capabilities=[str(c) for c in row.get("capabilities", ())],
        enabled=bool(row.get("enabled")),
        breaker=str(row.get("breaker", "")),
        error_rate=float(row.get("error_rate") or 0.0),
        ewma_latency_ms=float(row.get("ewma_latency_ms") or 0.0),
        in_flight=int(row.get("in_flight") or 0),
    )
