"""The gateway on a real local Ray cluster: agent actors, gateway and workflow actors, Serve.

The home holds an ``agents.toml`` with a flaky scripted agent (fails its first call), a
steady one and a victim the test kills, so retry, fallback and actor death are exercised
through the real HTTP path and checked in the DuckDB read models.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from actors import supervision
from synapse import bootstrap
from synapse.settings import Settings, load_settings

pytestmark = pytest.mark.ray

AGENTS_TOML = """
[[agents]]
name = "flaky"
backend = "scripted"
capabilities = ["plan", "code", "review", "analyze"]
fail_first = 1

[[agents]]
name = "steady"
backend = "scripted"
capabilities = ["plan", "code", "review", "analyze"]

[[agents]]
name = "victim"
backend = "scripted"
capabilities = ["plan", "code", "review", "analyze"]
"""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Any]]:
    home = tmp_path_factory.mktemp("home")
    (home / "agents.toml").write_text(AGENTS_TOML)
    settings = load_settings(
        {}, home=home, namespace=f"gw-{uuid.uuid4().hex[:6]}", poll_interval_s=0.2
    )
    running = bootstrap.start_system(
        settings, detached=False, port=0, sync_home=settings.home / "sandbox-home"
    )
    try:
        yield settings, running
    finally:
        bootstrap.stop_attached()


@pytest.fixture
def api(system: tuple[Settings, Any]) -> Iterator[httpx.Client]:
    _, running = system
    headers = {"Authorization": f"Bearer {running.token}"}
    with httpx.Client(base_url=running.url, headers=headers, timeout=60) as client:
        yield client


def _sql(api: httpx.Client, query: str, want: int, deadline_s: float = 30.0) -> list[Any]:
    """Poll the projections until ``query`` returns at least ``want`` rows."""
    end = time.monotonic() + deadline_s
    rows: list[Any] = []
    while time.monotonic() < end:
        rows = api.post("/api/v1/sql", json={"query": query}).json()["rows"]
        if len(rows) >= want:
            return rows
        time.sleep(0.2)  # polling a remote projector, not synchronising threads
    return rows


def test_task_is_answered_by_a_scripted_agent(api: httpx.Client) -> None:
    """POST /api/v1/tasks returns the steady agent's canned plan."""
    body = {"capability": "plan", "agent": "steady", "prompt": "plan the work"}
    answer = api.post("/api/v1/tasks", json=body).json()
    assert answer["ok"] is True
    assert answer["agent"] == "steady"
    assert answer["text"].startswith("Plan:")
    agents = {a["name"] for a in api.get("/api/v1/agents").json()["agents"]}
    assert {"flaky", "steady", "victim"} <= agents


def test_injected_failure_is_retried_and_projected(api: httpx.Client) -> None:
    """The flaky agent fails once; the task succeeds and tasks/attempts show both attempts."""
    response = api.post(
        "/api/v1/tasks",
        json={"capability": "code", "agent": "flaky", "prompt": "write add"},
        headers={"Idempotency-Key": "flaky-1"},
    )
    answer = response.json()
    assert answer["ok"] is True
    assert answer["attempts"] >= 2
    rid = response.headers["X-Task-Id"]
    # Completed lands in one projector batch with its attempt row: wait for it, not for a
    # row count the earlier AttemptStarted events already reach.
    task = _sql(
        api,
        f"SELECT status, attempts FROM tasks WHERE request_id = '{rid}' AND status = 'completed'",
        1,
    )
    assert task == [["completed", answer["attempts"]]]
    rows = _sql(
        api,
        f"SELECT attempt, outcome, failure FROM attempts WHERE request_id = '{rid}' "
        "ORDER BY attempt",
        answer["attempts"],
    )
    assert rows, rid
    assert rows[0][1] == "failed"
    assert rows[-1][1] == "ok"


def test_killed_agent_actor_falls_back(system: tuple[Settings, Any], api: httpx.Client) -> None:
    """With the victim's actor killed for good, a stream hinted to it completes elsewhere."""
    settings, _ = system
    assert supervision.kill(bootstrap.agent_actor_name("victim"), settings.namespace)
    body = {"capability": "review", "agent": "victim", "prompt": "review", "stream": True}
    response = api.post("/api/v1/tasks", json=body)
    assert response.status_code == 200
    frames = [line for line in response.text.splitlines() if line.startswith("data: ")]
    assert '"kind":"final"' in frames[-1]
    assert '"ok":true' in frames[-1]
    assert '"agent":"victim"' not in frames[-1]


def test_workflow_gate_and_approval(api: httpx.Client) -> None:
    """plan → code → review run, execute waits for approval, approval completes it."""
    wid = f"w-{uuid.uuid4().hex[:6]}"
    assert api.post("/api/v1/workflow", json={"prompt": "add", "workflow_id": wid}).is_success
    status = _wait_state(api, wid, "awaiting_approval")
    assert [s["status"] for s in status["steps"]][:3] == ["done", "done", "done"]
    assert api.post(f"/api/v1/workflows/{wid}/approve", json={"step": "execute"}).is_success
    _wait_state(api, wid, "completed")
    done = f"SELECT 1 FROM workflows WHERE workflow_id = '{wid}' AND status = 'completed'"
    assert _sql(api, done, 1)
    steps = _sql(api, f"SELECT step, attempts FROM steps WHERE workflow_id = '{wid}'", 4)
    assert sorted(steps) == [["code", 1], ["execute", 1], ["plan", 1], ["review", 1]]


def _wait_state(api: httpx.Client, wid: str, state: str) -> dict[str, Any]:
    end = time.monotonic() + 60
    status: dict[str, Any] = {}
    while time.monotonic() < end:
        status = api.get(f"/api/v1/workflows/{wid}").json()
        if status.get("state") == state:
            return status
        time.sleep(0.2)  # polling a remote actor's progress
    raise AssertionError(f"workflow {wid} never reached {state}: {status}")


def test_supervisor_watches_the_new_actors(system: tuple[Settings, Any]) -> None:
    """The gateway and workflow actors answer pings."""
    settings, _ = system
    for name in (bootstrap.GATEWAY, bootstrap.WORKFLOWS, bootstrap.agent_actor_name("steady")):
        assert supervision.probe(name, settings.namespace) == "alive"
