'use client';

import { TRPCClientError } from '@trpc/client';
import { type FormEvent, useEffect, useState } from 'react';
import { trpc } from '../../lib/trpc.ts';

const MIN_LENGTH = 12;

/**
 * The page an invitation or a password-reset link opens. The token is in the link's fragment
 * (`#token=...`): browsers never send it to a server, so it is read here and posted once.
 */
export function SetPasswordForm({ purpose }: { purpose: 'invite' | 'reset' }) {
  const [token, setToken] = useState<string | null | undefined>(undefined);
  const [fieldError, setFieldError] = useState<{ field: 'password' | 'confirm'; text: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const t = new URLSearchParams(window.location.hash.slice(1)).get('token');
    setToken(t && /^[A-Za-z0-9_-]{20,100}$/.test(t) ? t : null);
  }, []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get('password'));
    setError(null);
    if (password.length < MIN_LENGTH) {
      setFieldError({ field: 'password', text: `Use at least ${MIN_LENGTH} characters.` });
      return;
    }
    if (password !== String(form.get('confirm'))) {
      setFieldError({ field: 'confirm', text: 'The two passwords are not the same.' });
      return;
    }
    setFieldError(null);
    setBusy(true);
    try {
      if (purpose === 'invite') {
        const me = await trpc.auth.acceptInvite.mutate({ inviteToken: token!, password });
        // Signed in by the answer's cookie: drivers to their app, everyone else to the dashboard.
        window.location.assign(me.role === 'driver' ? '/driver' : '/');
        return;
      }
      await trpc.auth.resetPassword.mutate({ resetToken: token!, newPassword: password });
      setDone(true);
    } catch (err) {
      setError(err instanceof TRPCClientError ? err.message : 'That did not work. Try again.');
    }
    setBusy(false);
  }

  if (token === undefined) return null;
  if (token === null)
    return (
      <p className="error-text" role="alert">
        This link is incomplete. Open the whole link you were given, or ask your administrator for a new one.
      </p>
    );
  if (done)
    return (
      <p className="notice" role="status">
        Your password is set. <a href="/login">Sign in</a> with it.
      </p>
    );
  const describedBy = (field: 'password' | 'confirm', hint?: string) =>
    [hint, fieldError?.field === field ? `${field}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <form className="login-form" onSubmit={submit} noValidate>
      <p>
        <label htmlFor="password">{purpose === 'invite' ? 'Choose a password' : 'New password'}</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_LENGTH}
          aria-invalid={fieldError?.field === 'password' || undefined}
          aria-describedby={describedBy('password', 'password-hint')}
        />
        <span id="password-hint" className="hint">
          At least {MIN_LENGTH} characters.
        </span>
        {fieldError?.field === 'password' ? (
          <span id="password-error" className="field-error">
            {fieldError.text}
          </span>
        ) : null}
      </p>
      <p>
        <label htmlFor="confirm">Type it again</label>
        <input
          id="confirm"
          name="confirm"
          type="password"
          autoComplete="new-password"
          required
          aria-invalid={fieldError?.field === 'confirm' || undefined}
          aria-describedby={describedBy('confirm')}
        />
        {fieldError?.field === 'confirm' ? (
          <span id="confirm-error" className="field-error">
            {fieldError.text}
          </span>
        ) : null}
      </p>
      {error ? (
        <p role="alert" className="login-error">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : purpose === 'invite' ? 'Set password and sign in' : 'Set new password'}
      </button>
    </form>
  );
}
