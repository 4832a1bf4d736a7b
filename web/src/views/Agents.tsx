/**
 * The agents behind the gateway: each one's breaker, error rate, latency and load, refreshed
 * when an Agent or Task event arrives on the live feed (live/invalidation.ts), and a form to run
 * a task and watch its answer stream.
 */
import type { ColumnDef } from "@tanstack/react-table";
import type { AgentRow } from "../api/client";
import { useAgents } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { QueryState, StatusBadge } from "../components/Status";
import { TaskRunner } from "./TaskRunner";

const columns: ColumnDef<AgentRow>[] = [
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

export function Agents() {
  const agents = useAgents();
  const rows = agents.data?.agents ?? [];
  return (
    <div className="stack">
      <section className="card" aria-labelledby="agents-title">
        <h2 id="agents-title">Agents</h2>
        <QueryState error={agents.error} loading={agents.isPending} />
        {agents.data && (
          <DataTable
            id="agents-table"
            label="Agents"
            data={rows}
            columns={columns}
            empty="No agents are configured (agents.toml)."
            rowKey={(a) => a.name}
          />
        )}
      </section>
      {agents.data && (
        <section className="card">
          <TaskRunner agents={rows} />
        </section>
      )}
    </div>
  );
}
