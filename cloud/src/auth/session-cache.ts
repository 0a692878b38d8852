import type { Session } from './auth-service.ts';

/**
 * Signed-in sessions and API tokens as the database last confirmed them, for a few seconds, so a
 * busy client's requests do not each pay a round trip to look its token up again.
 *
 * Only confirmations are kept (an unknown token is asked again every time, so a new one works at
 * once). Anything that ends a session or a token in this process (sign-out, password reset,
 * token revocation, GDPR erasure) clears the cache; another API process notices within
 * FLEET_SESSION_CACHE_MS (default 5,000 ms; 0 turns the cache off).
 */
const TTL_MS = Number(process.env.FLEET_SESSION_CACHE_MS ?? 5000);
const MAX_ENTRIES = 10_000;
const entries = new Map<string, { session: Session; until: number }>();

export function cachedSession(token: string, now = Date.now()): Session | undefined {
  const e = entries.get(token);
  if (!e) return undefined;
  if (e.until <= now) {
    entries.delete(token);
    return undefined;
  }
  return e.session;
}

export function cacheSession(token: string, session: Session, now = Date.now()): void {
  if (TTL_MS <= 0) return;
  if (entries.size >= MAX_ENTRIES) entries.clear(); // a flood of distinct tokens: start over
  entries.set(token, { session, until: now + TTL_MS });
}

/** A session or token ended: forget every cached one (rare, and always correct). */
export function forgetCachedSessions(): void {
  entries.clear();
}
