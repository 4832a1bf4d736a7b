"""The Workflow aggregate: state rebuilt from events, review rounds, caps, JSON round-trips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.store import EventStore, StoreConfig, aggregate_id
from events.workflow import (
    OUTPUT_LIMIT_BYTES,
    StepSpec,
    Workflow,
    cap_text,
    is_change_request,
    prompt_digest,
)

STEPS = (
    StepSpec(name="plan", capability="plan"),
    StepSpec(name="code", capability="code", depends_on=("plan",)),
    StepSpec(name="review", capability="review", depends_on=("code",)),
    StepSpec(name="execute", capability="execute", depends_on=("review",)),
)


def _new(workflow_id: str = "wf", prompt: str = "build it") -> Workflow:
    return Workflow._create(
        Workflow.Started,
        id=aggregate_id("workflow", workflow_id),
        command_id=f"{workflow_id}:Started:-:0",
        workflow_id=workflow_id,
        prompt=prompt,
        prompt_digest=prompt_digest(prompt),
        prompt_preview=prompt[:200],
        steps=STEPS,
        max_review_loops=2,
        approval_required=True,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(StoreConfig(sqlite_path=tmp_path / "events.sqlite"))
    yield s
    s.close_quietly()


def test_started_workflow_has_only_its_roots_runnable() -> None:
    """A fresh workflow has every step pending and only dependency-free steps runnable."""
    wf = _new()
    assert set(wf.step_status.values()) == {"pending"}
    assert wf.runnable() == ["plan"]
    assert wf.idempotency_key("plan") == "wf:plan:0"
    assert not wf.is_finished


def test_completed_dependency_makes_dependant_runnable() -> None:
    """Completing plan makes code runnable and records the output and agent."""
    wf = _new()
    wf.start_step("plan", 1)
    assert wf.steps_in("running") == ["plan"]
    assert wf.runnable() == []
    wf.complete_step("plan", 1, "the plan", "claude", False, 5)
    assert wf.runnable() == ["code"]
    assert (wf.outputs["plan"], wf.agents["plan"]) == ("the plan", "claude")


def test_review_changes_reset_code_and_review_for_another_round() -> None:
    """ReviewRequestedChanges sends code and review back to pending and bumps the loop."""
    wf = _new()
    for step in ("plan", "code", "review"):
        wf.start_step(step, 1)
        wf.complete_step(step, 1, "CHANGES: x" if step == "review" else step, "a", False, 0)
    assert wf.review_unresolved
    wf.request_changes("review", 1, "x")
    assert wf.step_status == {
        "plan": "done",
        "code": "pending",
        "review": "pending",
        "execute": "pending",
    }
    assert (wf.loop, wf.feedback, wf.review_unresolved) == (1, "x", False)
    assert wf.idempotency_key("code") == "wf:code:1"


def test_gate_approval_and_rejection_states() -> None:
    """ApprovalRequested holds a step, Approved releases it, Rejected fails it."""
    wf = _new()
    wf.request_approval("execute")
    assert wf.steps_in("awaiting_approval") == ["execute"]
    wf.approve("execute", "alice")
    assert (wf.step_status["execute"], wf.approved) == ("pending", {"execute": "alice"})
    wf.reject("execute", "bob", "too risky")
    assert wf.reasons["execute"] == "rejected by bob: too risky"


def test_log_replay_rebuilds_the_same_state(store: EventStore) -> None:
    """Events saved to SQLite replay into an aggregate with identical state."""
    wf = _new()
    wf.start_step("plan", 1)
    wf.complete_step("plan", 1, "p", "claude", True, 3)
    wf.start_step("code", 1)
    wf.fail_step("code", 1, "boom")
    wf.resume("runner", "restart")
    wf.fail("step code failed")
    store.save_all(wf)
    fresh = EventStore(store.config)
    again: Workflow = fresh.repository.get(wf.id)
    fresh.close_quietly()
    assert again.step_status == wf.step_status
    assert again.outputs == wf.outputs
    assert again.degraded == {"plan": True, "code": False, "review": False, "execute": False}
    assert (again.status, again.reason, again.resumes) == ("failed", "step code failed", 1)
    assert tuple(again.specs.values()) == STEPS


def test_completed_workflow_is_finished() -> None:
    """Completed marks the workflow finished with its summary."""
    wf = _new()
    wf.complete("all good")
    assert wf.is_finished
    assert wf.summary == "all good"


@given(st.text(max_size=200))
def test_change_request_needs_the_prefix(text: str) -> None:
    """Only outputs starting with CHANGES: (any case, after blanks) ask for changes."""
    assert is_change_request("  changes: " + text)
    assert is_change_request(text) == text.lstrip().upper().startswith("CHANGES:")


@given(st.text(max_size=3000), st.integers(min_value=64, max_value=4096))
def test_cap_text_bounds_bytes_and_keeps_a_prefix(text: str, limit: int) -> None:
    """cap_text never exceeds the byte limit, keeps short text intact and a prefix of long."""
    capped = cap_text(text, limit)
    assert len(capped.encode()) <= limit
    if len(text.encode()) <= limit:
        assert capped == text
    else:
        assert capped.endswith("[... truncated by synapse]")
        kept = capped.removesuffix("\n[... truncated by synapse]")
        assert text.startswith(kept)


def test_default_cap_is_64_kib() -> None:
    """A 100 KiB output is stored as at most 64 KiB."""
    assert len(cap_text("é" * 100_000).encode()) <= OUTPUT_LIMIT_BYTES == 65536


@given(st.text(max_size=500))
def test_step_completed_round_trips_through_json_literally(output: str) -> None:
    """Any output text, injection strings included, survives the JSON mapper byte for byte."""
    store = EventStore(StoreConfig(backend="memory"))
    wf = _new()
    wf.start_step("plan", 1)
    wf.complete_step("plan", 1, output, "a", False, 0)
    store.save_all(wf)
    bodies = [store.decode_body(n) for n in store.read(0, 10)]
    assert bodies[-1]["output"] == output
    assert store.repository.get(wf.id).outputs["plan"] == output
