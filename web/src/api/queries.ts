/**
 * Server state, all through TanStack Query. Nothing polls: the live feed invalidates these
 * keys when an event that changes them arrives (see live/invalidation.ts).
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, type EventFilters, type LogFilters, type LogLine, type LogPage } from "./client";
import { useApi } from "./context";

export const keys = {
  health: ["health"] as const,
  head: ["head"] as const,
  events: (f: EventFilters) => ["events", f] as const,
  eventsAll: ["events"] as const,
  sync: ["sync"] as const,
  syncStatus: ["sync", "status"] as const,
  clients: ["sync", "clients"] as const,
  entities: ["sync", "entities"] as const,
  losses: ["sync", "losses"] as const,
  conflicts: ["sync", "conflicts"] as const,
  approvals: ["sync", "approvals"] as const,
  syncLog: ["sync", "log"] as const,
  agents: ["agents"] as const,
  workflows: ["workflows"] as const,
  workflow: (id: string) => ["workflows", id] as const,
  exportTables: ["exports", "tables"] as const,
  logs: (f: LogFilters) => ["logs", f] as const,
  logsAll: ["logs"] as const,
  alerts: (openOnly: boolean) => ["alerts", { openOnly }] as const,
  alertsAll: ["alerts"] as const,
};

/** How many log lines one request asks for (the route's cap is higher). */
export const LOG_LIMIT = 200;
/** How many lines the Logs view keeps while it follows (the oldest drop out). */
export const LOG_KEEP = 1000;
/** How many alerts the Alerts view lists. */
export const ALERT_LIMIT = 200;

/** How many write-log rows the Sync view shows (the route's cap is 1000). */
export const SYNC_LOG_LIMIT = 200;

export function useHealth() {
  const api = useApi();
  return useQuery({ queryKey: keys.health, queryFn: () => api.health() });
}

export function useHead() {
  const api = useApi();
  return useQuery({ queryKey: keys.head, queryFn: () => api.head() });
}

export function useEvents(filters: EventFilters | null) {
  const api = useApi();
  return useQuery({
    queryKey: keys.events(filters ?? { after: 0, limit: 0 }),
    queryFn: () => api.events(filters ?? { after: 0, limit: 0 }),
    enabled: filters !== null,
    placeholderData: (previous) => previous,
  });
}

export function useSyncStatus() {
  const api = useApi();
  return useQuery({ queryKey: keys.syncStatus, queryFn: () => api.syncStatus() });
}

export function useClients() {
  const api = useApi();
  return useQuery({ queryKey: keys.clients, queryFn: () => api.clients() });
}

export function useEntities() {
  const api = useApi();
  return useQuery({ queryKey: keys.entities, queryFn: () => api.entities() });
}

export function useLosses() {
  const api = useApi();
  return useQuery({ queryKey: keys.losses, queryFn: () => api.losses() });
}

export function useConflicts() {
  const api = useApi();
  return useQuery({ queryKey: keys.conflicts, queryFn: () => api.conflicts() });
}

export function useAgents() {
  const api = useApi();
  return useQuery({ queryKey: keys.agents, queryFn: () => api.agents() });
}

export function useApprovals() {
  const api = useApi();
  return useQuery({ queryKey: keys.approvals, queryFn: () => api.approvals() });
}

export function useSyncLog() {
  const api = useApi();
  return useQuery({ queryKey: keys.syncLog, queryFn: () => api.syncLog(SYNC_LOG_LIMIT) });
}

export function useExportTables() {
  const api = useApi();
  return useQuery({ queryKey: keys.exportTables, queryFn: () => api.exportTables() });
}

export function useWorkflows() {
  const api = useApi();
  return useQuery({ queryKey: keys.workflows, queryFn: () => api.workflows() });
}

export function useWorkflow(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.workflow(id),
    queryFn: () => api.workflow(id),
    // An unknown id stays unknown: say so at once instead of asking again.
    retry: (failures, error) => !(error instanceof ApiError && error.status === 404) && failures < 1,
  });
}

/**
 * `shown` followed by the lines of `fresh` it does not hold yet. `fresh` was asked for with
 * `since` = the last shown line's time, which is inclusive: the lines at that very moment come
 * again and are dropped here (an identical line logged twice in the same instant shows once).
 */
export function appendLines(shown: readonly LogLine[], fresh: readonly LogLine[], keep = LOG_KEEP): LogLine[] {
  const lastTs = shown.at(-1)?.ts;
  const seen = new Set(shown.filter((l) => l.ts === lastTs).map((l) => JSON.stringify(l)));
  const added = fresh.filter((l) => !seen.has(JSON.stringify(l)));
  return [...shown, ...added].slice(-keep);
}

/**
 * The log lines that pass `filters`. The live feed invalidates every logs query on any event
 * (live/invalidation.ts); what that does depends on `follow`:
 *   - following, the page asks only for the lines since its last one and appends them;
 *   - not following, the page is a snapshot and stays as it is (new filters or a reset of the
 *     query load a fresh one).
 */
export function useLogs(filters: LogFilters, follow: boolean) {
  const api = useApi();
  const client = useQueryClient();
  const queryKey = keys.logs(filters);
  return useQuery({
    queryKey,
    queryFn: async (): Promise<LogPage> => {
      const shown = client.getQueryData<LogPage>(queryKey);
      if (shown === undefined) return api.logs(filters);
      if (!follow) return shown;
      const last = shown.items.at(-1);
      if (last === undefined) return api.logs(filters);
      const fresh = await api.logs({ ...filters, since: last.ts });
      // More new lines than one page holds: show the newest page (the gap is flagged).
      if (fresh.truncated) return fresh;
      return { items: appendLines(shown.items, fresh.items), truncated: shown.truncated };
    },
    placeholderData: (previous) => previous,
  });
}

export function useAlerts(openOnly: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: keys.alerts(openOnly),
    queryFn: () => api.alerts(openOnly, ALERT_LIMIT),
    placeholderData: (previous) => previous,
  });
}
