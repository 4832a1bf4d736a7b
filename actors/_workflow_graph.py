"""Pure helpers of the workflow runner: graph validation, step prompts, status views."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.errors import ActorError
from events.workflow import OUTPUT_LIMIT_BYTES, CapabilityName, StepSpec, StepState, Workflow

__all__ = [
    "STATUS_OUTPUT_CHARS",
    "StepStatus",
    "WorkflowError",
    "WorkflowNotFoundError",
    "WorkflowStatus",
    "build_prompt",
    "review_feedback",
    "status_of",
    "validate_request",
]

#: How much of each step output a status view carries (the log keeps up to 64 KiB).
STATUS_OUTPUT_CHARS = 4000
MAX_REVIEW_LOOPS_LIMIT = 10
_WORKFLOW_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_STEP_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class WorkflowError(ActorError):
    """A workflow request was refused (bad graph, conflicting id, wrong approval)."""


class WorkflowNotFoundError(WorkflowError):
    """No workflow with that id was ever started."""


class StepStatus(BaseModel):
    """One step as a status view shows it."""

    model_config = ConfigDict(frozen=True)

    name: str
    capability: CapabilityName
    depends_on: tuple[str, ...]
    status: StepState
    attempts: int
    output: str
    output_truncated: bool
    agent: str
    degraded: bool
    reason: str
    approved_by: str


class WorkflowStatus(BaseModel):
    """A workflow's state, rebuilt from its events (safe to send across processes)."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    state: Literal["running", "awaiting_approval", "completed", "failed"]
    done: bool
    steps: tuple[StepStatus, ...]
    pending_approval: tuple[str, ...]
    review_loops: int
    max_review_loops: int
    review_unresolved: bool
    prompt_preview: str
    summary: str
    reason: str
    resumes: int

    def step(self, name: str) -> StepStatus:
        """Return the status of step ``name``.

        Raises:
            KeyError: the workflow has no such step.
        """
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)


def validate_request(
    workflow_id: str, prompt: str, steps: Sequence[StepSpec], max_review_loops: int
) -> None:
    """Refuse ids, prompts and graphs a workflow cannot run.

    Raises:
        WorkflowError: the id is malformed, the prompt too large, the loop bound out of
            range, or the graph empty, duplicated, dangling or cyclic.
    """
    if not _WORKFLOW_ID.fullmatch(workflow_id):
        msg = f"workflow id {workflow_id!r} must match {_WORKFLOW_ID.pattern}"
        raise WorkflowError(msg)
    if not prompt.strip() or len(prompt.encode()) > OUTPUT_LIMIT_BYTES:
        msg = f"the prompt must be non-empty and at most {OUTPUT_LIMIT_BYTES} bytes"
        raise WorkflowError(msg)
    if not 0 <= max_review_loops <= MAX_REVIEW_LOOPS_LIMIT:
        msg = f"max_review_loops must be between 0 and {MAX_REVIEW_LOOPS_LIMIT}"
        raise WorkflowError(msg)
    names = [s.name for s in steps]
    if not names or len(set(names)) != len(names):
        msg = "a workflow needs at least one step and unique step names"
        raise WorkflowError(msg)
    for spec in steps:
        if not _STEP_NAME.fullmatch(spec.name):
            msg = f"step name {spec.name!r} must match {_STEP_NAME.pattern}"
            raise WorkflowError(msg)
        unknown = set(spec.depends_on) - set(names)
        if unknown or spec.name in spec.depends_on:
            msg = f"step {spec.name!r} depends on unknown steps {sorted(unknown) or [spec.name]}"
            raise WorkflowError(msg)
    _check_acyclic(steps)


def _check_acyclic(steps: Sequence[StepSpec]) -> None:
    deps = {s.name: set(s.depends_on) for s in steps}
    done: set[str] = set()
    while deps:
        ready = [name for name, d in deps.items() if d <= done]
        if not ready:
            msg = f"the step graph has a cycle among {sorted(deps)}"
            raise WorkflowError(msg)
        for name in ready:
            done.add(name)
            del deps[name]


def review_feedback(review_output: str) -> str:
    """Return the feedback part of a ``CHANGES: ...`` review output."""
    text = review_output.lstrip()
    return text[len("CHANGES:") :].strip()


def build_prompt(wf: Workflow, step: str) -> tuple[str, dict[str, str]]:
    """Return the prompt for ``step`` and the outputs of its dependencies.

    The prompt is the original prompt, then each dependency's output, then (for a ``code``
    step sent back by review) its previous output and the review feedback. Text is only
    concatenated, never interpreted, so user text reaches the agent byte for byte.

    An ``execute`` step gets the outputs of *every* step it depends on, directly or not,
    in graph order: the command it runs is declared by the ``code`` step, which is usually
    behind a ``review``.
    """
    spec = wf.specs[step]
    inputs = {dep: wf.outputs[dep] for dep in spec.depends_on}
    parts = [wf.prompt, "", f"## Step: {step} ({spec.capability})"]
    for dep, output in inputs.items():
        parts += ["", f"## Output of {dep}", output]
    if spec.capability == "code" and wf.loop > 0 and wf.feedback:
        if wf.outputs[step]:
            parts += ["", "## Your previous output", wf.outputs[step]]
        parts += ["", f"## Review feedback (round {wf.loop})", wf.feedback]
    if spec.capability == "execute":
        inputs = {dep: wf.outputs[dep] for dep in _ancestors(wf, step)}
    return "\n".join(parts), inputs


def _ancestors(wf: Workflow, step: str) -> list[str]:
    """Every step ``step`` depends on, directly or transitively, in graph order."""
    seen: set[str] = set()
    stack = list(wf.specs[step].depends_on)
    while stack:
        dep = stack.pop()
        if dep not in seen:
            seen.add(dep)
            stack.extend(wf.specs[dep].depends_on)
    return [name for name in wf.specs if name in seen]


def status_of(wf: Workflow) -> WorkflowStatus:
    """Return the status view of a replayed workflow aggregate."""
    pending = tuple(wf.steps_in("awaiting_approval"))
    state: Literal["running", "awaiting_approval", "completed", "failed"]
    if wf.status != "running":
        state = wf.status
    elif pending and not wf.steps_in("running") and not wf.runnable():
        state = "awaiting_approval"
    else:
        state = "running"
    steps = tuple(
        StepStatus(
            name=name,
            capability=spec.capability,
            depends_on=spec.depends_on,
            status=wf.step_status[name],
            attempts=wf.attempts[name],
            output=wf.outputs[name][:STATUS_OUTPUT_CHARS],
            output_truncated=len(wf.outputs[name]) > STATUS_OUTPUT_CHARS,
            agent=wf.agents[name],
            degraded=wf.degraded[name],
            reason=wf.reasons[name],
            approved_by=wf.approved.get(name, ""),
        )
        for name, spec in wf.specs.items()
    )
    return WorkflowStatus(
        workflow_id=wf.workflow_id,
        state=state,
        done=wf.is_finished,
        steps=steps,
        pending_approval=pending,
        review_loops=wf.loop,
        max_review_loops=wf.max_review_loops,
        review_unresolved=wf.review_unresolved,
        prompt_preview=wf.prompt_preview,
        summary=wf.summary,
        reason=wf.reason,
        resumes=wf.resumes,
    )
