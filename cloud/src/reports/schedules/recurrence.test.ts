/**
 * Next-run computation in a tenant's zone: DST gap and overlap hours, month ends, quarters, the
 * period each run reports on. Expected instants are written out in UTC from the tz rules
 * (New York 2026: EDT from Sun 8 Mar 02:00, EST again from Sun 1 Nov 02:00; Berlin: CEST from
 * Sun 29 Mar 02:00 to Sun 25 Oct 03:00), not computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { isTimeZone, nextRun, Recurrence, reportPeriod, zonedInstant } from './recurrence.ts';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';
const at = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();
const rec = (r: Record<string, unknown>) => Recurrence.parse(r);

describe('zonedInstant', () => {
  it('a wall time in the spring-forward gap moves forward by the gap (02:30 → 03:30 EDT)', () => {
    expect(iso(zonedInstant({ year: 2026, month: 3, day: 8 }, 2, 30, NY))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(zonedInstant({ year: 2026, month: 3, day: 29 }, 2, 30, BERLIN))).toBe(
      '2026-03-29T01:30:00.000Z',
    );
  });
  it('a wall time in the fall-back overlap is its first occurrence (01:30 EDT, not EST)', () => {
    expect(iso(zonedInstant({ year: 2026, month: 11, day: 1 }, 1, 30, NY))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(zonedInstant({ year: 2026, month: 10, day: 25 }, 2, 30, BERLIN))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
  });
  it('ordinary times either side of a change keep their wall hour', () => {
    expect(iso(zonedInstant({ year: 2026, month: 3, day: 7 }, 7, 0, NY))).toBe('2026-03-07T12:00:00.000Z');
    expect(iso(zonedInstant({ year: 2026, month: 3, day: 9 }, 7, 0, NY))).toBe('2026-03-09T11:00:00.000Z');
  });
});

describe('nextRun', () => {
  it('weekly Monday 07:00 New York: 12:00 UTC before the change, 11:00 UTC after it', () => {
    const r = rec({ frequency: 'weekly', weekday: 1, hour: 7 });
    const first = nextRun(r, NY, at('2026-02-27T00:00:00Z'));
    expect(iso(first)).toBe('2026-03-02T12:00:00.000Z');
    const second = nextRun(r, NY, first);
    expect(iso(second)).toBe('2026-03-09T11:00:00.000Z');
    // And back in November.
    expect(iso(nextRun(r, NY, at('2026-10-27T00:00:00Z')))).toBe('2026-11-02T12:00:00.000Z');
  });

  it('daily 02:30 runs once on the day the hour does not exist, at 03:30 local', () => {
    const r = rec({ frequency: 'daily', hour: 2, minute: 30 });
    const a = nextRun(r, NY, at('2026-03-07T08:00:00Z'));
    expect(iso(a)).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(nextRun(r, NY, a))).toBe('2026-03-09T06:30:00.000Z');
  });

  it('daily 01:30 runs once on the day the hour happens twice (the first one)', () => {
    const r = rec({ frequency: 'daily', hour: 1, minute: 30 });
    const a = nextRun(r, NY, at('2026-10-31T12:00:00Z'));
    expect(iso(a)).toBe('2026-11-01T05:30:00.000Z');
    // Not 06:30 UTC the same day (01:30 EST, the repeat): the next day.
    expect(iso(nextRun(r, NY, a))).toBe('2026-11-02T06:30:00.000Z');
  });

  it('monthly on the 31st runs on the last day of shorter months (and 29 Feb in a leap year)', () => {
    const r = rec({ frequency: 'monthly', dayOfMonth: 31, hour: 6 });
    const runs: string[] = [];
    let t = at('2027-12-15T00:00:00Z');
    for (let i = 0; i < 4; i++) {
      t = nextRun(r, 'UTC', t);
      runs.push(iso(t));
    }
    expect(runs).toEqual([
      '2027-12-31T06:00:00.000Z',
      '2028-01-31T06:00:00.000Z',
      '2028-02-29T06:00:00.000Z',
      '2028-03-31T06:00:00.000Z',
    ]);
    expect(iso(nextRun(r, 'UTC', at('2026-02-01T00:00:00Z')))).toBe('2026-02-28T06:00:00.000Z');
  });

  it('quarterly runs in January, April, July and October only', () => {
    const r = rec({ frequency: 'quarterly', dayOfMonth: 1, hour: 7 });
    let t = at('2026-02-10T00:00:00Z');
    const runs: string[] = [];
    for (let i = 0; i < 4; i++) {
      t = nextRun(r, BERLIN, t);
      runs.push(iso(t));
    }
    expect(runs).toEqual([
      '2026-04-01T05:00:00.000Z', // CEST
      '2026-07-01T05:00:00.000Z',
      '2026-10-01T05:00:00.000Z',
      '2027-01-01T06:00:00.000Z', // CET
    ]);
  });

  it('a run exactly at `after` is not the next one', () => {
    const r = rec({ frequency: 'daily', hour: 0 });
    expect(iso(nextRun(r, 'UTC', at('2026-05-05T00:00:00Z')))).toBe('2026-05-06T00:00:00.000Z');
  });
});

describe('reportPeriod', () => {
  it('daily: the local day before (23 hours long across spring-forward)', () => {
    const p = reportPeriod('daily', at('2026-03-09T11:00:00Z'), NY);
    expect([iso(p.from), iso(p.to)]).toEqual(['2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    expect(p.to - p.from).toBe(23 * 3_600_000);
  });
  it('weekly: the seven local days before the run day', () => {
    const p = reportPeriod('weekly', at('2026-03-09T11:00:00Z'), NY);
    expect([iso(p.from), iso(p.to)]).toEqual(['2026-03-02T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
  });
  it('monthly: the calendar month before; quarterly: the calendar quarter before', () => {
    const m = reportPeriod('monthly', at('2026-03-05T12:00:00Z'), NY);
    expect([iso(m.from), iso(m.to)]).toEqual(['2026-02-01T05:00:00.000Z', '2026-03-01T05:00:00.000Z']);
    const q = reportPeriod('quarterly', at('2026-04-01T05:00:00Z'), BERLIN);
    expect([iso(q.from), iso(q.to)]).toEqual(['2025-12-31T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    const jan = reportPeriod('quarterly', at('2027-01-01T06:00:00Z'), BERLIN);
    expect([iso(jan.from), iso(jan.to)]).toEqual(['2026-09-30T22:00:00.000Z', '2026-12-31T23:00:00.000Z']);
  });
});

describe('validation', () => {
  it('refuses a weekly schedule without weekday, a monthly one without day, and unknown zones', () => {
    expect(Recurrence.safeParse({ frequency: 'weekly', hour: 7 }).success).toBe(false);
    expect(Recurrence.safeParse({ frequency: 'monthly', hour: 7 }).success).toBe(false);
    expect(Recurrence.safeParse({ frequency: 'daily', hour: 24 }).success).toBe(false);
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
