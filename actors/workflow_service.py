"""Workflows as a service: a :class:`~actors.workflow.WorkflowRunner` over the gateway.

Runs as an async Ray actor spawned ``REBUILDS_FROM_LOG``: every method is idempotent (the
workflow id is chosen by the caller, commands carry deterministic ids) and all state is in
the event log. A started workflow runs in the background (``run_to_gate`` in a task), so the
HTTP request returns at once. Unfinished workflows are resumed by :meth:`start`, which
bootstrap calls right after spawning; because Ray re-runs ``__init__`` but nobody calls
``start`` after a crash restart, every other method also triggers the resume once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from actors._gateway_port import GatewayPort, HandleGatewayPort
from actors._workflow_command import declared_command
from actors._workflow_executor import StepExecutor, StepOutput
from actors._workflow_graph import WorkflowError, WorkflowNotFoundError
from actors.workflow import WorkflowRunner
from events.errors import ActorError
from events.store import EventStore, StoreConfig
from events.workflow import StepSpec

__all__ = ["GatewayStepExecutor", "WorkflowService"]

#: The tail of a failed command's stderr quoted in the step's failure reason.
_STDERR_CHARS = 500


class GatewayStepExecutor(StepExecutor):
    """Runs each workflow step as one gateway task.

    The gateway request id is ``wf-{idempotency_key}``, so a step re-run after a crash is the
    same request to the gateway (and the same execute ledger key).

    An ``execute`` step runs the command an earlier step declared (see
    :mod:`actors._workflow_command`) through the gateway's guarded execute lane: allow-list,
    cwd under a root, environment allow-list, timeout, and the ledger key above, so it runs
    at most once. When the gateway refuses (execute disabled, no command declared, command
    not allowed) the step completes *degraded* with the reason — ``skipped: execute
    disabled`` when execute is off — so an approved workflow still finishes and says
    plainly that nothing ran. A command that ran and failed (non-zero exit, timeout) fails
    the step.
    """

    def __init__(self, gateway: GatewayPort) -> None:
        self._gateway = gateway

    async def run(
        self,
        workflow_id: str,
        step: StepSpec,
        prompt: str,
        inputs: Mapping[str, str],
        idempotency_key: str,
    ) -> StepOutput:
        """Send the step through the gateway; raise when no answer could be given."""
        if step.capability == "execute":
            return await self._execute(step, prompt, inputs, idempotency_key)
        answer = await self._gateway.run(f"wf-{idempotency_key}", step.capability, prompt)
        refused = answer.get("refused")
        if refused is not None:
            raise ActorError(f"step {step.name} refused: {refused['detail']}")
        if not answer.get("ok") and not answer.get("degraded"):
            raise ActorError(f"step {step.name}: no agent could answer")
        return StepOutput(
            text=str(answer.get("text", "")),
            agent=str(answer.get("agent") or "none"),
            degraded=bool(answer.get("degraded")),
        )

    async def _execute(
        self, step: StepSpec, prompt: str, inputs: Mapping[str, str], idempotency_key: str
    ) -> StepOutput:
        problem = "no earlier step declared a command"
        try:
            command = declared_command(inputs)
        except WorkflowError as exc:
            command, problem = None, exc.message
        argv, cwd = (command.argv, command.cwd) if command is not None else ((), None)
        answer = await self._gateway.run(
            f"wf-{idempotency_key}", step.capability, prompt, argv=argv, cwd=cwd
        )
        refused = answer.get("refused")
        if refused is not None:
            if refused["code"] == "execute_disabled":
                text = "skipped: execute disabled (nothing was run)"
            elif command is None:
                text = f"skipped: {problem} (nothing was run)"
            else:
                text = f"skipped: {refused['detail']} (nothing was run)"
            return StepOutput(text=text, agent="none", degraded=True)
        result = answer.get("execute") or {}
        if not answer.get("ok"):
            stderr = str(result.get("stderr", ""))[-_STDERR_CHARS:]
            msg = (
                f"step {step.name}: command {' '.join(argv)!r} ended with status "
                f"{result.get('status')}, exit code {result.get('exit_code')}: {stderr}"
            )
            raise ActorError(msg)
        return StepOutput(text=str(result.get("stdout", "")), agent="execute")

    async def lookup(self, idempotency_key: str) -> StepOutput | None:
        """Serve a finished execute step's outcome from the execute ledger."""
        outcome = await self._gateway.execute_outcome(f"wf-{idempotency_key}")
        if outcome is None or outcome.get("status") == "unknown":
            return None
        return StepOutput(text=str(outcome.get("stdout", "")), agent="execute")


class WorkflowService:
    """Starts, reports and approves workflows; runs them in the background.

    Args:
        store_config: the event store.
        gateway: the gateway actor's handle, or a :class:`GatewayPort` (tests).
        incarnation: unique per process incarnation (``Resumed`` events).
    """

    def __init__(
        self, store_config: StoreConfig, gateway: Any, incarnation: str | None = None
    ) -> None:
        port = gateway if isinstance(gateway, GatewayPort) else HandleGatewayPort(gateway)
        self._store = EventStore(store_config)
        self._runner = WorkflowRunner(
            self._store,
            GatewayStepExecutor(port),
            name="workflow-service",
            incarnation=incarnation or uuid.uuid4().hex,
        )
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._resume: asyncio.Task[Any] | None = None

    async def start(self) -> list[str]:
        """Resume every unfinished workflow in the background; return their ids."""
        if self._resume is None:
            ids = self._runner.unfinished()
            self._resume = asyncio.ensure_future(self._runner.resume_all())
            return ids
        return []

    async def start_workflow(
        self, workflow_id: str | None, prompt: str, approval_required: bool = True
    ) -> dict[str, Any]:
        """Accept a workflow (idempotent per id) and run it to its gate in the background."""
        await self.start()
        wid = workflow_id or f"wf-{uuid.uuid4().hex[:16]}"
        try:
            status = self._runner.start(wid, prompt, approval_required=approval_required)
        except WorkflowError as exc:
            return _refusal(409, "workflow_conflict", exc.message)
        self._kick(wid)
        return status.model_dump(mode="json")

    async def status(self, workflow_id: str) -> dict[str, Any]:
        """The workflow's status, or a 404 refusal."""
        await self.start()
        try:
            return self._runner.status(workflow_id).model_dump(mode="json")
        except WorkflowNotFoundError as exc:
            return _refusal(404, "no_such_workflow", exc.message)

    async def approve(self, workflow_id: str, step: str, by: str) -> dict[str, Any]:
        """Release a gated step and continue in the background."""
        await self.start()
        try:
            status = self._runner.approve(workflow_id, step, by)
        except WorkflowNotFoundError as exc:
            return _refusal(404, "no_such_workflow", exc.message)
        except WorkflowError as exc:
            return _refusal(409, "not_awaiting_approval", exc.message)
        self._kick(workflow_id)
        return status.model_dump(mode="json")

    async def reject(self, workflow_id: str, step: str, by: str, reason: str) -> dict[str, Any]:
        """Refuse a gated step (the workflow fails)."""
        await self.start()
        try:
            return self._runner.reject(workflow_id, step, by, reason).model_dump(mode="json")
        except WorkflowNotFoundError as exc:
            return _refusal(404, "no_such_workflow", exc.message)
        except WorkflowError as exc:
            return _refusal(409, "not_awaiting_approval", exc.message)

    async def workflows(self) -> list[dict[str, Any]]:
        """Statuses of the unfinished workflows and those this incarnation ran."""
        await self.start()
        ids = dict.fromkeys([*self._runner.unfinished(), *self._tasks])
        return [self._runner.status(i).model_dump(mode="json") for i in ids]

    async def wait(self, workflow_id: str) -> dict[str, Any]:
        """Wait for the workflow's background run to stop (at its gate or end); tests."""
        task = self._tasks.get(workflow_id)
        if task is not None:
            await asyncio.shield(task)
        return await self.status(workflow_id)

    def _kick(self, workflow_id: str) -> None:
        running = self._tasks.get(workflow_id)
        if running is not None and not running.done():
            # Already advancing; chain another run so an approval is not lost.
            async def after(previous: asyncio.Task[Any] = running) -> Any:
                await asyncio.gather(previous, return_exceptions=True)
                return await self._runner.run_to_gate(workflow_id)

            self._tasks[workflow_id] = asyncio.ensure_future(after())
            return
        self._tasks[workflow_id] = asyncio.ensure_future(self._runner.run_to_gate(workflow_id))


def _refusal(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"refused": {"status": status, "code": code, "detail": detail}}
