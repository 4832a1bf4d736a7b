"""Ray Serve wiring: the HTTP app as a Serve deployment, with services over actor handles.

The FastAPI app is built by :func:`serve.app.build_app`; this module supplies the
:class:`RayServices` it runs on (event store opened in the replica, projector reached by its
actor name) and deploys it bound to loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import ray
from prometheus_client.core import Metric
from ray import serve
from ray.serve._private import http_util

from events import logs
from events.audit import current_actor
from events.errors import StoreUnavailableError, SynapseError
from events.store import EventStore, StoreConfig
from serve import _listen, ingress
from serve._sessions import SessionSigner
from serve.agent_services import (
    AgentApiError,
    AgentServices,
    ApprovalRequest,
    TaskRequest,
    WorkflowRequest,
    raise_if_refused,
)
from serve.agents_api import agents_router
from serve.app import build_app
from serve.gateway_metrics import gateway_families
from serve.grpc.service import GrpcGateway
from serve.ingress import Ingress
from serve.metrics_exposition import render_families
from serve.schemas import (
    AuditExportRun,
    ComponentHealth,
    EventPage,
    EventQuery,
    EventRow,
    ExportFile,
    ExportFormat,
    ExportSource,
    HealthReport,
    QueryResult,
    S3ExportDone,
    S3ExportRequest,
)
from serve.security import load_or_create_token
from serve.services import Services
from serve.sync_api import sync_router
from serve.sync_services import SyncServices
from serve.system_metrics import (
    projector_families,
    runtime_families,
    store_free_family,
    sync_families,
    sync_gauge_families,
)
from serve.users import UserStore

__all__ = [
    "ApiConfig",
    "RayAgentServices",
    "RayServices",
    "RaySyncServices",
    "SynapseApi",
    "deploy_api",
    "routed_port",
    "serve_proxy_port",
]

MEDIA_TYPES = {
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
#: Agent calls are I/O bound: Serve's default of 5 concurrent requests is far too low.
MAX_ONGOING_REQUESTS = 256
#: Below this much free space the store is reported down: appends would fail mid-write.
MIN_FREE_BYTES = 256 * 1024
#: Import path Serve's gRPC proxy loads the ``synapse.v1.Gateway`` servicer from.
GRPC_SERVICER = "serve.grpc.synapse_pb2_grpc.add_GatewayServicer_to_server"
#: The Serve controller's actor name (namespace ``serve``).
SERVE_CONTROLLER = "SERVE_CONTROLLER_ACTOR"


@dataclass(frozen=True)
class ApiConfig:
    """What the HTTP deployment needs to find the rest of the system."""

    store: StoreConfig
    token: str = field(repr=False)
    namespace: str
    host: str = "127.0.0.1"
    port: int = 8765
    projector_name: str = "projector"
    supervisor_name: str = "supervisor"
    gateway_name: str = "gateway"
    workflows_name: str = "workflows"
    sync_name: str = "sync"
    #: Port of Serve's gRPC proxy (``synapse.v1.Gateway``); None = no gRPC.
    grpc_port: int | None = None
    #: Whether the replica listens itself (needs :func:`serve.ingress.ray_env` in the job).
    ingress: Ingress = "direct"
    #: The local users file and the session-signing key (None: only the install token).
    users_path: Path | None = None
    session_key_path: Path | None = None
    #: ``$SYNAPSE_HOME/logs``: the replica logs there as ``api`` and serves ``/api/v1/logs``.
    logs_dir: Path | None = None

    @property
    def allowed_hosts(self) -> list[str]:
        """Host header values the guard accepts (loopback names with our port)."""
        return [f"{h}:{self.port}" for h in ("localhost", "127.0.0.1", "[::1]")]


class RayServices(Services):
    """The HTTP app's services, backed by the event store and the projector actor."""

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._store: EventStore | None = None
        self._projector: Any = None

    def _store_handle(self) -> EventStore:
        if self._store is None:
            self._store = EventStore(self._config.store)
        return self._store

    def _projector_handle(self) -> Any:
        if self._projector is None:
            self._projector = ray.get_actor(
                self._config.projector_name, namespace=self._config.namespace
            )
        return self._projector

    async def health(self) -> HealthReport:
        """Check the store (reads its head), the projector (lag, errors) and Ray."""
        components: dict[str, ComponentHealth] = {}
        try:
            head = await asyncio.to_thread(self._store_handle().head)
            free = _free_bytes(self._config.store)
            if free is not None and free < MIN_FREE_BYTES:
                components["store"] = ComponentHealth(
                    status="down", detail=f"disk full: {free} bytes free; appends would fail"
                )
            else:
                components["store"] = ComponentHealth(status="ok", detail=f"head {head}")
        except (SynapseError, OSError) as exc:
            components["store"] = ComponentHealth(status="down", detail=str(exc))
        try:
            status = await asyncio.wait_for(self._projector_handle().status.remote(), 5)
            lag = status.get("lag")
            if status.get("last_error"):
                components["projector"] = ComponentHealth(
                    status="degraded", detail=str(status["last_error"])
                )
            else:
                components["projector"] = ComponentHealth(
                    status="ok", detail=f"position {status['position']}, lag {lag}"
                )
        except Exception as exc:  # noqa: BLE001 - any actor failure is "down", with detail
            components["projector"] = ComponentHealth(status="down", detail=str(exc)[:200])
        components["ray"] = ComponentHealth(
            status="ok" if ray.is_initialized() else "down", detail=""
        )
        return HealthReport(components=components)

    async def head(self) -> int:
        """Return the newest log position."""
        return await asyncio.to_thread(self._store_handle().head)

    async def list_events(self, q: EventQuery) -> EventPage:
        """Page through the projected ``events`` table."""
        rows = await self._projector_handle().events_page.remote(
            type_pattern=q.type,
            aggregate=q.aggregate,
            since=q.since.isoformat() if q.since else None,
            until=q.until.isoformat() if q.until else None,
            after=q.after_position,
            limit=q.limit + 1,
        )
        items = [_event_row(r) for r in rows[: q.limit]]
        next_after = items[-1].position if len(rows) > q.limit and items else None
        return EventPage(items=items, next_after=next_after)

    async def events_after(self, position: int, limit: int) -> list[EventRow]:
        """Return events after ``position`` for the live feed."""
        rows = await self._projector_handle().events_page.remote(after=position, limit=limit)
        return [_event_row(r) for r in rows]

    async def sql(self, query: str, limit: int) -> QueryResult:
        """Run a guarded read-only query in the projector."""
        result = await self._projector_handle().query.remote(query, limit)
        return QueryResult(
            columns=list(result.columns),
            rows=[list(r) for r in result.rows],
            truncated=bool(result.truncated),
        )

    async def export_s3(self, request: S3ExportRequest) -> S3ExportDone:
        """Export through the projector actor (it owns the DuckDB file)."""
        source = request.table if request.table is not None else str(request.query)
        done = await self._projector_handle().export_s3.remote(
            source, request.format, request.target
        )
        return S3ExportDone.model_validate(done)

    async def acknowledge_alert(self, alert_id: str, by: str) -> bool:
        """Record the acknowledgement through the projector actor (it also catches up)."""
        return bool(await self._projector_handle().acknowledge_alert.remote(alert_id, by))

    async def audit_export(self, target: str | None, tables: list[str] | None) -> AuditExportRun:
        """Run the audit export in the projector actor (it owns the DuckDB file)."""
        run = await self._projector_handle().audit_export.remote(target, tables)
        return AuditExportRun.model_validate(run)

    async def export(self, source: ExportSource, fmt: ExportFormat) -> ExportFile:
        """Export through the projector into a temporary file on this host."""
        suffix = {"csv": ".csv", "ndjson": ".ndjson", "parquet": ".parquet"}[fmt]
        fd, name = tempfile.mkstemp(prefix="synapse-export-", suffix=suffix)
        Path(name).unlink()
        with contextlib.suppress(OSError):
            import os

            os.close(fd)
        target = source.table if source.table is not None else source.query
        result = await self._projector_handle().export.remote(target, fmt, name)
        return ExportFile(path=Path(name), media_type=MEDIA_TYPES[fmt], rows=int(result.rows))

    async def metrics_text(self) -> bytes | None:
        """Log, projector, sync, runtime and gateway families (see :mod:`serve.system_metrics`).

        Each source is asked separately, all at once, with a timeout: one that is away
        (restarting, or not started in this deployment) drops its families from this scrape,
        never the scrape.
        """
        status, figures, gauges, snapshot = await asyncio.gather(
            self._ask(self._projector_handle, "status"),
            self._ask(self._projector_handle, "metrics_figures"),
            self._ask(lambda: self._actor(self._config.sync_name), "gauges"),
            self._ask(lambda: self._actor(self._config.gateway_name), "metrics"),
        )
        families: list[Metric] = []
        if status is not None:
            families += projector_families(status)
        if figures is not None:
            families += sync_families(figures) + runtime_families(figures)
        if gauges is not None:
            families += sync_gauge_families(gauges)
        free = _free_bytes(self._config.store)
        if free is not None:
            families.append(store_free_family(free))
        if snapshot is not None:
            families += gateway_families(snapshot)
        return render_families(families) if families else None

    def _actor(self, name: str) -> Any:
        return ray.get_actor(name, namespace=self._config.namespace)

    @staticmethod
    async def _ask(handle: Callable[[], Any], method: str) -> Any:
        """``handle().method.remote()`` within 5 s, or None when it fails or is away."""
        try:
            return await asyncio.wait_for(getattr(handle(), method).remote(), 5)
        except Exception:  # noqa: BLE001 - metrics must never fail the scrape
            return None


def _free_bytes(config: StoreConfig) -> int | None:
    if config.backend != "sqlite" or config.sqlite_path is None:
        return None
    try:
        return shutil.disk_usage(config.sqlite_path.parent).free
    except OSError:
        return None


def _event_row(row: dict[str, Any]) -> EventRow:
    ts = row.get("ts")
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts is None:
        ts = datetime.fromtimestamp(0, UTC)
    return EventRow(
        position=int(row["position"]),
        timestamp=ts,
        aggregate_id=str(row["aggregate_id"]),
        aggregate_type=str(row["aggregate_type"]),
        type=str(row["type"]),
        body=row.get("body") or {},
    )


class RayAgentServices(AgentServices):
    """The agent routes' services over the gateway and workflow actors (looked up lazily)."""

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._handles: dict[str, Any] = {}

    def _actor(self, name: str) -> Any:
        if name not in self._handles:
            try:
                self._handles[name] = ray.get_actor(name, namespace=self._config.namespace)
            except ValueError as exc:
                raise AgentApiError(503, "unavailable", f"actor {name} is not running") from exc
        return self._handles[name]

    def _gateway(self) -> Any:
        return self._actor(self._config.gateway_name)

    def _workflows(self) -> Any:
        return self._actor(self._config.workflows_name)

    async def agents(self) -> list[dict[str, Any]]:
        """Agent rows from the gateway actor."""
        rows: list[dict[str, Any]] = await self._gateway().agents.remote()
        return rows

    async def agent_kinds(self) -> dict[str, str]:
        """Enabled agent name → backend kind."""
        kinds: dict[str, str] = await self._gateway().agent_kinds.remote()
        return kinds

    async def check_task(self, request_id: str, task: TaskRequest) -> None:
        """Ask the gateway actor whether it would refuse ``task``."""
        refused = await self._gateway().check_task.remote(
            task.capability, task.agent, list(task.argv), task.cwd
        )
        if refused is not None:
            raise_if_refused(refused)

    async def run_task(self, request_id: str, task: TaskRequest) -> dict[str, Any]:
        """Run ``task`` on the gateway actor."""
        answer = await self._gateway().run_task.remote(
            request_id,
            task.capability,
            task.prompt,
            task.context,
            task.agent,
            list(task.argv),
            task.cwd,
            current_actor(),
        )
        return raise_if_refused(answer)

    async def stream_task(
        self, request_id: str, task: TaskRequest
    ) -> AsyncIterator[dict[str, Any]]:
        """Relay the gateway actor's streamed events."""
        refs = (
            self._gateway()
            .stream_task.options(num_returns="streaming")
            .remote(
                request_id,
                task.capability,
                task.prompt,
                task.context,
                task.agent,
                list(task.argv),
                task.cwd,
                current_actor(),
            )
        )
        async for ref in refs:
            event: dict[str, Any] = await ref
            yield event

    async def start_workflow(self, request: WorkflowRequest) -> dict[str, Any]:
        """Start a workflow on the workflow actor."""
        return raise_if_refused(
            await self._workflows().start_workflow.remote(
                request.workflow_id, request.prompt, request.approval_required
            )
        )

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        """A workflow's status from the workflow actor."""
        return raise_if_refused(await self._workflows().status.remote(workflow_id))

    async def approve(self, workflow_id: str, request: ApprovalRequest) -> dict[str, Any]:
        """Approve a gated step on the workflow actor."""
        return raise_if_refused(
            await self._workflows().approve.remote(workflow_id, request.step, request.by)
        )

    async def reject(self, workflow_id: str, request: ApprovalRequest) -> dict[str, Any]:
        """Reject a gated step on the workflow actor."""
        return raise_if_refused(
            await self._workflows().reject.remote(
                workflow_id, request.step, request.by, request.reason
            )
        )

    async def workflows(self) -> list[dict[str, Any]]:
        """Known workflows from the workflow actor."""
        rows: list[dict[str, Any]] = await self._workflows().workflows.remote()
        return rows


class RaySyncServices(SyncServices):
    """The sync routes' services: the orchestrator actor (commands) and the projector (reads)."""

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._handles: dict[str, Any] = {}

    def _handle(self, name: str) -> Any:
        if name not in self._handles:
            self._handles[name] = ray.get_actor(name, namespace=self._config.namespace)
        return self._handles[name]

    def _sync(self) -> Any:
        return self._handle(self._config.sync_name)

    async def status(self) -> dict[str, Any]:
        """See :meth:`SyncServices.status`."""
        return dict(await self._sync().status.remote())

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        """See :meth:`SyncServices.rows` (through the projector's guarded query)."""
        result = await self._handle(self._config.projector_name).query.remote(sql, 1000)
        return [dict(zip(result.columns, row, strict=True)) for row in result.rows]

    async def plan(self) -> dict[str, Any]:
        """See :meth:`SyncServices.plan`."""
        return dict(await self._sync().plan.remote())

    async def apply(self, plan_hash: str) -> dict[str, Any]:
        """See :meth:`SyncServices.apply`."""
        return dict(await self._sync().apply.remote(plan_hash, current_actor()))

    async def revert(self, write_id: str) -> dict[str, Any]:
        """See :meth:`SyncServices.revert`."""
        return dict(await self._sync().revert.remote(write_id, current_actor()))

    async def resolve(
        self, conflict_id: str, take: str | None, value: dict[str, Any] | None
    ) -> dict[str, Any]:
        """See :meth:`SyncServices.resolve`."""
        return dict(await self._sync().resolve.remote(conflict_id, take, value, current_actor()))

    async def approve_deletions(self, client: str) -> dict[str, Any]:
        """See :meth:`SyncServices.approve_deletions`."""
        return dict(await self._sync().approve_deletions.remote(client, current_actor()))

    async def resume(self, client: str) -> dict[str, Any]:
        """See :meth:`SyncServices.resume`."""
        return dict(await self._sync().resume.remote(client))

    async def approvals(self) -> list[dict[str, Any]]:
        """See :meth:`SyncServices.approvals`."""
        return list(await self._sync().approvals.remote())

    async def judge(self, approval_id: str, *, approve: bool) -> dict[str, Any]:
        """See :meth:`SyncServices.judge`."""
        return dict(await self._sync().judge.remote(approval_id, approve, current_actor()))


class SynapseApi:
    """The Serve deployment: builds the FastAPI app on the replica, after construction.

    The app is built there (late-bound ingress) rather than pickled, because FastAPI cannot
    resolve the string annotations of a cloudpickled app.
    """

    def __init__(self, config: ApiConfig) -> None:
        # Serve binds the direct-ingress listener after this constructor, in this process:
        # with SO_REUSEADDR a restart right after a kill gets its port back (see _listen).
        _listen.reuse_address(http_util)
        if config.logs_dir is not None:
            with contextlib.suppress(OSError):
                logs.install(config.logs_dir, "api")
        logging.getLogger(__name__).info("API replica starting for %s:%d", config.host, config.port)
        self._config = config
        self._grpc = GrpcGateway(RayAgentServices(config), config.token)

    # Serve's gRPC proxy calls the method named like the RPC, passing ``grpc_context``.
    async def RunTask(self, request: Any, grpc_context: Any) -> Any:
        """``synapse.v1.Gateway/RunTask``."""
        return await self._grpc.run_task(request, grpc_context)

    async def StreamTask(self, request: Any, grpc_context: Any) -> AsyncIterator[Any]:
        """``synapse.v1.Gateway/StreamTask``."""
        async for event in self._grpc.stream_task(request, grpc_context):
            yield event

    async def ListAgents(self, request: Any, grpc_context: Any) -> Any:
        """``synapse.v1.Gateway/ListAgents``."""
        return await self._grpc.list_agents(request, grpc_context)

    def __serve_build_asgi_app__(self) -> Any:
        sessions = None
        if self._config.session_key_path is not None:
            key = load_or_create_token(self._config.session_key_path).encode()
            sessions = SessionSigner(key, UserStore(self._config.users_path))
        return build_app(
            RayServices(self._config),
            token=self._config.token,
            allowed_hosts=self._config.allowed_hosts,
            sessions=sessions,
            logs_dir=self._config.logs_dir,
            extra_routers=[
                agents_router(RayAgentServices(self._config)),
                sync_router(RaySyncServices(self._config)),
            ],
        )


def deploy_api(config: ApiConfig) -> tuple[str, int | None]:
    """Deploy the HTTP app on Ray Serve, bound to ``config.host``.

    Returns:
        The base URL and the gRPC port (None when gRPC is off), as Serve routes them: the
        replica's own ports with direct ingress, the proxy's otherwise.

    Raises:
        StoreUnavailableError: Serve could not start (e.g. the port is taken).
    """
    # With direct ingress the replica itself binds config.host: keep it on this node (where
    # `synapse up` runs and the URL points), as Serve keeps its proxy on the head node.
    placement: dict[str, Any] = {}
    if config.ingress == "direct":
        node = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        placement["ray_actor_options"] = {"resources": {f"node:{node}": 0.001}}
    deployment = serve.deployment(
        name="synapse-api",
        max_ongoing_requests=MAX_ONGOING_REQUESTS,
        num_replicas=1,
        **placement,
    )(serve.ingress()(SynapseApi))
    # Serve's driver-side INFO lines ("Started Serve…") are noise in a CLI.
    logging.getLogger("ray.serve").setLevel(logging.WARNING)
    grpc = () if config.grpc_port is None else (config.grpc_port,)
    http = ingress.proxy_port(config.ingress, config.port, config.host, keep_clear=grpc)
    rpc = None
    if config.grpc_port is not None:
        rpc = ingress.proxy_port(config.ingress, config.grpc_port, keep_clear=(config.port, http))
    try:
        serve.start(http_options={"host": config.host, "port": http}, **_grpc(rpc))
        serve.run(deployment.bind(config), name="synapse", route_prefix="/")
        direct = config.ingress == "direct"
        port = routed_port("synapse", "HTTP", direct=direct) or http
        if rpc is not None:
            rpc = routed_port("synapse", "gRPC", direct=direct) or rpc
    except Exception as exc:
        msg = f"the HTTP app could not start on {config.host}:{config.port}: {exc}"
        raise StoreUnavailableError(msg, hint="choose another port with --port") from exc
    if config.ingress == "direct" and port != config.port:
        serve.shutdown()  # type: ignore[no-untyped-call]
        msg = f"the HTTP app answers on port {port}, not {config.port} (is the port taken?)"
        raise StoreUnavailableError(msg, hint="choose another port with --port")
    return f"http://{config.host}:{port}", rpc


def _grpc(port: int | None) -> dict[str, Any]:
    """``serve.start`` keyword for the gRPC proxy on ``port``, or nothing when gRPC is off.

    Serve 2.60's gRPC servers (proxy and direct) listen on ``[::]:port`` whatever the HTTP
    host (not configurable), so the bearer token check in :mod:`serve.grpc.service` is what
    keeps other hosts out.
    """
    if port is None:
        return {}
    return {"grpc_options": {"port": port, "grpc_servicer_functions": [GRPC_SERVICER]}}


def routed_port(
    app: str, protocol: Literal["HTTP", "gRPC"], *, direct: bool, wait_s: float = 30.0
) -> int | None:
    """The port Serve routes ``app``'s ``protocol`` traffic to, if any.

    With direct ingress the controller learns the replica's port a moment after the app is
    ready, and routes to the proxy meanwhile: when ``direct``, this waits up to ``wait_s``
    for a port other than the proxy's. Reads Serve's routing table
    (``ServeController.get_target_groups``, the call Serve's own test utilities and HAProxy
    manager make; its schema, ``ray.serve.schema.TargetGroup``, is a public alpha API).
    """
    controller = ray.get_actor(SERVE_CONTROLLER, namespace="serve")
    proxy = serve_proxy_port(protocol)
    deadline = time.monotonic() + wait_s
    while True:
        groups: list[Any] = ray.get(controller.get_target_groups.remote(app), timeout=60)
        ports = [
            int(target.port)
            for group in groups
            if str(getattr(group.protocol, "value", group.protocol)) == protocol
            for target in group.targets
        ]
        found = next((p for p in ports if p != proxy), ports[0] if ports else None)
        if not direct or found != proxy or time.monotonic() > deadline:
            return found
        time.sleep(0.1)  # another process's state: no event to wait on; bounded by wait_s


def serve_proxy_port(protocol: Literal["HTTP", "gRPC"] = "HTTP") -> int:
    """The port Serve's proxy listens on for ``protocol`` (the path around direct ingress)."""
    controller = ray.get_actor(SERVE_CONTROLLER, namespace="serve")
    method: Any = controller.get_http_config if protocol == "HTTP" else controller.get_grpc_config
    options: Any = ray.get(method.remote(), timeout=60)
    return int(options.port)
