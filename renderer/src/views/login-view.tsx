/** Password sign-in; the core answers with an HttpOnly cookie, so nothing secret is kept by the page. */
import { useState, type FormEvent } from 'react';
import { useServices, useSession } from '../state/app-context.js';

/** The login screen. */
export function LoginView() {
  const { session } = useServices();
  const phase = useSession((s) => s.phase);
  const error = useSession((s) => s.error);
  const [password, setPassword] = useState('');
  const busy = phase === 'signing-in';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (password) void session.getState().login(password);
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-label="Sign in">
        <div className="brand brand-large">
          <img src="/favicon.png" alt="" width={28} height={28} />
          <span>Cupola</span>
        </div>
        {/* Lets password managers file the credential under a user; there is only the admin. */}
        <input type="text" name="username" autoComplete="username" value="admin" readOnly hidden />
        <label htmlFor="password">Admin password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          disabled={busy}
        />
        {error && (
          <p className="login-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
