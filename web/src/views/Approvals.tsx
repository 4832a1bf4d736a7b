/**
 * What waits for a person before Synapse writes: project servers the trust gate holds (they
 * would run new code), deletions held by `max_deletions`, and open write breakers. Each shows
 * exactly what approving would do: the command line or URL, the file it came from and the
 * clients that would get it. All of it is synced content, so all of it renders as text.
 */
import { useState } from "react";
import { UnlockActions, useAction } from "../api/actions";
import type { ApprovalItem, WriteBreaker } from "../api/client";
import { keys, useApprovals, useSyncStatus } from "../api/queries";
import { QueryState, StatusBadge } from "../components/Status";

type Verdict = "approve" | "reject";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// The card or row disappears once the list refreshes, so the view keeps the outcome.
type Notify = (message: string) => void;

function ApprovalCard({ item, onDone }: { item: ApprovalItem; onDone: Notify }) {
  const judge = useAction((api, auth, verdict: Verdict) => api.judge(item.id, verdict, auth), {
    invalidates: [keys.sync],
    onSuccess: (outcome, verdict) => {
      const title = `${item.kind} ${item.name}`;
      if (verdict === "reject") {
        onDone(`Rejected ${title}: it is not asked again until the value changes.`);
        return;
      }
      const written = outcome.written?.length ?? 0;
      onDone(
        written
          ? `Approved ${title}; wrote ${plural(written, "file")}.`
          : `Approved ${title}; it is written at the next apply.`,
      );
    },
  });
  const title = `${item.kind} ${item.name}`;
  const busy = judge.locked || judge.isPending || judge.isSuccess;
  return (
    <article className="approval" aria-label={`Approval ${title}`}>
      <h3>
        {title} <small className="muted">{item.scope}</small>{" "}
        <StatusBadge status="waiting">{item.type === "deletion" ? "held deletion" : "new code"}</StatusBadge>
      </h3>
      <p>{item.reason}</p>
      <dl className="facts">
        <dt>From</dt>
        <dd>
          {item.client}
          {item.file ? (
            <>
              {" "}
              <code>{item.file}</code>
            </>
          ) : null}
        </dd>
        {item.command ? (
          <>
            <dt>Command</dt>
            <dd>
              <pre className="command">
                <code>{item.command}</code>
              </pre>
            </dd>
          </>
        ) : null}
        {item.url ? (
          <>
            <dt>URL</dt>
            <dd>
              <code>{item.url}</code>
            </dd>
          </>
        ) : null}
        <dt>{item.type === "deletion" ? "Deleted from" : "Written to"}</dt>
        <dd>{item.clients.length ? item.clients.join(", ") : "no client"}</dd>
        {item.losses?.length ? (
          <>
            <dt>Not carried</dt>
            <dd>
              <ul className="plain">
                {item.losses.map((loss) => (
                  <li key={loss}>{loss}</li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
      </dl>
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => { judge.mutate("approve"); }}>
          Approve
        </button>
        <button type="button" disabled={busy} onClick={() => { judge.mutate("reject"); }}>
          Reject
        </button>
        <span className="muted">
          or <code>{item.approve}</code>
        </span>
      </div>
      {judge.error && <p role="alert" className="error">Failed: {judge.error.message}</p>}
    </article>
  );
}

function BreakerRow({ client, breakers, onDone }: { client: string; breakers: WriteBreaker[]; onDone: Notify }) {
  const resume = useAction((api, auth) => api.resume(client, auth), {
    invalidates: [keys.sync],
    onSuccess: (outcome) => {
      const written = outcome.written?.length ?? 0;
      onDone(`Resumed ${client}: ${plural(outcome.resumed.length, "file")}${written ? `; wrote ${plural(written, "file")}` : ""}.`);
    },
  });
  return (
    <li aria-label={`Write breaker ${client}`}>
      <strong>{client}</strong>
      <ul className="plain">
        {breakers.map((b) => (
          <li key={b.path}>
            <code>{b.path}</code>{" "}
            <span className="muted">
              {b.open_s != null ? `open ${Math.round(b.open_s)} s` : "open"}
              {b.refused ? `, ${plural(b.refused, "write")} refused` : ""}
            </span>
          </li>
        ))}
      </ul>
      <button type="button" disabled={resume.locked || resume.isPending} onClick={() => { resume.mutate(); }}>
        Resume {client}
      </button>
      {resume.error && <p role="alert" className="error">Resume failed: {resume.error.message}</p>}
    </li>
  );
}

function byClient(breakers: readonly WriteBreaker[]): [string, WriteBreaker[]][] {
  const groups = new Map<string, WriteBreaker[]>();
  for (const b of breakers) groups.set(b.client, [...(groups.get(b.client) ?? []), b]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function Approvals() {
  const approvals = useApprovals();
  const status = useSyncStatus();
  const items = approvals.data?.approvals ?? [];
  const breakers = byClient(status.data?.breakers ?? []);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <div className="stack">
      <section className="card" aria-labelledby="approvals-title">
        <h2 id="approvals-title">Waiting for approval</h2>
        <UnlockActions />
        {notice && <p role="status" className="notice">{notice}</p>}
        <QueryState error={approvals.error} loading={approvals.isPending} />
        {!approvals.isPending && !approvals.error && items.length === 0 && (
          <p className="muted">Nothing waits for approval.</p>
        )}
        {items.map((item) => (
          <ApprovalCard key={item.id} item={item} onDone={setNotice} />
        ))}
      </section>
      <section className="card" aria-labelledby="breakers-title">
        <h2 id="breakers-title">Open write breakers</h2>
        <p className="muted">
          A file written too often in a short time stops being written until you resume its client.
        </p>
        <QueryState error={status.error} loading={status.isPending} />
        {!status.isPending && breakers.length === 0 && <p className="muted">No write breaker is open.</p>}
        <ul className="plain breakers">
          {breakers.map(([client, list]) => (
            <BreakerRow key={client} client={client} breakers={list} onDone={setNotice} />
          ))}
        </ul>
      </section>
    </div>
  );
}
