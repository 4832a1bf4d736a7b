"""The one place Ray's actor API is used: restart policies, spawning, probing, the cluster.

Actors are plain classes. :func:`spawn` applies ``ray.remote`` with an explicit
:class:`RestartPolicy`, and wraps the class so that every incarnation records
``ActorLifecycle.Started`` / ``Restarted`` in the event log after its constructor has rebuilt
its state from that log. Only idempotent methods are retried (``max_task_retries``); classes
with at-most-once methods (execute) are spawned with ``AT_MOST_ONCE``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from actors.lifecycle import record_start
from events import logs
from events.store import EventStore, StoreConfig

__all__ = [
    "AT_MOST_ONCE",
    "REBUILDS_FROM_LOG",
    "ProjectorHint",
    "RestartPolicy",
    "connect",
    "get",
    "is_connected",
    "kill",
    "lookup",
    "probe",
    "secure_ray_token",
    "shutdown",
    "spawn",
]

_log = logging.getLogger(__name__)
PACKAGES = ("synapse", "events", "adapters", "projections", "actors", "serve")
#: Handles of attached (non-detached) actors: Ray destroys an actor, named or not, once the
#: driver holds no handle to it, so the driver keeps them for its own lifetime.
_HELD: dict[tuple[str, str], Any] = {}
ProbeState = Literal["alive", "dead", "unresponsive", "missing"]


@dataclass(frozen=True)
class RestartPolicy:
    """How Ray restarts an actor and retries its calls.

    Attributes:
        max_restarts: restarts allowed after crashes (-1 = unlimited).
        max_task_retries: retries of a call interrupted by a crash (-1 = until it succeeds;
            0 = at most once). Only classes whose every method is idempotent get retries.
    """

    max_restarts: int
    max_task_retries: int


#: For actors that rebuild everything from the log and whose methods are idempotent.
REBUILDS_FROM_LOG = RestartPolicy(max_restarts=-1, max_task_retries=-1)
#: For actors with side effects that must never run twice (execute).
AT_MOST_ONCE = RestartPolicy(max_restarts=-1, max_task_retries=0)


def _supervised(
    cls: type, name: str, store_config: StoreConfig | None, log_dir: str | None = None
) -> type:
    """Subclass ``cls`` so each incarnation logs to its own file, records its start and
    answers ``ping``."""
    original_init: Any = cls.__init__  # type: ignore[misc]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if log_dir is not None:  # first, so what the constructor logs lands in the file
            with contextlib.suppress(OSError):
                logs.install(Path(log_dir), name)
        original_init(self, *args, **kwargs)
        reconstructed = bool(ray.get_runtime_context().was_current_actor_reconstructed)
        _log.info(
            "actor %s %s (pid %d)", name, "restarted" if reconstructed else "started", os.getpid()
        )
        if store_config is not None:
            store = EventStore(store_config)
            try:
                record_start(store, name, reconstructed=reconstructed, incarnation=uuid.uuid4().hex)
            finally:
                store.close_quietly()

    def ping(self: Any) -> int:
        return os.getpid()

    return type(
        cls.__name__,
        (cls,),
        {"__init__": __init__, "ping": ping, "__module__": cls.__module__},
    )


def spawn(
    cls: type,
    policy: RestartPolicy,
    *,
    name: str,
    namespace: str,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    store_config: StoreConfig | None = None,
    max_concurrency: int = 1,
    detached: bool = False,
    resources: Mapping[str, float] | None = None,
    log_dir: Path | None = None,
) -> Any:
    """Start (or reuse) the named actor ``name`` running ``cls`` under ``policy``.

    ``log_dir`` (``$SYNAPSE_HOME/logs``): each incarnation writes its structured log to
    ``<log_dir>/<name>.jsonl`` (see :mod:`events.logs`); None leaves logging alone.

    Returns:
        The Ray actor handle.
    """
    with contextlib.suppress(ValueError):
        return ray.get_actor(name, namespace=namespace)
    logs_at = None if log_dir is None else str(log_dir)
    remote_cls: Any = ray.remote(_supervised(cls, name, store_config, logs_at))
    options: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "max_restarts": policy.max_restarts,
        "max_task_retries": policy.max_task_retries,
        "max_concurrency": max_concurrency,
        "num_cpus": 0,
        "get_if_exists": True,
    }
    if detached:
        options["lifetime"] = "detached"
    if resources:
        options["resources"] = dict(resources)
    handle = remote_cls.options(**options).remote(*args, **(kwargs or {}))
    if not detached:
        _HELD[(namespace, name)] = handle
    return handle


class ProjectorHint:
    """Picklable append listener: tells the named projector actor to catch up now.

    Fire-and-forget (a hint, not a duty: the projector also polls). The handle is looked up
    lazily in whichever process appends, and not pickled.
    """

    def __init__(self, name: str, namespace: str) -> None:
        self.name = name
        self.namespace = namespace
        self._handle: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "namespace": self.namespace, "_handle": None}

    def __call__(self, head: int) -> None:
        if not ray.is_initialized():
            return
        if self._handle is None:
            self._handle = lookup(self.name, self.namespace)
            if self._handle is None:
                return
        try:
            self._handle.hint.remote(head)
        except RayActorError:
            self._handle = None


def lookup(name: str, namespace: str) -> Any | None:
    """Return the handle of a named actor, or None."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:
        return None


def get(ref: Any, timeout: float | None = None) -> Any:
    """``ray.get`` behind a seam, so callers never import Ray."""
    return ray.get(ref, timeout=timeout)


def probe(
    name: str, namespace: str, timeout: float = 5.0, handles: dict[str, Any] | None = None
) -> ProbeState:
    """Ask a supervised actor whether it is alive.

    A permanently dead named actor can no longer be looked up by name, so callers that
    watch an actor over time pass ``handles``: a cache that keeps the handle seen while it
    was alive, through which its death is then reported as "dead" rather than "missing".
    """
    handle = lookup(name, namespace)
    if handle is None and handles is not None:
        handle = handles.get(name)
    if handle is None:
        return "missing"
    if handles is not None:
        handles[name] = handle
    for attempt in range(2):
        try:
            ray.get(handle.ping.remote(), timeout=timeout)
        except GetTimeoutError:
            return "unresponsive"
        except RayActorError:
            # A ping cut by the death of an incarnation fails even when Ray is restarting the
            # actor; only a second ping, queued behind the restart, tells "dead" for certain.
            if attempt == 1:
                return "dead"
            continue
        return "alive"
    return "dead"


def kill(name: str, namespace: str, *, no_restart: bool = True) -> bool:
    """Kill a named actor; return False when it did not exist."""
    handle = lookup(name, namespace)
    if handle is None:
        return False
    ray.kill(handle, no_restart=no_restart)
    if no_restart:
        _HELD.pop((namespace, name), None)
    return True


def is_connected() -> bool:
    """Return True when this process is connected to a Ray cluster."""
    return bool(ray.is_initialized())


def connect(
    address: str | None,
    *,
    namespace: str,
    repo_root: Path | None = None,
    num_cpus: int | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Connect to the cluster at ``address`` ("auto" = one started by ``ray start``) or start
    a local one when ``address`` is None; return the address in use.

    Joining an existing cluster ships the six Synapse packages to its workers. ``env`` is
    added to the job's environment (every worker this job starts, Serve's included).
    """
    if ray.is_initialized():
        return str(ray.get_runtime_context().gcs_address)
    runtime_env: dict[str, Any] = {"env_vars": {"RAY_DEDUP_LOGS": "0", **(env or {})}}
    if address and repo_root is not None:
        runtime_env["py_modules"] = [str(repo_root / p) for p in PACKAGES]
    ray.init(
        address=address,
        namespace=namespace,
        include_dashboard=False,
        log_to_driver=False,
        num_cpus=num_cpus if address is None else None,
        runtime_env=runtime_env,
        configure_logging=False,
    )
    secure_ray_token()
    return str(ray.get_runtime_context().gcs_address)


def secure_ray_token() -> None:
    """Ray 2.60 writes ``~/.ray/auth_token`` world-readable; force it to 0600."""
    for candidate in (os.environ.get("RAY_AUTH_TOKEN_PATH"), str(Path.home() / ".ray/auth_token")):
        if candidate and Path(candidate).exists():
            with contextlib.suppress(OSError):
                Path(candidate).chmod(0o600)


def shutdown() -> None:
    """Disconnect from Ray (stopping the cluster when this process started it)."""
    _HELD.clear()
    if ray.is_initialized():
        ray.shutdown()
