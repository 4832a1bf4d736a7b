/**
 * The agent table's columns, shared by the Agents view (all of them) and the overview (a
 * summary: the ids in OVERVIEW_AGENT_COLUMNS).
 */
import type { ColumnDef } from "@tanstack/react-table";
import type { AgentRow } from "../api/client";
import { StatusBadge } from "./Status";

export const agentColumns: ColumnDef<AgentRow>[] = [
  { accessorKey: "name", header: "Agent" },
  { accessorFn: (a) => a.backend ?? "", id: "backend", header: "Backend" },
  {
    accessorFn: (a) => (a.capabilities ?? []).join(", "),
    id: "capabilities",
    header: "Capabilities",
    enableSorting: false,
  },
  {
    accessorFn: (a) => (a.enabled === false ? "disabled" : (a.breaker ?? "unknown")),
    id: "breaker",
    header: "Breaker",
    cell: (info) => <StatusBadge status={info.getValue<string>()} />,
  },
  {
    accessorFn: (a) => a.error_rate ?? 0,
    id: "error_rate",
    header: "Error rate",
    cell: (info) => `${(info.getValue<number>() * 100).toFixed(1)} %`,
  },
  {
    accessorFn: (a) => a.ewma_latency_ms ?? 0,
    id: "latency",
    header: "EWMA latency",
    cell: (info) => `${info.getValue<number>().toFixed(0)} ms`,
  },
  { accessorFn: (a) => a.in_flight ?? 0, id: "in_flight", header: "In flight" },
  {
    accessorFn: (a) => (a.needs_login ? (a.alert ?? "needs a login") : ""),
    id: "note",
    header: "Note",
    enableSorting: false,
  },
];

const OVERVIEW_AGENT_COLUMNS = new Set([
  "name",
  "backend",
  "breaker",
  "error_rate",
  "latency",
  "in_flight",
]);

/** The overview's summary of each agent: no capabilities, no notes. */
export const overviewAgentColumns = agentColumns.filter(
  (c) => c.id === undefined || OVERVIEW_AGENT_COLUMNS.has(c.id),
);
