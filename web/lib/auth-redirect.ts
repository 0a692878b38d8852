'use client';

import { TRPCClientError } from '@trpc/client';
import { useCallback } from 'react';

export function isUnauthorized(error: unknown): boolean {
  return (
    error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED'
  );
}

export function describeError(error: unknown): string {
  return error instanceof Error && error.message ? error.message : 'Unknown error.';
}

/**
 * Sends the browser to the sign-in page, which brings it back here afterwards (a link in an alert
 * e-mail opened while signed out lands on that alert, not on the dashboard).
 */
export function goToSignIn(): void {
  const here = `${window.location.pathname}${window.location.search}`;
  window.location.assign(
    here === '/' || here.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(here)}`,
  );
}

/**
 * Where to go after signing in: `next` when it is a path of this site (never another origin:
 * `//host` and `/\\host` are refused, an open redirect otherwise), else the role's home. Drivers
 * stay in their app.
 */
export function afterSignIn(role: string, next: string | null): string {
  const home = role === 'driver' ? '/driver' : '/';
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return home;
  if (role === 'driver' && !next.startsWith('/driver')) return home;
  return next;
}

/**
 * An error handler for page data: not signed in (or the session expired) goes to the sign-in
 * page; anything else is shown through `show`.
 */
export function useAuthRedirect(show: (message: string) => void) {
  return useCallback(
    (error: unknown) => {
      if (isUnauthorized(error)) goToSignIn();
      else show(describeError(error));
    },
    [show],
  );
}
