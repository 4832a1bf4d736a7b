/** Per client: its files (state, last seen, parse errors) and what it cannot express. */
import type { ColumnDef } from "@tanstack/react-table";
import type { ClientFile, LossRecord } from "../api/client";
import { useClients, useLosses } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { formatTime, QueryState, StatusBadge } from "../components/Status";

const fileColumns: ColumnDef<ClientFile>[] = [
  { accessorKey: "path", header: "File", cell: (info) => <code>{info.getValue<string>()}</code> },
  { accessorFn: (f) => f.scope ?? "", id: "scope", header: "Scope" },
  {
    accessorFn: (f) => (f.present === false ? "missing" : (f.status ?? "unknown")),
    id: "state",
    header: "State",
    cell: (info) => <StatusBadge status={info.getValue<string>()} />,
  },
  {
    accessorFn: (f) => f.last_seen ?? "",
    id: "last_seen",
    header: "Last seen",
    cell: (info) => formatTime(info.getValue<string>()),
  },
  { accessorFn: (f) => f.size ?? null, id: "size", header: "Bytes" },
  {
    accessorFn: (f) => f.error ?? "",
    id: "error",
    header: "Error",
    cell: (info) => <span className="error-text">{info.getValue<string>()}</span>,
  },
];

const lossColumns: ColumnDef<LossRecord>[] = [
  { accessorKey: "kind", header: "Kind" },
  { accessorKey: "name", header: "Entity" },
  { accessorKey: "field", header: "Field" },
  { accessorFn: (l) => l.reason ?? "", id: "reason", header: "Why" },
];

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const name = key(row);
    groups.set(name, [...(groups.get(name) ?? []), row]);
  }
  return groups;
}

export function Clients() {
  const files = useClients();
  const losses = useLosses();
  const byClient = groupBy(files.data ?? [], (f) => f.client);
  const lossesBy = groupBy(losses.data ?? [], (l) => l.client);
  const names = [...new Set([...byClient.keys(), ...lossesBy.keys()])].sort();
  return (
    <div className="stack">
      <QueryState error={files.error ?? losses.error} loading={files.isPending || losses.isPending} />
      {!files.isPending && names.length === 0 && <p className="muted">No client files are known yet.</p>}
      {names.map((client) => {
        const clientFiles = byClient.get(client) ?? [];
        const clientLosses = lossesBy.get(client) ?? [];
        const errors = clientFiles.filter((f) => f.error).length;
        return (
          <section key={client} className="card" aria-labelledby={`client-${client}`}>
            <h2 id={`client-${client}`}>
              {client}{" "}
              <small className="muted">
                {clientFiles.length} file{clientFiles.length === 1 ? "" : "s"}
                {errors > 0 && `, ${errors} with errors`}
                {clientLosses.length > 0 && `, ${clientLosses.length} losses`}
              </small>
            </h2>
            <DataTable
              label={`${client} files`}
              data={clientFiles}
              columns={fileColumns}
              rowKey={(f) => f.path}
            />
            {clientLosses.length > 0 && (
              <>
                <h3>Cannot express</h3>
                <DataTable label={`${client} losses`} data={clientLosses} columns={lossColumns} />
              </>
            )}
          </section>
        );
      })}
    </div>
  );
}
