import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { appendLines } from "../api/queries";
import type { LogLine } from "../api/client";
import { event, FakeEventSource, renderApp, syncedWorld } from "../test/fakes";

const XSS = "<img src=x onerror=alert(1)>";

function line(ts: string, msg: string, extra: Partial<LogLine> = {}): LogLine {
  return { ts, level: "INFO", logger: "synapse.api", actor: "api", msg, ...extra };
}

const LINES = [
  line("2026-01-01T00:00:01.000Z", XSS, { level: "WARNING", position: 42, request_id: "req-9" }),
  line("2026-01-01T00:00:02.000Z", "second", { level: "ERROR", task_id: "task-3", write_id: "w-1" }),
];

/** A server whose log holds `lines`; a `since` query returns the lines at or after it. */
function world(lines: LogLine[]) {
  return syncedWorld().on("GET", "/api/v1/logs", (request) => {
    const since = new URL(request.url).searchParams.get("since");
    return { items: lines.filter((l) => since === null || l.ts >= since), truncated: false };
  });
}

describe("Logs", () => {
  it("renders each line's level, actor, message as text and its correlation ids", async () => {
    renderApp("/logs", world(LINES));
    const table = await screen.findByRole("table", { name: "Log lines" });
    const cell = await within(table).findByText(XSS);
    expect(cell.textContent).toBe(XSS);
    expect(table.querySelector("img")).toBeNull(); // the markup stayed text
    expect(within(table).getByText("WARNING")).toHaveClass("badge", "s-warning");
    expect(within(table).getByText("ERROR")).toHaveClass("badge", "s-error");
    expect(within(table).getByText("req-9")).toBeInTheDocument();
    expect(within(table).getByText("task-3")).toBeInTheDocument();
    expect(within(table).getByText("w-1")).toBeInTheDocument();
    // The event the line names: the Events view opens with it first.
    expect(within(table).getByRole("link", { name: "event 42" })).toHaveAttribute("href", "/events?after=41");
    expect(screen.getByRole("link", { name: "Logs" })).toHaveAttribute("aria-current", "page");
  });

  it("puts the actor, level and since filters into the query string", async () => {
    const server = world(LINES);
    renderApp("/logs", server);
    await screen.findByRole("table", { name: "Log lines" });
    await userEvent.type(screen.getByLabelText("Actor"), "worker:sync");
    await userEvent.selectOptions(screen.getByLabelText("Lowest level"), "ERROR");
    await userEvent.type(screen.getByLabelText("Since"), "2026-01-01T00:00");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => { expect(server.calls("/api/v1/logs").length).toBe(2); });
    const query = new URL(server.calls("/api/v1/logs")[1]?.url ?? "").searchParams;
    expect(query.get("actor")).toBe("worker:sync");
    expect(query.get("level")).toBe("ERROR");
    expect(query.get("since")).toBe(new Date("2026-01-01T00:00").toISOString());
    expect(query.get("limit")).toBe("200");
  });

  it("stays a snapshot on live events until Follow is on, then appends only the new lines", async () => {
    const lines = [...LINES];
    const server = world(lines);
    renderApp("/logs", server);
    const table = await screen.findByRole("table", { name: "Log lines" });
    FakeEventSource.latest().open();
    const health = server.calls("/health").length;
    FakeEventSource.latest().emit(event(121, "Task.Completed"));
    await waitFor(() => { expect(server.calls("/health").length).toBeGreaterThan(health); });
    expect(server.calls("/api/v1/logs")).toHaveLength(1); // not following: no request

    await userEvent.click(screen.getByRole("button", { name: "Follow" }));
    expect(screen.getByRole("button", { name: "Follow" })).toHaveAttribute("aria-pressed", "true");
    await waitFor(() => { expect(server.calls("/api/v1/logs")).toHaveLength(2); });
    lines.push(line("2026-01-01T00:00:03.000Z", "third"));
    FakeEventSource.latest().emit(event(122, "Alert.Raised"));
    expect(await within(table).findByText("third")).toBeInTheDocument();
    const last = server.calls("/api/v1/logs").at(-1);
    expect(new URL(last?.url ?? "").searchParams.get("since")).toBe("2026-01-01T00:00:02.000Z");
    // The boundary line came again (since is inclusive) and shows once.
    expect(within(table).getAllByText("second")).toHaveLength(1);
    expect(within(table).getAllByRole("row")).toHaveLength(4); // header + three lines
  });
});

describe("appendLines", () => {
  it("drops the repeated lines at the last timestamp and keeps the newest lines", () => {
    const a = line("t1", "a");
    const b = line("t2", "b");
    const c = line("t2", "c");
    const d = line("t3", "d");
    expect(appendLines([a, b], [b, c, d])).toEqual([a, b, c, d]);
    expect(appendLines([a, b], [b, c, d], 2)).toEqual([c, d]);
    expect(appendLines([], [a])).toEqual([a]);
  });
});
