import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { event, FakeEventSource, renderApp, syncedWorld } from "../test/fakes";

const eventQueries = (server: ReturnType<typeof syncedWorld>) =>
  server.calls("/api/v1/events").map((r) => Object.fromEntries(new URL(r.url).searchParams));

describe("Events", () => {
  it("opens on the newest page and pages on with the server's cursor", async () => {
    const server = syncedWorld();
    renderApp("/events", server);
    const table = await screen.findByRole("table", { name: "Events" });
    expect(await within(table).findByText("120")).toBeInTheDocument();
    expect(eventQueries(server)[0]).toEqual({ after: "70", limit: "50" });
    await userEvent.click(screen.getByRole("button", { name: "Oldest" }));
    expect(await within(table).findByText("1")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Next page" }));
    expect(await within(table).findByText("51")).toBeInTheDocument();
    expect(eventQueries(server).at(-1)).toEqual({ after: "50", limit: "50" });
  });

  it("sends the type and aggregate filters to the server", async () => {
    const server = syncedWorld();
    renderApp("/events", server);
    await userEvent.type(await screen.findByLabelText("Type"), "Alert.Raised");
    await userEvent.type(screen.getByLabelText("Aggregate"), "agg-7");
    await userEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => {
      expect(eventQueries(server).at(-1)).toMatchObject({ type: "Alert.Raised", aggregate: "agg-7" });
    });
  });

  it("tails events live from the feed, filtered, rendering hostile content as text", async () => {
    renderApp("/events?type=Alert.*", syncedWorld());
    const tail = await screen.findByRole("table", { name: "Live events" });
    const source = FakeEventSource.latest();
    source.open();
    const payload = '<img src=x onerror="alert(1)">';
    source.emit(event(121, "Alert.Raised", { message: payload }));
    source.emit(event(122, "Agent.Started"));
    const cell = await within(tail).findByText(`{"message":"${payload.replaceAll('"', '\\"')}"}`);
    expect(cell.querySelector("img")).toBeNull();
    expect(within(tail).getByText("121")).toBeInTheDocument();
    expect(within(tail).queryByText("122")).toBeNull(); // not Alert.*
  });
});
