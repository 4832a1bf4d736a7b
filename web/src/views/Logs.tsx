/**
 * The structured logs of the API host: a table of lines with their correlation ids, filtered by
 * actor, lowest level and time (the filters live in the URL, so a view can be shared). There is
 * no log stream: with Follow on, each event on the live feed asks for the lines since the last
 * one shown (api/queries.ts useLogs). A line that names an event position links to the event
 * log at that position, so a line and its event sit side by side. Log text is untrusted: it
 * renders as text.
 */
import { useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useEffect, useState, type SyntheticEvent } from "react";
import { Link, useSearchParams } from "react-router";
import type { LogFilters, LogLevel, LogLine } from "../api/client";
import { keys, LOG_LIMIT, useLogs } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { formatTime, QueryState, StatusBadge } from "../components/Status";
import { ROUTES } from "../routes";

const LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const FILTERS = ["actor", "level", "since"] as const;
type FilterName = (typeof FILTERS)[number];
type Values = Record<FilterName, string>;

/** The Events view's URL showing the event at `position` first. */
function eventsAt(position: number): string {
  return `${ROUTES.events}?after=${String(Math.max(0, position - 1))}`;
}

function Correlation({ line }: { line: LogLine }) {
  const ids: [string, string][] = [];
  if (line.task_id) ids.push(["task", line.task_id]);
  if (line.write_id) ids.push(["write", line.write_id]);
  if (line.request_id) ids.push(["request", line.request_id]);
  if (line.position == null && ids.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="plain ids">
      {line.position != null && (
        <li>
          <Link to={eventsAt(line.position)}>event {line.position}</Link>
        </li>
      )}
      {ids.map(([name, id]) => (
        <li key={name}>
          {name} <code>{id}</code>
        </li>
      ))}
    </ul>
  );
}

function Message({ line }: { line: LogLine }) {
  if (!line.exc) return <span className="msg">{line.msg}</span>;
  return (
    <details className="msg">
      <summary>{line.msg}</summary>
      <pre>{line.exc}</pre>
    </details>
  );
}

const columns: ColumnDef<LogLine>[] = [
  { accessorKey: "ts", header: "Time", cell: (info) => formatTime(info.getValue<string>()) },
  {
    accessorKey: "level",
    header: "Level",
    cell: (info) => {
      const level = info.getValue<string>();
      return <StatusBadge status={level.toLowerCase()}>{level}</StatusBadge>;
    },
  },
  { accessorKey: "actor", header: "Actor" },
  { accessorKey: "logger", header: "Logger" },
  { accessorKey: "msg", header: "Message", enableSorting: false, cell: (info) => <Message line={info.row.original} /> },
  { id: "ids", header: "Correlation", enableSorting: false, cell: (info) => <Correlation line={info.row.original} /> },
];

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function asLevel(value: string): LogLevel | undefined {
  return LEVELS.find((l) => l === value);
}

function FilterForm({ values, onApply }: { values: Values; onApply: (v: Values) => void }) {
  const [draft, setDraft] = useState(values);
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter logs">
      <label>
        Actor
        <input
          name="actor"
          value={draft.actor}
          autoComplete="off"
          placeholder="role or prefix, e.g. api"
          onChange={(e) => { setDraft({ ...draft, actor: e.target.value }); }}
        />
      </label>
      <label>
        Lowest level
        <select name="level" value={draft.level} onChange={(e) => { setDraft({ ...draft, level: e.target.value }); }}>
          <option value="">any</option>
          {LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
      </label>
      <label>
        Since
        <input
          name="since"
          type="datetime-local"
          value={draft.since}
          onChange={(e) => { setDraft({ ...draft, since: e.target.value }); }}
        />
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

export function Logs() {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""])) as Values;
  const [follow, setFollow] = useState(false);
  const client = useQueryClient();
  const level = asLevel(values.level);
  const since = toIso(values.since);
  const filters: LogFilters = {
    limit: LOG_LIMIT,
    ...(values.actor ? { actor: values.actor } : {}),
    ...(level ? { level } : {}),
    ...(since ? { since } : {}),
  };
  const logs = useLogs(filters, follow);
  const apply = (next: Values) => {
    const search = new URLSearchParams();
    for (const name of FILTERS) if (next[name]) search.set(name, next[name]);
    setParams(search);
  };
  useEffect(() => {
    // Catch up at once rather than at the next event. An effect, not the click handler: the
    // query must already hold the new `follow` (its options update as it renders).
    if (follow) void client.invalidateQueries({ queryKey: keys.logsAll });
  }, [follow, client]);
  const lines = logs.data?.items ?? [];
  return (
    <div className="stack">
      <section className="card" aria-labelledby="logs-title">
        <h2 id="logs-title">
          Logs <small className="muted">(oldest first)</small>
        </h2>
        <FilterForm key={JSON.stringify(values)} values={values} onApply={apply} />
        <div className="toolbar">
          <button type="button" aria-pressed={follow} onClick={() => { setFollow(!follow); }}>
            Follow
          </button>
          <button type="button" onClick={() => { void client.resetQueries({ queryKey: keys.logs(filters) }); }}>
            Reload
          </button>
          <span className="muted">
            {follow ? "new lines are added as events arrive" : "a snapshot; Follow to add new lines"}
          </span>
        </div>
        <QueryState error={logs.error} loading={logs.isPending} />
        {logs.data?.truncated && (
          <p className="muted">Older matching lines are not shown (the newest {LOG_LIMIT} per request).</p>
        )}
        <DataTable id="logs" label="Log lines" data={lines} columns={columns} empty="No log lines match." />
      </section>
    </div>
  );
}
