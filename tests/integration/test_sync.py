"""Config sync on a real local Ray cluster: watchers, orchestrator, HTTP, crashes."""

from __future__ import annotations

import json
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from synapse import bootstrap
from synapse._demo_sync import DEMO_ARG, demo_edit
from synapse.settings import Settings, load_settings
from tests.unit.actors.test_sync_secrets_paths import (
    SECRET,
    URL_V2,
    move_url_in_gemini,
    seed_secure_server,
)

pytestmark = pytest.mark.ray
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, bootstrap.RunningSystem, dict[str, Path]]]:
    root = tmp_path_factory.mktemp("sync")
    sandbox = root / "sandbox"
    paths = seed_secure_server(sandbox)  # the demo sandbox + a literal bearer token everywhere
    settings = load_settings(
        {},
        home=root / "synapse",
        namespace=f"sync-{uuid.uuid4().hex[:6]}",
        poll_interval_s=0.2,
        mode="apply",
    )
    running = bootstrap.start_system(settings, detached=False, port=0, sync_home=sandbox)
    try:
        yield settings, running, paths
    finally:
        bootstrap.stop_attached()


def _all_contain(paths: dict[str, Path], needle: str) -> bool:
    return all(needle in p.read_text() for p in paths.values())


def _wait(predicate: object, deadline_s: float = DEADLINE_S) -> float:
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.05)  # polling real files written by other processes
    raise AssertionError("condition not reached in time")


def _parses(paths: dict[str, Path]) -> None:
    for client, path in paths.items():
        text = path.read_text()
        if client == "codex":
            tomllib.loads(text)
        elif client in ("claude-code", "rovodev", "copilot", "cursor"):
            json.loads(text)


def test_an_edit_reaches_every_client(system) -> None:  # type: ignore[no-untyped-def]
    """Editing Gemini's file makes all eight files hold the change; the entities table agrees."""
    _settings, running, paths = system
    demo_edit(paths["gemini"].parents[1])
    latency = _wait(lambda: _all_contain(paths, DEMO_ARG))
    print(f"edit -> all clients: {latency:.2f}s")
    _parses(paths)
    with httpx.Client(
        base_url=running.url, headers={"Authorization": f"Bearer {running.token}"}, timeout=30
    ) as api:

        def synced() -> bool:
            sql = (
                "SELECT count(DISTINCT client), count(DISTINCT digest) FROM entities "
                "WHERE name = 'filesystem'"
            )
            rows = api.post("/api/v1/sql", json={"query": sql}).json()["rows"]
            return rows == [[8, 1]]

        _wait(synced)
        assert api.get("/api/v1/clients").status_code == 200


def test_literal_tokens_survive_live_sync_on_ray(system) -> None:  # type: ignore[no-untyped-def]
    """Every client already holds the same literal bearer token: watchers on Ray and the
    orchestrator carry an edit of that server to all eight files and every token stays."""
    _settings, _running, paths = system
    move_url_in_gemini(paths["gemini"].parents[1])
    _wait(lambda: _all_contain(paths, URL_V2))
    _parses(paths)
    for client, path in paths.items():
        assert SECRET in path.read_text(), client


def test_killed_orchestrator_and_watcher_converge(system) -> None:  # type: ignore[no-untyped-def]
    """kill -9 of the orchestrator mid-sync and of a watcher: the system converges, no torn file."""
    settings, _, paths = system
    text = paths["cursor"].read_text().replace('"/tmp"', '"/tmp", "/after-crash"', 1)
    paths["cursor"].write_text(text)
    assert bootstrap.crash_actor(settings, bootstrap.SYNC)
    assert bootstrap.crash_actor(settings, f"watcher:codex:{__import__('socket').gethostname()}")
    _wait(lambda: _all_contain(paths, "/after-crash"))
    _parses(paths)
    leftovers = [p for p in paths["cursor"].parents[1].rglob(".synapse.*")]
    assert leftovers == []
