"""``synapse.v1.Gateway`` through Ray Serve's gRPC proxy on a real local cluster.

A scripted agent answers; calls carry the per-install token as bearer metadata, and calls
without it are refused with ``UNAUTHENTICATED``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from serve.grpc import synapse_pb2 as pb
from serve.grpc import synapse_pb2_grpc as pb_grpc
from synapse import bootstrap
from synapse.settings import load_settings

pytestmark = pytest.mark.ray

AGENTS_TOML = """
[[agents]]
name = "steady"
backend = "scripted"
capabilities = ["plan", "code", "review", "analyze"]
"""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("home")
    (home / "agents.toml").write_text(AGENTS_TOML)
    settings = load_settings(
        {}, home=home, namespace=f"grpc-{uuid.uuid4().hex[:6]}", poll_interval_s=0.2
    )
    running = bootstrap.start_system(settings, detached=False, port=0, grpc_port=0)
    try:
        yield running
    finally:
        bootstrap.stop_attached()


@pytest.fixture
def stub(system: Any) -> Iterator[pb_grpc.GatewayStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{system.grpc_port}")
    grpc.channel_ready_future(channel).result(timeout=60)
    try:
        yield pb_grpc.GatewayStub(channel)
    finally:
        channel.close()


def _meta(system: Any, token: str | None) -> list[tuple[str, str]]:
    meta = [("application", "synapse")]
    if token is not None:
        meta.append(("authorization", f"Bearer {token}"))
    return meta


def test_run_task_with_the_token_is_answered(system: Any, stub: pb_grpc.GatewayStub) -> None:
    """RunTask with the bearer token returns the scripted agent's answer."""
    request = pb.TaskRequest(capability="plan", prompt="plan the work", agent="steady")
    reply = stub.RunTask(request, metadata=_meta(system, system.token), timeout=60)
    assert reply.ok
    assert reply.agent == "steady"
    assert reply.text


def test_stream_task_ends_with_one_final(system: Any, stub: pb_grpc.GatewayStub) -> None:
    """StreamTask yields increasing seq, deltas, and exactly one final with the summary."""
    request = pb.TaskRequest(capability="analyze", prompt="look at this")
    events = list(stub.StreamTask(request, metadata=_meta(system, system.token), timeout=60))
    kinds = [e.kind for e in events]
    assert kinds.count("final") == 1
    assert kinds[-1] == "final"
    assert "delta" in kinds
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert json.loads(events[-1].data_json)["ok"] is True


def test_list_agents_shows_the_scripted_agent(system: Any, stub: pb_grpc.GatewayStub) -> None:
    """ListAgents lists the configured agent with its breaker state."""
    agents = stub.ListAgents(pb.Empty(), metadata=_meta(system, system.token), timeout=60)
    assert [a.name for a in agents.agents] == ["steady"]
    assert agents.agents[0].breaker == "closed"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_calls_without_the_token_are_unauthenticated(
    system: Any, stub: pb_grpc.GatewayStub, token: str | None
) -> None:
    """RunTask and StreamTask without the right token fail with UNAUTHENTICATED."""
    request = pb.TaskRequest(capability="plan", prompt="plan the work")
    with pytest.raises(grpc.RpcError) as unary:
        stub.RunTask(request, metadata=_meta(system, token), timeout=60)
    assert unary.value.code() is grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as streamed:
        list(stub.StreamTask(request, metadata=_meta(system, token), timeout=60))
    assert streamed.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_metrics_expose_the_gateway_gauges(system: Any, stub: pb_grpc.GatewayStub) -> None:
    """GET /metrics carries the breaker state per agent and the attempts-per-request ratio."""
    stub.RunTask(
        pb.TaskRequest(capability="plan", prompt="count me"),
        metadata=_meta(system, system.token),
        timeout=60,
    )
    headers = {"Authorization": f"Bearer {system.token}"}
    text = httpx.get(f"{system.url}/metrics", headers=headers, timeout=30).text
    assert 'synapse_agent_breaker_state{agent="steady"} 0' in text
    assert "synapse_gateway_attempts_per_request" in text
