import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { json, renderApp, syncedWorld } from "../test/fakes";

describe("Conflicts", () => {
  it("takes a client's side with the bearer token and refreshes the list", async () => {
    const server = syncedWorld().on("POST", "/api/v1/conflicts/c0ffee/resolve", () => ({
      applied: true,
      written: ["/h/.rovodev/mcp.json"],
    }));
    renderApp("/conflicts", server);
    const card = await screen.findByRole("article", { name: "Conflict mcp_server filesystem" });
    const take = within(card).getByRole("button", { name: "Take cursor" });
    expect(take).toBeDisabled(); // no token yet
    await userEvent.type(screen.getByLabelText(/API token/), "the-install-token");
    await userEvent.click(screen.getByRole("button", { name: "Unlock" }));
    const before = server.calls("/api/v1/conflicts").length;
    await userEvent.click(take);
    expect(await within(card).findByText("Took cursor's side; wrote 1 file.")).toBeInTheDocument();
    const [post] = server.calls("/api/v1/conflicts/c0ffee/resolve");
    expect(post?.method).toBe("POST");
    expect(post?.headers.get("authorization")).toBe("Bearer the-install-token");
    expect(post?.headers.get("content-type")).toBe("application/json");
    expect(await post?.json()).toEqual({ take: "cursor" });
    await waitFor(() => {
      expect(server.calls("/api/v1/conflicts").length).toBeGreaterThan(before);
    });
  });

  it("shows a refused token and asks for it again", async () => {
    const server = syncedWorld().on("POST", "/api/v1/conflicts/c0ffee/resolve", () =>
      json({ error: "unauthorized", detail: "a valid API token is required" }, 401),
    );
    renderApp("/conflicts", server);
    await userEvent.type(await screen.findByLabelText(/API token/), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Unlock" }));
    await userEvent.click(screen.getByRole("button", { name: "Take rovodev" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("a valid API token is required");
    expect(screen.getByLabelText(/API token/)).toBeInTheDocument();
  });
});
