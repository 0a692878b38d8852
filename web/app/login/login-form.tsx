'use client';

import { TRPCClientError } from '@trpc/client';
import { type FormEvent, useEffect, useState } from 'react';
import { afterSignIn } from '../../lib/auth-redirect.ts';
import { trpc } from '../../lib/trpc.ts';
import { useQuery } from '../../lib/use-query.ts';

/** Email and password; the session arrives as an httpOnly cookie through this app's /api/trpc. */
export function LoginForm() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Until React runs, a click would submit the form natively: a GET with the password in the URL.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  // Without an answer the page offers the password form only.
  const oidc = useQuery(null, (signal) => trpc.auth.methods.query(undefined, { signal })).data?.oidc ?? false;

  useEffect(() => {
    // An error from the organisation sign-in comes back in the query string.
    const fromOidc = new URLSearchParams(window.location.search).get('error');
    if (fromOidc) setError(fromOidc);
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const me = await trpc.auth.login.mutate({
        email: String(form.get('email')),
        password: String(form.get('password')),
      });
      // Back to the page that sent here; else drivers land in their own app (the offline PWA),
      // everyone else on the dashboard.
      window.location.assign(afterSignIn(me.role, new URLSearchParams(window.location.search).get('next')));
    } catch (err) {
      setError(err instanceof TRPCClientError ? err.message : 'Sign-in failed. Try again.');
      setBusy(false);
    }
  }

  return (
    <form className="login-form" onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
      <p>
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required maxLength={254} />
      </p>
      <p>
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
      </p>
      {error ? (
        <p id="login-error" role="alert" className="login-error">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy || !hydrated}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      {oidc ? (
        <p>
          <a href="/api/auth/oidc/start">Sign in with your organisation account</a>
        </p>
      ) : null}
    </form>
  );
}
