/**
 * The install token for mutations, the fallback when no one is signed in (a view rendered
 * outside auth/session's AuthGate): a person pastes it once per tab and api/actions.ts sends
 * it as a bearer header. It is kept in memory only (gone on reload), never in storage a script
 * could read later. Signed in, the session cookie plus the CSRF header is used instead.
 */
import { createContext, useContext, useMemo, useState, type SyntheticEvent, type ReactNode } from "react";
import { useSession } from "./session";

interface TokenContextValue {
  token: string | null;
  setToken: (token: string | null) => void;
}

const TokenContext = createContext<TokenContextValue | null>(null);

export function ActionTokenProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(null);
  const value = useMemo(() => ({ token, setToken }), [token]);
  return <TokenContext.Provider value={value}>{children}</TokenContext.Provider>;
}

export function useActionToken(): TokenContextValue {
  const value = useContext(TokenContext);
  if (value === null) throw new Error("useActionToken outside <ActionTokenProvider>");
  return value;
}

/** Asks for the token when none is set; otherwise offers to forget it. Signed in, the
 * session acts and there is nothing to unlock, so nothing is shown. */
export function TokenForm() {
  const { token, setToken } = useActionToken();
  const [draft, setDraft] = useState("");
  const session = useSession();
  if (session !== null) return null;
  if (token !== null) {
    return (
      <p className="token-state">
        Actions unlocked for this tab.{" "}
        <button type="button" className="link" onClick={() => { setToken(null); }}>
          Lock
        </button>
      </p>
    );
  }
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const value = draft.trim();
    if (value) setToken(value);
    setDraft("");
  };
  return (
    <form className="token-form" onSubmit={submit} aria-label="Unlock actions">
      <label htmlFor="action-token">API token (needed to act; kept in this tab only)</label>
      <input
        id="action-token"
        type="password"
        autoComplete="off"
        value={draft}
        onChange={(e) => { setDraft(e.target.value); }}
      />
      <button type="submit">Unlock</button>
    </form>
  );
}
