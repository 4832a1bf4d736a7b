"""Durable multi-agent workflows: plan → code → review → (approval) → execute, crash-safe.

:class:`WorkflowRunner` drives one :class:`~events.workflow.Workflow` aggregate per workflow
through a graph of steps, handing each step to a :class:`StepExecutor` (the seam the
integrator wires to the agent gateway). Every decision is an event appended with a
deterministic command id, so a retried runner method appends nothing twice, and a runner
rebuilt from the log alone continues where the last one died.

Durability rules (the Temporal take: durable execution guarantees completion, idempotency
keys make side effects exactly-once, and an unknown outcome is never guessed):

* a step whose ``StepCompleted`` is in the log never runs again;
* a step started but not finished before a crash runs again with the *same* idempotency key
  ``"{workflow_id}:{step}:{loop}"``, unless :meth:`StepExecutor.lookup` already has its
  recorded outcome, which is used instead;
* an ``execute`` step is at-most-once: after a crash it is never re-run; without a recorded
  outcome it fails with :data:`UNKNOWN_OUTCOME` and the workflow fails.

Review: a ``review`` step whose output starts with ``CHANGES:`` sends its ``code``
dependencies (and itself) round again with the feedback, at most ``max_review_loops`` times.
Past the bound the workflow *proceeds*: the review's last verdict stays recorded
(``WorkflowStatus.review_unresolved``) and the human at the approval gate decides.

A step whose executor raises fails, and so does the workflow: the gateway behind the
executor already retries and falls back, so a raise is final. Steps already running in
parallel still record their results.

One runner owns a workflow at a time (the integrator runs it as a single Ray actor); inside
it, a per-workflow lock keeps concurrent calls from starting the same step twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from actors._workflow_executor import StepExecutor, StepOutput
from actors._workflow_graph import (
    StepStatus,
    WorkflowError,
    WorkflowNotFoundError,
    WorkflowStatus,
    build_prompt,
    review_feedback,
    status_of,
    validate_request,
)
from actors._workflow_index import unfinished_workflows
from events.store import EventStore, aggregate_id
from events.workflow import (
    PREVIEW_CHARS,
    StepSpec,
    Workflow,
    cap_text,
    is_change_request,
    prompt_digest,
)

__all__ = [
    "DEFAULT_STEPS",
    "UNKNOWN_OUTCOME",
    "StepExecutor",
    "StepOutput",
    "StepSpec",
    "StepStatus",
    "WorkflowError",
    "WorkflowNotFoundError",
    "WorkflowRunner",
    "WorkflowStatus",
]

#: plan → code → review → execute (review may send work back to code).
DEFAULT_STEPS: tuple[StepSpec, ...] = (
    StepSpec(name="plan", capability="plan"),
    StepSpec(name="code", capability="code", depends_on=("plan",)),
    StepSpec(name="review", capability="review", depends_on=("code",)),
    StepSpec(name="execute", capability="execute", depends_on=("review",)),
)
UNKNOWN_OUTCOME = "outcome unknown after a crash; not re-run"
_REASON_CHARS = 2000
_SUMMARY_CHARS = 1000


class WorkflowRunner:
    """Starts, advances, gates and resumes workflows; all state lives in the event log.

    Args:
        store: the event store.
        executor: runs the steps.
        clock: monotonic seconds, used for step durations.
        name: recorded as ``by`` in ``Resumed`` events.
        incarnation: unique per process incarnation; makes ``resume_all`` idempotent within
            one incarnation while each restart records its own ``Resumed``.
    """

    def __init__(
        self,
        store: EventStore,
        executor: StepExecutor,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str = "workflow-runner",
        incarnation: str | None = None,
    ) -> None:
        self._store = store
        self._executor = executor
        self._clock = clock
        self._name = name
        self._incarnation = incarnation or uuid.uuid4().hex
        self._locks: dict[str, asyncio.Lock] = {}
        self._names: dict[UUID, str] = {}

    # -- commands -------------------------------------------------------------------------

    def start(
        self,
        workflow_id: str,
        prompt: str,
        steps: Sequence[StepSpec] = DEFAULT_STEPS,
        approval_required: bool = True,
        max_review_loops: int = 2,
    ) -> WorkflowStatus:
        """Accept a workflow (idempotent per ``workflow_id``); nothing runs until advanced.

        Raises:
            WorkflowError: invalid request, or the id is taken by a different prompt/graph.
        """
        validate_request(workflow_id, prompt, steps, max_review_loops)
        digest, specs = prompt_digest(prompt), tuple(steps)
        existing = self._find(workflow_id)
        if existing is not None:
            if existing.prompt_digest != digest or tuple(existing.specs.values()) != specs:
                msg = f"workflow {workflow_id!r} already exists with another prompt or graph"
                raise WorkflowError(msg, hint="choose a new workflow id")
            return status_of(existing)

        def create(command_id: str) -> Workflow:
            return Workflow._create(  # type: ignore[no-any-return]
                Workflow.Started,
                id=aggregate_id("workflow", workflow_id),
                command_id=command_id,
                workflow_id=workflow_id,
                prompt=prompt,
                prompt_digest=digest,
                prompt_preview=prompt[:PREVIEW_CHARS],
                steps=specs,
                max_review_loops=max_review_loops,
                approval_required=approval_required,
            )

        wf = self._store.execute(
            Workflow,
            aggregate_id("workflow", workflow_id),
            self._command(workflow_id, "Started"),
            lambda _: None,
            create=create,
        )
        return status_of(wf)

    def approve(self, workflow_id: str, step: str, by: str) -> WorkflowStatus:
        """Let a step held at the approval gate run (idempotent); call ``advance`` next.

        Raises:
            WorkflowError: the step is not waiting for approval.
        """
        wf = self._load(workflow_id)
        if step in wf.approved:
            return status_of(wf)
        self._require_gate(wf, step)
        wf = self._record(
            workflow_id, "Approved", step, wf.attempts[step], lambda a: a.approve(step, by)
        )
        return status_of(wf)

    def reject(self, workflow_id: str, step: str, by: str, reason: str) -> WorkflowStatus:
        """Refuse a gated step; the workflow fails (idempotent).

        Raises:
            WorkflowError: the step is not waiting for approval.
        """
        wf = self._load(workflow_id)
        if wf.is_finished and wf.reasons.get(step, "").startswith("rejected by"):
            return status_of(wf)
        self._require_gate(wf, step)

        def act(a: Workflow) -> None:
            a.reject(step, by, reason)
            a.fail(f"step {step} rejected by {by}: {reason}")

        return status_of(self._record(workflow_id, "Rejected", step, wf.attempts[step], act))

    async def advance(self, workflow_id: str) -> WorkflowStatus:
        """Run every runnable step (in parallel) once and record the results.

        Steps interrupted by a crash are recovered first (see the module rules). Stops at
        the approval gate and finishes the workflow when nothing is left.
        """
        async with self._locks.setdefault(workflow_id, asyncio.Lock()):
            wf = self._load(workflow_id)
            if wf.is_finished:
                return status_of(wf)
            rerun = await self._recover(wf)
            wf = self._load(workflow_id)
            # A step failed during recovery: the workflow fails, so start nothing new.
            if not wf.is_finished and not wf.steps_in("failed"):
                wf = self._gate(wf)
                batch = [*rerun, *wf.runnable()]
                await asyncio.gather(*(self._run_step(wf, step) for step in batch))
            return status_of(self._settle(workflow_id))

    async def run_to_gate(self, workflow_id: str) -> WorkflowStatus:
        """Advance until the workflow waits for approval, completes or fails.

        Raises:
            WorkflowError: the workflow stopped making progress (a bug guard).
        """
        wf = self._load(workflow_id)
        bound = 4 * len(wf.specs) * (wf.max_review_loops + 1) + 4
        for _ in range(bound):
            status = await self.advance(workflow_id)
            if status.state != "running":
                return status
        msg = f"workflow {workflow_id} made no progress after {bound} rounds"
        raise WorkflowError(msg)

    async def resume_all(self) -> list[WorkflowStatus]:
        """Record ``Resumed`` on every unfinished workflow and run each to its gate or end."""
        ids = self.unfinished()
        for workflow_id in ids:
            self._store.execute(
                Workflow,
                aggregate_id("workflow", workflow_id),
                f"{workflow_id}:Resumed:{self._incarnation}:0",
                lambda a: a.resume(self._name, "runner restarted"),
            )
        return list(await asyncio.gather(*(self.run_to_gate(i) for i in ids)))

    # -- queries --------------------------------------------------------------------------

    def status(self, workflow_id: str) -> WorkflowStatus:
        """Return the workflow's status rebuilt from the log.

        Raises:
            WorkflowNotFoundError: no such workflow.
        """
        return status_of(self._load(workflow_id))

    def unfinished(self) -> list[str]:
        """Return ids of workflows neither completed nor failed (read from the log)."""
        return unfinished_workflows(self._store, self._names)

    # -- internals ------------------------------------------------------------------------

    def _find(self, workflow_id: str) -> Workflow | None:
        try:
            wf: Workflow = self._store.repository.get(aggregate_id("workflow", workflow_id))
        except AggregateNotFoundError:
            return None
        return wf

    def _load(self, workflow_id: str) -> Workflow:
        wf = self._find(workflow_id)
        if wf is None:
            msg = f"no workflow {workflow_id!r}"
            raise WorkflowNotFoundError(msg, hint="start it first")
        return wf

    @staticmethod
    def _command(workflow_id: str, event: str, step: str = "-", attempt: int = 0) -> str:
        return f"{workflow_id}:{event}:{step}:{attempt}"

    def _record(
        self,
        workflow_id: str,
        event: str,
        step: str,
        attempt: int,
        action: Callable[[Workflow], None],
    ) -> Workflow:
        return self._store.execute(
            Workflow,
            aggregate_id("workflow", workflow_id),
            self._command(workflow_id, event, step, attempt),
            action,
        )

    @staticmethod
    def _require_gate(wf: Workflow, step: str) -> None:
        if wf.step_status.get(step) != "awaiting_approval" or wf.is_finished:
            msg = f"step {step!r} of workflow {wf.workflow_id} is not waiting for approval"
            raise WorkflowError(msg)

    async def _recover(self, wf: Workflow) -> list[str]:
        """Settle steps a crash left running; return those that must run again."""
        rerun: list[str] = []
        for step in wf.steps_in("running"):
            attempt = wf.attempts[step]
            recorded = await self._executor.lookup(wf.idempotency_key(step))
            if recorded is not None:
                self._record_output(wf.workflow_id, step, attempt, recorded, 0)
            elif wf.specs[step].capability == "execute":
                self._fail_step(wf.workflow_id, step, attempt, UNKNOWN_OUTCOME)
            else:
                rerun.append(step)
        return rerun

    def _gate(self, wf: Workflow) -> Workflow:
        """Hold runnable ``execute`` steps at the approval gate when approval is required."""
        for step in wf.runnable():
            spec = wf.specs[step]
            if spec.capability == "execute" and wf.approval_required and step not in wf.approved:
                wf = self._request_approval(wf, step)
        return wf

    def _request_approval(self, wf: Workflow, step: str) -> Workflow:
        return self._record(
            wf.workflow_id,
            "ApprovalRequested",
            step,
            wf.attempts[step],
            lambda a: a.request_approval(step),
        )

    def _fail_step(self, workflow_id: str, step: str, attempt: int, reason: str) -> None:
        self._record(
            workflow_id, "StepFailed", step, attempt, lambda a: a.fail_step(step, attempt, reason)
        )

    async def _run_step(self, wf: Workflow, step: str) -> None:
        attempt = wf.attempts[step] + 1
        key = wf.idempotency_key(step)
        prompt, inputs = build_prompt(wf, step)
        self._record(
            wf.workflow_id, "StepStarted", step, attempt, lambda a: a.start_step(step, attempt)
        )
        began = self._clock()
        try:
            output = await self._executor.run(wf.workflow_id, wf.specs[step], prompt, inputs, key)
        except Exception as exc:  # noqa: BLE001 - any executor error fails the step, with its reason
            reason = cap_text(f"{type(exc).__name__}: {exc}", _REASON_CHARS)
            self._fail_step(wf.workflow_id, step, attempt, reason)
            return
        duration_ms = max(0, int((self._clock() - began) * 1000))
        self._record_output(wf.workflow_id, step, attempt, output, duration_ms)

    def _record_output(
        self, workflow_id: str, step: str, attempt: int, output: StepOutput, duration_ms: int
    ) -> None:
        text = cap_text(output.text)

        def act(a: Workflow) -> None:
            a.complete_step(step, attempt, text, output.agent, output.degraded, duration_ms)
            if (
                a.specs[step].capability == "review"
                and is_change_request(text)
                and a.loop < a.max_review_loops
            ):
                a.request_changes(step, a.loop + 1, review_feedback(text))

        self._record(workflow_id, "StepCompleted", step, attempt, act)

    def _settle(self, workflow_id: str) -> Workflow:
        """Record ``Failed`` after a failed step, or ``Completed`` when every step is done."""
        wf = self._load(workflow_id)
        if wf.is_finished:
            return wf
        failed = wf.steps_in("failed")
        if failed:
            reason = "; ".join(f"step {s} failed: {wf.reasons[s]}" for s in failed)
            return self._record(workflow_id, "Failed", "-", 0, lambda a: a.fail(reason))
        if len(wf.steps_in("done")) == len(wf.specs):
            needed = {d for spec in wf.specs.values() for d in spec.depends_on}
            summary = "\n".join(
                f"{name}: {wf.outputs[name][:_SUMMARY_CHARS]}"
                for name in wf.specs
                if name not in needed
            )
            return self._record(workflow_id, "Completed", "-", 0, lambda a: a.complete(summary))
        return wf
