/** At a glance: the clients × kinds matrix, what waits for a person, agents and health. */
import { Link } from "react-router";
import type { HealthReport } from "../api/client";
import { useAgents, useClients, useEntities, useHealth, useSyncStatus } from "../api/queries";
import { overviewAgentColumns } from "../components/agentColumns";
import { DataTable } from "../components/DataTable";
import { QueryState, StatusBadge } from "../components/Status";
import { buildMatrix, countDecisions, type Cell } from "../lib/matrix";
import { ROUTES } from "../routes";

function cellText(cell: Cell): string {
  if (cell.state === "none") return "—";
  const parts = Object.entries(cell.counts).map(([status, n]) => `${n} ${status}`);
  if (parts.length === 1) return `${cell.total} ${cell.total === 1 ? "entity" : "entities"}`;
  return parts.length > 0 ? parts.join(", ") : cell.state;
}

function SyncMatrix() {
  const status = useSyncStatus();
  const files = useClients();
  const entities = useEntities();
  const error = status.error ?? files.error ?? entities.error;
  const matrix = buildMatrix(status.data, files.data ?? [], entities.data ?? []);
  return (
    <section aria-labelledby="matrix-title" className="card wide">
      <h2 id="matrix-title">Sync matrix</h2>
      <QueryState error={error} loading={status.isPending || files.isPending || entities.isPending} />
      {matrix.clients.length === 0 ? (
        <p className="muted">No clients are synced yet.</p>
      ) : (
        <div className="table-wrap">
          <table id="sync-matrix" aria-label="Clients by entity kind">
            <thead>
              <tr>
                <th scope="col">Client</th>
                {matrix.kinds.map((kind) => (
                  <th key={kind} scope="col">
                    {kind}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.clients.map((client) => (
                <tr key={client}>
                  <th scope="row">{client}</th>
                  {matrix.kinds.map((kind) => {
                    const cell = matrix.cell(client, kind);
                    return (
                      <td key={kind} data-state={cell.state} title={cellText(cell)}>
                        <StatusBadge status={cell.state} />
                        {cell.total > 0 && <span className="count">{cellText(cell)}</span>}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {status.data && <p className="muted">Mode: {status.data.mode}</p>}
    </section>
  );
}

function Decisions() {
  const status = useSyncStatus();
  const counts = countDecisions(status.data);
  return (
    <section aria-labelledby="decisions-title" className="card">
      <h2 id="decisions-title">Waiting for you</h2>
      <dl className="figures">
        <div>
          <dt>Open conflicts</dt>
          <dd data-testid="open-conflicts">{counts.conflicts}</dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd data-testid="open-approvals">{counts.approvals}</dd>
        </div>
        <div>
          <dt>Open write breakers</dt>
          <dd>{counts.breakers}</dd>
        </div>
      </dl>
      {counts.conflicts + counts.approvals > 0 && <Link to={ROUTES.conflicts}>Review conflicts →</Link>}
    </section>
  );
}


function Agents() {
  const agents = useAgents();
  return (
    <section aria-labelledby="agents-title" className="card wide">
      <h2 id="agents-title">Agents</h2>
      <QueryState error={agents.error} loading={agents.isPending} />
      {agents.data && (
        <DataTable
          label="Agents"
          data={agents.data.agents}
          columns={overviewAgentColumns}
          empty="No agents are configured."
          rowKey={(a) => a.name}
        />
      )}
    </section>
  );
}

export function worstHealth(report: HealthReport | undefined): string {
  const states = new Set(Object.values(report?.components ?? {}).map((c) => c.status));
  return states.has("down") ? "down" : states.has("degraded") ? "degraded" : report ? "ok" : "unknown";
}

function Health() {
  const health = useHealth();
  const components = Object.entries(health.data?.components ?? {});
  return (
    <section aria-labelledby="health-title" className="card">
      <h2 id="health-title">Health</h2>
      <QueryState error={health.error} loading={health.isPending} />
      <ul className="components">
        {components.map(([name, component]) => (
          <li key={name}>
            <StatusBadge status={component.status} /> <strong>{name}</strong>
            {component.detail && <span className="muted"> {component.detail}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Overview() {
  return (
    <div className="grid">
      <SyncMatrix />
      <Decisions />
      <Health />
      <Agents />
    </div>
  );
}
