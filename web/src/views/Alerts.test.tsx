import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AlertRow } from "../api/client";
import { event, FakeEventSource, renderApp, syncedWorld } from "../test/fakes";

const XSS = "<img src=x onerror=alert(1)>";

const OPEN: AlertRow = {
  alert_id: "al-1",
  severity: "critical",
  source: "sync",
  message: XSS,
  raised_at: "2026-01-01T00:00:00Z",
  acknowledged: false,
};
const SEEN: AlertRow = {
  alert_id: "al-0",
  severity: "warning",
  source: "agents",
  message: "breaker opened",
  raised_at: "2025-12-31T00:00:00Z",
  acknowledged: true,
  acknowledged_by: "ann",
  acknowledged_at: "2025-12-31T01:00:00Z",
};

/** A server holding one open and one acknowledged alert; acknowledging marks the open one. */
function world() {
  const alerts = [OPEN, SEEN].map((a) => ({ ...a }));
  return syncedWorld()
    .on("GET", "/api/v1/alerts", (request) => {
      const open = new URL(request.url).searchParams.get("open") === "true";
      return { alerts: alerts.filter((a) => !open || !a.acknowledged) };
    })
    .on("POST", "/api/v1/alerts/al-1/acknowledge", () => {
      const [first] = alerts;
      if (first) Object.assign(first, { acknowledged: true, acknowledged_by: "an-operator" });
      return { alert_id: "al-1", acknowledged_by: "an-operator" };
    });
}

function rowOf(table: HTMLElement, text: string): HTMLElement {
  const row = within(table).getByText(text).closest("tr");
  if (row === null) throw new Error(`no row with ${text}`);
  return row;
}

/** The browser's Notification, faked: records what was shown and what was asked. */
class FakeNotification {
  static shown: { title: string; body: string | undefined }[] = [];
  static asked = 0;
  static answer: NotificationPermission = "granted";

  readonly title: string;

  constructor(title: string, options?: NotificationOptions) {
    this.title = title;
    FakeNotification.shown.push({ title, body: options?.body });
  }

  static requestPermission(): Promise<NotificationPermission> {
    FakeNotification.asked += 1;
    return Promise.resolve(FakeNotification.answer);
  }
}

function raised(position: number, severity: string) {
  return event(position, "events.runtime:Alert.Raised", { alert_id: `al-${String(position)}`, severity, source: "sync", message: XSS });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Alerts", () => {
  it("lists the open alerts with the message as text, and all of them when asked", async () => {
    const server = world();
    renderApp("/alerts", server, { as: "operator" });
    const table = await screen.findByRole("table", { name: "Alerts" });
    expect(within(table).getByText(XSS).textContent).toBe(XSS);
    expect(table.querySelector("img")).toBeNull(); // the markup stayed text
    expect(within(table).getByText("critical")).toHaveClass("badge", "s-critical");
    expect(within(table).queryByText("breaker opened")).toBeNull();
    expect(new URL(server.calls("/api/v1/alerts")[0]?.url ?? "").searchParams.get("open")).toBe("true");

    await userEvent.click(screen.getByLabelText("Open only"));
    expect(await within(table).findByText("breaker opened")).toBeInTheDocument();
    const seen = rowOf(table, "breaker opened");
    expect(within(seen).getByText(/^ann, /)).toBeInTheDocument();
    expect(within(seen).queryByRole("button", { name: /^Acknowledge alert/ })).toBeNull();
    expect(new URL(server.calls("/api/v1/alerts").at(-1)?.url ?? "").searchParams.get("open")).toBeNull();
  });

  it("acknowledges an alert with a JSON POST carrying the CSRF header", async () => {
    const server = world();
    renderApp("/alerts", server, { as: "operator" });
    const table = await screen.findByRole("table", { name: "Alerts" });
    await userEvent.click(within(rowOf(table, XSS)).getByRole("button", { name: "Acknowledge alert al-1" }));
    await waitFor(() => { expect(within(table).queryByText(XSS)).toBeNull(); }); // refetched: no longer open
    const [post] = server.calls("/api/v1/alerts/al-1/acknowledge");
    expect(post?.method).toBe("POST");
    expect(post?.headers.get("x-synapse-csrf")).toBe("1");
    expect(post?.headers.get("content-type")).toContain("application/json");
  });

  it("shows a viewer the alerts but no Acknowledge button", async () => {
    renderApp("/alerts", world(), { as: "viewer" });
    const table = await screen.findByRole("table", { name: "Alerts" });
    expect(within(table).getByText(XSS)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Acknowledge alert/ })).toBeNull();
    expect(screen.getByText(/needs the operator role/)).toBeInTheDocument();
  });

  it("refetches on Alert events and not on others", async () => {
    const server = world();
    renderApp("/alerts", server, { as: "viewer" });
    await screen.findByRole("table", { name: "Alerts" });
    FakeEventSource.latest().open();
    const before = server.calls("/api/v1/alerts").length;
    const health = server.calls("/health").length;
    FakeEventSource.latest().emit(event(121, "SyncLedger.ConflictDetected"));
    await waitFor(() => { expect(server.calls("/health").length).toBeGreaterThan(health); });
    expect(server.calls("/api/v1/alerts").length).toBe(before);
    FakeEventSource.latest().emit(event(122, "events.runtime:Alert.Raised"));
    await waitFor(() => { expect(server.calls("/api/v1/alerts").length).toBeGreaterThan(before); });
  });

  it("notifies of a new critical alert only after the person enabled notifications", async () => {
    FakeNotification.shown = [];
    FakeNotification.asked = 0;
    vi.stubGlobal("Notification", FakeNotification);
    renderApp("/alerts", world(), { as: "viewer" });
    await screen.findByRole("table", { name: "Alerts" });
    FakeEventSource.latest().open();
    FakeEventSource.latest().emit(raised(121, "critical"));
    expect(FakeNotification.shown).toEqual([]); // not asked for: nothing shown, nothing asked
    expect(FakeNotification.asked).toBe(0);

    await userEvent.click(screen.getByRole("button", { name: "Enable notifications" }));
    expect(await screen.findByText(/^Notifications on/)).toBeInTheDocument();
    FakeEventSource.latest().emit(raised(122, "warning"));
    FakeEventSource.latest().emit(raised(123, "critical"));
    expect(FakeNotification.asked).toBe(1);
    expect(FakeNotification.shown).toEqual([{ title: "Critical alert: sync", body: XSS }]);
  });
});
