"""``synapse demo``: the whole system in a sandbox home, with activity you can watch.

It starts a local Ray cluster in this process, spawns the supervised actors, deploys the
HTTP app on loopback and prints the live event feed while it drives real activity through
the system, act by act:

1. supervision: the projector actor is killed; Ray restarts it and it resumes from the
   position it committed in DuckDB;
2. the agent gateway: a task goes to a scripted agent configured to fail its first calls;
   the gateway retries and falls back, and the answer arrives anyway;
3. a durable workflow: plan → code → review runs across agents, stops at the approval gate,
   is approved, and completes;
4. client sync (when the sandbox holds client configs): one client's MCP server is edited and
   the change reaches the other clients' files.

It ends with SQL over the projections, a Parquet export and a check that DuckDB holds exactly
the events in the log, then shuts everything down.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from synapse import bootstrap
from synapse._client import ApiClient
from synapse._demo_sync import DEMO_ARG, demo_edit, sandbox_paths, seed_sandbox
from synapse._output import format_rows
from synapse.settings import Settings, load_settings

__all__ = ["run_demo"]

#: demo-a fails its first calls (injected fault); demo-b is healthy.
DEMO_AGENTS = """\
# Written by `synapse demo`: two scripted agents; demo-a fails its first three calls.
[[agents]]
name = "demo-a"
backend = "scripted"
capabilities = ["plan", "code", "analyze", "review", "execute"]
fail_first = 3

[[agents]]
name = "demo-b"
backend = "scripted"
capabilities = ["plan", "code", "analyze", "review", "execute"]
"""


class _Feed(threading.Thread):
    """Prints new events from the API as they become visible, until stopped."""

    def __init__(self, client: ApiClient) -> None:
        super().__init__(name="demo-feed", daemon=True)
        self.client = client
        self.after = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stop.wait(0.3):
            with contextlib.suppress(Exception):
                self.poll()

    def poll(self) -> None:
        page = self.client.get_json("/api/v1/events", after=self.after, limit=1000)
        with self.lock:
            for row in page["items"]:
                body = {
                    k: v
                    for k, v in row.get("body", {}).items()
                    if k not in ("timestamp", "originator_topic", "command_id")
                }
                text = json.dumps(body, separators=(",", ":"), default=str)
                text = text if len(text) <= 90 else text[:89] + "…"
                print(f"  | {row['position']:>5}  {row['type']:30s} {text}", flush=True)
                self.after = row["position"]


def _step(feed: _Feed | None, title: str) -> None:
    if feed is not None:
        with feed.lock:
            print(f"\n== {title}", flush=True)
    else:
        print(f"\n== {title}", flush=True)


def run_demo(home: Path | None, seconds: float, port: int, keep: bool) -> int:
    """Run the demo; return the CLI exit code."""
    sandbox = home or Path(tempfile.mkdtemp(prefix="synapse-demo-"))
    clients_home = sandbox / "home"
    seeded = seed_sandbox(clients_home)
    settings = load_settings(
        home=sandbox / "synapse",
        namespace=f"synapse-demo-{uuid.uuid4().hex[:8]}",
        poll_interval_s=0.5,
        mode="apply",  # a sandbox: the demo may write; a real home defaults to observe
        sync_home=clients_home,
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    agents_file = settings.home / bootstrap.AGENTS_FILE
    if not agents_file.exists():
        agents_file.write_text(DEMO_AGENTS)
    print(f"== starting Synapse in the sandbox {sandbox} (local Ray, SQLite, DuckDB)", flush=True)
    print(f"   seeded configs for {len(seeded)} clients in {clients_home}: {', '.join(seeded)}")
    system = bootstrap.start_system(settings, detached=False, port=port)
    try:
        return _drive(settings, system, seconds, keep)
    finally:
        print("\n== shutting down", flush=True)
        bootstrap.stop_attached(settings.namespace)
        print(f"done; the sandbox stays at {sandbox}")


def _drive(settings: Settings, system: bootstrap.RunningSystem, seconds: float, keep: bool) -> int:
    print(f"HTTP API {system.url}  |  dashboard {system.browser_url}")
    client = ApiClient(system.url, system.token, timeout_s=120)
    feed = _Feed(client)
    feed.start()
    try:
        _act_supervision(settings, feed)
        _act_gateway(client, feed)
        _act_workflow(client, feed)
        _act_sync(settings, client, feed)
        deadline = time.monotonic() + seconds
        while keep or time.monotonic() < deadline:
            time.sleep(0.5)
            if not keep and time.monotonic() >= deadline:
                break
    finally:
        time.sleep(1.0)
        feed.stop.set()
        feed.join(timeout=5)
    return _summary(settings, client)


def _act_supervision(settings: Settings, feed: _Feed) -> None:
    _step(feed, "1. supervision: crashing the projector actor; Ray restarts it from its log")
    bootstrap.crash_actor(settings, bootstrap.PROJECTOR)
    time.sleep(3.0)


def _act_gateway(client: ApiClient, feed: _Feed) -> None:
    _step(feed, "2. gateway: `plan` task; agent demo-a fails its first calls (injected fault)")
    answer: dict[str, Any] = client.post_json(
        "/api/v1/tasks", {"capability": "plan", "prompt": "add a cache to the config loader"}
    )
    with feed.lock:
        print(
            f"  answer from {answer['agent']} after {answer['attempts']} attempt(s)"
            f"{', fallback ' + str(answer['fallback']) if answer.get('fallback') else ''}: "
            f"{answer['text'][:80]}",
            flush=True,
        )
    time.sleep(1.5)


def _act_workflow(client: ApiClient, feed: _Feed) -> None:
    _step(feed, "3. durable workflow: plan -> code -> review -> (approval) -> execute")
    status = client.post_json("/api/v1/workflow", {"prompt": "add a cache to the config loader"})
    workflow_id = status["workflow_id"]
    status = _wait_workflow(client, workflow_id, gate=True)
    with feed.lock:
        print(f"  workflow {workflow_id} is {status['state']}; approving execute", flush=True)
    client.post_json(f"/api/v1/workflows/{workflow_id}/approve", {"step": "execute", "by": "demo"})
    status = _wait_workflow(client, workflow_id, gate=False)
    with feed.lock:
        steps = ", ".join(f"{s['name']}={s['status']}" for s in status["steps"])
        print(f"  workflow {workflow_id} {status['state']}: {steps}", flush=True)
    time.sleep(1.5)


def _act_sync(settings: Settings, client: ApiClient, feed: _Feed) -> None:
    home = settings.sync_home
    if home is None:
        return
    _step(feed, "4. client sync: an MCP server edited in Gemini's settings.json (JSONC, comments)")
    files = sandbox_paths(home)
    started = time.monotonic()
    source = demo_edit(home)
    deadline = started + 30
    pending = {c for c in files if c != source}
    while pending and time.monotonic() < deadline:
        pending = {c for c in pending if DEMO_ARG not in files[c].read_text()}
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    with feed.lock:
        for name, path in sorted(files.items()):
            mark = "source" if name == source else ("MISSING" if name in pending else "updated")
            print(f"  {name:12s} {mark:8s} {path}", flush=True)
        if not pending:
            print(
                f"  the edit reached all {len(files) - 1} other clients in {elapsed:.2f} s; "
                "comments and unknown keys kept",
                flush=True,
            )
        codex = files.get("codex")
        if codex is not None:
            snippet = [
                ln
                for ln in codex.read_text().splitlines()
                if "filesystem" in ln or DEMO_ARG in ln or "env_vars" in ln
            ]
            print("  codex config.toml now has: " + " | ".join(snippet[:4]), flush=True)
    status = client.get_json("/api/v1/sync/status")
    with feed.lock:
        print(f"  sync status: {json.dumps(status)[:160]}", flush=True)
    time.sleep(1.5)


def _wait_workflow(client: ApiClient, workflow_id: str, *, gate: bool) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status: dict[str, Any] = client.get_json(f"/api/v1/workflows/{workflow_id}")
        waiting = any(s["status"] == "awaiting_approval" for s in status["steps"])
        if (gate and waiting) or status["state"] in ("completed", "failed", "rejected"):
            return status
        if time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def _sql(client: ApiClient, query: str) -> dict[str, Any]:
    result: dict[str, Any] = client.post_json("/api/v1/sql", {"query": query})
    return result


def _summary(settings: Settings, client: ApiClient) -> int:
    store = bootstrap.open_store(settings)
    head = store.head()
    store.close_quietly()
    deadline = time.monotonic() + 30
    count = -1
    while time.monotonic() < deadline:
        count = int(_sql(client, "SELECT count(*) FROM events")["rows"][0][0] or 0)
        if count >= head:
            break
        time.sleep(0.2)
    print("\n== SQL on the DuckDB projections (POST /api/v1/sql, or `synapse sql`)")
    for query in (
        "SELECT type, count(*) AS events FROM events GROUP BY type ORDER BY 2 DESC LIMIT 12",
        "SELECT name, status, restarts FROM actors ORDER BY name",
        "SELECT request_id, capability, agent, attempts, fallback, status FROM tasks",
        "SELECT step, status, attempts, agent FROM steps ORDER BY step",
        "SELECT client, status, path FROM clients ORDER BY client",
    ):
        res = _sql(client, query)
        print(f"\n{query}")
        print(format_rows(res["columns"], res["rows"], "table"), end="")
    response = client.request("GET", "/api/v1/exports/events", params={"format": "parquet"})
    dest = settings.exports_dir / "events.parquet"
    dest.write_bytes(response.content)
    print(f"\nexported the events table to {dest} ({len(response.content):,} bytes)")
    ok = count == head
    verdict = "nothing lost, nothing doubled" if ok else "MISMATCH"
    print(f"log head {head}, rows in DuckDB {count}: {verdict}")
    client.close()
    return 0 if ok else 1
