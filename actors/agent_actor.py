"""One actor per enabled agent: it owns the agent's backend and streams its events.

Restart policy (chosen in bootstrap): ``AT_MOST_ONCE`` — restarted without limit, but a call
interrupted by a crash is **not** retried by Ray. The gateway router is the single retry
owner; a Ray-level retry of ``stream`` would re-run an attempt the router has already
classified as failed (and charged to its retry budget), so a crash mid-stream must surface
to the router as a cut stream, which :class:`~actors._remote_backend.RemoteAgentBackend`
does. The actor keeps no state worth rebuilding: a restart builds a fresh backend.

Events travel in batches: each streamed item is a JSON array of every event the backend had
produced by then. One Ray object costs far more than one small event (an object-store put
here, a get in the gateway, a task-manager round trip), and an upstream usually delivers
several SSE frames in one read, so "start" and the first deltas, or the last delta, usage
and "final", ride together. A batch is sent as soon as anything is ready — nothing waits to
fill it — so time to first token is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping

from actors.agent_stream import AgentBackend, AgentRequest
from actors.agents.config import AgentConfig
from actors.agents.factory import build_backend

__all__ = ["AgentActor"]


class AgentActor:
    """Hosts one agent backend.

    Args:
        agent: the agent's config.
        base_env: environment to read the agent's credentials from (default: the actor's).
        backend: an already-built backend (tests); default builds one from ``agent``.
    """

    def __init__(
        self,
        agent: AgentConfig,
        base_env: Mapping[str, str] | None = None,
        backend: AgentBackend | None = None,
    ) -> None:
        self._agent = agent
        self._backend = backend or build_backend(agent, base_env=base_env)
        self._streams = 0
        self._active = 0

    async def stream(self, request_json: str) -> AsyncIterator[str]:
        """Run one attempt; yield its StreamEvents in JSON arrays (call with streaming returns).

        Args:
            request_json: an :class:`~actors.agent_stream.AgentRequest` as JSON.

        Yields:
            JSON arrays of normalised events, in order, the last ending with ``final`` or a
            terminal ``error``; each holds everything produced since the previous one.

        Raises:
            Exception: whatever the backend raised, after the events it produced first.
        """
        request = AgentRequest.model_validate_json(request_json)
        self._streams += 1
        self._active += 1
        ready: asyncio.Queue[str | None] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(request, ready))
        try:
            ended = False
            while not ended:
                batch = [await ready.get()]
                await asyncio.sleep(0)  # let the backend add what it already has buffered
                while not ready.empty():
                    batch.append(ready.get_nowait())
                ended = batch[-1] is None
                events = [e for e in batch if e is not None]
                if events:
                    yield "[" + ",".join(events) + "]"
            await pump  # re-raise a backend failure
        finally:
            self._active -= 1
            if not pump.done():  # the caller went away: stop the upstream call too
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _pump(self, request: AgentRequest, ready: asyncio.Queue[str | None]) -> None:
        try:
            async for event in self._backend.stream(request):
                ready.put_nowait(event.model_dump_json())
        finally:
            ready.put_nowait(None)

    def health(self) -> dict[str, object]:
        """Name, backend kind, process id and stream counters."""
        return {
            "name": self._agent.name,
            "backend": self._agent.backend,
            "pid": os.getpid(),
            "streams": self._streams,
            "active": self._active,
        }

    async def aclose(self) -> None:
        """Release the backend's resources."""
        await self._backend.aclose()
