"""The engine's opt-in setting rules: per-setting client groups and never-written values."""

from __future__ import annotations

import itertools
from typing import Any

from actors.sync_engine import Lossy, Observation, Policy, SyncEngine, Write

MODEL = ("setting", "model")
MODE = ("setting", "approval_mode")
ALL_MODES = frozenset({"default", "auto_edit", "plan"})
_scans = itertools.count()


def engine(**kw: Any) -> SyncEngine:
    """An engine over clients a, b, c with the given policy fields."""
    return SyncEngine(Policy(clients=("a", "b", "c"), **kw))


def scan(e: SyncEngine, client: str, entities: dict[Any, dict[str, Any]]) -> None:
    """One complete scan of ``client``."""
    e.observe(Observation(client, f"s{next(_scans)}", True, entities))


def value(text: str) -> dict[str, Any]:
    """An engine value of a user-scope setting."""
    return {"scope": "user", "value": text}


def test_a_setting_not_opted_in_is_not_covered() -> None:
    """Settings are opt-in one by one: an unnamed setting plans nothing."""
    e = engine(settings={"approval_mode": frozenset({"a", "b"})})
    for client in "abc":
        scan(e, client, {MODEL: value("opus")} if client == "a" else {})
    assert e.plan().decisions == ()


def test_a_setting_flows_only_among_its_clients() -> None:
    """model = [a, b]: a's model reaches b, never c; c's own model is ignored."""
    e = engine(settings={"model": frozenset({"a", "b"})})
    scan(e, "a", {MODEL: value("opus")})
    scan(e, "b", {})
    scan(e, "c", {MODEL: value("gpt-5")})
    assert [(w.client, w.value) for w in e.plan().writes] == [("b", value("opus"))]


def test_full_access_is_a_loss_never_a_write() -> None:
    """A full_access mode is known to the engine but planned as a Lossy refusal."""
    e = engine(settings={"approval_mode": frozenset({"a", "b"})}, accepts={"b": ALL_MODES})
    scan(e, "a", {MODE: value("full_access")})
    scan(e, "b", {})
    decisions = e.plan().decisions
    assert not any(isinstance(d, Write) for d in decisions)
    assert [(d.client, d.reason) for d in decisions if isinstance(d, Lossy)] == [
        ("b", "full-access approval modes are never synced")
    ]


def test_a_mode_the_target_cannot_spell_is_a_loss() -> None:
    """A target without that mode (Copilot has no auto-edit) gets a Lossy, not a write."""
    e = engine(settings={"approval_mode": frozenset({"a", "b"})}, accepts={"b": {"plan"}})
    scan(e, "a", {MODE: value("auto_edit")})
    scan(e, "b", {})
    [decision] = e.plan().decisions
    assert isinstance(decision, Lossy)
    assert decision.reason == "b has no approval mode 'auto_edit'"
