/** The app's client-side routes. serve/dashboard.py (SPA_PATHS) answers each with the app. */
export const ROUTES = {
  overview: "/",
  clients: "/clients",
  events: "/events",
  conflicts: "/conflicts",
  approvals: "/approvals",
  sync: "/sync",
  sql: "/sql",
} as const;

export const NAV: readonly { to: string; label: string }[] = [
  { to: ROUTES.overview, label: "Overview" },
  { to: ROUTES.clients, label: "Clients" },
  { to: ROUTES.events, label: "Events" },
  { to: ROUTES.conflicts, label: "Conflicts" },
  { to: ROUTES.approvals, label: "Approvals" },
  { to: ROUTES.sync, label: "Sync" },
  { to: ROUTES.sql, label: "SQL" },
];
