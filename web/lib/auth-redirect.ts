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
 * An error handler for page data: not signed in (or the session expired) goes to the sign-in
 * page; anything else is shown through `show`.
 */
export function useAuthRedirect(show: (message: string) => void) {
  return useCallback(
    (error: unknown) => {
      if (isUnauthorized(error)) window.location.assign('/login');
      else show(describeError(error));
    },
    [show],
  );
}
