/**
 * The plan preview and apply, and the write history with revert.
 *
 * A plan is made on request (it rescans every client) and applied by its hash: the server
 * refuses a plan that no longer matches what is on disk (409), and the page then says so and
 * plans again, so a person only ever applies what they were shown. The history is the
 * `sync_log` read model; the live feed refreshes it, and marks a shown plan as possibly stale
 * when a client file changes.
 */
import type { ColumnDef } from "@tanstack/react-table";
import { lazy, Suspense, useMemo, useState } from "react";
import { Link } from "react-router";
import { UnlockActions, useAction } from "../api/actions";
import { ApiError, type PlanChange, type SyncLogRow, type SyncPlan } from "../api/client";
import { keys, SYNC_LOG_LIMIT, useSyncLog } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { formatTime, QueryState, StatusBadge } from "../components/Status";
import { isSyncEvent } from "../live/invalidation";
import { useLiveEvents } from "../live/LiveFeed";
import { ROUTES } from "../routes";

const DiffView = lazy(() => import("../components/DiffView"));

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function ChangeCard({ change }: { change: PlanChange }) {
  const label = `${change.client} ${change.path}`;
  return (
    <article className="change" aria-label={`Change ${label}`}>
      <h3>
        <strong>{change.client}</strong> <code>{change.path}</code>
      </h3>
      {change.entities?.length ? <p className="muted">Carries {change.entities.join(", ")}</p> : null}
      {change.losses?.length ? (
        <p className="warn-text">Not carried: {change.losses.join("; ")}</p>
      ) : null}
      <Suspense fallback={<p className="muted">Loading the diff…</p>}>
        <DiffView diff={change.diff} label={`Diff of ${label}`} />
      </Suspense>
    </article>
  );
}

function PlanPreview({ plan, stale }: { plan: SyncPlan; stale: boolean }) {
  const waiting = plan.decisions.length;
  return (
    <div className="stack" id="plan-preview">
      <p>
        Plan <code title={plan.plan_hash}>{plan.plan_hash.slice(0, 12)}</code>:{" "}
        {plural(plan.changes.length, "file")} to write
        {waiting ? (
          <>
            , {plural(waiting, "decision")} waiting (<Link to={ROUTES.approvals}>approvals</Link>,{" "}
            <Link to={ROUTES.conflicts}>conflicts</Link>)
          </>
        ) : null}
        . Mode <StatusBadge status={plan.mode} />
      </p>
      {stale && (
        <p role="status" className="warn-text">
          A client file changed since this plan was made; Apply checks it again and plans anew if it no
          longer holds.
        </p>
      )}
      {plan.changes.length === 0 && <p className="muted">Every client is in sync: nothing to write.</p>}
      {plan.changes.map((change) => (
        <ChangeCard key={`${change.client}:${change.path}`} change={change} />
      ))}
    </div>
  );
}

function canRevert(row: SyncLogRow): boolean {
  return row.action !== "revert" && row.action !== "abandoned" && row.reason !== "reverted";
}

interface Notice {
  text: string;
  failed: boolean;
}
type Notify = (notice: Notice) => void;

function RevertButton({ row, onDone }: { row: SyncLogRow; onDone: Notify }) {
  const revert = useAction((api, auth) => api.revert(row.write_id, auth), {
    invalidates: [keys.sync],
    onSuccess: (outcome) => {
      const restored = plural(outcome.written?.length ?? 0, "file");
      onDone({ text: `Reverted ${row.path ?? row.write_id}: restored ${restored}.`, failed: false });
    },
    onError: (error) => {
      onDone({ text: `Revert of ${row.path ?? row.write_id} failed: ${error.message}`, failed: true });
    },
  });
  if (!canRevert(row)) return null;
  return (
    <button
      type="button"
      disabled={revert.locked || revert.isPending}
      aria-label={`Revert ${row.path ?? row.write_id}`}
      onClick={() => { revert.mutate(); }}
    >
      Revert
    </button>
  );
}

function NoticeLine({ notice }: { notice: Notice | null }) {
  if (notice === null) return null;
  return (
    <p role={notice.failed ? "alert" : "status"} className={notice.failed ? "error" : "notice"}>
      {notice.text}
    </p>
  );
}

function historyColumns(onDone: Notify): ColumnDef<SyncLogRow>[] {
  return [
    { accessorFn: (r) => r.ts ?? "", id: "ts", header: "When", cell: (i) => formatTime(i.getValue<string>()) },
    {
      accessorFn: (r) => r.action ?? "",
      id: "action",
      header: "Action",
      cell: (i) => <StatusBadge status="none">{i.getValue<string>() || "—"}</StatusBadge>,
    },
    { accessorFn: (r) => r.client ?? "", id: "client", header: "Client" },
    { accessorFn: (r) => r.path ?? "", id: "path", header: "File", cell: (i) => <code>{i.getValue<string>()}</code> },
    { accessorFn: (r) => r.entities ?? "", id: "entities", header: "Entities" },
    { accessorFn: (r) => r.reason ?? "", id: "reason", header: "Note" },
    {
      id: "revert",
      header: "",
      enableSorting: false,
      cell: (i) => <RevertButton row={i.row.original} onDone={onDone} />,
    },
  ];
}

export function Sync() {
  const [plan, setPlan] = useState<SyncPlan | null>(null);
  const [stale, setStale] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [reverted, setReverted] = useState<Notice | null>(null);
  const log = useSyncLog();
  const columns = useMemo(() => historyColumns(setReverted), []);
  const makePlan = useAction((api, auth) => api.plan(auth), {
    invalidates: [],
    onSuccess: (made) => {
      setPlan(made);
      setStale(false);
    },
  });
  const apply = useAction((api, auth, hash: string) => api.apply(hash, auth), {
    invalidates: [keys.sync],
    onSuccess: (outcome) => {
      const written = outcome.written?.length ?? 0;
      const abandoned = outcome.abandoned?.length ?? 0;
      setPlan(null);
      const skipped = abandoned ? `; ${plural(abandoned, "file")} abandoned (changed during the write)` : "";
      setNotice({ text: `Applied: wrote ${plural(written, "file")}${skipped}.`, failed: false });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 409) {
        setNotice({
          text: "The plan was stale: something changed since it was made, so nothing was written. Here is the new plan.",
          failed: true,
        });
        makePlan.mutate();
      }
    },
  });
  useLiveEvents((row) => {
    if (plan !== null && isSyncEvent(row.type)) setStale(true);
  });
  const locked = makePlan.locked;
  const applyError = apply.error instanceof ApiError && apply.error.status === 409 ? null : apply.error;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="plan-title">
        <h2 id="plan-title">Plan</h2>
        <p className="muted">
          What sync would write now, per file, with secrets masked. Nothing is written until you apply.
        </p>
        <UnlockActions />
        <div className="actions">
          <button
            type="button"
            disabled={locked || makePlan.isPending}
            onClick={() => {
              setNotice(null);
              makePlan.mutate();
            }}
          >
            {plan ? "Plan again" : "Preview plan"}
          </button>
          <button
            type="button"
            disabled={locked || plan === null || plan.changes.length === 0 || apply.isPending || makePlan.isPending}
            onClick={() => {
              if (plan) apply.mutate(plan.plan_hash);
            }}
          >
            Apply
          </button>
          {(makePlan.isPending || apply.isPending) && <span className="muted">Working…</span>}
        </div>
        <NoticeLine notice={notice} />
        {makePlan.error && <p role="alert" className="error">Plan failed: {makePlan.error.message}</p>}
        {applyError && <p role="alert" className="error">Apply failed: {applyError.message}</p>}
        {plan && <PlanPreview plan={plan} stale={stale} />}
      </section>
      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <p className="muted">
          The last {SYNC_LOG_LIMIT} writes; Revert restores the exact bytes a write replaced (refused when the
          file changed since).
        </p>
        <NoticeLine notice={reverted} />
        <QueryState error={log.error} loading={log.isPending} />
        <DataTable
          label="Write history"
          id="sync-log"
          data={log.data ?? []}
          columns={columns}
          empty="Nothing written yet."
          rowKey={(r) => r.write_id}
        />
      </section>
    </div>
  );
}
