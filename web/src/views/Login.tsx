/**
 * The login page: the only thing an anonymous visitor sees. A user name and password form
 * posted as the OAuth2 password grant; on success the gate (auth/session.tsx) loads the app.
 */
import { useState, type SyntheticEvent } from "react";

export function Login({ onSubmit }: { onSubmit: (username: string, password: string) => Promise<void> }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    onSubmit(username.trim(), password)
      .catch((e: unknown) => {
        setError(e instanceof Error ? e.message : "Login failed.");
        setPassword("");
      })
      .finally(() => {
        setBusy(false);
      });
  };
  return (
    <main className="login">
      <h1>Synapse</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="login-user">User name</label>
        <input
          id="login-user"
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => {
            setUsername(e.target.value);
          }}
        />
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => {
            setPassword(e.target.value);
          }}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {error !== null && <p role="alert">{error}</p>}
      </form>
      <p className="muted">
        No user yet? On this machine run <code>synapse users add NAME --role admin</code>.
      </p>
    </main>
  );
}
