import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderApp, syncedWorld } from "../test/fakes";

describe("Overview", () => {
  it("shows the clients × kinds matrix with each cell's worst state", async () => {
    renderApp("/", syncedWorld());
    const matrix = await screen.findByRole("table", { name: "Clients by entity kind" });
    const cell = async (client: string, kind: string) => {
      const row = (await within(matrix).findByRole("rowheader", { name: client })).closest("tr");
      const kinds = within(matrix).getAllByRole("columnheader").map((h) => h.textContent);
      return row?.children[kinds.indexOf(kind)]?.getAttribute("data-state");
    };
    expect(await screen.findByText("1 conflict, 1 in-sync")).toBeInTheDocument();
    expect(await cell("cursor", "mcp_server")).toBe("conflict");
    expect(await cell("rovodev", "skill")).toBe("drifted");
    expect(await cell("codex", "mcp_server")).toBe("error"); // its file does not parse
    expect(await cell("cursor", "skill")).toBe("none");
  });

  it("counts open conflicts and approvals, and shows agents' breakers and health", async () => {
    renderApp("/", syncedWorld());
    await waitFor(() => { expect(screen.getByTestId("open-conflicts")).toHaveTextContent("1"); });
    expect(screen.getByTestId("open-approvals")).toHaveTextContent("1");
    const agents = await screen.findByRole("table", { name: "Agents" });
    const gemini = (await within(agents).findByText("gemini-fast")).closest("tr");
    expect(gemini).toHaveTextContent("open");
    expect(gemini).toHaveTextContent("50.0 %");
    expect(await screen.findByText("position 120, lag 0")).toBeInTheDocument();
  });
});
