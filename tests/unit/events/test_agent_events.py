"""Agent and Task aggregates round-trip through a real in-memory EventStore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from events.agent import PREVIEW_CHARS, Agent, Task, agent_id, preview, redact, task_id
from events.store import EventStore, StoreConfig


@pytest.fixture
def store() -> Iterator[EventStore]:
    s = EventStore(StoreConfig(backend="memory"))
    yield s
    s.close_quietly()


def _register(store: EventStore) -> Agent:
    return store.execute(
        Agent,
        agent_id("claude"),
        "claude:registered",
        lambda _a: None,
        create=lambda cid: Agent.register("claude", "cli", ("plan", "code"), 3, command_id=cid),
    )


def test_agent_circuit_history_round_trips(store: EventStore) -> None:
    """Registration, health and circuit transitions replay into the same state."""
    _register(store)
    store.execute(Agent, agent_id("claude"), "c:1", lambda a: a.open_circuit("auth failure", 5))
    store.execute(Agent, agent_id("claude"), "c:2", lambda a: a.half_open_circuit("wait elapsed"))
    store.execute(Agent, agent_id("claude"), "c:3", lambda a: a.close_circuit("probes ok"))
    store.execute(Agent, agent_id("claude"), "c:4", lambda a: a.change_health(False, "exit 41"))
    agent = store.repository.get(agent_id("claude"))
    assert (agent.name, agent.capabilities, agent.weight) == ("claude", ("plan", "code"), 3)
    assert agent.circuit == "closed"
    assert agent.times_opened == 1
    assert not agent.healthy
    names = [type(e).__qualname__ for e in store.events_of(agent_id("claude"))]
    assert names == [
        "Agent.Registered",
        "Agent.CircuitOpened",
        "Agent.CircuitHalfOpened",
        "Agent.CircuitClosed",
        "Agent.HealthChanged",
    ]


def test_repeated_command_ids_append_nothing(store: EventStore) -> None:
    """A retried command (same id) is a no-op."""
    _register(store)
    _register(store)
    for _ in range(2):
        store.execute(Agent, agent_id("claude"), "c:1", lambda a: a.open_circuit("x", 5))
    assert len(list(store.events_of(agent_id("claude")))) == 2


def test_task_lifecycle_round_trips(store: EventStore) -> None:
    """Every task event is stored, decoded and replayed into the final state."""
    tid = task_id("r1")
    store.execute(
        Task,
        tid,
        "r1:0:submitted",
        lambda _t: None,
        create=lambda cid: Task.submit("r1", "review", "check this", "claude", command_id=cid),
    )
    steps = [
        ("r1:1:attempt_started", lambda t: t.start_attempt(1, "claude")),
        ("r1:1:attempt_failed", lambda t: t.fail_attempt(1, "claude", "overloaded", "529")),
        ("r1:1:retry_scheduled", lambda t: t.schedule_retry(1, 1.1)),
        ("r1:2:attempt_started", lambda t: t.start_attempt(2, "claude")),
        ("r1:2:checkpointed@7", lambda t: t.checkpoint(7, "sid", "ab" * 32)),
        ("r1:2:fallback_used", lambda t: t.use_fallback("other_agent", "gemini")),
        ("r1:3:completed", lambda t: t.complete("gemini", 3, False, 1234)),
    ]
    for cid, action in steps:
        store.execute(Task, tid, cid, action)
    task = store.repository.get(tid)
    assert task.status == "completed"
    assert (task.agent, task.attempts, task.last_seq) == ("gemini", 3, 7)
    assert task.fallbacks == ["other_agent"]
    bodies = [store.decode_body(n) for n in store.read(0, 100)]
    assert bodies[-1]["duration_ms"] == 1234
    assert bodies[0]["prompt_digest"] != "check this"


def test_degraded_and_failed_tasks(store: EventStore) -> None:
    """A degraded completion and an outright failure are distinguishable."""
    for rid, action in (
        ("d", lambda t: t.complete(None, 4, True, 10)),
        ("f", lambda t: t.fail("no agent")),
    ):
        store.execute(
            Task,
            task_id(rid),
            f"{rid}:0:submitted",
            lambda _t: None,
            create=lambda cid, rid=rid: Task.submit(rid, "plan", "p", command_id=cid),
        )
        store.execute(Task, task_id(rid), f"{rid}:4:end", action)
    assert store.repository.get(task_id("d")).status == "degraded"
    assert store.repository.get(task_id("f")).status == "failed"


def test_prompt_preview_is_short_and_redacted(store: EventStore) -> None:
    """Secrets never reach the stored preview, and it is at most 200 characters."""
    prompt = "use OPENAI_API_KEY=sk-abcdef1234567890 and token: ghp_" + "a" * 36 + " " + "x" * 500
    store.execute(
        Task,
        task_id("s"),
        "s:0:submitted",
        lambda _t: None,
        create=lambda cid: Task.submit("s", "code", prompt, command_id=cid),
    )
    body = store.decode_body(store.read(0, 1)[0])
    assert "sk-abcdef" not in body["prompt_preview"]
    assert "ghp_" not in body["prompt_preview"]
    assert len(body["prompt_preview"]) <= PREVIEW_CHARS


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def.ghi", "abc.def"),
        ("password='hunter2'", "hunter2"),
        ("key AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP"),
        ("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig", "eyJhbGci"),
    ],
)
def test_redact_known_secret_shapes(text: str, secret: str) -> None:
    """Common credential shapes are replaced with the marker."""
    assert secret not in redact(text)
    assert "***" in redact(text)


def test_preview_flattens_whitespace() -> None:
    """Previews are single-line."""
    assert preview("a\n\n  b\tc") == "a b c"
