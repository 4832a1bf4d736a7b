/**
 * Server state, all through TanStack Query. Nothing polls: the live feed invalidates these
 * keys when an event that changes them arrives (see live/invalidation.ts).
 */
import { useQuery } from "@tanstack/react-query";
import { ApiError, type EventFilters } from "./client";
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
};

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
