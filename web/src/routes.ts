/**
 * The app's client-side routes. serve/dashboard.py (SPA_PATHS) answers each with the app; a
 * `:name` segment is a path parameter there too.
 */
export const ROUTES = {
  overview: "/",
  clients: "/clients",
  events: "/events",
  conflicts: "/conflicts",
  approvals: "/approvals",
  sync: "/sync",
  sql: "/sql",
  agents: "/agents",
  workflows: "/workflows",
  workflow: "/workflows/:id",
  logs: "/logs",
  alerts: "/alerts",
} as const;

/** The stable URL of one workflow's page. */
export function workflowPath(id: string): string {
  return `/workflows/${encodeURIComponent(id)}`;
}

export const NAV: readonly { to: string; label: string }[] = [
  { to: ROUTES.overview, label: "Overview" },
  { to: ROUTES.clients, label: "Clients" },
  { to: ROUTES.events, label: "Events" },
  { to: ROUTES.conflicts, label: "Conflicts" },
  { to: ROUTES.approvals, label: "Approvals" },
  { to: ROUTES.sync, label: "Sync" },
  { to: ROUTES.sql, label: "SQL" },
  { to: ROUTES.agents, label: "Agents" },
  { to: ROUTES.workflows, label: "Workflows" },
  { to: ROUTES.logs, label: "Logs" },
  { to: ROUTES.alerts, label: "Alerts" },
];
