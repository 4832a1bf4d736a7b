"""Request and response models of the HTTP API.

These are the API's own shapes; domain events are never exposed as API schemas, they are
flattened into :class:`EventRow` by the services layer first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_EVENT_PAGE",
    "MAX_LOG_PAGE",
    "MAX_SQL_ROWS",
    "AgentList",
    "AgentRow",
    "AlertAcknowledged",
    "AlertList",
    "AlertRow",
    "ApprovalItem",
    "ApprovalList",
    "AuditExportObject",
    "AuditExportRequest",
    "AuditExportRun",
    "ClientFile",
    "ComponentHealth",
    "ConflictList",
    "ConflictRecord",
    "EntityState",
    "ErrorBody",
    "EventPage",
    "EventQuery",
    "EventRow",
    "ExportFile",
    "ExportFormat",
    "ExportRequest",
    "ExportSource",
    "ExportTables",
    "HeadPosition",
    "HealthReport",
    "HealthStatus",
    "LogLevel",
    "LogLine",
    "LogPage",
    "LossRecord",
    "OpenDecision",
    "PlanChange",
    "QueryResult",
    "ResumeOutcome",
    "S3ExportDone",
    "S3ExportRequest",
    "SqlRequest",
    "SyncFile",
    "SyncLogRow",
    "SyncOutcome",
    "SyncPlan",
    "SyncStatus",
    "WorkflowList",
    "WorkflowRecord",
    "WorkflowStep",
    "WriteBreaker",
]

MAX_EVENT_PAGE = 1000
MAX_LOG_PAGE = 1000
MAX_SQL_ROWS = 10_000

HealthStatus = Literal["ok", "degraded", "down"]
ExportFormat = Literal["csv", "ndjson", "parquet"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ComponentHealth(_Model):
    """The state of one component (store, projector, ray)."""

    status: HealthStatus
    detail: str = ""


class HealthReport(_Model):
    """What ``GET /health`` answers: one entry per component."""

    components: dict[str, ComponentHealth]

    @property
    def status(self) -> HealthStatus:
        """The worst status of any component (``ok`` when there are none)."""
        states = {c.status for c in self.components.values()}
        for worst in ("down", "degraded"):
            if worst in states:
                return worst  # type: ignore[return-value]
        return "ok"

    @property
    def is_store_down(self) -> bool:
        """True when the event store cannot serve; the API then answers 503."""
        store = self.components.get("store")
        return store is None or store.status == "down"


class EventQuery(_Model):
    """Filters and paging for the event log.

    ``type`` matches the event topic exactly, by prefix when it ends in ``*`` or by glob.
    """

    type: str | None = None
    aggregate: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_position: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=MAX_EVENT_PAGE)


class EventRow(_Model):
    """One event as the API shows it; ``body`` is already redacted by the services layer."""

    position: int
    timestamp: datetime
    aggregate_id: str
    aggregate_type: str
    type: str
    body: dict[str, Any]


class HeadPosition(_Model):
    """The position of the newest event (0 when the log is empty)."""

    position: int = Field(ge=0)


class EventPage(_Model):
    """A page of events plus the cursor for the next page (None when this was the last)."""

    items: list[EventRow]
    next_after: int | None


class SqlRequest(_Model):
    """A read-only SQL query against the DuckDB projections."""

    query: str = Field(min_length=1, max_length=100_000)
    limit: int = Field(default=1000, ge=1, le=MAX_SQL_ROWS)


class QueryResult(_Model):
    """Rows of a SQL query; ``truncated`` is True when ``limit`` cut the result."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False


class ExportSource(_Model):
    """What to export: a projection table or a read-only query, exactly one of them."""

    table: str | None = None
    query: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ExportSource:
        if (self.table is None) == (self.query is None):
            msg = "give exactly one of table or query"
            raise ValueError(msg)
        return self


class ExportRequest(_Model):
    """Body of ``POST /api/v1/exports``."""

    query: str = Field(min_length=1, max_length=100_000)
    format: ExportFormat = "csv"


class S3ExportRequest(_Model):
    """Body of ``POST /api/v1/exports/s3``: a table or a read-only query, to an object."""

    table: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    query: str | None = Field(default=None, min_length=1, max_length=100_000)
    format: ExportFormat = "parquet"
    target: str = Field(pattern=r"^s3://", max_length=1024, description="s3://bucket/key")


class S3ExportDone(_Model):
    """What ``POST /api/v1/exports/s3`` answers once the object is complete at its key."""

    url: str
    rows: int
    bytes: int
    sha256: str


class ExportTables(_Model):
    """The projection tables ``GET /api/v1/exports/{table}`` can download, by name."""

    tables: list[str]


class AlertRow(_Model):
    """One alert from the ``alerts`` read model."""

    alert_id: str
    severity: str | None = None
    source: str | None = None
    message: str | None = None
    raised_at: datetime | None = None
    acknowledged: bool = False
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class AlertList(_Model):
    """What ``GET /api/v1/alerts`` answers: newest first."""

    alerts: list[AlertRow]


class AlertAcknowledged(_Model):
    """What ``POST /api/v1/alerts/{id}/acknowledge`` answers."""

    alert_id: str
    acknowledged_by: str


class AuditExportRequest(_Model):
    """Body of ``POST /api/v1/audit-exports``: run the audit export now.

    ``target`` is an ``s3://bucket/prefix`` URL (a folder target is configured on the host
    with ``SYNAPSE_AUDIT_TARGET``, never chosen over HTTP); absent, the configured one.
    """

    target: str | None = Field(default=None, pattern=r"^s3://", max_length=1024)
    tables: list[str] | None = Field(default=None, max_length=50)


class AuditExportObject(_Model):
    """One object an audit export run wrote, as recorded in its manifest."""

    table: str
    mode: Literal["incremental", "snapshot"]
    from_position: int
    to_position: int
    rows: int
    url: str
    bytes: int
    sha256: str


class AuditExportRun(_Model):
    """What ``POST /api/v1/audit-exports`` answers: the run and its manifest."""

    run_id: str
    head: int
    objects: list[AuditExportObject]
    manifest_url: str


class ExportFile(_Model):
    """A file the services layer wrote for download.

    Attributes:
        path: where the file is; on the same host as the HTTP server.
        media_type: the Content-Type to send.
        rows: how many rows it holds.
        temporary: when True the app deletes the file after sending it.
    """

    path: Path
    media_type: str
    rows: int = Field(ge=0)
    temporary: bool = True


class ErrorBody(_Model):
    """Every error answer: a stable machine code plus one line for humans."""

    error: str
    detail: str


class _Answer(BaseModel):
    """A backend answer described for the OpenAPI schema without changing it.

    ``extra="allow"`` passes fields the model does not name through untouched, and the routes
    use ``response_model_exclude_unset`` so an absent field stays absent: the model documents
    the answer, it does not reshape it.
    """

    model_config = ConfigDict(frozen=True, extra="allow")


class ClientFile(_Answer):
    """One client file in the read model (``GET /api/v1/clients``)."""

    client: str
    path: str
    scope: str | None = None
    present: bool | None = None
    status: str | None = Field(default=None, description="in-sync, drifted, conflict or error")
    error: str | None = None
    error_since: datetime | None = Field(
        default=None, description="first seen failing after its last good read"
    )
    sha256: str | None = None
    size: int | None = None
    last_seen: datetime | None = None


class EntityState(_Answer):
    """One entity as one client holds it (``GET /api/v1/sync/entities``)."""

    kind: str
    name: str
    scope: str
    client: str
    digest: str | None = None
    base_digest: str | None = None
    present: bool | None = None
    updated_at: datetime | None = None
    status: str | None = Field(default=None, description="in-sync, drifted or conflict")


class LossRecord(_Answer):
    """A field a client cannot express (``GET /api/v1/sync/losses``)."""

    client: str
    kind: str
    name: str
    field: str
    reason: str | None = None
    ts: datetime | None = None


class SyncFile(_Answer):
    """A file the orchestrator watches for one client: its last good hash, and why its
    last read failed (``error`` is None when it parsed)."""

    path: str
    sha256: str | None = None
    error: str | None = Field(default=None, description="the parser's message, credentials masked")
    line: int | None = Field(default=None, description="the error's line, when the parser names it")
    column: int | None = None
    since: datetime | None = Field(
        default=None, description="first seen failing after its last good read"
    )


class OpenDecision(_Answer):
    """A decision waiting for a person: a conflict, a held deletion or an approval."""

    type: str = Field(description="Conflict, HoldDeletion, NeedsApproval, ...")
    kind: str | None = None
    name: str | None = None
    scope: str | None = None
    conflict_id: str | None = None
    sides: dict[str, str | None] | None = Field(
        default=None, description="client → digest of its value (never the value)"
    )
    client: str | None = None
    reason: str | None = None
    approval_id: str | None = Field(
        default=None, description="for an approval or held deletion: `synapse sync approve ID`"
    )


class WriteBreaker(_Answer):
    """An open per-file write breaker."""

    client: str
    path: str
    open_s: float | None = None
    refused: int | None = None


class SyncStatus(_Answer):
    """What ``GET /api/v1/sync/status`` answers."""

    mode: str
    mode_reason: str | None = Field(
        default=None, description="what the mode means here, and where it comes from"
    )
    clients: dict[str, list[SyncFile]]
    open: list[OpenDecision]
    writes: int | None = None
    policy: dict[str, Any] | None = None
    breakers: list[WriteBreaker] | None = None


class ConflictRecord(_Answer):
    """A conflict in the read model; ``sides`` is the JSON text of client → digest, or for a
    personal-instruction conflict (kind ``instruction``) client → a short masked preview."""

    conflict_id: str
    kind: str | None = None
    name: str | None = None
    scope: str | None = None
    sides: str | None = None
    status: str | None = None
    detected_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    chosen_client: str | None = None


class ConflictList(_Answer):
    """What ``GET /api/v1/conflicts`` answers: recorded conflicts and those open now."""

    conflicts: list[ConflictRecord]
    open: list[OpenDecision]


class SyncOutcome(_Answer):
    """What a resolve (or apply) did: written and abandoned files."""

    applied: bool
    stale: bool | None = None
    written: list[str] | None = None
    abandoned: list[str] | None = None
    reason: str | None = None


class ApprovalItem(_Answer):
    """A change or deletion waiting for a person (``GET /api/v1/sync/approvals``)."""

    id: str = Field(description="what `synapse sync approve ID` / `reject ID` take")
    type: Literal["change", "deletion"] = Field(
        description="a project MCP server's new or changed command/args/url, or a held deletion"
    )
    kind: str
    name: str
    scope: str
    client: str = Field(description="the client whose file it came from")
    file: str | None = Field(default=None, description="that file")
    reason: str
    command: str | None = Field(
        default=None, description="the exact command line it would run (secrets masked)"
    )
    url: str | None = Field(default=None, description="the URL it would reach (secrets masked)")
    clients: list[str] = Field(description="the clients whose files approving it would change")
    losses: list[str] = Field(
        default_factory=list,
        description="what a client would not get, and why (client: field: why)",
    )
    approve: str = Field(description="the CLI command that approves it")
    reject: str = Field(description="the CLI command that rejects it")


class ApprovalList(_Answer):
    """What ``GET /api/v1/sync/approvals`` answers."""

    approvals: list[ApprovalItem]


class PlanChange(_Answer):
    """One file a plan would write (a placement adds ``placement``, ``clients``, ...)."""

    client: str
    path: str
    pre_sha256: str | None = None
    new_sha256: str | None = None
    entities: list[str] = Field(default_factory=list, description="kind:name it carries")
    losses: list[str] = Field(default_factory=list, description="field: why it is dropped")
    diff: str = Field(default="", description="unified diff, secrets redacted")


class SyncPlan(_Answer):
    """What ``POST /api/v1/sync/plan`` answers; apply it with ``plan_hash``."""

    plan_hash: str
    changes: list[PlanChange]
    decisions: list[OpenDecision] = Field(description="what waits for a person instead")
    mode: str = Field(description="observe plans only; apply may write")


class SyncLogRow(_Answer):
    """One row of the write log (``GET /api/v1/sync/log``)."""

    write_id: str = Field(description="what `POST /api/v1/sync/revert/{write_id}` takes")
    ts: datetime | None = None
    action: str | None = Field(default=None, description="write, abandoned, revert or a placement")
    client: str | None = None
    path: str | None = None
    sha256: str | None = None
    pre_image_ref: str | None = None
    entities: str | None = Field(default=None, description="comma-separated kind:name")
    reason: str | None = Field(default=None, description="`reverted` once a revert undid it")


class ResumeOutcome(_Answer):
    """What ``POST /api/v1/sync/resume/{client}`` did."""

    client: str
    resumed: list[str] = Field(description="the paths whose write breaker closed")
    written: list[str] = Field(default_factory=list, description="what the rescan then wrote")


class AgentRow(_Answer):
    """One configured agent with its breaker state and load."""

    name: str
    backend: str | None = None
    capabilities: list[str] | None = None
    weight: float | None = None
    enabled: bool | None = None
    breaker: str | None = Field(default=None, description="closed, open, half_open or disabled")
    times_opened: int | None = None
    error_rate: float | None = None
    ewma_latency_ms: float | None = None
    in_flight: int | None = None
    retry_budget_tokens: float | None = None
    needs_login: bool | None = Field(
        default=None, description="its last attempt was refused for missing/rejected credentials"
    )
    alert: str | None = Field(default=None, description="what to do while it needs a login")
    resilience: dict[str, dict[str, Any]] | None = Field(
        default=None, description="breaker, retry and timeouts settings in force (agents.toml)"
    )


class WorkflowStep(_Answer):
    """One step of a workflow (see ``actors._workflow_graph.StepStatus``)."""

    name: str
    capability: str
    depends_on: list[str] = []
    status: str = Field(description="pending, running, done, failed or awaiting_approval")
    attempts: int = 0
    output: str = ""
    output_truncated: bool = False
    agent: str = ""
    degraded: bool = False
    reason: str = ""
    approved_by: str = ""


class WorkflowRecord(_Answer):
    """A workflow's state, rebuilt from its events (``GET /api/v1/workflows/{id}``)."""

    workflow_id: str
    state: Literal["running", "awaiting_approval", "completed", "failed"]
    done: bool
    steps: list[WorkflowStep]
    pending_approval: list[str] = []
    review_loops: int = 0
    max_review_loops: int = 0
    review_unresolved: bool = False
    prompt_preview: str = ""
    summary: str = ""
    reason: str = ""
    resumes: int = 0


class WorkflowList(_Answer):
    """What ``GET /api/v1/workflows`` answers."""

    workflows: list[WorkflowRecord]


class AgentList(_Answer):
    """What ``GET /api/v1/agents`` answers."""

    agents: list[AgentRow]


class LogLine(_Model):
    """One structured log record (``GET /api/v1/logs``), every string already masked."""

    ts: str
    level: str
    logger: str = ""
    actor: str = ""
    msg: str = ""
    position: int | None = None
    task_id: str | None = None
    write_id: str | None = None
    request_id: str | None = None
    exc: str | None = None


class LogPage(_Model):
    """The newest log lines that pass the filters, oldest first."""

    items: list[LogLine]
    truncated: bool = Field(description="older matching lines were left out by the limit")
