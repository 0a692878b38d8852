/**
 * When a schedule runs, in the tenant's time zone: "weekly, Monday 07:00" is 07:00 on the wall
 * clock of that zone every Monday, whatever the UTC offset is that week. Intl does the zone
 * arithmetic (the tz database of Node's ICU): no time-zone library is installed here.
 *
 * Wall times that do not exist or exist twice (DST) are resolved as Temporal's `compatible`
 * disambiguation does: a time in the spring-forward gap moves forward by the gap's length (02:30
 * on the day clocks jump from 02:00 to 03:00 runs at 03:30), a time in the fall-back overlap takes
 * its first occurrence (01:30 EDT, not 01:30 EST), so a schedule runs once that day, never twice.
 *
 * A run reports on the period before it: daily the local day before, weekly the 7 local days
 * before, monthly the calendar month before, quarterly the calendar quarter before.
 */
import { z } from 'zod';

export const FREQUENCIES = ['daily', 'weekly', 'monthly', 'quarterly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

export const Recurrence = z
  .object({
    frequency: z.enum(FREQUENCIES),
    /** Local hour and minute of the run. */
    hour: z.number().int().min(0).max(23),
    minute: z.number().int().min(0).max(59).default(0),
    /** weekly: 0 = Sunday ... 6 = Saturday. */
    weekday: z.number().int().min(0).max(6).optional(),
    /**
     * monthly / quarterly: the day of the month (of the quarter's first month); 29-31 in a shorter
     * month run on its last day.
     */
    dayOfMonth: z.number().int().min(1).max(31).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.frequency === 'weekly' && r.weekday === undefined)
      ctx.addIssue({ code: 'custom', path: ['weekday'], message: 'a weekly schedule names its weekday' });
    if ((r.frequency === 'monthly' || r.frequency === 'quarterly') && r.dayOfMonth === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['dayOfMonth'],
        message: `a ${r.frequency} schedule names its day of the month`,
      });
  });
export type Recurrence = z.output<typeof Recurrence>;

/** A civil (wall-clock) date: month 1-12. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** True when Node's ICU knows the zone (an IANA name such as America/New_York, or UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, { message: 'not a time zone Node knows (IANA name, e.g. Europe/Berlin)' });

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall clock of `zone` at instant `t`. */
export function wallClock(
  t: number,
  zone: string,
): CivilDate & { hour: number; minute: number; second: number } {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(t))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return {
    year: p.year!,
    month: p.month!,
    day: p.day!,
    hour: p.hour!,
    minute: p.minute!,
    second: p.second!,
  };
}

/** UTC offset of `zone` at `t`, in ms (New York in winter: -5 h). */
export function offsetAt(t: number, zone: string): number {
  const s = Math.floor(t / 1000) * 1000;
  const w = wallClock(s, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - s;
}

/** The instant the wall clock of `zone` shows this date and time (DST: see the file's comment). */
export function zonedInstant(d: CivilDate, hour: number, minute: number, zone: string): number {
  const wall = Date.UTC(d.year, d.month - 1, d.day, hour, minute);
  // The offsets a day either side cover any one transition near this wall time.
  const before = offsetAt(wall - 86_400_000, zone);
  const after = offsetAt(wall + 86_400_000, zone);
  const candidates = [...new Set([before, after])]
    .map((o) => wall - o)
    .filter((t) => offsetAt(t, zone) === wall - t)
    .sort((a, b) => a - b);
  // Overlap: two candidates, the first is the earlier occurrence. Gap: none; the offset before
  // the jump puts the wall time past it by the gap's length.
  return candidates[0] ?? wall - before;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** `d` plus `n` days (civil arithmetic, no zone). */
export function addDays(d: CivilDate, n: number): CivilDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

function addMonths(d: CivilDate, n: number): CivilDate {
  const m = d.year * 12 + (d.month - 1) + n;
  return { year: Math.floor(m / 12), month: (m % 12) + 1, day: 1 };
}

/** Does the schedule run on this local date? */
function runsOn(r: Recurrence, d: CivilDate): boolean {
  switch (r.frequency) {
    case 'daily':
      return true;
    case 'weekly':
      return new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() === r.weekday;
    case 'quarterly':
    case 'monthly': {
      if (r.frequency === 'quarterly' && (d.month - 1) % 3 !== 0) return false;
      return d.day === Math.min(r.dayOfMonth!, daysInMonth(d.year, d.month));
    }
  }
}

/** The first run strictly after instant `after`. */
export function nextRun(r: Recurrence, zone: string, after: number): number {
  const start = wallClock(after, zone);
  // From the local day before (a gap time may land on the next UTC day) over at most a quarter
  // and a bit: every recurrence runs within 93 days.
  let d = addDays(start, -1);
  for (let i = 0; i < 100; i++, d = addDays(d, 1)) {
    if (!runsOn(r, d)) continue;
    const t = zonedInstant(d, r.hour, r.minute, zone);
    if (t > after) return t;
  }
  throw new RangeError(`no run of ${JSON.stringify(r)} within 100 days of ${new Date(after).toISOString()}`);
}

/** The local date of a run (its due instant in the tenant's zone). */
export function runDate(dueAt: number, zone: string): CivilDate {
  const w = wallClock(dueAt, zone);
  return { year: w.year, month: w.month, day: w.day };
}

/**
 * The period a run at `dueAt` reports on, [from, to) as instants: local midnights of the zone
 * (a local day across a DST change is 23 or 25 hours long, as the tenant lives it).
 */
export function reportPeriod(
  frequency: Frequency,
  dueAt: number,
  zone: string,
): { from: number; to: number } {
  const today = runDate(dueAt, zone);
  const midnight = (d: CivilDate) => zonedInstant(d, 0, 0, zone);
  switch (frequency) {
    case 'daily':
      return { from: midnight(addDays(today, -1)), to: midnight(today) };
    case 'weekly':
      return { from: midnight(addDays(today, -7)), to: midnight(today) };
    case 'monthly': {
      const first = { ...today, day: 1 };
      return { from: midnight(addMonths(first, -1)), to: midnight(first) };
    }
    case 'quarterly': {
      const q = { year: today.year, month: today.month - ((today.month - 1) % 3), day: 1 };
      return { from: midnight(addMonths(q, -3)), to: midnight(q) };
    }
  }
}
