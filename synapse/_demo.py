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
   the change reaches the other clients' files; then a Claude command, subagent and skill are
   created live and appear in the other clients' syntaxes and folders, and an edit of the
   command's Gemini TOML flows back to Claude's Markdown. Each outcome is awaited with a
   deadline; one that does not arrive makes the demo exit 1.

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

from adapters.formats import Format, load
from adapters.registry import load_adapters
from synapse import bootstrap
from synapse._client import ApiClient
from synapse._demo_sync import (
    AGENT,
    COMMAND,
    COMMAND_EDIT,
    DEMO_ARG,
    PERSONAL_RULE,
    SKILL,
    add_claude_entities,
    add_personal_rule,
    by_root,
    demo_edit,
    edit_gemini_command,
    entity_paths,
    holds,
    personal_files,
    sandbox_paths,
    seed_sandbox,
    short,
    skill_readers,
    wait_all,
)
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

#: How long act 4 waits for each outcome before it reports a failure.
_DEADLINE_S = 30.0
CLAUDE = "claude-code"


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
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)  # no "tightened" notice
    agents_file = settings.home / bootstrap.AGENTS_FILE
    if not agents_file.exists():
        agents_file.write_text(DEMO_AGENTS)
    print(f"== starting Synapse in the sandbox {sandbox} (local Ray, SQLite, DuckDB)", flush=True)
    print(f"   seeded configs for {len(seeded)} clients in {clients_home}: {', '.join(seeded)}")
    # Ray's warnings and retries go to <home>/logs/ray-driver.log, not between the acts.
    with bootstrap.quiet_ray(settings):
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
        synced = _act_sync(settings, client, feed)
        deadline = time.monotonic() + seconds
        while keep or time.monotonic() < deadline:
            time.sleep(0.5)
            if not keep and time.monotonic() >= deadline:
                break
    finally:
        time.sleep(1.0)
        feed.stop.set()
        feed.join(timeout=5)
    code = _summary(settings, client)
    if not synced:
        print("client sync FAILED (see act 4); exiting with status 1", flush=True)
    return code if synced else 1


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


def _act_sync(settings: Settings, client: ApiClient, feed: _Feed) -> bool:
    """Act 4: MCP, then commands, subagents and skills; False when an outcome timed out."""
    home = settings.sync_home
    if home is None:
        return True
    ok = _act_mcp(home, feed) and _act_entities(home, feed) and _act_personal(home, feed)
    status = client.get_json("/api/v1/sync/status")
    _say(feed, f"  sync status: {json.dumps(status)[:160]}")
    time.sleep(1.0)
    return ok


def _act_mcp(home: Path, feed: _Feed) -> bool:
    _step(feed, "4. client sync: an MCP server edited in Gemini's settings.json (JSONC, comments)")
    files = sandbox_paths(home)
    started = time.monotonic()
    source = demo_edit(home)
    checks = {c: holds(p, DEMO_ARG) for c, p in files.items() if c != source}
    seen = wait_all(checks, started, _DEADLINE_S)
    marks = {c: "updated" if c in seen else "MISSING" for c in checks} | {source: "source"}
    _say(feed, "\n".join(f"  {c:12s} {marks[c]:8s} {p}" for c, p in sorted(files.items())))
    if len(seen) < len(checks):
        return _failed(feed, f"the MCP edit reached {len(seen)} of {len(checks)} clients")
    codex = files["codex"].read_text().splitlines()
    snippet = [ln for ln in codex if "filesystem" in ln or DEMO_ARG in ln or "env_vars" in ln]
    _say(
        feed,
        f"  the edit reached all {len(seen)} other clients in {max(seen.values()):.2f} s; "
        "comments and unknown keys kept\n"
        f"  codex config.toml now has: {' | '.join(snippet[:4])}",
    )
    return True


def _act_entities(home: Path, feed: _Feed) -> bool:
    _step(feed, "4b. a command, a subagent and a skill created live in Claude's folders")
    adapters = {str(c): a for c, a in load_adapters().items()}
    commands = entity_paths(adapters, home, "command", COMMAND)
    agents = entity_paths(adapters, home, "subagent", AGENT)
    started = time.monotonic()
    wrote = add_claude_entities(home)
    _say(feed, "  wrote " + ", ".join(short(home, p) for p in wrote))
    phrase = COMMAND_EDIT[0]
    checks = {f"command {c}": holds(p, phrase) for c, p in commands.items() if c != CLAUDE}
    checks |= {f"subagent {c}": holds(p, AGENT) for c, p in agents.items() if c != CLAUDE}
    checks["skill"] = holds(home / ".agents/skills" / SKILL / "SKILL.md", SKILL)
    seen = wait_all(checks, started, _DEADLINE_S)
    if len(seen) < len(checks):
        missing = ", ".join(sorted(set(checks) - set(seen)))
        return _failed(feed, f"not synced within {_DEADLINE_S:.0f} s: {missing}")
    gemini = commands["gemini"]
    prompt = next(ln for ln in gemini.read_text().splitlines() if ln.startswith("prompt"))
    if "{{args}}" not in prompt:
        return _failed(feed, f"$ARGUMENTS did not become {{{{args}}}} in Gemini: {prompt}")
    cmd = sorted(c for c in commands if c != CLAUDE)
    sub = sorted(c for c in agents if c != CLAUDE)
    readers = skill_readers(adapters, home, SKILL)
    lines = [
        f"  command /{COMMAND} reached {', '.join(cmd)} in "
        f"{max(seen[f'command {c}'] for c in cmd):.2f} s",
        f"    {short(home, gemini)}: {prompt}",
        f"  subagent {AGENT} reached all {len(sub)} other clients in "
        f"{max(seen[f'subagent {c}'] for c in sub):.2f} s: {', '.join(sub)}",
        f"    e.g. {short(home, agents['gemini'])}, {short(home, agents['codex'])}",
        f"  skill {SKILL}: one copy into ~/.agents/skills in {seen['skill']:.2f} s; "
        f"{len(readers)} clients see it: {by_root(home, readers)}",
    ]
    _say(feed, "\n".join(lines))
    return _act_command_back(home, feed, gemini, commands[CLAUDE])


def _act_command_back(home: Path, feed: _Feed, gemini: Path, claude: Path) -> bool:
    _step(feed, "4c. the command edited in Gemini's TOML flows back to Claude's Markdown")
    started = time.monotonic()
    _say(feed, f"  edited {short(home, gemini)}: {edit_gemini_command(gemini)}")
    wanted = f"$ARGUMENTS {COMMAND_EDIT[1]}"
    seen = wait_all({CLAUDE: holds(claude, wanted)}, started, _DEADLINE_S)
    if not seen:
        return _failed(feed, f"the Gemini edit did not reach {claude} in {_DEADLINE_S:.0f} s")
    doc = load(Format.MARKDOWN, claude.read_text())
    body = next(ln for ln in str(doc["body"]).splitlines() if wanted in ln)
    keys = list(doc["frontmatter"])
    if not {"argument-hint", "allowed-tools"} <= set(keys):
        return _failed(feed, f"Claude-only frontmatter keys were lost: {keys}")
    _say(
        feed,
        f"  the edit came back to {short(home, claude)} in {seen[CLAUDE]:.2f} s: {body}\n"
        f"    Claude's frontmatter keys kept: {', '.join(keys)}",
    )
    return True


def _act_personal(home: Path, feed: _Feed) -> bool:
    _step(feed, "4d. a personal rule appended to ~/.claude/CLAUDE.md reaches every client once")
    files = personal_files(home)
    started = time.monotonic()
    source = add_personal_rule(home)
    _say(feed, f"  appended {PERSONAL_RULE!r} to {short(home, source)}")
    checks = {c: holds(p, PERSONAL_RULE) for c, p in files.items() if c != CLAUDE}
    seen = wait_all(checks, started, _DEADLINE_S)
    if len(seen) < len(checks):
        missing = ", ".join(sorted(set(checks) - set(seen)))
        return _failed(feed, f"the personal rule did not reach {missing} in {_DEADLINE_S:.0f} s")
    twice = [c for c, p in files.items() if p.read_text().count(PERSONAL_RULE) != 1]
    if twice:
        return _failed(feed, f"the rule is not there exactly once in: {', '.join(twice)}")
    gemini = files["gemini"].read_text()
    if "## Gemini Added Memories" not in gemini or any(
        "Added Memories" in p.read_text() for c, p in files.items() if c != "gemini"
    ):
        return _failed(feed, "Gemini's own memories section was lost or spread")
    lines = [f"  {c:12s} {seen[c]:.2f} s  {short(home, files[c])}" for c in sorted(checks)]
    _say(
        feed,
        "\n".join(lines) + f"\n  the rule reached all {len(seen)} other clients once in "
        f"{max(seen.values()):.2f} s; Gemini's '## Gemini Added Memories' stayed its own",
    )
    return True


def _say(feed: _Feed, text: str) -> None:
    with feed.lock:
        print(text, flush=True)


def _failed(feed: _Feed, message: str) -> bool:
    _say(feed, f"  FAILED: {message}")
    return False


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
