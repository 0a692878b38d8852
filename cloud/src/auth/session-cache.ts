import { CloudError, CloudErrorCode } from '../errors.ts';
import type { Session } from './session.ts';

/**
 * Signed-in sessions and API tokens as the database last confirmed them, for a few seconds, so a
 * busy client's requests do not each pay a round trip to look its token up again.
 *
 * Only confirmations are kept (an unknown token is asked again every time, so a new one works at
 * once). Anything that ends a session or a token in this process (sign-out, password reset,
 * token revocation, GDPR erasure) clears the cache; another API process notices within the
 * cache's time to live (FLEET_SESSION_CACHE_MS, default 5,000 ms; 0 turns the cache off).
 */
const DEFAULT_TTL_MS = 5000;
let ttlMs = DEFAULT_TTL_MS;
const MAX_ENTRIES = 10_000;
const entries = new Map<string, { session: Session; until: number }>();

/**
 * Sets the time to live for this process (main.ts, from the validated config). A value that is
 * not a finite number >= 0 is refused here too: NaN once made every entry live forever, so a
 * token revoked through another API process stayed valid in this one.
 */
export function configureSessionCache(opts: { ttlMs: number }): void {
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 0)
    throw new CloudError(
      CloudErrorCode.ConfigInvalid,
      `session cache time to live must be a number of ms >= 0, got ${opts.ttlMs}`,
    );
  ttlMs = opts.ttlMs;
  entries.clear();
}

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
  if (ttlMs <= 0) return;
  if (entries.size >= MAX_ENTRIES) entries.clear(); // a flood of distinct tokens: start over
  entries.set(token, { session, until: now + ttlMs });
}

/** A session or token ended: forget every cached one (rare, and always correct). */
export function forgetCachedSessions(): void {
  entries.clear();
}
