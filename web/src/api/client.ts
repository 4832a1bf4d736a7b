/**
 * The typed HTTP client. Every call goes through openapi-fetch over the generated `paths`,
 * so a route or model change in Python fails `tsc` here instead of at runtime.
 *
 * Requests authenticate with the HttpOnly session cookie (set at login, auth/session.tsx).
 * Every mutation takes `auth`, the extra headers it needs (the CSRF header with the cookie).
 * This module never builds them: api/actions.ts is the one place that does.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { asWorkflow, asWorkflowList, type WorkflowStatus } from "./workflows";

export type Schemas = components["schemas"];
export type EventRow = Schemas["EventRow"];
export type EventPage = Schemas["EventPage"];
export type ClientFile = Schemas["ClientFile"];
export type EntityState = Schemas["EntityState"];
export type LossRecord = Schemas["LossRecord"];
export type SyncStatus = Schemas["SyncStatus"];
export type OpenDecision = Schemas["OpenDecision"];
export type ConflictList = Schemas["ConflictList"];
export type ConflictRecord = Schemas["ConflictRecord"];
export type SyncOutcome = Schemas["SyncOutcome"];
export type AgentRow = Schemas["AgentRow"];
export type HealthReport = Schemas["HealthReport"];
export type HealthStatus = Schemas["ComponentHealth"]["status"];
export type ApprovalItem = Schemas["ApprovalItem"];
export type WriteBreaker = Schemas["WriteBreaker"];
export type SyncPlan = Schemas["SyncPlan"];
export type PlanChange = Schemas["PlanChange"];
export type SyncLogRow = Schemas["SyncLogRow"];
export type ResumeOutcome = Schemas["ResumeOutcome"];
export type QueryResult = Schemas["QueryResult"];
export type ExportFormat = NonNullable<Schemas["ExportRequest"]["format"]>;
export type TaskRequest = Schemas["TaskRequest"];
export type Capability = TaskRequest["capability"];
export type LogLine = Schemas["LogLine"];
export type LogPage = Schemas["LogPage"];
export type AlertRow = Schemas["AlertRow"];
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";
/** The headers a mutation carries to prove who sent it (see api/actions.ts). */
export type Auth = Record<string, string>;

/** A file the server sent for download, with the name it gave it. */
export interface Download {
  blob: Blob;
  filename: string;
  rows: number | null;
}

export interface EventFilters {
  type?: string;
  aggregate?: string;
  since?: string;
  until?: string;
  after: number;
  limit: number;
}

/** `GET /api/v1/logs` filters; `since` is ISO-8601 and inclusive (naive = UTC). */
export interface LogFilters {
  actor?: string;
  level?: LogLevel;
  since?: string;
  limit: number;
}

/** An answer other than 2xx: the HTTP status and the server's one-line detail. */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, detail: string) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
  }
}

function detailOf(body: unknown, response: Response): string {
  if (typeof body === "object" && body !== null && "detail" in body) {
    const { detail } = body;
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  }
  return `${response.status} ${response.statusText}`.trim();
}

async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) throw new ApiError(response.status, detailOf(error, response));
  return data;
}

function filenameOf(response: Response, fallback: string): string {
  const disposition = response.headers.get("content-disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : fallback;
}

/** A streamed task's answer as it starts: the id to resume it by and its SSE body. */
export interface TaskStream {
  taskId: string | null;
  body: ReadableStream<Uint8Array>;
}

function streamOf(
  { data, error, response }: { data?: ReadableStream<Uint8Array> | null; error?: unknown; response: Response },
  taskId: string | null,
): TaskStream {
  if (!response.ok || !data) throw new ApiError(response.status, detailOf(error, response));
  return { taskId: response.headers.get("x-task-id") ?? taskId, body: data };
}

/** The URL `GET /api/v1/exports/{table}` downloads from (a link: the cookie reads it). */
export function exportUrl(table: string, format: ExportFormat): string {
  return `/api/v1/exports/${encodeURIComponent(table)}?format=${format}`;
}

/** Build the API over `fetchImpl` (the browser's fetch; tests pass a fake server). */
export function createApi(fetchImpl: typeof fetch = (input, init) => fetch(input, init)) {
  const client = createClient<paths>({
    baseUrl: window.location.origin,
    credentials: "same-origin",
    fetch: (request: Request) => fetchImpl(request),
  });
  // The server's CSRF rule: every mutation is JSON, even one without a body.
  const json = (auth: Auth) => ({ ...auth, "Content-Type": "application/json" });
  return {
    /** `/health` answers 503 with the same report when the store is down: both are data. */
    async health(): Promise<HealthReport> {
      const { data, error, response } = await client.GET("/health");
      const body = (data ?? error) as HealthReport | undefined;
      if (body?.components === undefined) throw new ApiError(response.status, "no health report");
      return body;
    },
    head: () => unwrap(client.GET("/api/v1/head")),
    events: (f: EventFilters) =>
      unwrap(
        client.GET("/api/v1/events", {
          params: {
            query: {
              after: f.after,
              limit: f.limit,
              ...(f.type ? { type: f.type } : {}),
              ...(f.aggregate ? { aggregate: f.aggregate } : {}),
              ...(f.since ? { since: f.since } : {}),
              ...(f.until ? { until: f.until } : {}),
            },
          },
        }),
      ),
    /** `GET /api/v1/logs`: the newest matching lines, oldest first. */
    logs: (f: LogFilters) =>
      unwrap(
        client.GET("/api/v1/logs", {
          params: {
            query: {
              limit: f.limit,
              ...(f.actor ? { actor: f.actor } : {}),
              ...(f.level ? { level: f.level } : {}),
              ...(f.since ? { since: f.since } : {}),
            },
          },
        }),
      ),
    /** `GET /api/v1/alerts`, newest first; `openOnly`: the unacknowledged ones. */
    alerts: (openOnly: boolean, limit: number) =>
      unwrap(client.GET("/api/v1/alerts", { params: { query: { limit, ...(openOnly ? { open: true } : {}) } } })),
    acknowledgeAlert: (alertId: string, auth: Auth) =>
      unwrap(
        client.POST("/api/v1/alerts/{alert_id}/acknowledge", {
          params: { path: { alert_id: alertId } },
          headers: json(auth),
        }),
      ),
    syncStatus: () => unwrap(client.GET("/api/v1/sync/status")),
    clients: () => unwrap(client.GET("/api/v1/clients")),
    entities: () => unwrap(client.GET("/api/v1/sync/entities")),
    losses: () => unwrap(client.GET("/api/v1/sync/losses")),
    conflicts: () => unwrap(client.GET("/api/v1/conflicts")),
    agents: () => unwrap(client.GET("/api/v1/agents")),
    approvals: () => unwrap(client.GET("/api/v1/sync/approvals")),
    syncLog: (limit: number) => unwrap(client.GET("/api/v1/sync/log", { params: { query: { limit } } })),
    exportTables: () => unwrap(client.GET("/api/v1/exports")),
    resolve: (conflictId: string, take: string, auth: Auth) =>
      unwrap(
        client.POST("/api/v1/conflicts/{conflict_id}/resolve", {
          params: { path: { conflict_id: conflictId } },
          body: { take },
          headers: json(auth),
        }),
      ),
    judge: (approvalId: string, verdict: "approve" | "reject", auth: Auth) =>
      unwrap(
        client.POST("/api/v1/sync/approvals/{approval_id}/{verdict}", {
          params: { path: { approval_id: approvalId, verdict } },
          headers: json(auth),
        }),
      ),
    resume: (clientName: string, auth: Auth) =>
      unwrap(
        client.POST("/api/v1/sync/resume/{client}", {
          params: { path: { client: clientName } },
          headers: json(auth),
        }),
      ),
    plan: (auth: Auth) => unwrap(client.POST("/api/v1/sync/plan", { headers: json(auth) })),
    apply: (planHash: string, auth: Auth) =>
      unwrap(client.POST("/api/v1/sync/apply", { body: { plan_hash: planHash }, headers: json(auth) })),
    revert: (writeId: string, auth: Auth) =>
      unwrap(
        client.POST("/api/v1/sync/revert/{write_id}", {
          params: { path: { write_id: writeId } },
          headers: json(auth),
        }),
      ),
    sql: (query: string, limit: number, auth: Auth) =>
      unwrap(client.POST("/api/v1/sql", { body: { query, limit }, headers: json(auth) })),
    /** `POST /api/v1/tasks` with `stream: true`: the answer as Server-Sent Events. */
    async streamTask(task: TaskRequest, auth: Auth, signal?: AbortSignal): Promise<TaskStream> {
      const answer = await client.POST("/api/v1/tasks", {
        body: { ...task, stream: true },
        headers: json(auth),
        parseAs: "stream",
        ...(signal ? { signal } : {}),
      });
      return streamOf(answer, null);
    },
    /** `GET /api/v1/tasks/{id}/stream`: the rest of a streamed task after `Last-Event-ID`. */
    async resumeTask(taskId: string, lastEventId: number, signal?: AbortSignal): Promise<TaskStream> {
      const answer = await client.GET("/api/v1/tasks/{request_id}/stream", {
        params: { path: { request_id: taskId }, header: { "last-event-id": String(lastEventId) } },
        parseAs: "stream",
        ...(signal ? { signal } : {}),
      });
      return streamOf(answer, taskId);
    },
    workflows: async () => asWorkflowList(await unwrap(client.GET("/api/v1/workflows"))),
    workflow: async (workflowId: string) =>
      asWorkflow(
        await unwrap(client.GET("/api/v1/workflows/{workflow_id}", { params: { path: { workflow_id: workflowId } } })),
      ),
    /** `POST /api/v1/workflow`: start one; it runs up to its approval gate (always asked for). */
    startWorkflow: async (prompt: string, auth: Auth): Promise<WorkflowStatus> =>
      asWorkflow(
        await unwrap(
          client.POST("/api/v1/workflow", { body: { prompt, approval_required: true }, headers: json(auth) }),
        ),
      ),
    /** Release (approve) or refuse (reject) a workflow's gated step. */
    async judgeWorkflow(
      workflowId: string,
      verdict: "approve" | "reject",
      step: string,
      reason: string,
      auth: Auth,
    ): Promise<WorkflowStatus> {
      const options = {
        params: { path: { workflow_id: workflowId } },
        body: { step, by: "dashboard", reason },
        headers: json(auth),
      };
      const call =
        verdict === "approve"
          ? client.POST("/api/v1/workflows/{workflow_id}/approve", options)
          : client.POST("/api/v1/workflows/{workflow_id}/reject", options);
      return asWorkflow(await unwrap(call));
    },
    /** `POST /api/v1/exports`: the query's result as a file (a POST, so not a plain link). */
    async exportQuery(query: string, format: ExportFormat, auth: Auth): Promise<Download> {
      const { data, error, response } = await client.POST("/api/v1/exports", {
        body: { query, format },
        headers: json(auth),
        parseAs: "blob",
      });
      if (!response.ok || data === undefined) throw new ApiError(response.status, detailOf(error, response));
      const rows = response.headers.get("x-export-rows");
      return {
        blob: data,
        filename: filenameOf(response, `export.${format}`),
        rows: rows === null ? null : Number(rows),
      };
    },
  };
}

export type Api = ReturnType<typeof createApi>;
