/**
 * The login session: who is signed in, and the gate that shows the Login view until someone is.
 *
 * The server keeps the session in an HttpOnly `SameSite=Strict` cookie that this code never
 * sees; the page only asks `GET /api/v1/auth/me` who it belongs to. Mutations sent with the
 * cookie carry {@link CSRF_HEADERS} (api/actions.ts adds them), which a cross-site form cannot.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { Login } from "../views/Login";

/** What the page adds to every mutation it sends with the session cookie. */
export const CSRF_HEADERS: Readonly<Record<string, string>> = { "X-Synapse-CSRF": "1" };

export type Role = "viewer" | "operator" | "admin";

export interface Me {
  user: string;
  role: Role;
  via: string;
  expires_at?: number | null;
}

export interface Session extends Me {
  /** End the session on the server and show the login page. */
  logout: () => Promise<void>;
  /** The server refused the cookie (expired, revoked): show the login page. */
  expired: () => void;
}

/** Why a login failed, in words a person can act on. */
export class LoginError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "LoginError";
    this.status = status;
  }
}

type Fetch = typeof fetch;

/** Absolute, like the API client's: a `Request` needs a base outside a browser page. */
function url(path: string): string {
  return `${window.location.origin}${path}`;
}

/** `GET /api/v1/auth/me`: the signed-in user, or null without a (valid) session. */
export async function fetchMe(fetchImpl: Fetch): Promise<Me | null> {
  const response = await fetchImpl(url("/api/v1/auth/me"), { credentials: "same-origin" });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`the server answered ${String(response.status)}`);
  return (await response.json()) as Me;
}

/** The OAuth2 password grant: a form body, as OAuth2 specifies; the answer sets the cookie. */
export async function login(fetchImpl: Fetch, username: string, password: string): Promise<void> {
  const body = new URLSearchParams({ grant_type: "password", username, password });
  const response = await fetchImpl(url("/api/v1/auth/token"), {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
  if (response.ok) return;
  if (response.status === 429) {
    const wait = response.headers.get("retry-after") ?? "a few";
    throw new LoginError(429, `Too many failed attempts: try again in ${wait} seconds.`);
  }
  if (response.status === 400) throw new LoginError(400, "Wrong user name or password.");
  throw new LoginError(response.status, `Login failed (the server answered ${String(response.status)}).`);
}

/** `POST /api/v1/auth/logout` with the CSRF header (it is a mutation sent with the cookie). */
export async function logout(fetchImpl: Fetch): Promise<void> {
  await fetchImpl(url("/api/v1/auth/logout"), {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...CSRF_HEADERS },
    body: "{}",
  });
}

const SessionContext = createContext<Session | null>(null);
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The signed-in session, or null outside {@link AuthGate} (a view rendered on its own). */
export function useSession(): Session | null {
  return useContext(SessionContext);
}

/**
 * Whether the page may offer what needs `role`. Signed in, the session's role decides (the
 * server enforces the same rule). Outside a session actions use the install token, which
 * acts as admin, so nothing is hidden there.
 */
export function useMayAct(role: Role): boolean {
  const session = useSession();
  return session === null || RANK[session.role] >= RANK[role];
}

type GateState = { kind: "checking" } | { kind: "anonymous" } | { kind: "signed-in"; me: Me };

/** Shows the Login view until `/api/v1/auth/me` names someone, then `children`. */
export function AuthGate({
  children,
  fetchImpl = (input, init) => fetch(input, init),
}: {
  children: ReactNode;
  fetchImpl?: Fetch;
}) {
  const [state, setState] = useState<GateState>({ kind: "checking" });
  const check = useCallback(async () => {
    try {
      const me = await fetchMe(fetchImpl);
      setState(me === null ? { kind: "anonymous" } : { kind: "signed-in", me });
    } catch {
      setState({ kind: "anonymous" });
    }
  }, [fetchImpl]);
  useEffect(() => {
    // Asking the server who is signed in is the external system this effect syncs with.
    let live = true;
    fetchMe(fetchImpl).then(
      (me) => {
        if (live) setState(me === null ? { kind: "anonymous" } : { kind: "signed-in", me });
      },
      () => {
        if (live) setState({ kind: "anonymous" });
      },
    );
    return () => {
      live = false;
    };
  }, [fetchImpl]);
  const session = useMemo<Session | null>(() => {
    if (state.kind !== "signed-in") return null;
    return {
      ...state.me,
      logout: async () => {
        await logout(fetchImpl);
        setState({ kind: "anonymous" });
      },
      expired: () => {
        setState({ kind: "anonymous" });
      },
    };
  }, [state, fetchImpl]);
  if (state.kind === "checking") return <p className="muted">Loading…</p>;
  if (session === null) {
    return (
      <Login
        onSubmit={async (username, password) => {
          await login(fetchImpl, username, password);
          await check();
        }}
      />
    );
  }
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The signed-in user and a sign-out button, for the header (nothing outside the gate). */
export function SessionBadge() {
  const session = useSession();
  if (session === null) return null;
  return (
    <span className="session">
      <span title={`role: ${session.role}`}>
        {session.user} ({session.role})
      </span>{" "}
      <button type="button" className="link" onClick={() => void session.logout()}>
        Sign out
      </button>
    </span>
  );
}
