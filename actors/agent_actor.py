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
from typing import Final, Literal

from actors.agent_stream import AgentBackend, AgentRequest, StreamEvent, StreamKind
from actors.agents.config import AgentConfig
from actors.agents.factory import build_backend
from actors.agents.parsers import is_terminal

__all__ = ["AgentActor"]

_TOKENS = frozenset({StreamKind.DELTA, StreamKind.TOOL_CALL, StreamKind.TOOL_RESULT})
_END: Final = "end"
_DUE: Final = "due"
#: (event JSON, send at once?) from the backend, or a marker: the backend ended, a window ran out.
_Item = tuple[str, int] | Literal["end", "due"]
_TOKEN, _TERMINAL = 1, 2


def _urgency(event: StreamEvent) -> int:
    """Flags of events never held: a token (the first one sets TTFT) and a terminal event."""
    if is_terminal(event):
        return _TERMINAL
    return _TOKEN if event.kind in _TOKENS else 0


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
        ready: asyncio.Queue[_Item] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(request, ready))
        try:
            async for batch in _batches(ready, request.batch_window_s):
                yield "[" + ",".join(batch) + "]"
            await pump  # re-raise a backend failure
        finally:
            self._active -= 1
            if not pump.done():  # the caller went away: stop the upstream call too
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump

    async def _pump(self, request: AgentRequest, ready: asyncio.Queue[_Item]) -> None:
        try:
            async for event in self._backend.stream(request):
                ready.put_nowait((event.model_dump_json(), _urgency(event)))
        finally:
            ready.put_nowait(_END)

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


async def _batches(ready: asyncio.Queue[_Item], window_s: float) -> AsyncIterator[list[str]]:
    """Group the queued events into batches until the backend ends.

    A batch goes out as soon as something is ready, except that with ``window_s > 0`` events
    are held until the first token, the end, or ``window_s`` after the oldest held event.
    """
    loop = asyncio.get_running_loop()
    held: list[str] = []
    timer: asyncio.TimerHandle | None = None
    token_seen = ended = False
    while not ended:
        items = [await ready.get()]
        await asyncio.sleep(0)  # let the backend add what it already has buffered
        while not ready.empty():
            items.append(ready.get_nowait())
        due = window_s <= 0
        for item in items:
            if item == _END:
                ended = True
            elif item == _DUE:
                due = True
            else:
                text, urgency = item
                held.append(text)
                if urgency == _TERMINAL:
                    due = True  # the answer is complete: the backend may still be cleaning up
                elif urgency == _TOKEN and not token_seen:
                    token_seen = due = True  # the first token is never held: TTFT stays true
        if held and (due or ended):
            if timer is not None:
                timer.cancel()
                timer = None
            yield held
            held = []
        elif held and timer is None:
            timer = loop.call_later(window_s, ready.put_nowait, _DUE)
    if timer is not None:
        timer.cancel()
