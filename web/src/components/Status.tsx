import type { ReactNode } from "react";

const LABELS: Partial<Record<string, string>> = {
  "in-sync": "in sync",
  half_open: "half open",
  none: "—",
};

/** A coloured badge; the class comes from a fixed vocabulary, the text is the status itself. */
export function StatusBadge({ status, children }: { status: string; children?: ReactNode }) {
  const tone = /^[a-z_-]+$/.test(status) ? status : "unknown";
  return <span className={`badge s-${tone}`}>{children ?? LABELS[status] ?? status}</span>;
}

/** Loading and error states for a query, so every view reports failures the same way. */
export function QueryState({ error, loading }: { error: Error | null; loading: boolean }) {
  if (error !== null) return <p role="alert" className="error">Could not load: {error.message}</p>;
  if (loading) return <p className="muted">Loading…</p>;
  return null;
}

const HAS_ZONE = /(Z|[+-]\d\d:?\d\d)$/;

/** Local time for an API timestamp; the read models' zone-less timestamps are UTC. */
export function formatTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(HAS_ZONE.test(value) ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
