import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { SyncLogRow, SyncPlan } from "../api/client";
import { splitFiles } from "../components/DiffView";
import { event, FakeEventSource, json, renderApp, syncedWorld, unlock } from "../test/fakes";

const HASH_1 = "1".repeat(64);
const HASH_2 = "2".repeat(64);
const DIFF = [
  "--- /h/.cursor/mcp.json",
  "+++ /h/.cursor/mcp.json",
  "@@ -1,3 +1,4 @@",
  " {",
  '-  "args": ["old"]',
  '+  "args": ["<b>new</b>"],',
  '+  "env": {"TOKEN": "***"}',
  " }",
  "",
].join("\n");

function plan(hash: string, diff = DIFF): SyncPlan {
  return {
    plan_hash: hash,
    mode: "observe",
    changes: [
      {
        client: "cursor",
        path: "/h/.cursor/mcp.json",
        entities: ["mcp_server:filesystem"],
        losses: ["headers: no header support"],
        diff,
      },
    ],
    decisions: [{ type: "NeedsApproval", kind: "mcp_server", name: "shell" }],
  };
}

const LOG: SyncLogRow[] = [
  { write_id: "w-1", ts: "2026-01-01T10:00:00", action: "write", client: "cursor", path: "/h/.cursor/mcp.json", entities: "mcp_server:filesystem" },
  { write_id: "w-0", ts: "2026-01-01T09:00:00", action: "write", client: "codex", path: "/h/.codex/config.toml", reason: "reverted" },
  { write_id: "revert:w-0", ts: "2026-01-01T09:30:00", action: "revert", client: "codex", path: "/h/.codex/config.toml" },
  { write_id: "abandoned:7", ts: "2026-01-01T08:00:00", action: "abandoned", client: "cursor", path: "/h/.cursor/mcp.json" },
];

describe("Sync", () => {
  it("splits a multi-file difflib diff at each file's header", () => {
    const two = `${DIFF}--- /h/b.toml\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n`;
    expect(splitFiles(two).map((f) => f.split("\n")[0])).toEqual(["--- /h/.cursor/mcp.json", "--- /h/b.toml"]);
    expect(splitFiles("")).toEqual([]);
  });

  it("previews the plan with its redacted diff, then applies it by hash", async () => {
    const server = syncedWorld()
      .on("POST", "/api/v1/sync/plan", () => plan(HASH_1))
      .on("POST", "/api/v1/sync/apply", () => ({ applied: true, written: ["/h/.cursor/mcp.json"] }));
    renderApp("/sync", server);
    await unlock();
    await userEvent.click(screen.getByRole("button", { name: "Preview plan" }));
    const card = await screen.findByRole("article", { name: "Change cursor /h/.cursor/mcp.json" });
    const diff = await within(card).findByRole("group", { name: "Diff of cursor /h/.cursor/mcp.json" });
    expect(diff.querySelector("table.diff")).not.toBeNull(); // the library's viewer, not raw text
    expect(within(diff).getByText('"args": ["<b>new</b>"],')).toBeInTheDocument(); // as text
    expect(diff.querySelector("b")).toBeNull();
    expect(within(diff).getByText('"env": {"TOKEN": "***"}')).toBeInTheDocument();
    expect(within(card).getByText("Not carried: headers: no header support")).toBeInTheDocument();
    expect(screen.getByText(/1 decision waiting/)).toBeInTheDocument();

    const logBefore = server.calls("/api/v1/sync/log").length;
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText("Applied: wrote 1 file.")).toBeInTheDocument();
    const [post] = server.calls("/api/v1/sync/apply");
    expect(post?.headers.get("authorization")).toBe("Bearer the-install-token");
    expect(await post?.json()).toEqual({ plan_hash: HASH_1 });
    await waitFor(() => {
      expect(server.calls("/api/v1/sync/log").length).toBeGreaterThan(logBefore);
    });
    expect(screen.queryByRole("article", { name: /^Change / })).toBeNull(); // the applied plan is gone
  });

  it("says a stale plan (409) wrote nothing, plans again and applies the new hash", async () => {
    let plans = 0;
    const server = syncedWorld()
      .on("POST", "/api/v1/sync/plan", () => {
        plans += 1;
        return plan(plans === 1 ? HASH_1 : HASH_2);
      })
      .on("POST", "/api/v1/sync/apply", async (request) => {
        const { plan_hash } = (await request.json()) as { plan_hash: string };
        return plan_hash === HASH_2
          ? { applied: true, written: ["/h/.cursor/mcp.json"] }
          : json({ error: "conflict", detail: "the plan changed since it was made; plan again" }, 409);
      });
    renderApp("/sync", server);
    await unlock();
    await userEvent.click(screen.getByRole("button", { name: "Preview plan" }));
    await screen.findByTitle(HASH_1);
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The plan was stale");
    expect(await screen.findByTitle(HASH_2)).toBeInTheDocument();
    expect(server.calls("/api/v1/sync/plan")).toHaveLength(2);
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(await screen.findByText("Applied: wrote 1 file.")).toBeInTheDocument();
    const hashes = await Promise.all(server.calls("/api/v1/sync/apply").map((r) => r.json()));
    expect(hashes).toEqual([{ plan_hash: HASH_1 }, { plan_hash: HASH_2 }]);
  });

  it("marks a shown plan as possibly stale when a client file changes on the feed", async () => {
    const server = syncedWorld().on("POST", "/api/v1/sync/plan", () => plan(HASH_1));
    renderApp("/sync", server);
    await unlock();
    await userEvent.click(screen.getByRole("button", { name: "Preview plan" }));
    await screen.findByTitle(HASH_1);
    expect(screen.queryByText(/changed since this plan was made/)).toBeNull();
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit(event(121, "events.sync:ClientFile.Observed"));
    expect(await screen.findByText(/changed since this plan was made/)).toBeInTheDocument();
  });

  it("shows raw text when the diff cannot be parsed", async () => {
    const server = syncedWorld().on("POST", "/api/v1/sync/plan", () => plan(HASH_1, "Binary files differ"));
    renderApp("/sync", server);
    await unlock();
    await userEvent.click(screen.getByRole("button", { name: "Preview plan" }));
    expect(await screen.findByText("Binary files differ")).toBeInTheDocument();
  });

  it("lists the history and reverts a write with the bearer token; undone writes have no Revert", async () => {
    let log = LOG;
    const server = syncedWorld()
      .on("GET", "/api/v1/sync/log", () => log)
      .on("POST", "/api/v1/sync/revert/w-1", () => {
        log = LOG.map((row) => (row.write_id === "w-1" ? { ...row, reason: "reverted" } : row));
        return { applied: true, written: ["/h/.cursor/mcp.json"] };
      });
    renderApp("/sync", server);
    const table = await screen.findByRole("table", { name: "Write history" });
    await waitFor(() => { expect(within(table).getAllByRole("row")).toHaveLength(LOG.length + 1); });
    const revert = within(table).getAllByRole("button", { name: /^Revert / });
    expect(revert).toHaveLength(1); // only w-1: w-0 was reverted, the others are not writes
    await unlock();
    await userEvent.click(within(table).getByRole("button", { name: "Revert /h/.cursor/mcp.json" }));
    expect(await screen.findByText("Reverted /h/.cursor/mcp.json: restored 1 file.")).toBeInTheDocument();
    expect(server.calls("/api/v1/sync/revert/w-1")[0]?.headers.get("authorization")).toBe("Bearer the-install-token");
    await waitFor(() => { expect(within(table).queryAllByRole("button", { name: /^Revert / })).toHaveLength(0); });
  });

  it("says why a revert was refused", async () => {
    const server = syncedWorld()
      .on("GET", "/api/v1/sync/log", () => LOG)
      .on("POST", "/api/v1/sync/revert/w-1", () =>
        json({ error: "conflict", detail: "/h/.cursor/mcp.json changed since write w-1" }, 409),
      );
    renderApp("/sync", server);
    await unlock();
    await userEvent.click(await screen.findByRole("button", { name: "Revert /h/.cursor/mcp.json" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("changed since write w-1");
  });
});
