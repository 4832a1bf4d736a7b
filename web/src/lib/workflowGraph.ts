/**
 * A workflow's step graph as the page draws it: the steps in dependency order, with the
 * approval gate shown as its own node before each step it holds (the log keeps the gate on the
 * execute step itself: `awaiting_approval`, then `approved_by`). Each node gets one of the
 * display states pending / running / done / failed / waiting / skipped, plus a degraded flag.
 */
import type { StepStatus, WorkflowState, WorkflowStatus } from "../api/workflows";

export type NodeState = "pending" | "running" | "done" | "failed" | "waiting" | "skipped";

export interface GraphNode {
  /** Unique in the graph: the step's name, or `approval:<step>` for a gate. */
  key: string;
  label: string;
  capability: string;
  state: NodeState;
  degraded: boolean;
  /** The step behind the node (for a gate: the step it holds). */
  step: StepStatus;
  gate: boolean;
}

/** The steps in dependency order (ties keep the server's order; a cycle keeps the rest last). */
export function orderSteps(steps: readonly StepStatus[]): StepStatus[] {
  const placed = new Set<string>();
  const out: StepStatus[] = [];
  const left = [...steps];
  while (left.length > 0) {
    const index = left.findIndex((s) => s.depends_on.every((d) => placed.has(d) || !steps.some((t) => t.name === d)));
    const [next] = left.splice(index === -1 ? 0 : index, 1);
    if (next === undefined) break;
    placed.add(next.name);
    out.push(next);
  }
  return out;
}

function stepState(step: StepStatus, gated: boolean, finished: boolean): NodeState {
  if (step.status === "awaiting_approval") return "pending"; // its gate node is the one waiting
  if (step.status === "pending" && finished) return "skipped";
  // Refused at its gate, it never ran.
  if (gated && step.status === "failed" && !step.approved_by && step.attempts === 0) return "skipped";
  return step.status;
}

function gateState(step: StepStatus, finished: boolean): NodeState {
  if (step.status === "awaiting_approval") return "waiting";
  if (step.approved_by) return "done";
  if (step.status === "failed") return "failed"; // refused at the gate
  if (step.status === "pending") return finished ? "skipped" : "pending";
  return "skipped"; // it ran without a gate (started without approval)
}

/** The nodes to draw for `workflow`, gates included. */
export function graphOf(workflow: WorkflowStatus): GraphNode[] {
  const finished = workflow.done || workflow.state === "completed" || workflow.state === "failed";
  const nodes: GraphNode[] = [];
  for (const step of orderSteps(workflow.steps)) {
    const gated = step.capability === "execute" || workflow.pending_approval.includes(step.name);
    if (gated) {
      nodes.push({
        key: `approval:${step.name}`,
        label: "approval",
        capability: `gate before ${step.name}`,
        state: gateState(step, finished),
        degraded: false,
        step,
        gate: true,
      });
    }
    nodes.push({
      key: step.name,
      label: step.name,
      capability: step.capability,
      state: stepState(step, gated, finished),
      degraded: step.degraded,
      step,
      gate: false,
    });
  }
  return nodes;
}

/** One line per workflow for the list: each step's name and state. */
export function progressOf(workflow: WorkflowStatus): string {
  return graphOf(workflow)
    .map((n) => `${n.label} ${n.state}${n.degraded ? " (degraded)" : ""}`)
    .join(" → ");
}

/** The badge for a workflow's overall state, in the same words as its steps'. */
export function workflowBadge(state: WorkflowState): NodeState {
  return state === "awaiting_approval" ? "waiting" : state === "completed" ? "done" : state;
}
