"""An agent actor SIGKILLed mid-stream on a real local Ray cluster: the answer arrives once.

Two ``openai`` agents stream from a fake OpenAI-compatible server in this process
(127.0.0.1). Its first completion sends a few tokens and then holds the connection open;
once the client has seen those tokens through the gateway's SSE stream, the test kills the
``slow`` agent's actor the way a crash would. The router must finish the answer through a
continuation (the server re-streams the whole answer, so the gateway has to drop the repeated
prefix), the attempts read model must show the cut, and Ray must restart the actor.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from actors import supervision
from synapse import bootstrap
from synapse.settings import Settings, load_settings

pytestmark = pytest.mark.ray

ANSWER = "Alpha beta gamma delta epsilon zeta eta theta iota kappa"
TOKENS = [w + " " for w in ANSWER.split(" ")[:-1]] + [ANSWER.split(" ")[-1]]
HELD_AFTER = 3  # tokens the first completion sends before it stalls
CONTINUE = "Continue exactly from there"


class _FakeOpenAI:
    """State shared with the request handler: the prompts seen and the stall to release."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()


def _handler(state: _FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

        def do_POST(self) -> None:
            """Stream a chat completion; the very first one stalls after a few tokens."""
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][0]["content"]
            with state.lock:
                first = not state.prompts
                state.prompts.append(prompt)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for index, token in enumerate(TOKENS):
                    if first and index == HELD_AFTER:
                        # Held open until the test ends: the actor dies while waiting here.
                        state.release.wait(timeout=120)
                        return
                    self._send({"choices": [{"index": 0, "delta": {"content": token}}]})
                self._send({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except OSError:
                return  # the killed actor's connection is gone

        def _send(self, chunk: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[tuple[str, _FakeOpenAI]]:
    state = _FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: tuple[str, _FakeOpenAI]
) -> Iterator[tuple[Settings, Any]]:
    url, _ = fake_openai
    home = tmp_path_factory.mktemp("home")
    agents = "\n".join(
        f'[[agents]]\nname = "{name}"\nbackend = "openai"\nbase_url = "{url}"\n'
        f'model = "fake"\ncapabilities = ["code"]\n'
        for name in ("slow", "backup")
    )
    (home / "agents.toml").write_text(agents)
    settings = load_settings(
        {}, home=home, namespace=f"gwk-{uuid.uuid4().hex[:6]}", poll_interval_s=0.2
    )
    running = bootstrap.start_system(
        settings, detached=False, port=0, sync_home=settings.home / "sandbox-home"
    )
    try:
        yield settings, running
    finally:
        bootstrap.stop_attached()


def _sql(api: httpx.Client, query: str, ready: Any, deadline_s: float = 60.0) -> list[Any]:
    """Poll the projections until ``ready(rows)`` holds (bounded)."""
    end = time.monotonic() + deadline_s
    rows: list[Any] = []
    while time.monotonic() < end:
        rows = api.post("/api/v1/sql", json={"query": query}).json()["rows"]
        if ready(rows):
            return rows
        time.sleep(0.2)  # polling a remote projector, not synchronising threads
    raise AssertionError(f"{query!r} never got ready: {rows}")


def test_agent_actor_killed_mid_stream_completes_once(
    system: tuple[Settings, Any], fake_openai: tuple[str, _FakeOpenAI]
) -> None:
    """Kill after the first tokens: one final, every character once, the cut recorded."""
    settings, running = system
    _, server = fake_openai
    headers = {"Authorization": f"Bearer {running.token}"}
    body = {"capability": "code", "agent": "slow", "prompt": "count in Greek", "stream": True}
    events: list[dict[str, Any]] = []
    killed = False
    with (
        httpx.Client(base_url=running.url, headers=headers, timeout=120) as api,
        api.stream("POST", "/api/v1/tasks", json=body) as response,
    ):
        assert response.status_code == 200
        request_id = response.headers["X-Task-Id"]
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            events.append(json.loads(line[len("data: ") :]))
            deltas = [e for e in events if e["kind"] == "delta"]
            if not killed and len(deltas) >= HELD_AFTER:
                assert bootstrap.crash_actor(settings, bootstrap.agent_actor_name("slow"))
                killed = True
    assert killed, events
    finals = [e for e in events if e["kind"] == "final"]
    assert len(finals) == 1, events
    assert "".join(e["text"] or "" for e in events if e["kind"] == "delta") == ANSWER
    summary = finals[0]["data"]
    assert summary["ok"] is True
    assert summary["degraded"] is False
    assert summary["attempts"] >= 2
    assert len(server.prompts) >= 2
    assert CONTINUE in server.prompts[-1]

    with httpx.Client(base_url=running.url, headers=headers, timeout=60) as api:
        attempts = _sql(
            api,
            "SELECT attempt, agent, outcome, failure FROM attempts "
            f"WHERE request_id = '{request_id}' ORDER BY attempt",
            lambda rows: len(rows) >= 2 and rows[-1][2] == "ok",
        )
        assert attempts[0][1:] == ["slow", "failed", "cut"]
        # restarts only grows on ActorLifecycle.Restarted, which the new incarnation records.
        # The status column is not asserted: the supervisor can take its own ping, cut by the
        # kill, for a permanent death and record RestartsExhausted (a known supervisor gap).
        _sql(
            api,
            "SELECT restarts FROM actors WHERE name = 'agent-slow'",
            lambda rows: bool(rows) and rows[0][0] >= 1,
        )
    assert _alive(settings, bootstrap.agent_actor_name("slow"))


def _alive(settings: Settings, name: str, deadline_s: float = 60.0) -> bool:
    """Probe the actor until it answers (bounded)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if supervision.probe(name, settings.namespace) == "alive":
            return True
        time.sleep(0.2)  # polling a remote actor's restart, not synchronising threads
    return False
