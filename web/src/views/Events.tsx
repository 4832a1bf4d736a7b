/**
 * The event log: server-side pages (keyset on position, filters in the URL so a view can be
 * shared or reloaded) and a live tail of what arrives on the feed, filtered the same way.
 */
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useState, type SyntheticEvent } from "react";
import { useSearchParams } from "react-router";
import type { EventFilters, EventRow } from "../api/client";
import { useEvents, useHead } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { formatTime, QueryState } from "../components/Status";
import { topicMatches } from "../lib/topic";
import { useLiveEvents, useLiveState } from "../live/LiveFeed";

const PAGE = 50;
const PREVIEW = 120;
const TAIL = 200;
const FILTERS = ["type", "aggregate", "since", "until"] as const;
type FilterName = (typeof FILTERS)[number];

const columns: ColumnDef<EventRow>[] = [
  { accessorKey: "position", header: "#" },
  { accessorKey: "timestamp", header: "Time", cell: (info) => formatTime(info.getValue<string>()) },
  { accessorKey: "type", header: "Type" },
  { accessorKey: "aggregate_id", header: "Aggregate", cell: (info) => <code>{info.getValue<string>()}</code> },
  {
    accessorFn: (e) => JSON.stringify(e.body),
    id: "body",
    header: "Body",
    enableSorting: false,
    cell: (info) => <Body text={info.getValue<string>()} body={info.row.original.body} />,
  },
];

/** One line of the body; long bodies expand to the indented JSON on click. */
function Body({ text, body }: { text: string; body: EventRow["body"] }) {
  if (text.length <= PREVIEW) return <code className="body">{text}</code>;
  return (
    <details className="body">
      <summary>
        <code>{text.slice(0, PREVIEW)}…</code>
      </summary>
      <pre>{JSON.stringify(body, null, 2)}</pre>
    </details>
  );
}

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function useFilters(): [Record<FilterName, string>, number | null, (next: URLSearchParams) => void] {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""])) as Record<
    FilterName,
    string
  >;
  const raw = params.get("after");
  const after = raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  return [values, after, setParams];
}

function FilterForm({ values, onApply }: { values: Record<FilterName, string>; onApply: (v: Record<FilterName, string>) => void }) {
  const [draft, setDraft] = useState(values);
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  const field = (name: FilterName, label: string, props: { type?: string; placeholder?: string }) => (
    <label>
      {label}
      <input
        name={name}
        value={draft[name]}
        autoComplete="off"
        {...props}
        onChange={(e) => { setDraft({ ...draft, [name]: e.target.value }); }}
      />
    </label>
  );
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter events">
      {field("type", "Type", { placeholder: "Alert.Raised or SyncLedger.*" })}
      {field("aggregate", "Aggregate", { placeholder: "aggregate id" })}
      {field("since", "Since", { type: "datetime-local" })}
      {field("until", "Until", { type: "datetime-local" })}
      <button type="submit">Apply</button>
    </form>
  );
}

function LiveTail({ values }: { values: Record<FilterName, string> }) {
  const [rows, setRows] = useState<EventRow[]>([]);
  const [paused, setPaused] = useState(false);
  const state = useLiveState();
  const onEvent = useCallback(
    (row: EventRow) => {
      if (paused) return;
      if (!topicMatches(row.type, values.type)) return;
      if (values.aggregate && row.aggregate_id !== values.aggregate) return;
      setRows((current) => [row, ...current.filter((r) => r.position !== row.position)].slice(0, TAIL));
    },
    [paused, values.type, values.aggregate],
  );
  useLiveEvents(onEvent);
  return (
    <section className="card" aria-labelledby="tail-title">
      <h2 id="tail-title">
        Live tail <small className="muted">({state}, newest first)</small>
      </h2>
      <div className="toolbar">
        <button type="button" onClick={() => { setPaused(!paused); }} aria-pressed={paused}>
          {paused ? "Resume" : "Pause"}
        </button>
        <button type="button" onClick={() => { setRows([]); }}>
          Clear
        </button>
      </div>
      <div className="tail-scroll">
        <DataTable
          id="live-tail"
          label="Live events"
          data={rows}
          columns={columns}
          sortable={false}
          empty="Waiting for new events…"
          rowKey={(r) => String(r.position)}
        />
      </div>
    </section>
  );
}

export function Events() {
  const [values, after, setParams] = useFilters();
  const head = useHead();
  // Without a cursor in the URL the view opens on the newest page.
  const start = after ?? (head.data ? Math.max(0, head.data.position - PAGE) : null);
  const since = toIso(values.since);
  const until = toIso(values.until);
  const filters: EventFilters | null =
    start === null
      ? null
      : {
          after: start,
          limit: PAGE,
          ...(values.type ? { type: values.type } : {}),
          ...(values.aggregate ? { aggregate: values.aggregate } : {}),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
        };
  const page = useEvents(filters);
  const go = (next: Partial<Record<FilterName, string>>, cursor: number | null) => {
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = next[name] ?? values[name];
      if (value) params.set(name, value);
    }
    if (cursor !== null) params.set("after", String(cursor));
    setParams(params);
  };
  const nextAfter = page.data?.next_after ?? null;
  return (
    <div className="stack">
      <LiveTail key={`${values.type}\u0000${values.aggregate}`} values={values} />
      <section className="card" aria-labelledby="log-title">
        <h2 id="log-title">Event log</h2>
        <FilterForm key={JSON.stringify(values)} values={values} onApply={(v) => { go(v, null); }} />
        <QueryState error={head.error ?? page.error} loading={page.isPending && filters !== null} />
        <DataTable
          id="events"
          label="Events"
          data={page.data?.items ?? []}
          columns={columns}
          empty="No events match."
          rowKey={(r) => String(r.position)}
        />
        <nav className="pager" aria-label="Event pages">
          <button type="button" onClick={() => { go({}, 0); }} disabled={start === 0}>
            Oldest
          </button>
          <button type="button" onClick={() => { go({}, nextAfter); }} disabled={nextAfter === null}>
            Next page
          </button>
          <button type="button" onClick={() => { go({}, null); }} disabled={after === null}>
            Newest
          </button>
          <span className="muted">after position {start ?? "…"}</span>
        </nav>
      </section>
    </div>
  );
}
