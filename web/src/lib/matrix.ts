/**
 * The Overview matrix: for each client and entity kind, how that client's entities stand.
 * Pure functions over the API's answers, so the rules are unit-tested without a page.
 */
import type { ClientFile, EntityState, SyncStatus } from "../api/client";

export type CellState = "in-sync" | "drifted" | "conflict" | "error" | "none";

export interface Cell {
  state: CellState;
  /** entity status → how many of this client's entities of this kind have it */
  counts: Partial<Record<string, number>>;
  total: number;
}

export interface Matrix {
  clients: string[];
  kinds: string[];
  cell: (client: string, kind: string) => Cell;
}

// Worst first: one conflicting entity makes the whole cell a conflict.
const SEVERITY: readonly CellState[] = ["error", "conflict", "drifted", "in-sync"];

function worst(states: Iterable<string>): CellState {
  const seen = new Set(states);
  return SEVERITY.find((s) => seen.has(s)) ?? "none";
}

function policyList(status: SyncStatus | undefined, field: "clients" | "kinds"): string[] {
  const value = status?.policy?.[field];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A file that failed to parse puts its client in error for every kind. */
export function clientsInError(files: readonly ClientFile[]): Set<string> {
  return new Set(files.filter((f) => f.status === "error" || f.error).map((f) => f.client));
}

export function buildMatrix(
  status: SyncStatus | undefined,
  files: readonly ClientFile[],
  entities: readonly EntityState[],
): Matrix {
  const clients = new Set([
    ...policyList(status, "clients"),
    ...Object.keys(status?.clients ?? {}),
    ...files.map((f) => f.client),
    ...entities.map((e) => e.client),
  ]);
  const kinds = new Set([...policyList(status, "kinds"), ...entities.map((e) => e.kind)]);
  const broken = clientsInError(files);
  const cells = new Map<string, Cell>();
  for (const entity of entities) {
    const id = `${entity.client}\u0000${entity.kind}`;
    const cell = cells.get(id) ?? { state: "none", counts: {}, total: 0 };
    const entityStatus = entity.status ?? "unknown";
    cell.counts[entityStatus] = (cell.counts[entityStatus] ?? 0) + 1;
    cell.total += 1;
    cells.set(id, cell);
  }
  return {
    clients: [...clients].sort(),
    kinds: [...kinds].sort(),
    cell(client, kind) {
      const cell = cells.get(`${client}\u0000${kind}`) ?? { state: "none", counts: {}, total: 0 };
      const states = Object.keys(cell.counts);
      if (broken.has(client)) states.push("error");
      return { ...cell, state: worst(states) };
    },
  };
}

export interface DecisionCounts {
  conflicts: number;
  approvals: number;
  breakers: number;
}

/** How many decisions wait for a person: conflicts, approvals (held servers and deletions). */
export function countDecisions(status: SyncStatus | undefined): DecisionCounts {
  const open = status?.open ?? [];
  return {
    conflicts: open.filter((d) => d.type === "Conflict").length,
    approvals: open.filter((d) => d.type === "NeedsApproval" || d.type === "HoldDeletion").length,
    breakers: status?.breakers?.length ?? 0,
  };
}
