import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AuthGate, SessionBadge, useSession } from "../auth/session";
import { FakeServer, json } from "../test/fakes";

function Secret() {
  const session = useSession();
  return <p>dashboard for {session?.user}</p>;
}

function gate(server: FakeServer) {
  return render(
    <AuthGate fetchImpl={server.fetch}>
      <Secret />
      <SessionBadge />
    </AuthGate>,
  );
}

/** A server with one user, alice, whose cookie session the fake tracks. */
function world(password = "correct horse") {
  let signedIn = false;
  const server = new FakeServer()
    .on("GET", "/api/v1/auth/me", () =>
      signedIn ? { user: "alice", role: "operator", via: "cookie" } : json({ error: "unauthorized" }, 401),
    )
    .on("POST", "/api/v1/auth/token", async (request) => {
      const form = new URLSearchParams(await request.text());
      if (form.get("grant_type") !== "password" || form.get("password") !== password) {
        return json({ error: "invalid_grant" }, 400);
      }
      signedIn = true;
      return { access_token: "x", token_type: "bearer", expires_in: 3600, user: "alice", role: "operator" };
    })
    .on("POST", "/api/v1/auth/logout", () => {
      signedIn = false;
      return new Response(null, { status: 204 });
    });
  return server;
}

describe("the login page", () => {
  it("is all an anonymous visitor sees", async () => {
    gate(world());
    expect(await screen.findByRole("form", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.queryByText(/dashboard for/)).not.toBeInTheDocument();
  });

  it("posts the OAuth2 password grant as a form and then loads the app", async () => {
    const server = world();
    gate(server);
    await userEvent.type(await screen.findByLabelText("User name"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("dashboard for alice")).toBeInTheDocument();
    const [post] = server.calls("/api/v1/auth/token");
    expect(post?.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(await post?.text());
    expect([form.get("grant_type"), form.get("username"), form.get("password")]).toEqual([
      "password",
      "alice",
      "correct horse",
    ]);
  });

  it("says a wrong password plainly and clears the field", async () => {
    gate(world());
    await userEvent.type(await screen.findByLabelText("User name"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "wrong horse");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong user name or password.");
    expect(screen.getByLabelText("Password")).toHaveValue("");
    expect(screen.queryByText(/dashboard for/)).not.toBeInTheDocument();
  });

  it("shows the backoff the server asks for", async () => {
    const server = world().on("POST", "/api/v1/auth/token", () =>
      json({ error: "slow_down" }, 429),
    );
    gate(server);
    await userEvent.type(await screen.findByLabelText("User name"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "whatever1");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/Too many failed attempts/);
  });

  it("signs out with the CSRF header and returns to the login page", async () => {
    const server = world();
    gate(server);
    await userEvent.type(await screen.findByLabelText("User name"), "alice");
    await userEvent.type(screen.getByLabelText("Password"), "correct horse");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await userEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("form", { name: "Sign in" })).toBeInTheDocument();
    const [post] = server.calls("/api/v1/auth/logout");
    expect(post?.headers.get("x-synapse-csrf")).toBe("1");
  });
});
