"""Workflow durability: SIGKILLed runners resume from the log; execute is at-most-once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from actors.workflow import (
    UNKNOWN_OUTCOME,
    StepExecutor,
    StepOutput,
    StepSpec,
    WorkflowRunner,
    WorkflowStatus,
)
from events.store import EventStore, StoreConfig

REPO = Path(__file__).resolve().parents[3]
PROC = Path(__file__).with_name("_workflow_proc.py")


def _proc(db: Path, markers: Path, phase: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(PROC), str(db), str(markers), phase],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _calls(markers: Path) -> list[str]:
    return (markers / "calls.log").read_text().splitlines()


def test_kill_after_code_resumes_without_rerunning_finished_steps(tmp_path: Path) -> None:
    """SIGKILL inside review: on resume plan and code never re-run, review re-runs, execute once."""
    db = tmp_path / "events.sqlite"
    crashed = _proc(db, tmp_path, "crash-in-review")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert _calls(tmp_path) == [
        "plan wf-kill:plan:0",
        "code wf-kill:code:0",
        "review wf-kill:review:0",
    ]

    resumed = _proc(db, tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stderr
    status = WorkflowStatus.model_validate_json(resumed.stdout.strip().splitlines()[-1])
    calls = _calls(tmp_path)
    assert Counter(line.split()[0] for line in calls) == {
        "plan": 1,
        "code": 1,
        "review": 2,
        "execute": 1,
    }
    assert calls.count("review wf-kill:review:0") == 2  # same idempotency key on re-run
    assert status.state == "completed"
    assert status.resumes == 1
    assert status.step("review").attempts == 2

    again = _proc(db, tmp_path, "resume")
    assert again.returncode == 0, again.stderr
    assert _calls(tmp_path) == calls  # nothing unfinished: nothing runs


def test_kill_during_execute_never_reruns_it(tmp_path: Path) -> None:
    """SIGKILL inside execute: resume marks the outcome unknown and never runs execute again."""
    db = tmp_path / "events.sqlite"
    crashed = _proc(db, tmp_path, "crash-in-execute")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    resumed = _proc(db, tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stderr
    status = WorkflowStatus.model_validate_json(resumed.stdout.strip().splitlines()[-1])
    assert [line.split()[0] for line in _calls(tmp_path)].count("execute") == 1
    assert status.state == "failed"
    assert status.step("execute").status == "failed"
    assert status.step("execute").reason == UNKNOWN_OUTCOME
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["done"] is True


# -- in-process crashes: a cancelled advance leaves a step "running" like a dead process --


@dataclass
class HangingExecutor(StepExecutor):
    """Hangs forever in ``hang_at`` (until cancelled); answers other steps at once."""

    hang_at: str = ""
    ledger: dict[str, StepOutput] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(
        self,
        workflow_id: str,
        step: StepSpec,
        prompt: str,
        inputs: Mapping[str, str],
        idempotency_key: str,
    ) -> StepOutput:
        self.calls.append((step.name, idempotency_key))
        if step.name == self.hang_at:
            self.entered.set()
            await asyncio.Event().wait()
        return StepOutput(text=f"{step.name} out", agent="a")

    async def lookup(self, idempotency_key: str) -> StepOutput | None:
        return self.ledger.get(idempotency_key)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(StoreConfig(sqlite_path=tmp_path / "events.sqlite"))
    yield s
    s.close_quietly()


def _crash_inside(store: EventStore, step: str, *, approve: bool = False) -> None:
    """Run wf-1 until ``step`` is in flight, then cancel it (the runner 'dies')."""
    ex = HangingExecutor(hang_at=step)
    runner = WorkflowRunner(store, ex)

    async def scenario() -> None:
        runner.start("wf-1", "x")
        if approve:
            await runner.run_to_gate("wf-1")
            runner.approve("wf-1", "execute", "alice")
        task = asyncio.create_task(runner.run_to_gate("wf-1"))
        await ex.entered.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert runner.status("wf-1").step(step).status == "running"


def test_interrupted_step_reruns_with_the_same_key(store: EventStore) -> None:
    """A code step left running by a crash re-runs once, with the same idempotency key."""
    _crash_inside(store, "code")
    ex = HangingExecutor()
    status = asyncio.run(WorkflowRunner(store, ex).resume_all())[0]
    assert ex.calls[0] == ("code", "wf-1:code:0")
    assert [c[0] for c in ex.calls] == ["code", "review"]
    assert status.state == "awaiting_approval"


def test_ledger_outcome_is_used_instead_of_rerunning(store: EventStore) -> None:
    """A crashed execute whose outcome the executor's ledger recorded completes from it."""
    _crash_inside(store, "execute", approve=True)
    ex = HangingExecutor(ledger={"wf-1:execute:0": StepOutput(text="exit 0", agent="codex")})
    status = asyncio.run(WorkflowRunner(store, ex).resume_all())[0]
    assert ex.calls == []
    assert status.state == "completed"
    assert status.step("execute").output == "exit 0"


def test_crashed_execute_without_ledger_fails_as_unknown(store: EventStore) -> None:
    """A crashed execute with no recorded outcome is failed as unknown, never re-run."""
    _crash_inside(store, "execute", approve=True)
    ex = HangingExecutor()
    runner = WorkflowRunner(store, ex)
    status = asyncio.run(runner.advance("wf-1"))
    assert ex.calls == []
    assert status.state == "failed"
    assert status.step("execute").reason == UNKNOWN_OUTCOME
    assert runner.unfinished() == []


def test_resume_all_records_one_resumed_per_incarnation(store: EventStore) -> None:
    """Calling resume_all twice in one incarnation records Resumed once; a restart adds one."""
    runner = WorkflowRunner(store, HangingExecutor(), incarnation="i1")
    runner.start("wf-1", "x")
    asyncio.run(runner.resume_all())
    asyncio.run(runner.resume_all())
    assert runner.status("wf-1").resumes == 1
    asyncio.run(WorkflowRunner(store, HangingExecutor(), incarnation="i2").resume_all())
    assert runner.status("wf-1").resumes == 2
