/** Open conflicts with their resolve actions (take one client's side), approvals and history. */
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { UnlockActions, useAction } from "../api/actions";
import { ApiError, type ConflictRecord, type OpenDecision } from "../api/client";
import { keys, useConflicts } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { formatTime, QueryState, StatusBadge } from "../components/Status";

function short(digest: string | null | undefined): string {
  return digest ? digest.slice(0, 12) : "deleted";
}

function ConflictCard({ conflict }: { conflict: OpenDecision }) {
  const [done, setDone] = useState<string | null>(null);
  const resolve = useAction(
    (api, auth, take: string) => {
      if (!conflict.conflict_id) throw new ApiError(404, "this conflict has no id");
      return api.resolve(conflict.conflict_id, take, auth);
    },
    {
      invalidates: [keys.sync],
      onSuccess: (outcome, take) => {
        const written = outcome.written?.length ?? 0;
        setDone(`Took ${take}'s side${written ? `; wrote ${written} file${written === 1 ? "" : "s"}` : ""}.`);
      },
    },
  );
  const sides = Object.entries(conflict.sides ?? {});
  const title = `${conflict.kind ?? "entity"} ${conflict.name ?? ""}`.trim();
  return (
    <article className="conflict" aria-label={`Conflict ${title}`}>
      <h3>
        {title} <small className="muted">{conflict.scope}</small>
      </h3>
      <p className="muted">The clients changed it to different values; nothing is written until you choose.</p>
      <ul className="sides">
        {sides.map(([side, digest]) => (
          <li key={side}>
            <strong>{side}</strong> <code title={digest ?? "deleted"}>{short(digest)}</code>{" "}
            <button
              type="button"
              disabled={resolve.locked || resolve.isPending}
              onClick={() => { resolve.mutate(side); }}
            >
              Take {side}
            </button>
          </li>
        ))}
      </ul>
      {resolve.error && <p role="alert" className="error">Resolve failed: {resolve.error.message}</p>}
      {done && <p role="status">{done}</p>}
    </article>
  );
}

const approvalColumns: ColumnDef<OpenDecision>[] = [
  { accessorKey: "type", header: "Waiting", cell: (info) => <StatusBadge status="waiting">{info.getValue<string>()}</StatusBadge> },
  { accessorFn: (d) => `${d.kind ?? ""} ${d.name ?? ""}`, id: "entity", header: "Entity" },
  { accessorFn: (d) => d.client ?? "", id: "client", header: "From" },
  { accessorFn: (d) => d.reason ?? "", id: "reason", header: "Why" },
];

const historyColumns: ColumnDef<ConflictRecord>[] = [
  { accessorFn: (c) => `${c.kind ?? ""} ${c.name ?? ""}`, id: "entity", header: "Entity" },
  {
    accessorFn: (c) => c.status ?? "unknown",
    id: "status",
    header: "Status",
    cell: (info) => <StatusBadge status={info.getValue<string>()} />,
  },
  { accessorFn: (c) => c.detected_at ?? "", id: "detected", header: "Detected", cell: (i) => formatTime(i.getValue<string>()) },
  { accessorFn: (c) => c.resolved_at ?? "", id: "resolved", header: "Resolved", cell: (i) => formatTime(i.getValue<string>()) },
  { accessorFn: (c) => c.resolution ?? "", id: "resolution", header: "Resolution" },
  { accessorFn: (c) => c.chosen_client ?? "", id: "chosen", header: "Chosen" },
];

export function Conflicts() {
  const conflicts = useConflicts();
  const open = conflicts.data?.open ?? [];
  const live = open.filter((d) => d.type === "Conflict");
  const approvals = open.filter((d) => d.type !== "Conflict");
  return (
    <div className="stack">
      <section className="card" aria-labelledby="open-title">
        <h2 id="open-title">Open conflicts</h2>
        <UnlockActions />
        <QueryState error={conflicts.error} loading={conflicts.isPending} />
        {!conflicts.isPending && live.length === 0 && <p className="muted">No open conflicts.</p>}
        {live.map((c) => (
          <ConflictCard key={c.conflict_id ?? `${c.kind ?? ""}:${c.name ?? ""}`} conflict={c} />
        ))}
      </section>
      <section className="card" aria-labelledby="approvals-title">
        <h2 id="approvals-title">Waiting for approval</h2>
        <DataTable label="Approvals" data={approvals} columns={approvalColumns} empty="Nothing waits for approval." />
      </section>
      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <DataTable
          label="Conflict history"
          data={conflicts.data?.conflicts ?? []}
          columns={historyColumns}
          empty="No conflicts recorded."
          rowKey={(c) => c.conflict_id}
        />
      </section>
    </div>
  );
}
