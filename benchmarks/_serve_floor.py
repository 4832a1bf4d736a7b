"""The floor under any gateway on Ray Serve: an app that only forwards to the upstream.

``Floor`` is the least a Serve-hosted gateway can do: Serve hands the request to a replica
(directly, or through its proxy), which streams one chat completion from the fake upstream with
aiohttp (the client Synapse's openai agents use) and answers JSON. No FastAPI, no actors, no
events, no auth. Its added latency against a direct call is the part of Synapse's added latency
that the design card's "Ray Serve exposes the HTTP endpoints" fixes before any gateway code
runs.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import aiohttp
import ray
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from serve.deployments import routed_port, serve_proxy_port

ROUTE = "/floor"


@serve.deployment(max_ongoing_requests=256)
class Floor:
    """Forward ``{"prompt": ...}`` to the upstream's streaming chat completions."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, request: Request) -> JSONResponse:
        body = await request.json()
        payload = {
            "model": "fake",
            "stream": True,
            "messages": [{"role": "user", "content": body["prompt"]}],
        }
        if self.session is None:  # made inside the replica's event loop
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        parts: list[str] = []
        async with self.session.post(f"{self.base}/chat/completions", json=payload) as response:
            async for raw in response.content:
                line = raw.decode().rstrip()
                if line.startswith("data: {"):
                    chunk: Any = json.loads(line[6:])
                    choices = chunk.get("choices") or ()  # the last chunk may have none
                    parts.extend(c.get("delta", {}).get("content") or "" for c in choices)
        return JSONResponse({"ok": response.status == 200, "text": "".join(parts)})


def deploy_floor(base: str, url: str, *, direct: bool) -> str:
    """Run :class:`Floor` as a second Serve app beside Synapse's (``url``); return its URL.

    It reaches requests the way Synapse's app does: through its own port with direct
    ingress (:mod:`serve.ingress`), else through the same proxy.
    """
    # The replica cannot import the benchmarks package: ship this module by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    serve.run(Floor.bind(base), name="floor", route_prefix=ROUTE)
    port = routed_port("floor", "HTTP", direct=direct)
    return f"{url.rsplit(':', 1)[0]}:{port}" if port else url


def proxy_url(url: str) -> str:
    """``url`` with the port of Serve's proxy, which also routes ``/floor`` (the old path)."""
    return f"{url.rsplit(':', 1)[0]}:{serve_proxy_port()}"
