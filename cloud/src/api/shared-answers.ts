/**
 * Answers that many users of a tenant ask for at once (the fleet overview behind every open
 * dashboard, the vehicles' latest states), computed once and shared for a second (the live
 * feed's own pace; FLEET_OVERVIEW_CACHE_MS through main.ts, 0 turns it off). Concurrent requests wait for the
 * one computation in flight instead of each running it (single flight).
 *
 * Refresh ahead: a request in the last fifth of an answer's life starts its successor and is
 * still answered from the current one, which is replaced once the successor is ready. No answer
 * is served beyond its TTL (counted from when its computation began), and under steady load the
 * callers do not all wait on the database once a second.
 *
 * The key always holds the tenant and the caller's scope (a driver's vehicle): an answer is only
 * ever shared between callers that row-level security would have shown the same rows.
 */
let TTL_MS = 1000;
/** Keys kept at once: tenants x (overview pages + single vehicles asked within the second). */
const MAX_KEYS = 20_000;
interface Entry {
  until: number;
  value: Promise<unknown>;
  /** Its successor is being computed. */
  refreshing: boolean;
}
const answers = new Map<string, Entry>();

/** Sets the time to live for this process (main.ts from FLEET_OVERVIEW_CACHE_MS; the API bench measures both ways). */
export function configureSharedAnswers(opts: { ttlMs: number }): void {
  TTL_MS = opts.ttlMs;
  answers.clear();
}

/** Answers are shared at all (FLEET_OVERVIEW_CACHE_MS > 0). */
export function sharedAnswersEnabled(): boolean {
  return TTL_MS > 0;
}

export function sharedAnswer<T>(key: string, compute: () => Promise<T>): Promise<T> {
  if (TTL_MS <= 0) return compute();
  const now = Date.now();
  const hit = answers.get(key);
  if (hit && hit.until > now) {
    if (!hit.refreshing && hit.until - now < TTL_MS / 5) refreshAhead(key, hit, compute, now);
    return hit.value as Promise<T>;
  }
  if (answers.size >= MAX_KEYS) for (const [k, a] of answers) if (a.until <= now) answers.delete(k);
  if (answers.size >= MAX_KEYS) answers.clear();
  const value = compute();
  const entry: Entry = { until: now + TTL_MS, value, refreshing: false };
  answers.set(key, entry);
  // A failure is not shared beyond the requests already waiting for it.
  value.catch(() => {
    if (answers.get(key) === entry) answers.delete(key);
  });
  return value;
}

/** `current`'s successor, in place once computed (if `current` is still the key's answer). */
function refreshAhead(key: string, current: Entry, compute: () => Promise<unknown>, now: number) {
  current.refreshing = true;
  const value = compute();
  value.then(
    () => {
      if (answers.get(key) === current) answers.set(key, { until: now + TTL_MS, value, refreshing: false });
    },
    () => {
      current.refreshing = false; // the current answer stays until it expires; a later request retries
    },
  );
}
