import { type FormEvent, useState } from "react";

/** Sign-in with an API token (`modelgov tokens create <name> --role <role>`, or the admin token). */
export function SignInPage({ onToken }: { onToken: (token: string) => Promise<string | null> }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(await onToken(token.trim()));
    setBusy(false);
  };
  return (
    <main className="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">modelgov</h1>
        <p className="muted">Sign in with an API token. Your roles decide what you can see and do.</p>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        {error && (
          <p className="state error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          A local server writes its first admin token to <code>.modelgov/admin-token</code>. Create others
          with <code>modelgov tokens create &lt;name&gt; --role compliance</code>.
        </p>
      </form>
    </main>
  );
}
