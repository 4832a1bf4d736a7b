import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { renderApp, syncedWorld } from "../test/fakes";

describe("Clients", () => {
  it("lists each client's files with state and parse error, and its losses", async () => {
    renderApp("/clients", syncedWorld());
    const codex = await screen.findByRole("table", { name: "codex files" });
    expect(within(codex).getByText("/h/.codex/config.toml")).toBeInTheDocument();
    expect(within(codex).getByText("line 3: expected '='")).toBeInTheDocument();
    expect(within(codex).getByText("error")).toBeInTheDocument();
    const losses = screen.getByRole("table", { name: "rovodev losses" });
    expect(within(losses).getByText("headers")).toBeInTheDocument();
    expect(within(losses).getByText("no header support")).toBeInTheDocument();
    expect(screen.queryByRole("table", { name: "cursor losses" })).toBeNull();
  });
});
