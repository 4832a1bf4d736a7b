"""How the workflow service reaches the gateway service: in process, or over an actor handle.

:class:`HandleGatewayPort` calls a Ray actor handle's ``.remote`` methods and awaits their
references, which needs no ``import ray``; :class:`LocalGatewayPort` calls a
:class:`~actors.gateway_service.GatewayService` in the same process (tests, single-process
runs). Both are real implementations of one small interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from actors.gateway_service import GatewayService

__all__ = ["GatewayPort", "HandleGatewayPort", "LocalGatewayPort"]


class GatewayPort(ABC):
    """The gateway operations a workflow step needs."""

    @abstractmethod
    async def run(
        self,
        request_id: str,
        capability: str,
        prompt: str,
        argv: Sequence[str] = (),
        cwd: str | None = None,
    ) -> dict[str, Any]:
        """Serve one task; return the gateway's JSON answer (or refusal).

        ``argv`` and ``cwd`` are the command of an ``execute`` task (ignored otherwise).
        """

    @abstractmethod
    async def execute_outcome(self, key: str) -> dict[str, Any] | None:
        """Return the recorded execute outcome for request ``key``, if any."""


class LocalGatewayPort(GatewayPort):
    """A gateway service in this process."""

    def __init__(self, service: GatewayService) -> None:
        self._service = service

    async def run(
        self,
        request_id: str,
        capability: str,
        prompt: str,
        argv: Sequence[str] = (),
        cwd: str | None = None,
    ) -> dict[str, Any]:
        """Call :meth:`GatewayService.run_task` directly."""
        return await self._service.run_task(request_id, capability, prompt, argv=argv, cwd=cwd)

    async def execute_outcome(self, key: str) -> dict[str, Any] | None:
        """Call :meth:`GatewayService.execute_outcome` directly."""
        return self._service.execute_outcome(key)


class HandleGatewayPort(GatewayPort):
    """A gateway service actor, reached through its handle."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def run(
        self,
        request_id: str,
        capability: str,
        prompt: str,
        argv: Sequence[str] = (),
        cwd: str | None = None,
    ) -> dict[str, Any]:
        """Await ``run_task`` on the actor."""
        answer: dict[str, Any] = await self._handle.run_task.remote(
            request_id, capability, prompt, argv=list(argv), cwd=cwd
        )
        return answer

    async def execute_outcome(self, key: str) -> dict[str, Any] | None:
        """Await ``execute_outcome`` on the actor."""
        outcome: dict[str, Any] | None = await self._handle.execute_outcome.remote(key)
        return outcome
