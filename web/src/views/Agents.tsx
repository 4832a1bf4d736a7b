/**
 * The agents behind the gateway: each one's breaker, error rate, latency and load, refreshed
 * when an Agent or Task event arrives on the live feed (live/invalidation.ts), and a form to run
 * a task and watch its answer stream.
 */
import { useAgents } from "../api/queries";
import { agentColumns } from "../components/agentColumns";
import { DataTable } from "../components/DataTable";
import { QueryState } from "../components/Status";
import { TaskRunner } from "./TaskRunner";


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
            columns={agentColumns}
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
