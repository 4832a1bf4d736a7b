"""Floors under Synapse's gateway: apps with its transport and none of its work.

``Floor`` is the least a Serve-hosted gateway can do: Serve hands the request to a replica
(directly, or through its proxy), which streams one chat completion from the fake upstream with
aiohttp (the client Synapse's openai agents use) and answers JSON. No FastAPI, no actors, no
events, no auth. Its added latency against a direct call is the part of Synapse's added latency
that the design card's "Ray Serve exposes the HTTP endpoints" fixes before any gateway code
runs.

``ShapeFloor`` adds the design card's actors. A leaf actor (Synapse's agent actor) streams the
completion as a Ray streaming generator of two objects (the first token, then the rest), as
Synapse's agent actor sends them; with one hop the replica takes that stream itself, with two
it calls a relay actor (Synapse's gateway actor) that does. Still no routing, no events, no
projection: what "each agent is a Ray actor behind Ray Serve" costs before Synapse does
anything.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import ray
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from serve.deployments import routed_port, serve_proxy_port

ROUTE = "/floor"


async def _completion(
    session: aiohttp.ClientSession, base: str, prompt: str
) -> AsyncIterator[tuple[int, str]]:
    """Stream one chat completion; yield (status, content) per content chunk, then (status, "")."""
    payload = {"model": "fake", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    async with session.post(f"{base}/chat/completions", json=payload) as response:
        async for raw in response.content:
            line = raw.decode().rstrip()
            if line.startswith("data: {"):
                chunk: Any = json.loads(line[6:])
                choices = chunk.get("choices") or ()  # the last chunk may have none
                text = "".join(c.get("delta", {}).get("content") or "" for c in choices)
                if text:
                    yield response.status, text
        yield response.status, ""


def _client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))


#: Synapse's actors and replica hold no CPU either (actors/supervision.py): on a 2-CPU machine
#: a replica holding one would leave the next app unschedulable.
_NO_CPU = {"num_cpus": 0}


@serve.deployment(max_ongoing_requests=256, ray_actor_options=_NO_CPU)
class Floor:
    """Forward ``{"prompt": ...}`` to the upstream's streaming chat completions."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, request: Request) -> JSONResponse:
        body = await request.json()
        if self.session is None:  # made inside the replica's event loop
            self.session = _client()
        parts: list[str] = []
        ok = False
        async for status, text in _completion(self.session, self.base, body["prompt"]):
            parts.append(text)
            ok = status == 200
        return JSONResponse({"ok": ok, "text": "".join(parts)})


class Leaf:
    """The agent actor's transport: streams a completion as two Ray objects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session: aiohttp.ClientSession | None = None

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        if self.session is None:
            self.session = _client()
        held: list[str] = []
        first = True
        async for status, text in _completion(self.session, self.base, prompt):
            if status != 200:
                yield json.dumps({"ok": False})
                return
            held.append(text)
            if first:
                first = False
                yield json.dumps({"text": "".join(held)})
                held = []
        yield json.dumps({"ok": True, "text": "".join(held)})


async def _relay(leaf: Any, prompt: str) -> dict[str, Any]:
    """Take the leaf's stream for ``prompt`` and answer JSON (what Synapse's gateway does)."""
    parts: list[str] = []
    ok = False
    async for ref in leaf.stream.options(num_returns="streaming").remote(prompt):
        item = json.loads(await ref)
        parts.append(item.get("text", ""))
        ok = bool(item.get("ok", ok))
    return {"ok": ok, "text": "".join(parts)}


class Relay:
    """The gateway actor's transport: one plain call in, the leaf's stream out."""

    def __init__(self, leaf: Any) -> None:
        self.leaf = leaf

    async def run(self, prompt: str) -> dict[str, Any]:
        return await _relay(self.leaf, prompt)


@serve.deployment(max_ongoing_requests=256, ray_actor_options=_NO_CPU)
class ShapeFloor:
    """Forward ``{"prompt": ...}`` to a relay actor (two hops) or straight to a leaf (one)."""

    def __init__(self, leaf: Any, relay: Any = None) -> None:
        self.leaf = leaf
        self.relay = relay

    async def __call__(self, request: Request) -> JSONResponse:
        prompt = (await request.json())["prompt"]
        if self.relay is None:
            return JSONResponse(await _relay(self.leaf, prompt))
        return JSONResponse(await self.relay.run.remote(prompt))


def route(hops: int) -> str:
    """The path of the floor app with ``hops`` actor hops behind its replica."""
    return ROUTE if hops == 0 else f"{ROUTE}{hops}"


def deploy_floor(base: str, url: str, *, direct: bool, hops: int = 0) -> str:
    """Run a floor app beside Synapse's (``url``); return its URL.

    ``hops`` 0 is :class:`Floor`; 1 is :class:`ShapeFloor` over a leaf actor (the least the
    design card allows: Serve, then the agent's actor); 2 adds the relay actor (Synapse's
    shape: Serve, gateway actor, agent actor). It reaches requests the way Synapse's app
    does: through its own port with direct ingress (:mod:`serve.ingress`), else through the
    same proxy.
    """
    # The replica cannot import the benchmarks package: ship this module by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    name = route(hops).strip("/")
    if hops == 0:
        app = Floor.bind(base)
    else:
        # The concurrency limits Synapse gives its agent and gateway actors (bootstrap.py).
        leaf = ray.remote(max_concurrency=64, **_NO_CPU)(Leaf).remote(base)
        relay = ray.remote(max_concurrency=256, **_NO_CPU)(Relay).remote(leaf) if hops > 1 else None
        app = ShapeFloor.bind(leaf, relay)
    serve.run(app, name=name, route_prefix=route(hops))
    port = routed_port(name, "HTTP", direct=direct)
    return f"{url.rsplit(':', 1)[0]}:{port}" if port else url


def proxy_url(url: str) -> str:
    """``url`` with the port of Serve's proxy, which also routes ``/floor`` (the old path)."""
    return f"{url.rsplit(':', 1)[0]}:{serve_proxy_port()}"
