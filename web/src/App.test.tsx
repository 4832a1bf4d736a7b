import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeEventSource, renderApp, syncedWorld } from "./test/fakes";

describe("the shell", () => {
  it("has a nav landmark linking every view, and navigates without a reload", async () => {
    renderApp("/", syncedWorld());
    const nav = screen.getByRole("navigation", { name: "Main" });
    const links = within(nav).getAllByRole("link").map((a) => [a.textContent, a.getAttribute("href")]);
    expect(links).toEqual([
      ["Overview", "/"],
      ["Clients", "/clients"],
      ["Events", "/events"],
      ["Conflicts", "/conflicts"],
      ["Approvals", "/approvals"],
      ["Sync", "/sync"],
      ["SQL", "/sql"],
      ["Agents", "/agents"],
      ["Workflows", "/workflows"],
      ["Logs", "/logs"],
      ["Alerts", "/alerts"],
    ]);
    await userEvent.click(within(nav).getByRole("link", { name: "Events" }));
    expect(await screen.findByRole("table", { name: "Events" })).toBeInTheDocument();
    expect(within(nav).getByRole("link", { name: "Events" })).toHaveAttribute("aria-current", "page");
    expect(FakeEventSource.instances).toHaveLength(1); // one feed for the whole app
  });

  it("shows live once the feed opens and reconnecting when it drops", async () => {
    renderApp("/", syncedWorld());
    expect(screen.getByText("connecting…")).toBeInTheDocument();
    FakeEventSource.latest().open();
    expect(await screen.findByText("live")).toBeInTheDocument();
    FakeEventSource.latest().drop(false);
    expect(await screen.findByText("reconnecting…")).toBeInTheDocument();
  });

  it("answers an unknown path with a page, not a crash", () => {
    renderApp("/nope", syncedWorld());
    expect(screen.getByText(/no such page/)).toBeInTheDocument();
  });
});
