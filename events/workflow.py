"""Durable multi-agent workflows: the ``Workflow`` aggregate and its events.

One aggregate per workflow (id ``aggregate_id("workflow", workflow_id)``). The log is the
only durable state of a workflow: which steps started, which finished with what output,
every review round, every approval, every restart. Replaying it rebuilds per-step status
(``pending``, ``running``, ``done``, ``failed``, ``awaiting_approval``), outputs and the review
loop count, which is all a fresh runner needs to continue after a crash.

A step that is ``running`` in the log but has no ``StepCompleted`` / ``StepFailed`` was
interrupted by a crash; the runner (:mod:`actors.workflow`) decides whether it may run again.

The full prompt is stored in ``Started`` because a runner rebuilt from the log alone must be
able to prompt the remaining steps; ``prompt_digest`` and ``prompt_preview`` are what read
models and status views show.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict

from events.domain import Aggregate

__all__ = [
    "OUTPUT_LIMIT_BYTES",
    "PREVIEW_CHARS",
    "CapabilityName",
    "StepSpec",
    "StepState",
    "Workflow",
    "cap_text",
    "is_change_request",
    "prompt_digest",
]

#: Largest step output (and prompt) the log stores, in UTF-8 bytes.
OUTPUT_LIMIT_BYTES = 64 * 1024
#: Length of the prompt preview kept for status views.
PREVIEW_CHARS = 200
_TRUNCATED = "\n[... truncated by synapse]"

#: Mirrors ``actors.agent_stream.Capability`` (``events`` may not import ``actors``).
CapabilityName = Literal["plan", "code", "analyze", "review", "execute"]
StepState = Literal["pending", "running", "done", "failed", "awaiting_approval"]


class StepSpec(BaseModel):
    """One node of a workflow graph: a named step asking one capability of an agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    capability: CapabilityName
    depends_on: tuple[str, ...] = ()


def cap_text(text: str, limit_bytes: int = OUTPUT_LIMIT_BYTES) -> str:
    """Return ``text`` cut to at most ``limit_bytes`` UTF-8 bytes, marked when cut."""
    raw = text.encode()
    if len(raw) <= limit_bytes:
        return text
    keep = raw[: limit_bytes - len(_TRUNCATED.encode())]
    return keep.decode(errors="ignore") + _TRUNCATED


def is_change_request(review_output: str) -> bool:
    """Return True when a review output asks for changes (it starts with ``CHANGES:``)."""
    return review_output.lstrip().upper().startswith("CHANGES:")


def prompt_digest(prompt: str) -> str:
    """Return the SHA-256 hex digest of a prompt (how a workflow's prompt is compared)."""
    return hashlib.sha256(prompt.encode()).hexdigest()


class Workflow(Aggregate):
    """One durable workflow run over a graph of agent steps."""

    class Started(Aggregate.Created):
        """A workflow was accepted with its prompt and step graph."""

        workflow_id: str
        prompt: str
        prompt_digest: str
        prompt_preview: str
        steps: tuple[StepSpec, ...]
        max_review_loops: int
        approval_required: bool

    @event(Started)
    def __init__(
        self,
        workflow_id: str,
        prompt: str,
        prompt_digest: str,
        prompt_preview: str,
        steps: tuple[StepSpec, ...],
        max_review_loops: int,
        approval_required: bool,
    ) -> None:
        self.workflow_id = workflow_id
        self.prompt = prompt
        self.prompt_digest = prompt_digest
        self.prompt_preview = prompt_preview
        self.specs: dict[str, StepSpec] = {s.name: s for s in steps}
        self.max_review_loops = max_review_loops
        self.approval_required = approval_required
        self.step_status: dict[str, StepState] = dict.fromkeys(self.specs, "pending")
        self.attempts: dict[str, int] = dict.fromkeys(self.specs, 0)
        self.outputs: dict[str, str] = dict.fromkeys(self.specs, "")
        self.agents: dict[str, str] = dict.fromkeys(self.specs, "")
        self.degraded: dict[str, bool] = dict.fromkeys(self.specs, False)
        self.reasons: dict[str, str] = dict.fromkeys(self.specs, "")
        self.approved: dict[str, str] = {}
        self.loop = 0
        self.feedback = ""
        self.review_unresolved = False
        self.resumes = 0
        self.status: Literal["running", "completed", "failed"] = "running"
        self.summary = ""
        self.reason = ""

    class StepStarted(Aggregate.Event):
        """A step was handed to the executor (``attempt`` counts every hand-over)."""

        step: str
        attempt: int

    @event(StepStarted)
    def start_step(self, step: str, attempt: int) -> None:
        """Record that ``step`` is running."""
        self.step_status[step] = "running"
        self.attempts[step] = attempt
        self.reasons[step] = ""

    class StepCompleted(Aggregate.Event):
        """A step finished with an output (capped at :data:`OUTPUT_LIMIT_BYTES`)."""

        step: str
        attempt: int
        output: str
        agent: str
        degraded: bool
        duration_ms: int = 0

    @event(StepCompleted)
    def complete_step(
        self, step: str, attempt: int, output: str, agent: str, degraded: bool, duration_ms: int
    ) -> None:
        """Record a step's output."""
        self.step_status[step] = "done"
        self.outputs[step] = output
        self.agents[step] = agent
        self.degraded[step] = degraded
        if self.specs[step].capability == "review":
            self.review_unresolved = is_change_request(output)

    class StepFailed(Aggregate.Event):
        """A step failed (the executor raised, or its outcome is unknown after a crash)."""

        step: str
        attempt: int
        reason: str

    @event(StepFailed)
    def fail_step(self, step: str, attempt: int, reason: str) -> None:
        """Record a step failure."""
        self.step_status[step] = "failed"
        self.reasons[step] = reason

    class ReviewRequestedChanges(Aggregate.Event):
        """The review step ``step`` sent the work back to its ``code`` dependencies."""

        step: str
        loop: int
        feedback: str

    @event(ReviewRequestedChanges)
    def request_changes(self, step: str, loop: int, feedback: str) -> None:
        """Reset the review and the code steps it reviewed for another round."""
        self.loop = loop
        self.feedback = feedback
        self.review_unresolved = False
        for dep in self.specs[step].depends_on:
            if self.specs[dep].capability == "code":
                self.step_status[dep] = "pending"
        self.step_status[step] = "pending"

    class ApprovalRequested(Aggregate.Event):
        """A step waits for a human before it may run."""

        step: str

    @event(ApprovalRequested)
    def request_approval(self, step: str) -> None:
        """Hold ``step`` at the approval gate."""
        self.step_status[step] = "awaiting_approval"

    class Approved(Aggregate.Event):
        """A human let a gated step run."""

        step: str
        by: str

    @event(Approved)
    def approve(self, step: str, by: str) -> None:
        """Release ``step`` from the gate."""
        self.approved[step] = by
        self.step_status[step] = "pending"

    class Rejected(Aggregate.Event):
        """A human refused a gated step (the workflow then fails)."""

        step: str
        by: str
        reason: str

    @event(Rejected)
    def reject(self, step: str, by: str, reason: str) -> None:
        """Mark ``step`` refused."""
        self.step_status[step] = "failed"
        self.reasons[step] = f"rejected by {by}: {reason}"

    class Resumed(Aggregate.Event):
        """A (re)started runner picked the unfinished workflow up again."""

        by: str
        reason: str

    @event(Resumed)
    def resume(self, by: str, reason: str) -> None:
        """Count a resumption."""
        self.resumes += 1

    class Completed(Aggregate.Event):
        """Every step is done."""

        summary: str

    @event(Completed)
    def complete(self, summary: str) -> None:
        """Finish the workflow."""
        self.status = "completed"
        self.summary = summary

    class Failed(Aggregate.Event):
        """The workflow stopped for good."""

        reason: str

    @event(Failed)
    def fail(self, reason: str) -> None:
        """Stop the workflow."""
        self.status = "failed"
        self.reason = reason

    # -- queries (pure functions of the replayed state) ------------------------------------

    @property
    def is_finished(self) -> bool:
        """True once the workflow completed or failed."""
        return self.status != "running"

    def steps_in(self, state: StepState) -> list[str]:
        """Return the names of steps in ``state``, in graph order."""
        return [name for name, s in self.step_status.items() if s == state]

    def runnable(self) -> list[str]:
        """Return pending steps whose dependencies are all done, in graph order."""
        return [
            name
            for name in self.steps_in("pending")
            if all(self.step_status[d] == "done" for d in self.specs[name].depends_on)
        ]

    def idempotency_key(self, step: str) -> str:
        """Return the key the executor sees for ``step`` in the current review loop."""
        return f"{self.workflow_id}:{step}:{self.loop}"
