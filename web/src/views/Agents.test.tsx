import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { event, FakeEventSource, renderApp, sse, syncedWorld, unlock } from "../test/fakes";

const XSS = "<img src=x onerror=alert(1)>";

const AGENTS = [
  { name: "claude-main", backend: "claude", capabilities: ["plan", "code"], breaker: "closed", error_rate: 0.025, ewma_latency_ms: 850.4, in_flight: 1 },
  { name: "gemini-fast", backend: "gemini", capabilities: ["analyze", "review"], breaker: "open", error_rate: 0.5, ewma_latency_ms: 0, in_flight: 0 },
];

function world() {
  return syncedWorld().on("GET", "/api/v1/agents", () => ({ agents: AGENTS }));
}

const START = { seq: 1, kind: "start", data: { agent: "claude-main" } };
const FINAL = {
  seq: 6,
  kind: "final",
  data: { agent: "claude-main", attempts: 2, fallback: null, degraded: false, ok: true, nested_retries: 1, failures: { "claude-backup": "timeout" } },
};

async function runPlan(prompt: string) {
  await userEvent.selectOptions(screen.getByLabelText("Capability"), "plan");
  await userEvent.type(screen.getByLabelText("Prompt"), prompt);
  await userEvent.click(screen.getByRole("button", { name: "Run" }));
}

describe("Agents", () => {
  it("lists each agent's backend, capabilities, breaker, error rate, latency and load", async () => {
    renderApp("/agents", world());
    const table = await screen.findByRole("table", { name: "Agents" });
    const row = within(table).getByText("gemini-fast").closest("tr");
    if (row === null) throw new Error("no row");
    const cells = within(row).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual(["gemini-fast", "gemini", "analyze, review", "open", "50.0 %", "0 ms", "0", ""]);
    expect(within(row).getByText("open")).toHaveClass("badge", "s-open");
    expect(within(table).getByText("850 ms")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Agents" })).toHaveAttribute("aria-current", "page");
  });

  it("refetches the agents when a Task or Agent event arrives, not otherwise", async () => {
    const server = world();
    renderApp("/agents", server);
    await screen.findByRole("table", { name: "Agents" });
    FakeEventSource.latest().open();
    const before = server.calls("/api/v1/agents").length;
    const health = server.calls("/health").length;
    FakeEventSource.latest().emit(event(121, "SyncLedger.ConflictDetected"));
    await waitFor(() => { expect(server.calls("/health").length).toBeGreaterThan(health); });
    expect(server.calls("/api/v1/agents").length).toBe(before);
    FakeEventSource.latest().emit(event(122, "events.agent:Task.AttemptFailed"));
    await waitFor(() => { expect(server.calls("/api/v1/agents").length).toBeGreaterThan(before); });
  });

  it("streams a task's answer as text, with the retries, attempts and failures it reports", async () => {
    const server = world().on("POST", "/api/v1/tasks", () =>
      sse(
        [
          START,
          { seq: 2, kind: "delta", text: "Step one: " },
          { seq: 3, kind: "retry", retry_after_s: 2 },
          { seq: 4, kind: "delta", text: XSS },
          { seq: 5, kind: "delta", text: " done." },
          FINAL,
        ],
        { "X-Task-Id": "req-1" },
      ),
    );
    renderApp("/agents", server);
    await screen.findByRole("table", { name: "Agents" });
    expect(screen.getByRole("button", { name: "Run" })).toBeDisabled(); // no credentials yet
    await unlock();
    await runPlan("plan the migration");
    const answer = await screen.findByRole("region", { name: "Answer" });
    await waitFor(() => { expect(answer).toHaveTextContent(`Step one: ${XSS} done.`); });
    expect(answer.querySelector("img")).toBeNull(); // the markup stayed text
    expect(screen.getByText("answering: claude-main")).toBeInTheDocument();
    expect(screen.getByText("the backend retried (after 2.0 s)")).toBeInTheDocument();
    expect(screen.getByText("answered by claude-main, 2 attempts, 1 backend retry")).toBeInTheDocument();
    expect(screen.getByText("Failed attempts: claude-backup: timeout")).toBeInTheDocument();

    const [post] = server.calls("/api/v1/tasks");
    expect(post?.headers.get("authorization")).toBe("Bearer the-install-token");
    expect(post?.headers.get("content-type")).toContain("application/json");
    expect(await post?.json()).toMatchObject({ capability: "plan", agent: "any", prompt: "plan the migration", stream: true });
  });

  it("resumes a cut stream with Last-Event-ID and shows each event once", async () => {
    const server = world()
      .on("POST", "/api/v1/tasks", () =>
        sse([START, { seq: 2, kind: "delta", text: "first half, " }], { "X-Task-Id": "req-7" }),
      )
      .on("GET", "/api/v1/tasks/req-7/stream", () =>
        // The buffer replays from after Last-Event-ID; a repeat of seq 2 must not double it.
        sse([{ seq: 2, kind: "delta", text: "first half, " }, { seq: 3, kind: "delta", text: "second half" }, { ...FINAL, seq: 4 }]),
      );
    renderApp("/agents", server, { as: "operator" });
    await screen.findByRole("table", { name: "Agents" });
    await runPlan("go");
    const answer = await screen.findByRole("region", { name: "Answer" });
    expect(await screen.findByText(/^answered by claude-main/)).toBeInTheDocument(); // the final arrived
    expect(answer).toHaveTextContent(/^first half, second half$/);
    const [resume] = server.calls("/api/v1/tasks/req-7/stream");
    expect(resume?.headers.get("last-event-id")).toBe("2");
    expect(server.calls("/api/v1/tasks")).toHaveLength(1); // the task ran once
    expect(screen.getByText("connection cut after event 2; resuming (1)")).toBeInTheDocument();
    expect(server.calls("/api/v1/tasks")[0]?.headers.get("x-synapse-csrf")).toBe("1");
  });

  it("says why a refused task failed", async () => {
    const server = world().on("POST", "/api/v1/tasks", () =>
      new Response(JSON.stringify({ error: "no_agent", detail: "no enabled agent offers plan" }), {
        status: 503,
        headers: { "Content-Type": "application/json" },
      }),
    );
    renderApp("/agents", server, { as: "admin" });
    await screen.findByRole("table", { name: "Agents" });
    await runPlan("go");
    expect(await screen.findByRole("alert")).toHaveTextContent("Task failed: no enabled agent offers plan");
  });

  it("shows a viewer the agents but no way to run a task", async () => {
    renderApp("/agents", world(), { as: "viewer" });
    await screen.findByRole("table", { name: "Agents" });
    expect(screen.queryByRole("button", { name: "Run" })).toBeNull();
    expect(screen.queryByLabelText("Prompt")).toBeNull();
    expect(screen.getByText(/needs the operator role/)).toBeInTheDocument();
  });
});
