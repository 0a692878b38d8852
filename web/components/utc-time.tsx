import { formatUtcDateTime, toIsoTimestamp } from '../lib/format.ts';

/** A time in a table or list: read as "26 Nov 2026, 14:05 UTC", machine-readable in dateTime. */
export function UtcTime({ ms }: { ms: number | null }) {
  return <time dateTime={toIsoTimestamp(ms)}>{formatUtcDateTime(ms)}</time>;
}
