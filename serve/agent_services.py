"""What the agent routes need from the rest of the system, with nothing Ray-specific.

:class:`AgentServices` is the seam between :mod:`serve.agents_api` and the gateway and
workflow actors: production implements it over Ray actor handles
(:class:`serve.deployments.RayAgentServices`), tests over an in-process gateway.

Request models forbid extra fields, and none of them has a sandbox, permission or
"full access" field: a client cannot ask for more than the agents config grants.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgentApiError",
    "AgentServices",
    "ApprovalRequest",
    "TaskRequest",
    "WorkflowRequest",
    "raise_if_refused",
]

CapabilityName = Literal["plan", "code", "analyze", "review", "execute"]
_MAX_PROMPT = 200_000


class AgentApiError(Exception):
    """A request the agent services refuse, with the HTTP status to answer.

    Args:
        status: the HTTP status (4xx for client mistakes, 503 when nothing can serve).
        code: a short machine-readable code.
        detail: one line for the client.
    """

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def raise_if_refused(answer: dict[str, Any] | None) -> dict[str, Any]:
    """Return ``answer``, or raise the refusal a gateway or workflow service returned.

    The services answer refusals as ``{"refused": {status, code, detail}}`` rather than by
    raising, so the shape survives a trip through an actor call unchanged.

    Raises:
        AgentApiError: ``answer`` is a refusal (or missing: 503).
    """
    if answer is None:
        raise AgentApiError(503, "unavailable", "the service gave no answer")
    refused = answer.get("refused")
    if isinstance(refused, dict):
        raise AgentApiError(
            int(refused.get("status", 400)),
            str(refused.get("code", "refused")),
            str(refused.get("detail", "")),
        )
    return answer


class TaskRequest(BaseModel):
    """``POST /api/v1/tasks``: one logical request to the gateway."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capability: CapabilityName
    agent: str = Field(default="any", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    prompt: str = Field(min_length=1, max_length=_MAX_PROMPT)
    context: str = Field(default="", max_length=_MAX_PROMPT)
    stream: bool = False
    #: execute only: the command (argv list, never a shell line) and its working directory.
    argv: tuple[str, ...] = Field(default=(), max_length=64)
    cwd: str | None = Field(default=None, max_length=4096)


class WorkflowRequest(BaseModel):
    """``POST /api/v1/workflow``: start a plan → code → review → execute workflow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1, max_length=_MAX_PROMPT)
    workflow_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    approval_required: bool = True


class ApprovalRequest(BaseModel):
    """``POST /api/v1/workflows/{id}/approve`` (or ``/reject``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str = Field(default="execute", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    by: str = Field(default="api", max_length=128)
    reason: str = Field(default="", max_length=2000)


class AgentServices(ABC):
    """The gateway and workflow operations the HTTP routes call."""

    @abstractmethod
    async def agents(self) -> list[dict[str, Any]]:
        """Return one row per agent: name, backend, capabilities, breaker state, load."""

    @abstractmethod
    async def agent_kinds(self) -> dict[str, str]:
        """Return enabled agent name → backend kind (for the legacy per-CLI paths)."""

    @abstractmethod
    async def run_task(self, request_id: str, task: TaskRequest) -> dict[str, Any]:
        """Serve ``task`` to completion; return the JSON answer.

        Raises:
            AgentApiError: the task is refused (unknown agent, execute disabled, ...).
        """

    @abstractmethod
    async def check_task(self, request_id: str, task: TaskRequest) -> None:
        """Refuse a task before streaming starts (statuses cannot change mid-stream).

        Raises:
            AgentApiError: the task is refused.
        """

    @abstractmethod
    def stream_task(self, request_id: str, task: TaskRequest) -> AsyncIterator[dict[str, Any]]:
        """Serve ``task``, yielding StreamEvent dicts (``seq`` increasing, one ``final``)."""

    @abstractmethod
    async def start_workflow(self, request: WorkflowRequest) -> dict[str, Any]:
        """Accept a workflow and run it in the background; return its status."""

    @abstractmethod
    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        """Return a workflow's status.

        Raises:
            AgentApiError: 404 when there is no such workflow.
        """

    @abstractmethod
    async def approve(self, workflow_id: str, request: ApprovalRequest) -> dict[str, Any]:
        """Release a gated step and continue the workflow in the background."""

    @abstractmethod
    async def reject(self, workflow_id: str, request: ApprovalRequest) -> dict[str, Any]:
        """Refuse a gated step (the workflow fails)."""

    @abstractmethod
    async def workflows(self) -> list[dict[str, Any]]:
        """Return the status of every workflow this runner knows."""
