"""One actor per enabled agent: it owns the agent's backend and streams its events.

Restart policy (chosen in bootstrap): ``AT_MOST_ONCE`` — restarted without limit, but a call
interrupted by a crash is **not** retried by Ray. The gateway router is the single retry
owner; a Ray-level retry of ``stream`` would re-run an attempt the router has already
classified as failed (and charged to its retry budget), so a crash mid-stream must surface
to the router as a cut stream, which :class:`~actors._remote_backend.RemoteAgentBackend`
does. The actor keeps no state worth rebuilding: a restart builds a fresh backend.
"""

from __future__ import annotations

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
        """Run one attempt; yield its StreamEvents as JSON (call with streaming returns).

        Args:
            request_json: an :class:`~actors.agent_stream.AgentRequest` as JSON.

        Yields:
            Each normalised event as JSON, ending with ``final`` or a terminal ``error``.
        """
        request = AgentRequest.model_validate_json(request_json)
        self._streams += 1
        self._active += 1
        try:
            async for event in self._backend.stream(request):
                yield event.model_dump_json()
        finally:
            self._active -= 1

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
