"""The gRPC service: bearer auth, request validation, refusals as status codes, conversion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from serve.agent_services import AgentApiError, AgentServices, TaskRequest
from serve.grpc import synapse_pb2 as pb
from serve.grpc.service import GrpcGateway, GrpcRefusedError, bearer_token_ok

TOKEN = "install-token-0123456789"


class FakeContext:
    """Records the status a call sets, like Serve's RayServegRPCContext."""

    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.metadata = metadata
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self.metadata

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details


class FakeServices(AgentServices):
    """Answers every task with an echo; refuses the agent called ``ghost``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, TaskRequest]] = []

    async def agents(self) -> list[dict[str, Any]]:
        return [{"name": "a", "backend": "scripted", "capabilities": ["plan"], "enabled": True}]

    async def agent_kinds(self) -> dict[str, str]:
        return {"a": "scripted"}

    async def check_task(self, request_id: str, task: TaskRequest) -> None:
        if task.agent == "ghost":
            raise AgentApiError(404, "unknown_agent", "no agent ghost")

    async def run_task(self, request_id: str, task: TaskRequest) -> dict[str, Any]:
        await self.check_task(request_id, task)
        self.seen.append((request_id, task))
        return {"text": task.prompt.upper(), "agent": "a", "attempts": 1, "ok": True}

    async def stream_task(
        self, request_id: str, task: TaskRequest
    ) -> AsyncIterator[dict[str, Any]]:
        yield {"seq": 0, "kind": "start", "data": {"agent": "a"}}
        yield {"seq": 1, "kind": "delta", "text": task.prompt}
        yield {"seq": 2, "kind": "final", "data": {"ok": True}}

    async def start_workflow(self, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def approve(self, workflow_id: str, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def reject(self, workflow_id: str, request: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def workflows(self) -> list[dict[str, Any]]:
        raise NotImplementedError


def _authed() -> FakeContext:
    return FakeContext([("application", "synapse"), ("authorization", f"Bearer {TOKEN}")])


async def _collect(gen: AsyncIterator[pb.TaskEvent]) -> list[pb.TaskEvent]:
    return [e async for e in gen]


def test_bearer_token_must_match_exactly() -> None:
    """Only `authorization: Bearer <token>` with the exact token passes."""
    assert bearer_token_ok([("authorization", f"Bearer {TOKEN}")], TOKEN)
    assert bearer_token_ok([("Authorization", f"bearer {TOKEN}")], TOKEN)
    assert not bearer_token_ok([], TOKEN)
    assert not bearer_token_ok([("authorization", f"Basic {TOKEN}")], TOKEN)
    assert not bearer_token_ok([("authorization", f"Bearer {TOKEN}x")], TOKEN)


def test_run_task_answers_with_the_services_reply() -> None:
    """An authenticated RunTask maps the answer into a TaskReply; the key becomes the id."""
    services = FakeServices()
    gw = GrpcGateway(services, TOKEN)
    request = pb.TaskRequest(capability="plan", prompt="hi", request_id="k1")
    reply = asyncio.run(gw.run_task(request, _authed()))
    assert (reply.text, reply.agent, reply.attempts, reply.ok) == ("HI", "a", 1, True)
    assert reply.request_id == services.seen[0][0]
    assert reply.request_id.startswith("idem-")


@pytest.mark.parametrize("meta", [[], [("authorization", "Bearer nope")]])
def test_calls_without_the_token_are_unauthenticated(meta: list[tuple[str, str]]) -> None:
    """Every RPC without the right token raises with UNAUTHENTICATED set; nothing runs."""
    services = FakeServices()
    gw = GrpcGateway(services, TOKEN)
    request = pb.TaskRequest(capability="plan", prompt="hi")
    for call in (
        lambda ctx: gw.run_task(request, ctx),
        lambda ctx: _collect(gw.stream_task(request, ctx)),
        lambda ctx: gw.list_agents(pb.Empty(), ctx),
    ):
        ctx = FakeContext(list(meta))
        with pytest.raises(GrpcRefusedError):
            asyncio.run(call(ctx))
        assert ctx.code is grpc.StatusCode.UNAUTHENTICATED
    assert services.seen == []


def test_invalid_request_is_invalid_argument() -> None:
    """An unknown capability or empty prompt fails with INVALID_ARGUMENT."""
    gw = GrpcGateway(FakeServices(), TOKEN)
    for request in (
        pb.TaskRequest(capability="dance", prompt="hi"),
        pb.TaskRequest(capability="plan", prompt=""),
    ):
        ctx = _authed()
        with pytest.raises(GrpcRefusedError):
            asyncio.run(gw.run_task(request, ctx))
        assert ctx.code is grpc.StatusCode.INVALID_ARGUMENT


def test_refusals_map_to_status_codes_before_streaming() -> None:
    """A refused stream fails with NOT_FOUND before yielding any event."""
    gw = GrpcGateway(FakeServices(), TOKEN)
    ctx = _authed()
    request = pb.TaskRequest(capability="plan", prompt="hi", agent="ghost")
    with pytest.raises(GrpcRefusedError):
        asyncio.run(_collect(gw.stream_task(request, ctx)))
    assert ctx.code is grpc.StatusCode.NOT_FOUND
    assert "unknown_agent" in ctx.details


def test_stream_task_relays_events_in_order() -> None:
    """StreamTask converts each event dict, data as JSON, ending with final."""
    gw = GrpcGateway(FakeServices(), TOKEN)
    events = asyncio.run(
        _collect(gw.stream_task(pb.TaskRequest(capability="plan", prompt="x"), _authed()))
    )
    assert [(e.seq, e.kind) for e in events] == [(0, "start"), (1, "delta"), (2, "final")]
    assert events[1].text == "x"
    assert events[2].data_json == '{"ok": true}'


def test_list_agents_converts_rows() -> None:
    """ListAgents returns one Agent per row with defaults for missing fields."""
    gw = GrpcGateway(FakeServices(), TOKEN)
    agents = asyncio.run(gw.list_agents(pb.Empty(), _authed())).agents
    assert [(a.name, a.backend, list(a.capabilities), a.enabled) for a in agents] == [
        ("a", "scripted", ["plan"], True)
    ]
