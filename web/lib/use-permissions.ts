'use client';

import { useEffect, useState } from 'react';
import { trpc } from './trpc.ts';

/**
 * What the signed-in user may do (auth.me's permissions, the cloud's role table), for showing
 * only the sections they can use. Null until known, and when not signed in: no redirect here
 * (the sign-in page renders the navigation too); the pages themselves send a stranger to sign in.
 * The cloud refuses what a hidden link would have reached anyway: this is convenience, not security.
 */
export function usePermissions(enabled: boolean): ReadonlySet<string> | null {
  const [permissions, setPermissions] = useState<ReadonlySet<string> | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    trpc.auth.me
      .query(undefined, { signal: controller.signal })
      .then((me) => setPermissions(new Set(me.permissions)))
      .catch(() => {
        if (!controller.signal.aborted) setPermissions(null);
      });
    return () => controller.abort();
  }, [enabled]);
  return permissions;
}
