import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { UnlockActions, useAction } from "../api/actions";
import { createApi } from "../api/client";
import { Providers } from "../Providers";
import { FakeEventSource, FakeServer } from "../test/fakes";
import { AuthGate } from "./session";

function TakeCursor() {
  const resolve = useAction((api, auth) => api.resolve("c1", "cursor", auth), { invalidates: [] });
  return (
    <button type="button" disabled={resolve.locked} onClick={() => { resolve.mutate(); }}>
      take cursor
    </button>
  );
}

describe("mutations in a signed-in session", () => {
  it("send the CSRF header with the cookie and ask for no token", async () => {
    const server = new FakeServer()
      .on("GET", "/api/v1/auth/me", () => ({ user: "alice", role: "operator", via: "cookie" }))
      .on("POST", "/api/v1/conflicts/c1/resolve", () => ({ applied: true }));
    render(
      <AuthGate fetchImpl={server.fetch}>
        <Providers api={createApi(server.fetch)} connect={(url) => new FakeEventSource(url) as unknown as EventSource}>
          <TakeCursor />
        </Providers>
      </AuthGate>,
    );
    const button = await screen.findByRole("button", { name: "take cursor" });
    expect(button).toBeEnabled(); // no token to paste first
    await userEvent.click(button);
    await waitFor(() => {
      expect(server.calls("/api/v1/conflicts/c1/resolve")).toHaveLength(1);
    });
    const [post] = server.calls("/api/v1/conflicts/c1/resolve");
    expect(post?.headers.get("x-synapse-csrf")).toBe("1");
    expect(post?.headers.get("authorization")).toBeNull();
    expect(post?.headers.get("content-type")).toContain("application/json");
  });

  it("show no token form: there is nothing to unlock", async () => {
    const server = new FakeServer().on("GET", "/api/v1/auth/me", () => ({
      user: "alice",
      role: "operator",
      via: "cookie",
    }));
    render(
      <AuthGate fetchImpl={server.fetch}>
        <Providers api={createApi(server.fetch)} connect={(url) => new FakeEventSource(url) as unknown as EventSource}>
          <TakeCursor />
          <UnlockActions />
        </Providers>
      </AuthGate>,
    );
    await screen.findByRole("button", { name: "take cursor" });
    expect(screen.queryByRole("form", { name: "Unlock actions" })).toBeNull();
    expect(screen.queryByText(/Actions unlocked/)).toBeNull();
  });
});
