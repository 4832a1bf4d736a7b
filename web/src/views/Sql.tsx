/**
 * The read-only SQL console over the DuckDB read models, and exports. The server's guard
 * admits one read statement and caps the rows (`truncated` says when); this view only shows
 * what it answers, every cell as text. Tables download through plain links (the session
 * cookie reads them); a query's result is a POST, so it is fetched and handed to the browser.
 */
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState, type KeyboardEvent, type SyntheticEvent } from "react";
import { UnlockActions, useAction } from "../api/actions";
import { exportUrl, type Download, type ExportFormat, type QueryResult } from "../api/client";
import { useExportTables } from "../api/queries";
import { DataTable } from "../components/DataTable";
import { QueryState } from "../components/Status";

const FORMATS: readonly { format: ExportFormat; label: string }[] = [
  { format: "csv", label: "CSV" },
  { format: "ndjson", label: "JSON (NDJSON)" },
  { format: "parquet", label: "Parquet" },
];
const DEFAULT_QUERY = "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC";
const MAX_ROWS = 10_000;

/** A cell as text: SQL NULL is shown as such, nested values as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

function resultColumns(names: readonly string[]): ColumnDef<unknown[]>[] {
  return names.map((name, i) => ({
    id: `c${String(i)}`,
    header: name,
    accessorFn: (row) => row[i],
    cell: (info) => {
      const value = info.getValue();
      return value === null || value === undefined ? <span className="muted">NULL</span> : cellText(value);
    },
  }));
}

/** Hand a fetched file to the browser as a download (the blob URL lives only for the click). */
function save(file: Download): void {
  const url = URL.createObjectURL(file.blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = file.filename;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function Result({ result }: { result: QueryResult }) {
  const columns = useMemo(() => resultColumns(result.columns), [result.columns]);
  const n = result.rows.length;
  return (
    <>
      <p role="status">
        {result.truncated
          ? `Showing the first ${n} rows: the result has more (raise the limit or narrow the query).`
          : `${n} row${n === 1 ? "" : "s"}.`}
      </p>
      <DataTable label="Query result" id="sql-result" data={result.rows} columns={columns} empty="No rows." />
    </>
  );
}

function Tables() {
  const tables = useExportTables();
  return (
    <section className="card" aria-labelledby="tables-title">
      <h2 id="tables-title">Export a table</h2>
      <QueryState error={tables.error} loading={tables.isPending} />
      <table aria-label="Tables">
        <thead>
          <tr>
            <th scope="col">Table</th>
            <th scope="col">Download</th>
          </tr>
        </thead>
        <tbody>
          {(tables.data?.tables ?? []).map((table) => (
            <tr key={table}>
              <td>
                <code>{table}</code>
              </td>
              <td className="links">
                {FORMATS.map(({ format, label }) => (
                  <a key={format} href={exportUrl(table, format)} download aria-label={`${table} as ${label}`}>
                    {label}
                  </a>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Sql() {
  const [query, setQuery] = useState(DEFAULT_QUERY);
  const [limit, setLimit] = useState("1000");
  const [format, setFormat] = useState<ExportFormat>("csv");
  const [saved, setSaved] = useState<string | null>(null);
  const run = useAction((api, auth, vars: { query: string; limit: number }) => api.sql(vars.query, vars.limit, auth), {
    invalidates: [],
  });
  const exported = useAction(
    (api, auth, vars: { query: string; format: ExportFormat }) => api.exportQuery(vars.query, vars.format, auth),
    {
      invalidates: [],
      onSuccess: (file) => {
        save(file);
        setSaved(`Downloaded ${file.filename}${file.rows === null ? "" : ` (${file.rows} rows)`}.`);
      },
    },
  );
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const rows = Math.min(MAX_ROWS, Math.max(1, Math.trunc(Number(limit)) || 1));
    if (query.trim()) run.mutate({ query, limit: rows });
  };
  const runOnCtrlEnter = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submit(event);
  };
  const locked = run.locked;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="sql-title">
        <h2 id="sql-title">SQL console</h2>
        <p className="muted">
          One read-only statement (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN) against the read models; Ctrl+Enter runs it.
        </p>
        <UnlockActions />
        <form className="sql-form" onSubmit={submit} aria-label="SQL query">
          <label htmlFor="sql-query">Query</label>
          <textarea
            id="sql-query"
            rows={5}
            spellCheck={false}
            value={query}
            onChange={(e) => { setQuery(e.target.value); }}
            onKeyDown={runOnCtrlEnter}
          />
          <div className="actions">
            <label>
              Row limit{" "}
              <input
                type="number"
                min={1}
                max={MAX_ROWS}
                value={limit}
                onChange={(e) => { setLimit(e.target.value); }}
              />
            </label>
            <button type="submit" disabled={locked || run.isPending || !query.trim()}>
              Run
            </button>
            <label>
              Export as{" "}
              <select value={format} onChange={(e) => { setFormat(e.target.value as ExportFormat); }}>
                {FORMATS.map(({ format: f, label }) => (
                  <option key={f} value={f}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              disabled={locked || exported.isPending || !query.trim()}
              onClick={() => {
                setSaved(null);
                exported.mutate({ query, format });
              }}
            >
              Download result
            </button>
          </div>
        </form>
        {run.error && <p role="alert" className="error">Query failed: {run.error.message}</p>}
        {exported.error && <p role="alert" className="error">Export failed: {exported.error.message}</p>}
        {saved && <p role="status">{saved}</p>}
        {run.data && <Result result={run.data} />}
      </section>
      <Tables />
    </div>
  );
}
