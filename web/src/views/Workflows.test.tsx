import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { StepStatus, WorkflowStatus } from "../api/workflows";
import { event, FakeEventSource, renderApp, syncedWorld, unlock } from "../test/fakes";

const XSS = "<img src=x onerror=alert(1)>";

function step(name: string, capability: string, over: Partial<StepStatus> = {}): StepStatus {
  return {
    name,
    capability,
    depends_on: [],
    status: "done",
    attempts: 1,
    output: "",
    output_truncated: false,
    agent: "claude-main",
    degraded: false,
    reason: "",
    approved_by: "",
    ...over,
  };
}

function gated(over: Partial<WorkflowStatus> = {}): WorkflowStatus {
  return {
    workflow_id: "wf-1",
    state: "awaiting_approval",
    done: false,
    // The server's order is not the graph's: the page orders by depends_on.
    steps: [
      step("execute", "execute", { depends_on: ["review"], status: "awaiting_approval", attempts: 0, agent: "" }),
      step("plan", "plan", { output: `1. add the column ${XSS}` }),
      step("code", "code", { depends_on: ["plan"], degraded: true, reason: "fallback: cache" }),
      step("review", "review", { depends_on: ["code"], attempts: 2, agent: "gemini-fast" }),
    ],
    pending_approval: ["execute"],
    review_loops: 1,
    max_review_loops: 3,
    review_unresolved: false,
    prompt_preview: "add a column to the users table",
    summary: "",
    reason: "",
    resumes: 0,
    ...over,
  };
}

function world(initial: WorkflowStatus = gated()) {
  let current = initial;
  const server = syncedWorld()
    .on("GET", "/api/v1/workflows", () => ({ workflows: [current] }))
    .on("GET", "/api/v1/workflows/wf-1", () => current)
    .on("POST", "/api/v1/workflows/wf-1/approve", () => {
      current = gated({
        state: "running",
        pending_approval: [],
        steps: current.steps.map((s) => (s.name === "execute" ? { ...s, status: "running", approved_by: "an-admin" } : s)),
      });
      return current;
    })
    .on("POST", "/api/v1/workflows/wf-1/reject", () => {
      current = gated({
        state: "failed",
        done: true,
        pending_approval: [],
        reason: "rejected at the gate",
        steps: current.steps.map((s) => (s.name === "execute" ? { ...s, status: "failed", reason: "too risky" } : s)),
      });
      return current;
    });
  return server;
}

function stepStates(): string[] {
  const list = screen.getByRole("list", { name: "Steps" });
  return within(list)
    .getAllByRole("listitem")
    .map((li) => `${li.getAttribute("aria-label") ?? ""}: ${li.querySelector(".badge")?.textContent ?? ""}`);
}

describe("Workflows", () => {
  it("lists workflows with their state and step progress, linking to each one's page", async () => {
    renderApp("/workflows", world());
    const table = await screen.findByRole("table", { name: "Workflows" });
    const link = within(table).getByRole("link", { name: "wf-1" });
    expect(link).toHaveAttribute("href", "/workflows/wf-1");
    expect(within(table).getByText("waiting")).toHaveClass("badge");
    expect(
      within(table).getByText(
        "plan done → code done (degraded) → review done → approval waiting → execute pending",
      ),
    ).toBeInTheDocument();
    await userEvent.click(link);
    expect(await screen.findByRole("heading", { name: /Workflow wf-1/ })).toBeInTheDocument();
  });

  it("starts a workflow behind the approval gate and opens its page", async () => {
    const server = world().on("POST", "/api/v1/workflow", () => gated({ workflow_id: "wf-1", state: "running" }));
    renderApp("/workflows", server, { as: "operator" });
    await userEvent.type(await screen.findByLabelText("What should the agents do?"), "add a column");
    await userEvent.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByRole("heading", { name: /Workflow wf-1/ })).toBeInTheDocument();
    const [post] = server.calls("/api/v1/workflow");
    expect(post?.headers.get("x-synapse-csrf")).toBe("1");
    expect(await post?.json()).toEqual({ prompt: "add a column", approval_required: true });
  });

  it("draws the step graph in order, the gate included, with outputs as text", async () => {
    renderApp("/workflows/wf-1", world());
    await screen.findByRole("list", { name: "Steps" });
    expect(stepStates()).toEqual([
      "Step plan: done",
      "Step code: done",
      "Step review: done",
      "Step approval: waiting",
      "Step execute: pending",
    ]);
    const code = screen.getByRole("listitem", { name: "Step code" });
    expect(within(code).getByText("degraded")).toBeInTheDocument();
    expect(within(code).getByText("fallback: cache")).toBeInTheDocument();
    const review = screen.getByRole("listitem", { name: "Step review" });
    expect(within(review).getByText("1 of at most 3")).toBeInTheDocument();
    const plan = screen.getByRole("listitem", { name: "Step plan" });
    expect(within(plan).getByText(`1. add the column ${XSS}`)).toBeInTheDocument();
    expect(plan.querySelector("img")).toBeNull();
  });

  it("approves the gated step as an admin: the right URL, the CSRF header, JSON", async () => {
    const server = world();
    renderApp("/workflows/wf-1", server, { as: "admin" });
    const gate = await screen.findByRole("listitem", { name: "Step approval" });
    await userEvent.click(within(gate).getByRole("button", { name: "Approve execute" }));
    await waitFor(() => { expect(server.calls("/api/v1/workflows/wf-1/approve")).toHaveLength(1); });
    const [post] = server.calls("/api/v1/workflows/wf-1/approve");
    expect(post?.method).toBe("POST");
    expect(post?.headers.get("x-synapse-csrf")).toBe("1");
    expect(post?.headers.get("content-type")).toContain("application/json");
    expect(await post?.json()).toMatchObject({ step: "execute" });
    await waitFor(() => {
      expect(stepStates()).toContain("Step approval: done");
    });
    expect(stepStates()).toContain("Step execute: running");
    expect(screen.getByText("an-admin")).toBeInTheDocument();
    expect(server.calls("/api/v1/workflows/wf-1/reject")).toHaveLength(0);
  });

  it("lets an operator reject with a reason, but not approve (the execute lane is admin's)", async () => {
    const server = world();
    renderApp("/workflows/wf-1", server, { as: "operator" });
    const gate = await screen.findByRole("listitem", { name: "Step approval" });
    expect(within(gate).getByRole("button", { name: "Approve execute" })).toBeDisabled();
    await userEvent.type(within(gate).getByLabelText(/Reason/), "too risky");
    await userEvent.click(within(gate).getByRole("button", { name: "Reject execute" }));
    await waitFor(() => { expect(stepStates()).toContain("Step approval: failed"); });
    expect(await server.calls("/api/v1/workflows/wf-1/reject")[0]?.json()).toMatchObject({ step: "execute", reason: "too risky" });
    expect(stepStates()).toContain("Step execute: skipped");
    expect(screen.getByText("rejected at the gate")).toBeInTheDocument();
  });

  it("asks for the install token outside a session, then sends it", async () => {
    const server = world();
    renderApp("/workflows/wf-1", server);
    const gate = await screen.findByRole("listitem", { name: "Step approval" });
    expect(within(gate).getByRole("button", { name: "Reject execute" })).toBeDisabled();
    await unlock();
    await userEvent.click(within(gate).getByRole("button", { name: "Reject execute" }));
    await waitFor(() => { expect(server.calls("/api/v1/workflows/wf-1/reject")).toHaveLength(1); });
    expect(server.calls("/api/v1/workflows/wf-1/reject")[0]?.headers.get("authorization")).toBe("Bearer the-install-token");
  });

  it("shows a viewer the graph but no mutating button", async () => {
    renderApp("/workflows/wf-1", world(), { as: "viewer" });
    await screen.findByRole("list", { name: "Steps" });
    expect(screen.queryByRole("button", { name: /Approve|Reject/ })).toBeNull();
    expect(screen.getByText(/Waiting for an operator/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("link", { name: "← All workflows" }));
    await screen.findByRole("table", { name: "Workflows" });
    expect(screen.queryByRole("button", { name: "Start" })).toBeNull();
    expect(screen.queryByLabelText("What should the agents do?")).toBeNull();
  });

  it("refetches the workflow when a Workflow event arrives on the feed", async () => {
    const server = world();
    renderApp("/workflows/wf-1", server);
    await screen.findByRole("list", { name: "Steps" });
    FakeEventSource.latest().open();
    const before = server.calls("/api/v1/workflows/wf-1").length;
    FakeEventSource.latest().emit(event(121, "events.workflow:Workflow.StepCompleted"));
    await waitFor(() => {
      expect(server.calls("/api/v1/workflows/wf-1").length).toBeGreaterThan(before);
    });
  });

  it("says so when there is no such workflow", async () => {
    renderApp("/workflows/wf-404", world());
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not load");
  });
});
