import type pg from 'pg';

const DAY_MS = 86_400_000;

/** UTC day (YYYY-MM-DD) of an epoch-ms timestamp: the partition a sample belongs to. */
export function utcDay(tsMs: number): string {
  return new Date(Math.floor(tsMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Creates the missing daily partitions for `days` (YYYY-MM-DD); returns how many it created. */
export async function ensureTelemetryPartitions(
  db: pg.Pool | pg.ClientBase,
  days: readonly string[],
): Promise<number> {
  if (days.length === 0) return 0;
  const { rows } = await db.query<{ created: number }>(
    'SELECT telemetry_ensure_partitions($1::date[]) AS created',
    [[...days].sort()],
  );
  return rows[0]?.created ?? 0;
}

/** Today and the next `ahead` days: created in advance so the first batch of a day never waits. */
export function daysAhead(now: number, ahead: number): string[] {
  return Array.from({ length: ahead + 1 }, (_, i) => utcDay(now + i * DAY_MS));
}
