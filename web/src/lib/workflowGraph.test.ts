import { describe, expect, it } from "vitest";
import type { StepStatus, WorkflowStatus } from "../api/workflows";
import { graphOf, orderSteps } from "./workflowGraph";

function step(name: string, depends_on: string[], over: Partial<StepStatus> = {}): StepStatus {
  return {
    name,
    capability: name === "execute" ? "execute" : name,
    depends_on,
    status: "pending",
    attempts: 0,
    output: "",
    output_truncated: false,
    agent: "",
    degraded: false,
    reason: "",
    approved_by: "",
    ...over,
  };
}

function workflow(steps: StepStatus[], over: Partial<WorkflowStatus> = {}): WorkflowStatus {
  return {
    workflow_id: "wf",
    state: "running",
    done: false,
    steps,
    pending_approval: [],
    review_loops: 0,
    max_review_loops: 3,
    review_unresolved: false,
    prompt_preview: "",
    summary: "",
    reason: "",
    resumes: 0,
    ...over,
  };
}

const states = (w: WorkflowStatus) => graphOf(w).map((n) => `${n.label}:${n.state}`);

describe("the workflow graph", () => {
  it("orders steps by their dependencies", () => {
    const steps = [step("review", ["code"]), step("code", ["plan"]), step("plan", [])];
    expect(orderSteps(steps).map((s) => s.name)).toEqual(["plan", "code", "review"]);
  });

  it("shows the gate before execute: pending, then done once approved", () => {
    const base = [step("plan", [], { status: "done", attempts: 1 }), step("execute", ["plan"])];
    expect(states(workflow(base))).toEqual(["plan:done", "approval:pending", "execute:pending"]);
    const approved = [base[0] as StepStatus, step("execute", ["plan"], { status: "done", attempts: 1, approved_by: "ann" })];
    expect(states(workflow(approved, { state: "completed", done: true }))).toEqual([
      "plan:done",
      "approval:done",
      "execute:done",
    ]);
  });

  it("marks steps a finished workflow never reached as skipped, and an ungated run's gate too", () => {
    const failed = [step("plan", [], { status: "failed", attempts: 3 }), step("execute", ["plan"])];
    expect(states(workflow(failed, { state: "failed", done: true }))).toEqual([
      "plan:failed",
      "approval:skipped",
      "execute:skipped",
    ]);
    const ungated = [step("execute", [], { status: "running", attempts: 1 })];
    expect(states(workflow(ungated))).toEqual(["approval:skipped", "execute:running"]);
  });
});
