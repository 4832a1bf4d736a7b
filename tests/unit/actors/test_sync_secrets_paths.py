"""Literal secrets survive sync the same way offline (plan + apply) and live (watchers).

A user-scope server with a literal ``Authorization: Bearer …`` header that every client
already holds must keep that header in every file, whatever else is synced around it. The
live path is the production classes a Ray cluster runs (``SyncOrchestrator`` fed by one
``WatcherActor`` per client), driven without Ray: the watchers' full rescans are called
directly instead of waiting for watchdog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from actors._sync_io import ScanReport
from actors.install_key import fingerprint_key
from actors.sync_actor import SyncOrchestrator
from actors.sync_service import SyncService, default_policy
from actors.watcher import WatcherActor
from adapters.registry import load_adapters
from events.client_config import EntityKey, McpServer, Transport, Value, fingerprint
from events.store import EventStore, StoreConfig
from synapse._demo_sync import DEMO_ARG, demo_edit, sandbox_paths, seed_sandbox

SECRET = "Bearer sk-live-0123456789abcdefABCDEF"
ROTATED = "Bearer sk-live-rotated-9876543210zyxw"
URL = "https://mcp.example.com/mcp"
URL_V2 = "https://mcp.example.com/v2/mcp"
KINDS = frozenset({"mcp_server"})
Snapshot = dict[str, bytes]


def seed_secure_server(home: Path) -> dict[str, Path]:
    """The demo sandbox plus a ``secure`` HTTP server with a literal bearer token in all eight
    clients, each in its own syntax (rendered by the client's adapter as a hand edit would)."""
    seed_sandbox(home)
    paths = sandbox_paths(home)
    server = McpServer(
        name="secure",
        transport=Transport.HTTP,
        url=Value.of(URL),
        headers={"Authorization": Value.of(SECRET)},
    )
    for client, adapter in load_adapters().items():
        path = paths[str(client)]
        cfg = next(f for f in adapter.discover(home, []) if f.path == path)
        text = path.read_text()
        rendered = adapter.render(cfg, text, {EntityKey("mcp_server", "secure"): server})
        path.write_text(rendered.text)
        assert SECRET in path.read_text(), client
    return paths


def snapshot(paths: dict[str, Path]) -> Snapshot:
    return {client: path.read_bytes() for client, path in paths.items()}


def rotate_in_claude(home: Path) -> None:
    path = sandbox_paths(home)["claude-code"]
    path.write_text(path.read_text().replace(SECRET, ROTATED))


def move_url_in_gemini(home: Path) -> None:
    path = sandbox_paths(home)["gemini"]
    path.write_text(path.read_text().replace(URL, URL_V2))


STEPS: list[tuple[str, Callable[[Path], object]]] = [
    ("start", lambda home: None),
    ("edit another server", demo_edit),
    ("rotate the token in one client", rotate_in_claude),
    ("edit the secret server's url", move_url_in_gemini),
]


def run_offline(tmp_path: Path) -> list[Snapshot]:
    """Each step as the offline CLI does it: a fresh orchestrator, ``sync plan``, ``sync apply``."""
    home = tmp_path / "home"
    paths = seed_secure_server(home)
    synapse_home = tmp_path / "synapse"
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    adapters = load_adapters(fingerprint_key=fingerprint_key(synapse_home))
    snapshots = []
    for _, step in STEPS:
        step(home)
        service = SyncService(
            store,
            {str(c): a for c, a in adapters.items()},
            home=home,
            preimage_dir=synapse_home / "preimages",
            policy=default_policy([str(c) for c in adapters], "observe"),
        )
        plan = service.plan()
        assert service.apply(plan.plan_hash).stale is False
        snapshots.append(snapshot(paths))
    return snapshots


def run_live(tmp_path: Path) -> list[Snapshot]:
    """Each step as the running system does it: the edited client's watcher hands its scan to
    the orchestrator (apply mode), then every watcher's periodic full rescan runs."""
    home = tmp_path / "home"
    paths = seed_secure_server(home)
    synapse_home = tmp_path / "synapse"
    config = StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite")
    clients = [str(c) for c in load_adapters()]
    orchestrator = SyncOrchestrator(
        config,
        str(home),
        str(synapse_home / "preimages"),
        "apply",
        policy=default_policy(clients, "apply"),
    )
    watchers = [
        WatcherActor(
            c, str(home), orchestrator.submit, key_home=str(synapse_home), kinds=KINDS, start=False
        )
        for c in clients
    ]
    snapshots = []
    for _, step in STEPS:
        step(home)
        for watcher in watchers:
            watcher.rescan()
        for watcher in watchers:
            watcher.rescan()
        snapshots.append(snapshot(paths))
    return snapshots


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Snapshot], list[Snapshot]]:
    return (
        run_offline(tmp_path_factory.mktemp("offline")),
        run_live(tmp_path_factory.mktemp("live")),
    )


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[name for name, _ in STEPS])
def test_offline_and_live_write_the_same_bytes(both, step: int) -> None:  # type: ignore[no-untyped-def]
    """After each step every client file holds the same bytes on both paths."""
    offline, live = both
    for client in offline[step]:
        assert live[step][client] == offline[step][client], client


@pytest.mark.parametrize("path", ["offline", "live"])
def test_every_client_keeps_its_literal_token(both, path: str) -> None:  # type: ignore[no-untyped-def]
    """No file ever loses its bearer token; edits around the secret still reach every client."""
    snapshots = both[0] if path == "offline" else both[1]
    start, edited, rotated, moved = snapshots
    for client in start:
        assert SECRET.encode() in start[client], client
        assert DEMO_ARG.encode() in edited[client], client
        assert SECRET.encode() in edited[client], client
        assert URL_V2.encode() in moved[client], client
        own = ROTATED if client == "claude-code" else SECRET
        assert own.encode() in rotated[client], client
        assert own.encode() in moved[client], client
    # the rotated token stays in the file it was typed into: literal secrets never travel
    assert all(ROTATED.encode() not in moved[c] for c in moved if c != "claude-code")


def test_watchers_fingerprint_with_the_install_key(tmp_path: Path) -> None:
    """A watcher's scan fingerprints a literal secret with this install's key, as the
    orchestrator does; with another key the same secret would read as a changed one."""
    home = tmp_path / "home"
    seed_secure_server(home)
    reports: list[ScanReport] = []
    watcher = WatcherActor(
        "gemini", str(home), reports.append, key_home=str(tmp_path), kinds=KINDS, start=False
    )
    watcher.rescan()
    header = reports[0].entities[("mcp_server", "secure")]["headers"]["Authorization"]
    assert header["parts"] == [
        {"kind": "secret", "fingerprint": fingerprint(SECRET, fingerprint_key(tmp_path))}
    ]
