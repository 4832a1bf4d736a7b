/**
 * A streamed task, read to its end. `POST /api/v1/tasks` answers Server-Sent Events whose
 * `id:` is the event's `seq` (the gateway's normalised stream, actors/agent_stream.py). When
 * the connection is cut before the one terminal `final`, the rest is fetched from
 * `GET /api/v1/tasks/{id}/stream` with `Last-Event-ID: <last seq>`: the server replays from
 * its buffer, the task is not run again, and events already seen are dropped by `seq`.
 *
 * An EventSource cannot POST, so this reads the body with fetch and parses it with
 * eventsource-parser.
 */
import { createParser } from "eventsource-parser";
import type { Api, Auth, TaskRequest, TaskStream } from "./client";
import { ApiError } from "./client";

export type TaskEventKind = "start" | "delta" | "tool_call" | "tool_result" | "retry" | "error" | "final";

/** One event of the stream (the fields the page shows; the rest is ignored). */
export interface TaskEvent {
  seq: number;
  kind: TaskEventKind;
  text?: string;
  tool?: string | null;
  data?: Record<string, unknown>;
  is_error?: boolean;
  failure?: string | null;
  retry_after_s?: number | null;
}

/** What the terminal `final` event's `data` says about the request (gateway RequestSummary). */
export interface TaskSummary {
  agent: string | null;
  attempts: number;
  fallback: string | null;
  degraded: boolean;
  ok: boolean;
  nested_retries: number;
  failures: Record<string, string>;
}

export interface StreamHandlers {
  onEvent: (event: TaskEvent) => void;
  /** The connection was cut after `lastSeq`; reconnect number `attempt` follows. */
  onReconnect?: (attempt: number, lastSeq: number) => void;
}

/** How often a cut stream is resumed before the page gives up. */
export const MAX_RESUMES = 5;
const BACKOFF_MS = [0, 500, 1000, 2000, 4000];

const KINDS = new Set<string>(["start", "delta", "tool_call", "tool_result", "retry", "error", "final"]);

function parseEvent(data: string): TaskEvent | null {
  try {
    const value = JSON.parse(data) as Partial<TaskEvent>;
    return typeof value.seq === "number" && typeof value.kind === "string" && KINDS.has(value.kind)
      ? (value as TaskEvent)
      : null;
  } catch {
    return null;
  }
}

/** The `final` event's summary, read defensively (missing fields become neutral values). */
export function summaryOf(event: TaskEvent): TaskSummary {
  const d = event.data ?? {};
  const failures = typeof d.failures === "object" && d.failures !== null ? (d.failures as Record<string, string>) : {};
  return {
    agent: typeof d.agent === "string" ? d.agent : null,
    attempts: typeof d.attempts === "number" ? d.attempts : 0,
    fallback: typeof d.fallback === "string" ? d.fallback : null,
    degraded: d.degraded === true,
    ok: d.ok === true,
    nested_retries: typeof d.nested_retries === "number" ? d.nested_retries : 0,
    failures,
  };
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Read `stream`'s events into `deliver` (only those after `lastSeq`).
 *
 * Returns:
 *   The last seq delivered and whether the terminal `final` arrived. A connection cut
 *   mid-read counts as an end without `final`.
 */
async function drain(
  stream: TaskStream,
  lastSeq: number,
  deliver: (event: TaskEvent) => void,
): Promise<{ lastSeq: number; final: boolean }> {
  // Mutated by the parser's callback (a closure, so not plain `let`s TypeScript narrows).
  const seen = { last: lastSeq, final: false };
  const parser = createParser({
    onEvent(message) {
      const event = parseEvent(message.data);
      if (event === null || event.seq <= seen.last) return; // a replayed event already shown
      seen.last = event.seq;
      if (event.kind === "final") seen.final = true;
      deliver(event);
    },
  });
  const reader = stream.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      if (seen.final) break;
    }
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    // Otherwise the connection was cut: resume below.
  } finally {
    reader.releaseLock();
  }
  return { lastSeq: seen.last, final: seen.final };
}

/**
 * Run `task` as a stream and deliver its events until `final`, resuming a cut connection.
 *
 * Raises:
 *   ApiError: the task was refused, or the stream could not be resumed (expired, or cut
 *   more than {@link MAX_RESUMES} times).
 */
export async function runTaskStream(
  api: Api,
  task: TaskRequest,
  auth: Auth,
  handlers: StreamHandlers,
  signal?: AbortSignal,
): Promise<void> {
  let stream = await api.streamTask(task, auth, signal);
  let lastSeq = 0;
  for (let resumes = 0; ; resumes += 1) {
    const read = await drain(stream, lastSeq, handlers.onEvent);
    lastSeq = read.lastSeq;
    if (read.final || signal?.aborted) return;
    if (stream.taskId === null) throw new ApiError(502, "the stream was cut and the server named no task to resume");
    if (resumes >= MAX_RESUMES) {
      throw new ApiError(503, `the stream was cut ${String(resumes + 1)} times; gave up after seq ${String(lastSeq)}`);
    }
    handlers.onReconnect?.(resumes + 1, lastSeq);
    await pause(BACKOFF_MS[resumes] ?? 4000, signal);
    stream = await api.resumeTask(stream.taskId, lastSeq, signal);
  }
}
