import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { event, FakeEventSource, renderApp, syncedWorld } from "../test/fakes";

describe("the live feed", () => {
  it("refetches the sync views when a sync event arrives, and only then", async () => {
    const server = syncedWorld();
    renderApp("/", server);
    await screen.findByRole("table", { name: "Clients by entity kind" });
    const source = FakeEventSource.latest();
    source.open();
    const fetched = () => server.calls("/api/v1/sync/entities").length;
    const before = fetched();
    const health = server.calls("/health").length;
    source.emit(event(121, "Alert.Raised"));
    await waitFor(() => { expect(server.calls("/health").length).toBeGreaterThan(health); });
    expect(fetched()).toBe(before);
    source.emit(event(122, "SyncLedger.ConflictDetected"));
    await waitFor(() => { expect(fetched()).toBeGreaterThan(before); });
  });

  it("starts at the head, and after a refused reconnect resumes after the last event", async () => {
    renderApp("/", syncedWorld());
    const first = FakeEventSource.latest();
    expect(first.url).toBe("/api/v1/events/stream?named=false");
    first.open();
    first.emit(event(130));
    first.drop(true);
    expect(await screen.findByText("reconnecting…")).toBeInTheDocument();
    await waitFor(() => { expect(FakeEventSource.instances).toHaveLength(2); }, { timeout: 3000 });
    expect(FakeEventSource.latest().url).toBe("/api/v1/events/stream?named=false&after=130");
  });
});
