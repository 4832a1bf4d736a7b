/**
 * The edges of the page, faked: the HTTP server behind `fetch` and the browser's EventSource.
 * Everything inside (the API client, TanStack Query, the router, the views) is real.
 */
import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import type { EventRow } from "../api/client";
import { createApi } from "../api/client";
import { App } from "../App";
import { AuthGate, type Role } from "../auth/session";
import { makeQueryClient, Providers } from "../Providers";

type Handler = (request: Request) => unknown;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** Answers `METHOD /path` from handlers and records every request it got. */
export class FakeServer {
  readonly requests: Request[] = [];
  private readonly routes = new Map<string, Handler>();

  on(method: string, path: string, handler: Handler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Requests to `path` (any method), oldest first. */
  calls(path: string): Request[] {
    return this.requests.filter((r) => new URL(r.url).pathname === path);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    this.requests.push(request.clone());
    // As the real guard: a mutation without a JSON content type is refused (CSRF), but for
    // the OAuth2 password grant, whose body is a form.
    const isSafe = request.method === "GET" || request.method === "HEAD";
    const isGrant = new URL(request.url).pathname === "/api/v1/auth/token";
    if (!isSafe && !isGrant && !request.headers.get("content-type")?.startsWith("application/json")) {
      return json({ error: "forbidden", detail: "mutations need application/json" }, 403);
    }
    const handler = this.routes.get(`${request.method} ${new URL(request.url).pathname}`);
    if (handler === undefined) return json({ error: "not_found", detail: "no route" }, 404);
    const answer: unknown = await handler(request);
    return answer instanceof Response ? answer : json(answer);
  };
}

/** An EventSource the test drives: open it, push frames, drop it. */
export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readonly url: string;
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent<string>) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }

  static latest(): FakeEventSource {
    const last = FakeEventSource.instances.at(-1);
    if (last === undefined) throw new Error("no EventSource was opened");
    return last;
  }

  open(): void {
    this.readyState = 1;
    act(() => this.onopen?.(new Event("open")));
  }

  emit(row: EventRow): void {
    const data = JSON.stringify(row);
    act(() => this.onmessage?.(new MessageEvent("message", { data, lastEventId: String(row.position) })));
  }

  /** The connection dropped; `closed` means the browser gave up (e.g. a refused reconnect). */
  drop(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    act(() => this.onerror?.(new Event("error")));
  }

  close(): void {
    this.readyState = 2;
  }
}

export function event(position: number, type = "Alert.Raised", body: Record<string, unknown> = {}): EventRow {
  return {
    position,
    timestamp: "2026-01-01T00:00:00Z",
    aggregate_id: `agg-${position}`,
    aggregate_type: type.split(".")[0] ?? "",
    type,
    body,
  };
}

/** A server holding a small synced world: two clients, one conflict, one agent, some events. */
export function syncedWorld(): FakeServer {
  const events = Array.from({ length: 120 }, (_, i) => event(i + 1));
  return new FakeServer()
    .on("GET", "/health", () => ({
      status: "ok",
      components: {
        store: { status: "ok", detail: "" },
        projector: { status: "ok", detail: "position 120, lag 0" },
      },
    }))
    .on("GET", "/api/v1/head", () => ({ position: events.length }))
    .on("GET", "/api/v1/events", (request) => {
      const query = new URL(request.url).searchParams;
      const after = Number(query.get("after") ?? 0);
      const limit = Number(query.get("limit") ?? 100);
      const type = query.get("type");
      const matched = events.filter((e) => e.position > after && (type === null || e.type === type));
      const items = matched.slice(0, limit);
      return { items, next_after: matched.length > limit ? (items.at(-1)?.position ?? null) : null };
    })
    .on("GET", "/api/v1/sync/status", () => ({
      mode: "apply",
      clients: { cursor: [{ path: "/h/.cursor/mcp.json", sha256: "a" }], codex: [] },
      open: [
        {
          type: "Conflict",
          kind: "mcp_server",
          name: "filesystem",
          scope: "user",
          conflict_id: "c0ffee",
          sides: { cursor: "63add41f4dd60028", rovodev: "bbd2d0d2f773a3cb" },
        },
        { type: "NeedsApproval", kind: "mcp_server", name: "shell", scope: "project", client: "codex", reason: "new command" },
      ],
      writes: 0,
      policy: { clients: ["codex", "cursor", "rovodev"], kinds: ["mcp_server", "skill"] },
      breakers: [],
    }))
    .on("GET", "/api/v1/clients", () => [
      { client: "codex", path: "/h/.codex/config.toml", scope: "user", present: true, status: "error", error: "line 3: expected '='", last_seen: "2026-01-01T00:00:00" },
      { client: "cursor", path: "/h/.cursor/mcp.json", scope: "user", present: true, status: "conflict", error: null, last_seen: "2026-01-01T00:00:00" },
      { client: "rovodev", path: "/h/.rovodev/mcp.json", scope: "user", present: true, status: "conflict", error: null, last_seen: "2026-01-01T00:00:00" },
    ])
    .on("GET", "/api/v1/sync/entities", () => [
      { kind: "mcp_server", name: "filesystem", scope: "user", client: "cursor", status: "conflict" },
      { kind: "mcp_server", name: "github", scope: "user", client: "cursor", status: "in-sync" },
      { kind: "mcp_server", name: "filesystem", scope: "user", client: "rovodev", status: "conflict" },
      { kind: "skill", name: "review", scope: "user", client: "rovodev", status: "drifted" },
      { kind: "mcp_server", name: "github", scope: "user", client: "codex", status: "in-sync" },
    ])
    .on("GET", "/api/v1/sync/losses", () => [
      { client: "rovodev", kind: "mcp_server", name: "github", field: "headers", reason: "no header support" },
    ])
    .on("GET", "/api/v1/conflicts", () => ({
      conflicts: [
        { conflict_id: "c0ffee", kind: "mcp_server", name: "filesystem", scope: "user", sides: "{}", status: "open", detected_at: "2026-01-01T00:00:00" },
      ],
      open: [
        {
          type: "Conflict",
          kind: "mcp_server",
          name: "filesystem",
          scope: "user",
          conflict_id: "c0ffee",
          sides: { cursor: "63add41f4dd60028", rovodev: "bbd2d0d2f773a3cb" },
        },
      ],
    }))
    .on("GET", "/api/v1/sync/approvals", () => ({ approvals: [] }))
    .on("GET", "/api/v1/sync/log", () => [])
    .on("GET", "/api/v1/exports", () => ({ tables: ["alerts", "events"] }))
    .on("GET", "/api/v1/workflows", () => ({ workflows: [] }))
    .on("GET", "/api/v1/agents", () => ({
      agents: [
        { name: "claude-main", backend: "claude", breaker: "closed", error_rate: 0, ewma_latency_ms: 850, in_flight: 1 },
        { name: "gemini-fast", backend: "gemini", breaker: "open", error_rate: 0.5, ewma_latency_ms: 0, in_flight: 0 },
      ],
    }));
}

/**
 * Render the whole app at `path` over `server`, with a fake EventSource. With `as`, a user of
 * that role is signed in (the cookie session: mutations carry the CSRF header); without it
 * no one is, and actions need the install token (see {@link unlock}).
 */
export function renderApp(path: string, server: FakeServer, { as }: { as?: Role } = {}) {
  FakeEventSource.instances = [];
  const connect = (url: string) => new FakeEventSource(url) as unknown as EventSource;
  const app = (
    <Providers api={createApi(server.fetch)} connect={connect} client={makeQueryClient()}>
      <MemoryRouter initialEntries={[path]}>
        <App />
      </MemoryRouter>
    </Providers>
  );
  if (as === undefined) return render(app);
  server.on("GET", "/api/v1/auth/me", () => ({ user: `an-${as}`, role: as, via: "cookie" }));
  return render(<AuthGate fetchImpl={server.fetch}>{app}</AuthGate>);
}

/**
 * A `text/event-stream` answer carrying `events` as frames (`id:` = seq), as the task routes
 * send them. The body simply ends after the last one: without a `final` that is a cut stream.
 */
export function sse(events: readonly Record<string, unknown>[], headers: Record<string, string> = {}): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("retry: 2000\n\n"));
      for (const e of events) {
        const kind = typeof e.kind === "string" ? e.kind : "message";
        const seq = typeof e.seq === "number" ? e.seq : 0;
        controller.enqueue(encoder.encode(`id: ${String(seq)}\nevent: ${kind}\ndata: ${JSON.stringify(e)}\n\n`));
      }
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream", ...headers } });
}

/** Type the install token into the unlock form, as a person does once per tab. */
export async function unlock(token = "the-install-token"): Promise<void> {
  await userEvent.type(await screen.findByLabelText(/API token/), token);
  await userEvent.click(screen.getByRole("button", { name: "Unlock" }));
}
