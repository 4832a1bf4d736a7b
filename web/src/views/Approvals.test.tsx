import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { ApprovalItem } from "../api/client";
import { event, FakeEventSource, renderApp, syncedWorld, unlock } from "../test/fakes";

const HOSTILE = 'npx -y evil-server --flag "<img src=x onerror=alert(1)>"';

function approval(over: Partial<ApprovalItem>): ApprovalItem {
  return {
    id: "ap-1",
    type: "change",
    kind: "mcp_server",
    name: "shell",
    scope: "project:/w/app",
    client: "codex",
    file: "/w/app/.codex/config.toml",
    reason: "a project server would run a new command",
    command: HOSTILE,
    url: null,
    clients: ["cursor", "claude-code"],
    losses: ["cursor: env: no env support"],
    approve: "synapse sync approve ap-1",
    reject: "synapse sync reject ap-1",
    ...over,
  };
}

function world() {
  let items = [approval({}), approval({ id: "del-2", type: "deletion", name: "old", command: null, reason: "4 deletions" })];
  return syncedWorld()
    .on("GET", "/api/v1/sync/approvals", () => ({ approvals: items }))
    .on("POST", "/api/v1/sync/approvals/ap-1/approve", () => {
      items = items.filter((i) => i.id !== "ap-1");
      return { applied: true, written: ["/h/.cursor/mcp.json", "/h/.claude.json"] };
    })
    .on("POST", "/api/v1/sync/approvals/del-2/reject", () => {
      items = items.filter((i) => i.id !== "del-2");
      return { applied: true, written: [] };
    });
}

describe("Approvals", () => {
  it("shows the exact command, its file and who would get it, as text", async () => {
    renderApp("/approvals", world());
    const card = await screen.findByRole("article", { name: "Approval mcp_server shell" });
    expect(within(card).getByText(HOSTILE)).toBeInTheDocument(); // the markup is text
    expect(card.querySelector("img")).toBeNull();
    expect(within(card).getByText("/w/app/.codex/config.toml")).toBeInTheDocument();
    expect(within(card).getByText("cursor, claude-code")).toBeInTheDocument();
    expect(within(card).getByText("cursor: env: no env support")).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Approve" })).toBeDisabled(); // no token yet
  });

  it("approves one and rejects another with the bearer token, then refreshes the list", async () => {
    const server = world();
    renderApp("/approvals", server);
    await unlock();
    const before = server.calls("/api/v1/sync/approvals").length;
    const change = await screen.findByRole("article", { name: "Approval mcp_server shell" });
    await userEvent.click(within(change).getByRole("button", { name: "Approve" }));
    expect(await screen.findByText("Approved mcp_server shell; wrote 2 files.")).toBeInTheDocument();
    const [post] = server.calls("/api/v1/sync/approvals/ap-1/approve");
    expect(post?.method).toBe("POST");
    expect(post?.headers.get("authorization")).toBe("Bearer the-install-token");
    await waitFor(() => {
      expect(screen.queryByRole("article", { name: "Approval mcp_server shell" })).toBeNull();
    });
    expect(server.calls("/api/v1/sync/approvals").length).toBeGreaterThan(before);

    const deletion = screen.getByRole("article", { name: "Approval mcp_server old" });
    await userEvent.click(within(deletion).getByRole("button", { name: "Reject" }));
    expect(await screen.findByText(/Rejected mcp_server old/)).toBeInTheDocument();
    expect(server.calls("/api/v1/sync/approvals/del-2/reject")).toHaveLength(1);
    expect(server.calls("/api/v1/sync/approvals/del-2/approve")).toHaveLength(0);
    expect(await screen.findByText("Nothing waits for approval.")).toBeInTheDocument();
  });

  it("says why an outdated approval failed", async () => {
    const server = world().on("POST", "/api/v1/sync/approvals/ap-1/approve", () =>
      new Response(JSON.stringify({ error: "not_found", detail: "no pending approval ap-1" }), {
        status: 404,
        headers: { "Content-Type": "application/json" },
      }),
    );
    renderApp("/approvals", server);
    await unlock();
    const card = await screen.findByRole("article", { name: "Approval mcp_server shell" });
    await userEvent.click(within(card).getByRole("button", { name: "Approve" }));
    expect(await within(card).findByRole("alert")).toHaveTextContent("no pending approval ap-1");
  });

  it("resumes a client's open write breakers and refreshes the status", async () => {
    let breakers = [
      { client: "codex", path: "/h/.codex/config.toml", open_s: 42.4, refused: 3 },
      { client: "codex", path: "/h/.codex/AGENTS.md", open_s: 10, refused: 1 },
    ];
    const base = syncedWorld();
    const status = (await (await base.fetch("http://x/api/v1/sync/status")).json()) as Record<string, unknown>;
    const server = base
      .on("GET", "/api/v1/sync/status", () => ({ ...status, breakers }))
      .on("POST", "/api/v1/sync/resume/codex", () => {
        breakers = [];
        return { client: "codex", resumed: ["/h/.codex/config.toml", "/h/.codex/AGENTS.md"], written: ["/h/.codex/config.toml"] };
      });
    renderApp("/approvals", server);
    const row = await screen.findByRole("listitem", { name: "Write breaker codex" });
    expect(within(row).getByText("/h/.codex/config.toml")).toBeInTheDocument();
    expect(within(row).getByText("open 42 s, 3 writes refused")).toBeInTheDocument();
    await unlock();
    await userEvent.click(within(row).getByRole("button", { name: "Resume codex" }));
    expect(await screen.findByText("Resumed codex: 2 files; wrote 1 file.")).toBeInTheDocument();
    expect(server.calls("/api/v1/sync/resume/codex")[0]?.headers.get("authorization")).toBe("Bearer the-install-token");
    expect(await screen.findByText("No write breaker is open.")).toBeInTheDocument();
  });

  it("refetches the approvals when a sync event arrives on the feed", async () => {
    const server = world();
    renderApp("/approvals", server);
    await screen.findByRole("article", { name: "Approval mcp_server shell" });
    const before = server.calls("/api/v1/sync/approvals").length;
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit(event(121, "events.sync:SyncLedger.ChangeHeld"));
    await waitFor(() => {
      expect(server.calls("/api/v1/sync/approvals").length).toBeGreaterThan(before);
    });
  });
});
