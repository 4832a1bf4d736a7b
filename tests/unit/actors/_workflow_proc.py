"""Subprocess entry for the workflow kill tests.

Usage: ``python _workflow_proc.py <db> <marker_dir> <phase>`` where phase is

* ``crash-in-review``: start ``wf-kill`` and run it; the review step SIGKILLs this process
  after ``code`` completed was recorded;
* ``crash-in-execute``: start, run to the gate, approve, run; the execute step SIGKILLs us;
* ``resume``: a fresh runner calls ``resume_all()``, approves the gate if it is reached and
  runs on; prints the final status as JSON.

Every executor invocation first appends ``"<step> <idempotency key>"`` to
``<marker_dir>/calls.log`` (fsynced), so the parent can count real invocations.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from actors.workflow import StepExecutor, StepOutput, StepSpec, WorkflowRunner
from events.store import EventStore, StoreConfig

WORKFLOW = "wf-kill"


class MarkerExecutor(StepExecutor):
    """Appends a marker line per invocation and dies inside the ``crash_at`` step."""

    def __init__(self, marker_dir: Path, crash_at: str | None) -> None:
        self._log = marker_dir / "calls.log"
        self._crash_at = crash_at

    async def run(
        self,
        workflow_id: str,
        step: StepSpec,
        prompt: str,
        inputs: Mapping[str, str],
        idempotency_key: str,
    ) -> StepOutput:
        fd = os.open(self._log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{step.name} {idempotency_key}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if step.name == self._crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return StepOutput(text=f"{step.name} done", agent="marker")


async def _main(db: Path, marker_dir: Path, phase: str) -> None:
    store = EventStore(StoreConfig(sqlite_path=db))
    crash_at = {"crash-in-review": "review", "crash-in-execute": "execute"}.get(phase)
    runner = WorkflowRunner(store, MarkerExecutor(marker_dir, crash_at), name=f"proc-{phase}")
    if phase == "resume":
        await runner.resume_all()
    else:
        runner.start(WORKFLOW, "ship the feature")
        await runner.run_to_gate(WORKFLOW)
    if runner.status(WORKFLOW).state == "awaiting_approval":
        runner.approve(WORKFLOW, "execute", "tester")
        await runner.run_to_gate(WORKFLOW)
    print(runner.status(WORKFLOW).model_dump_json())
    store.close_quietly()


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
