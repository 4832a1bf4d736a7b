/**
 * Which cached queries an event makes stale. The feed batches them: a burst of events costs
 * one refetch per key, not one per event.
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { keys } from "../api/queries";
import { shortTopic } from "../lib/topic";

// Aggregates whose events change the sync views, the agents table, the workflows and the alerts. An event's `type` is
// `Aggregate.Event` (the projected log) or the full topic `module:Aggregate.Event`.
const SYNC_AGGREGATES = new Set(["ClientFile", "SyncLedger", "SyncPlacement", "ClientConfig"]);
// A task's attempts and outcome move its agent's error rate, latency and in-flight count.
const AGENT_AGGREGATES = new Set(["Agent", "Task"]);
const WORKFLOW_AGGREGATES = new Set(["Workflow"]);
const ALERT_AGGREGATES = new Set(["Alert"]);
/** The read models follow the log a moment behind: refresh sync views once more after this. */
export const READ_MODEL_GRACE_MS = 1000;
export const BATCH_MS = 150;

/** Whether an event of `type` changes what sync would do (client files, ledger, placement). */
export function isSyncEvent(type: string): boolean {
  return SYNC_AGGREGATES.has(shortTopic(type).split(".")[0] ?? "");
}

/** The query keys an event of `type` (its topic) invalidates. */
export function keysFor(type: string): QueryKey[] {
  // The logs have no stream of their own: any event may come with new lines (Logs view, Follow).
  const stale: QueryKey[] = [keys.head, keys.health, keys.eventsAll, keys.logsAll];
  const aggregate = shortTopic(type).split(".")[0] ?? "";
  if (isSyncEvent(type)) stale.push(keys.sync);
  if (AGENT_AGGREGATES.has(aggregate)) stale.push(keys.agents);
  if (WORKFLOW_AGGREGATES.has(aggregate)) stale.push(keys.workflows);
  if (ALERT_AGGREGATES.has(aggregate)) stale.push(keys.alertsAll);
  return stale;
}

/** Collects stale keys and invalidates each once per batch. */
export class Invalidator {
  private pending = new Map<string, QueryKey>();
  private timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly client: QueryClient) {}

  /** Mark the queries `type` affects; they refetch after a short batch window. */
  add(type: string): void {
    const wasEmpty = this.pending.size === 0;
    for (const key of keysFor(type)) this.pending.set(JSON.stringify(key), key);
    if (wasEmpty) this.later(BATCH_MS, () => { this.flush(); });
  }

  /** Invalidate everything (after a reconnect: anything may have changed). */
  all(): void {
    void this.client.invalidateQueries();
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private flush(): void {
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const queryKey of batch) void this.client.invalidateQueries({ queryKey });
    if (batch.some((k) => k[0] === keys.sync[0])) {
      this.later(READ_MODEL_GRACE_MS, () => {
        void this.client.invalidateQueries({ queryKey: keys.sync });
      });
    }
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}
