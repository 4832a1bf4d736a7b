"""An :class:`AgentBackend` that streams from an :class:`~actors.agent_actor.AgentActor`.

The actor handle is passed in, so this module needs no ``import ray``: it calls
``handle.stream.options(num_returns="streaming").remote(json)`` and awaits each yielded
reference, a JSON array of events (the actor batches what is ready at once). Anything the
actor call raises (the actor died, its node went away) becomes a terminal ``error`` event —
``CUT`` after the first event, ``UNKNOWN`` before — so the router
resumes, retries or falls back exactly as for a backend that broke off on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pydantic import TypeAdapter

from actors.agent_stream import AgentBackend, AgentRequest, FailureKind, StreamEvent, StreamKind
from actors.agents.parsers import is_terminal

__all__ = ["RemoteAgentBackend"]

_BATCH = TypeAdapter(list[StreamEvent])


class RemoteAgentBackend(AgentBackend):
    """Streams one agent's attempts from its actor.

    Args:
        name: the agent's configured name.
        handle: the agent actor's handle.
    """

    def __init__(self, name: str, handle: Any) -> None:
        self.name = name
        self._handle = handle

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Relay the actor's events; a broken actor call ends in a terminal error event."""
        next_seq = 0
        try:
            refs = self._handle.stream.options(num_returns="streaming").remote(
                request.model_dump_json()
            )
            async for ref in refs:
                for event in _BATCH.validate_json(await ref):
                    next_seq = event.seq + 1
                    yield event
                    if is_terminal(event):
                        return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any actor failure is a cut stream to the router
            yield StreamEvent(
                seq=next_seq,
                kind=StreamKind.ERROR,
                text=f"agent actor failed: {type(exc).__name__}",
                is_error=True,
                failure=FailureKind.CUT if next_seq else FailureKind.UNKNOWN,
            )
            return
        yield StreamEvent(
            seq=next_seq,
            kind=StreamKind.ERROR,
            text="agent actor stream ended without a final event",
            is_error=True,
            failure=FailureKind.CUT,
        )
