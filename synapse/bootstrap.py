"""The composition root: builds the store, actors and the Serve app from settings.

Nothing else in Synapse reads settings; values reach the other packages as constructor
arguments from here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray import serve

from actors import supervision
from actors._remote_backend import RemoteAgentBackend
from actors.agent_actor import AgentActor
from actors.agents.config import AgentsConfig, default_config, load_config
from actors.gateway_service import GatewayService
from actors.lifecycle import record_stop
from actors.projector_service import ProjectorService
from actors.supervision import AT_MOST_ONCE, REBUILDS_FROM_LOG
from actors.supervisor import Supervisor
from actors.sync_actor import SyncOrchestrator
from actors.watcher import WatcherActor, watcher_name
from actors.workflow_service import WorkflowService
from adapters.registry import load_adapters
from events import logs
from events.errors import StoreUnavailableError, UserInputError
from events.store import EventStore, PostgresConfig, StoreConfig, load_cipher_key
from projections.projector import Projector
from serve import ingress
from serve.deployments import ApiConfig, deploy_api
from serve.security import load_or_create_token
from synapse._home import tighten_home
from synapse._quiet import ray_output_to
from synapse.settings import Settings, load_sync_settings, ray_auth_mode

__all__ = [
    "PROJECTOR",
    "SUPERVISOR",
    "SYNC",
    "RunningSystem",
    "agent_actor_name",
    "agents_config",
    "crash_actor",
    "flush_gateway_events",
    "local_projector",
    "logs_dir",
    "open_store",
    "prepare_home",
    "projector_handle",
    "quiet_ray",
    "rebuild_running",
    "require_ray_token_auth",
    "running_system",
    "start_agents",
    "start_sync",
    "start_system",
    "stop_attached",
    "stop_system",
    "store_config",
]

_log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECTOR = "projector"
SUPERVISOR = "supervisor"
GATEWAY = "gateway"
WORKFLOWS = "workflows"
AGENTS_FILE = "agents.toml"
SYNC = "sync"
SERVER_FILE = "server.json"
RAY_MARKER = "ray.started"
#: Where Ray's own driver output goes instead of the terminal (not JSON: ``synapse logs``
#: reads only ``*.jsonl``).
RAY_DRIVER_LOG = "ray-driver.log"


@dataclass(frozen=True)
class RunningSystem:
    """Where a running Synapse answers."""

    url: str
    token: str
    namespace: str
    ray_address: str
    #: Port of the gRPC proxy (``synapse.v1.Gateway`` on the loopback), None when off.
    grpc_port: int | None = None

    @property
    def browser_url(self) -> str:
        """The one-time URL that logs a browser in (sets the session cookie)."""
        return f"{self.url}/?token={self.token}"


def prepare_home(settings: Settings) -> str:
    """Create ``$SYNAPSE_HOME`` (0700) with its token (0600); return the token.

    An existing home is tightened at every start: the folder and its private sub-folders
    0700, the log, read models, token, keys, pre-images, logs and exports 0600; a warning
    (logging; on stderr when nothing configured logging) names each path that changed.
    """
    try:
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        msg = f"cannot create {settings.home}: {exc.strerror}"
        raise StoreUnavailableError(msg, hint="set SYNAPSE_HOME to a writable folder") from exc
    settings.exports_dir.mkdir(exist_ok=True, mode=0o700)
    # Before the token is read: a copied home's 0644 token is fixed here, not refused there.
    try:
        changes = tighten_home(settings.home)
    except OSError as exc:  # a file we cannot chmod is not ours: say so, do not stop
        _log.warning("could not tighten %s: %s", settings.home, exc)
    else:
        if changes:
            changed = "; ".join(str(c) for c in changes)
            _log.warning("tightened permissions under %s: %s", settings.home, changed)
    load_or_create_token(settings.session_key_path)  # created here, where the home is ours
    return load_or_create_token(settings.token_path)


def logs_dir(settings: Settings) -> Path:
    """``$SYNAPSE_HOME/logs``: every process's structured log (see :mod:`events.logs`)."""
    return logs.log_dir(settings.home)


@contextlib.contextmanager
def quiet_ray(settings: Settings) -> Iterator[None]:
    """Log this driver as ``cli`` and keep Ray's own output off the terminal meanwhile.

    Ray's warnings and retries (``core_worker.cc``, ``(raylet) …``) go to
    ``$SYNAPSE_HOME/logs/ray-driver.log``; Synapse's own prints stay on the terminal.
    Reentrant: ``start_system`` inside the demo's block is one block.
    """
    with contextlib.suppress(OSError):
        logs.install(logs_dir(settings), "cli")
    with ray_output_to(logs_dir(settings) / RAY_DRIVER_LOG):
        yield


def require_ray_token_auth(mode: str) -> None:
    """Refuse to run Ray with its token authentication switched off (reliability bar A8).

    Anyone who reaches an unauthenticated Ray cluster can run code on it (ShadowRay,
    CVE-2023-48022); Ray 2.60 turns token mode on by itself unless ``RAY_AUTH_MODE`` says no.

    Args:
        mode: the value of ``RAY_AUTH_MODE`` ("" when unset).

    Raises:
        UserInputError: the mode is ``disabled``.
    """
    if mode.strip().lower() == "disabled":
        msg = "RAY_AUTH_MODE=disabled: Ray would accept jobs from anyone who reaches its ports"
        raise UserInputError(msg, hint="unset RAY_AUTH_MODE (or set it to token)")


def store_config(settings: Settings, *, create_table: bool = True) -> StoreConfig:
    """Translate settings into the event-store configuration."""
    key = load_cipher_key(settings.cipher_key_path, create=True) if settings.encrypt else None
    if settings.store == "postgres":
        pg = PostgresConfig(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password.get_secret_value(),
            dbname=settings.pg_dbname,
        )
        return StoreConfig(
            backend="postgres", postgres=pg, cipher_key=key, create_table=create_table
        )
    return StoreConfig(backend="sqlite", sqlite_path=settings.event_db, cipher_key=key)


def open_store(settings: Settings) -> EventStore:
    """Open the event store in this process."""
    return EventStore(store_config(settings))


def local_projector(settings: Settings) -> Projector:
    """Open the DuckDB projections in this process and catch up (system not running).

    Raises:
        UserInputError: the DuckDB file is locked by a running Synapse.
    """
    store = open_store(settings)
    try:
        projector = Projector(settings.duckdb_path)
    except Exception as exc:
        if "lock" in str(exc).lower():
            msg = "the projections are in use by a running Synapse"
            raise UserInputError(msg, hint="run the command against the running system") from exc
        raise
    try:
        projector.catch_up(store)
    finally:
        store.close_quietly()
    return projector


def _ray_running() -> bool:
    try:
        result = subprocess.run(
            ["ray", "status"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _start_local_ray(settings: Settings) -> None:
    ray_bin = shutil.which("ray")
    if ray_bin is None:
        msg = "the `ray` command is not on PATH"
        raise UserInputError(msg, hint="run through ./run, which installs Ray")
    subprocess.run(
        [
            ray_bin,
            "start",
            "--head",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--num-cpus={max(2, os.cpu_count() or 2)}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (settings.home / RAY_MARKER).write_text("started by synapse up\n")


def start_system(
    settings: Settings,
    *,
    detached: bool,
    address: str | None = None,
    port: int | None = None,
    sync_home: Path | None = None,
    grpc_port: int | None = None,
) -> RunningSystem:
    """Connect to (or start) Ray, spawn the supervised actors and deploy the HTTP app.

    Args:
        settings: the settings.
        detached: keep actors alive after this process exits (``synapse up``); the demo
            runs attached, in its own local cluster.
        address: Ray address to join; None = an in-process local cluster when not detached,
            else a cluster started by ``ray start`` (started here when none is running).
        port: HTTP port (0 = a free one).
        sync_home: the home whose client configs are synced (default: the real home); the
            demo passes a sandbox. The sync policy (and mode) comes from ``sync.toml``, its
            environment overrides, and ``settings.mode`` when set.
        grpc_port: serve ``synapse.v1.Gateway`` on this gRPC port (0 = a free one);
            None = no gRPC.
    """
    require_ray_token_auth(ray_auth_mode())
    token = prepare_home(settings)
    with quiet_ray(settings):
        return _start(
            settings,
            token,
            detached=detached,
            address=address,
            port=port,
            sync_home=sync_home,
            grpc_port=grpc_port,
        )


def _start(
    settings: Settings,
    token: str,
    *,
    detached: bool,
    address: str | None,
    port: int | None,
    sync_home: Path | None,
    grpc_port: int | None,
) -> RunningSystem:
    _log.info("starting Synapse (detached=%s) in %s", detached, settings.home)
    load_sync_settings(settings)  # a bad sync.toml stops `up` before anything starts
    # Every process that appends through this config hints the projector at once.
    config = dataclasses.replace(
        store_config(settings), on_append=supervision.ProjectorHint(PROJECTOR, settings.namespace)
    )
    EventStore(config).close_quietly()  # creates tables once, checks durability and key
    http_port = ingress.free_port() if port == 0 else (port or settings.http_port)
    rpc_port = ingress.free_port() if grpc_port == 0 else grpc_port
    serve_env = ingress.ray_env(settings.serve_ingress, http_port, rpc_port)
    if detached:
        if address is None and not settings.ray_address and not _ray_running():
            _start_local_ray(settings)
        ray_address = supervision.connect(
            address or settings.ray_address or "auto",
            namespace=settings.namespace,
            repo_root=REPO_ROOT,
            env=serve_env,
        )
    else:
        ray_address = supervision.connect(address, namespace=settings.namespace, env=serve_env)
    try:
        url, rpc_port = _spawn_and_deploy(
            settings, config, token, sync_home, detached=detached, ports=(http_port, rpc_port)
        )
    except BaseException:
        if not detached:  # leave no half-started in-process cluster behind for the next caller
            stop_attached()
        raise
    system = RunningSystem(
        url=url,
        token=token,
        namespace=settings.namespace,
        ray_address=ray_address,
        grpc_port=rpc_port,
    )
    (settings.home / SERVER_FILE).write_text(
        json.dumps({"url": url, "namespace": settings.namespace, "ray_address": ray_address})
    )
    return system


def _spawn_and_deploy(
    settings: Settings,
    config: StoreConfig,
    token: str,
    sync_home: Path | None,
    *,
    detached: bool,
    ports: tuple[int, int | None],
) -> tuple[str, int | None]:
    """Spawn the supervised actors and deploy the API; return its URL and gRPC port."""
    http_port, rpc_port = ports
    ns = settings.namespace
    projector = supervision.spawn(
        ProjectorService,
        REBUILDS_FROM_LOG,
        name=PROJECTOR,
        namespace=ns,
        args=(config, settings.duckdb_path),
        kwargs={
            "poll_interval_s": settings.poll_interval_s,
            "row_limit": settings.sql_row_limit,
            "sql_timeout_s": settings.sql_timeout_s,
            "audit": settings.audit_policy(),
        },
        store_config=config,
        log_dir=logs_dir(settings),
        max_concurrency=16,
        detached=detached,
    )
    supervision.get(projector.ping.remote(), timeout=120)
    agent_actors = start_agents(settings, config, detached=detached)
    supervisor = supervision.spawn(
        Supervisor,
        REBUILDS_FROM_LOG,
        name=SUPERVISOR,
        namespace=ns,
        args=(config, [PROJECTOR, *agent_actors], _Prober(ns)),
        store_config=config,
        log_dir=logs_dir(settings),
        max_concurrency=4,
        detached=detached,
    )
    home = sync_home or settings.sync_home or Path.home()
    for name in start_sync(settings, config, home, detached=detached):
        supervisor.watch.remote(name)
    return deploy_api(
        ApiConfig(
            store=config,
            token=token,
            namespace=ns,
            host=settings.http_host,
            port=http_port,
            projector_name=PROJECTOR,
            supervisor_name=SUPERVISOR,
            grpc_port=rpc_port,
            ingress=settings.serve_ingress,
            users_path=settings.users_path,
            session_key_path=settings.session_key_path,
            logs_dir=logs_dir(settings),
        )
    )


def agents_config(settings: Settings) -> AgentsConfig:
    """The agents config: ``$SYNAPSE_HOME/agents.toml`` when present, else the default."""
    path = settings.home / AGENTS_FILE
    return load_config(path) if path.exists() else default_config()


def agent_actor_name(agent: str) -> str:
    """The actor name of the agent called ``agent``."""
    return f"agent-{agent}"


def start_agents(settings: Settings, config: StoreConfig, *, detached: bool) -> list[str]:
    """Spawn one actor per enabled agent, the gateway and the workflow service.

    Agent actors and the gateway are ``AT_MOST_ONCE`` (restarted, never a retried call: the
    router is the single retry owner); the workflow service rebuilds from the log and its
    methods are idempotent. Returns the names for the supervisor to watch.
    """
    ns = settings.namespace
    agents = agents_config(settings)
    backends = {}
    names = []
    for agent in agents.enabled_agents():
        name = agent_actor_name(agent.name)
        handle = supervision.spawn(
            AgentActor,
            AT_MOST_ONCE,
            name=name,
            namespace=ns,
            args=(agent,),
            store_config=config,
            log_dir=logs_dir(settings),
            max_concurrency=64,
            detached=detached,
        )
        backends[agent.name] = RemoteAgentBackend(agent.name, handle)
        names.append(name)
    gateway = supervision.spawn(
        GatewayService,
        AT_MOST_ONCE,
        name=GATEWAY,
        namespace=ns,
        args=(config, agents, backends),
        kwargs={"execute_dir": str(settings.home / "execute-ledger")},
        store_config=config,
        log_dir=logs_dir(settings),
        max_concurrency=256,
        detached=detached,
    )
    supervision.get(gateway.ping.remote(), timeout=120)
    workflows = supervision.spawn(
        WorkflowService,
        REBUILDS_FROM_LOG,
        name=WORKFLOWS,
        namespace=ns,
        args=(config, gateway),
        store_config=config,
        log_dir=logs_dir(settings),
        max_concurrency=64,
        detached=detached,
    )
    supervision.get(workflows.start.remote(), timeout=120)
    return [*names, GATEWAY, WORKFLOWS]


def start_sync(settings: Settings, config: StoreConfig, home: Path, *, detached: bool) -> list[str]:
    """Spawn the sync orchestrator and one watcher per synced client on this host.

    The policy comes from ``$SYNAPSE_HOME/sync.toml`` (created with commented defaults on
    first use) and its environment overrides. Returns the actor names.

    Raises:
        UserInputError: ``sync.toml`` holds a bad value.
    """
    sync = load_sync_settings(settings)
    policy = sync.policy([str(c) for c in load_adapters()])
    projects = [str(p) for p in sync.projects]
    ns, host = settings.namespace, socket.gethostname()
    orchestrator = supervision.spawn(
        SyncOrchestrator,
        REBUILDS_FROM_LOG,
        name=SYNC,
        namespace=ns,
        args=(config, str(home), str(settings.home / "preimages"), policy.mode),
        kwargs={
            "on_written": _WatcherNotifier(ns, host),
            "policy": policy,
            "projects": projects,
            "breaker": sync.breaker_limits(),
        },
        store_config=config,
        log_dir=logs_dir(settings),
        detached=detached,
    )
    supervision.get(orchestrator.ping.remote(), timeout=120)
    names = [SYNC]
    for client in policy.clients:
        names.append(watcher_name(client, host))
        supervision.spawn(
            WatcherActor,
            REBUILDS_FROM_LOG,
            name=watcher_name(client, host),
            namespace=ns,
            args=(client, str(home), _OrchestratorSink(ns)),
            kwargs={"kinds": policy.kinds, "projects": projects, "key_home": str(settings.home)},
            store_config=config,
            log_dir=logs_dir(settings),
            max_concurrency=4,
            detached=detached,
        )
    return names


class _OrchestratorSink:
    """Picklable sink a watcher actor hands its scans to (the orchestrator actor)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __call__(self, report: Any) -> Any:
        handle = supervision.lookup(SYNC, self.namespace)
        if handle is None:
            msg = "the sync orchestrator is not running"
            raise StoreUnavailableError(msg)
        return supervision.get(handle.submit.remote(report), timeout=120)


class _WatcherNotifier:
    """Picklable callback telling a client's watcher the hash the orchestrator just wrote."""

    #: How long a looked-up watcher handle is reused (a lookup is a GCS round trip, and one
    #: edit notifies seven watchers on the orchestrator's critical path).
    HANDLE_TTL_S = 30.0

    def __init__(self, namespace: str, host: str) -> None:
        self.namespace = namespace
        self.host = host
        self._handles: dict[str, tuple[float, Any]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "host": self.host}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["namespace"], state["host"])  # type: ignore[misc]

    def __call__(self, client: str, path: str, sha256: str) -> None:
        now = time.monotonic()
        cached = self._handles.get(client)
        handle = cached[1] if cached is not None and now - cached[0] < self.HANDLE_TTL_S else None
        if handle is None:
            handle = supervision.lookup(watcher_name(client, self.host), self.namespace)
            if handle is None:
                return
            self._handles[client] = (now, handle)
        handle.expect_write.remote(path, sha256)  # fire and forget: a hint, not a duty


class _Prober:
    """Picklable probe used by the supervisor actor (runs inside the cluster)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.handles: dict[str, Any] = {}

    def __call__(self, name: str) -> str:
        return supervision.probe(name, self.namespace, handles=self.handles)


def running_system(settings: Settings) -> RunningSystem | None:
    """Return the running system recorded in the home, or None."""
    path = settings.home / SERVER_FILE
    if not path.exists() or not settings.token_path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return RunningSystem(
        url=str(data["url"]),
        token=settings.token_path.read_text().strip(),
        namespace=str(data["namespace"]),
        ray_address=str(data.get("ray_address", "")),
    )


def stop_system(settings: Settings) -> list[str]:
    """Stop Serve and the actors; stop Ray when ``synapse up`` started it. Return steps."""
    with quiet_ray(settings):
        steps = _stop(settings)
    for step in steps:
        _log.info("synapse down: %s", step)
    return steps


def _stop(settings: Settings) -> list[str]:
    steps: list[str] = []
    system = running_system(settings)
    if system is not None or _ray_running():
        with contextlib.suppress(Exception):
            supervision.connect("auto", namespace=settings.namespace)
        if supervision.is_connected():
            with contextlib.suppress(Exception):
                serve.shutdown()  # type: ignore[no-untyped-call]
                steps.append("stopped the HTTP app")
            agents = [agent_actor_name(a.name) for a in agents_config(settings).enabled_agents()]
            store = open_store(settings)
            try:
                for name in (
                    SUPERVISOR,
                    SYNC,
                    *(watcher_name(str(c), socket.gethostname()) for c in load_adapters()),
                    WORKFLOWS,
                    GATEWAY,
                    *agents,
                    PROJECTOR,
                ):
                    if name == GATEWAY:
                        flush_gateway_events(settings.namespace)
                    if supervision.kill(name, settings.namespace):
                        record_stop(
                            store, name, reason="synapse down", incarnation=uuid.uuid4().hex
                        )
                        steps.append(f"stopped actor {name}")
            finally:
                store.close_quietly()
            supervision.shutdown()
    (settings.home / SERVER_FILE).unlink(missing_ok=True)
    marker = settings.home / RAY_MARKER
    if marker.exists():
        subprocess.run(["ray", "stop", "--force"], capture_output=True, check=False, timeout=120)
        marker.unlink()
        steps.append("stopped the local Ray cluster")
    return steps


def crash_actor(settings: Settings, name: str) -> bool:
    """Kill a named actor the way a crash would (Ray restarts it under its policy)."""
    return supervision.kill(name, settings.namespace, no_restart=False)


def projector_handle(settings: Settings) -> Any:
    """Return the running projector actor's handle (connected cluster), or None."""
    return supervision.lookup(PROJECTOR, settings.namespace)


def rebuild_running(settings: Settings, system: RunningSystem, progress: Any = None) -> int:
    """Ask the running projector to rebuild, reporting (done, total) to ``progress``."""
    supervision.connect("auto", namespace=system.namespace)
    handle = supervision.lookup(PROJECTOR, system.namespace)
    if handle is None:
        msg = "the projector actor is not running"
        raise UserInputError(msg, hint="start Synapse with `synapse up`")
    ref = handle.rebuild.remote()
    while True:
        ready, _ = ray.wait([ref], timeout=0.25)
        if ready:
            return int(supervision.get(ref))
        current = supervision.get(handle.rebuild_progress.remote(), timeout=10)
        if current and progress is not None:
            progress(*current)


def flush_gateway_events(namespace: str, timeout: float = 30.0) -> None:
    """Write the gateway's queued Agent/Task events before it is stopped (best effort: a
    gateway that is already gone has nothing left to write)."""
    handle = supervision.lookup(GATEWAY, namespace)
    if handle is not None:
        with contextlib.suppress(Exception):
            supervision.get(handle.flush_events.remote(timeout), timeout=timeout)


def stop_attached(namespace: str | None = None) -> None:
    """Stop Serve and the in-process local Ray cluster the demo started.

    Args:
        namespace: the system's namespace, to flush the gateway's queued events first.
    """
    if namespace is not None:
        flush_gateway_events(namespace)
    with contextlib.suppress(Exception):
        serve.shutdown()  # type: ignore[no-untyped-call]
    supervision.shutdown()
