"""Sandbox homes for the sync benchmark: the eight seeded clients, optionally with 200 servers.

Also the in-process system the latency figure measures: a :class:`SyncService` in apply mode
on a real SQLite store, and one real (watchdog) :class:`ClientWatcher` per client, wired the
way ``synapse.bootstrap.start_sync`` wires them: watcher → orchestrator ``submit``, and the
orchestrator's ``on_written`` → that client's ``watcher.expect_write``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from actors._sync_breaker import BreakerLimits, WriteBreaker
from actors.sync_service import SyncService, default_policy
from actors.watcher import ClientWatcher
from adapters.base import ClientAdapter, ConfigFile
from adapters.registry import load_adapters
from events.client_config import McpServer, Value
from events.store import EventStore, StoreConfig
from synapse._demo_sync import seed_sandbox

__all__ = ["Completion", "System", "mcp_file", "running_system", "seed_many"]


def mcp_file(adapter: ClientAdapter, home: Path) -> ConfigFile:
    """The client's user-scope file that holds MCP servers (one per client today)."""
    return next(f for f in adapter.discover(home, []) if "mcp_server" in f.kinds)


def seed_many(home: Path, servers: int) -> dict[str, Path]:
    """Seed the eight clients, then render each one's user file up to ``servers`` MCP servers.

    The extra servers are clones of each client's own ``filesystem`` server (so every client
    keeps its own syntax and all eight agree), each with a distinct last argument.
    """
    paths = seed_sandbox(home)
    for adapter in load_adapters().values():
        cfg = mcp_file(adapter, home)
        text = cfg.path.read_text()
        found = {e.key: e for e in adapter.parse(cfg, text)}
        base = next(e for e in found.values() if isinstance(e, McpServer))
        assert isinstance(base, McpServer)
        desired = dict(found)
        for i in range(servers - len(found)):
            clone = base.model_copy(
                update={"name": f"srv-{i:03d}", "args": (*base.args[:-1], Value.of(f"/srv/{i}"))}
            )
            desired[clone.key] = clone
        cfg.path.write_text(adapter.render(cfg, text, desired).text)
    return paths


@dataclass
class Completion:
    """Counts the orchestrator's writes so a waiter wakes on each one (no blind polling)."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    writes: int = 0

    def written(self) -> None:
        """Note one write and wake the waiter."""
        with self.cond:
            self.writes += 1
            self.cond.notify_all()

    def wait_after(self, seen: int, timeout: float) -> None:
        """Block until a write beyond ``seen`` happened, or ``timeout`` seconds."""
        with self.cond:
            if self.writes == seen:
                self.cond.wait(timeout)


@dataclass
class System:
    """The running sync system of one benchmark run."""

    service: SyncService
    watchers: dict[str, ClientWatcher]
    paths: dict[str, Path]
    done: Completion


@contextmanager
def running_system(root: Path, debounce_s: float) -> Iterator[System]:
    """Seed ``root/home`` and run the orchestrator plus eight watchers until exit."""
    home = root / "home"
    paths = seed_sandbox(home)
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=root / "events.sqlite"))
    adapters = load_adapters()
    watchers: dict[str, ClientWatcher] = {}
    done = Completion()

    def on_written(client: str, path: str, sha256: str) -> None:
        watcher = watchers.get(client)
        if watcher is not None:
            watcher.expect_write(path, sha256)
        done.written()

    service = SyncService(
        store,
        adapters,
        home=home,
        preimage_dir=root / "preimages",
        policy=default_policy(list(adapters), "apply"),
        on_written=on_written,
        # 200 edits in a minute or two are the point here; the default cap (20 writes per
        # file per minute, reliability E7) would stop the run at edit ~22, as designed.
        breaker=WriteBreaker(BreakerLimits(max_writes=1_000_000)),
    )
    service.scan()
    try:
        for client, adapter in adapters.items():
            watchers[client] = ClientWatcher(
                adapter,
                home,
                service.submit,
                roots=service.roots,
                kinds=service.policy.kinds,
                debounce_s=debounce_s,
                rescan_interval_s=0,
            )
        yield System(service, watchers, paths, done)
    finally:
        for watcher in watchers.values():
            watcher.stop()
        store.close()
