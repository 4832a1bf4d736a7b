/**
 * The workflow answers' shape. `GET /api/v1/workflows[/{id}]` has no response model in the
 * OpenAPI schema (its answer is typed `unknown`), so the shape is written out here after
 * actors/_workflow_graph.py (`WorkflowStatus`, `StepStatus`) and checked at the edge: an answer
 * that is not a workflow fails loudly instead of rendering half a page.
 */
/** A step's state in the log (events/workflow.py `StepState`). */
export type StepState = "pending" | "running" | "done" | "failed" | "awaiting_approval";
export type WorkflowState = "running" | "awaiting_approval" | "completed" | "failed";

export interface StepStatus {
  name: string;
  capability: string;
  depends_on: string[];
  status: StepState;
  attempts: number;
  output: string;
  output_truncated: boolean;
  agent: string;
  degraded: boolean;
  reason: string;
  approved_by: string;
}

export interface WorkflowStatus {
  workflow_id: string;
  state: WorkflowState;
  done: boolean;
  steps: StepStatus[];
  pending_approval: string[];
  review_loops: number;
  max_review_loops: number;
  review_unresolved: boolean;
  prompt_preview: string;
  summary: string;
  reason: string;
  resumes: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStep(value: unknown): value is StepStatus {
  return isRecord(value) && typeof value.name === "string" && typeof value.status === "string";
}

/** The answer as a workflow status, or an error saying the server sent something else. */
export function asWorkflow(value: unknown): WorkflowStatus {
  if (
    isRecord(value) &&
    typeof value.workflow_id === "string" &&
    typeof value.state === "string" &&
    Array.isArray(value.steps) &&
    value.steps.every(isStep)
  ) {
    return { ...(value as unknown as WorkflowStatus), pending_approval: (value.pending_approval as string[] | undefined) ?? [] };
  }
  throw new Error("the server's answer is not a workflow status");
}

/** `{workflows: [...]}` as a list of workflow statuses. */
export function asWorkflowList(value: unknown): WorkflowStatus[] {
  if (isRecord(value) && Array.isArray(value.workflows)) return value.workflows.map(asWorkflow);
  throw new Error("the server's answer is not a workflow list");
}
