"""The seam between the workflow runner and the agent gateway."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from events.workflow import StepSpec

__all__ = ["StepExecutor", "StepOutput"]


class StepOutput(BaseModel):
    """What one step produced."""

    model_config = ConfigDict(frozen=True)

    text: str
    agent: str
    degraded: bool = False


class StepExecutor(ABC):
    """Runs one workflow step on an agent; the seam to the gateway."""

    @abstractmethod
    async def run(
        self,
        workflow_id: str,
        step: StepSpec,
        prompt: str,
        inputs: Mapping[str, str],
        idempotency_key: str,
    ) -> StepOutput:
        """Run ``step`` and return its output; raise to fail the step.

        Args:
            workflow_id: the workflow the step belongs to.
            step: the step (its ``capability`` chooses the agent).
            prompt: the full prompt (original prompt plus dependency outputs and feedback).
            inputs: dependency name → output, for executors that want them apart (for
                an ``execute`` step: every direct or indirect dependency, in graph order).
            idempotency_key: identical for every re-run of the same step in the same review
                loop; a side-effecting executor must de-duplicate on it.
        """

    async def lookup(self, idempotency_key: str) -> StepOutput | None:
        """Return the recorded outcome of an earlier run with this key, if the ledger has one."""
        return None
