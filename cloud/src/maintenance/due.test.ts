import { describe, expect, it } from 'vitest';
import { addMonths, decideDue, type ProgramRow, type ServiceState } from './due.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 31);
const program = (p: Partial<ProgramRow>): ProgramRow => ({
  id: 1,
  name: 'p',
  intervalKm: null,
  intervalHours: null,
  intervalMonths: null,
  intervalDays: null,
  soonKm: 0,
  soonHours: 0,
  soonDays: 0,
  ...p,
});
const state = (s: Partial<ServiceState>): ServiceState => ({
  since: T0,
  serviced: true,
  odometerKm: null,
  engineHours: null,
  kmSince: 0,
  hoursSince: 0,
  kmPerDay: 0,
  hoursPerDay: 0,
  ...s,
});

describe('decideDue', () => {
  it('calendar months end on the last day of a shorter month (31 Jan + 1 month = 28 Feb)', () => {
    expect(new Date(addMonths(T0, 1)).toISOString().slice(0, 10)).toBe('2026-02-28');
    expect(new Date(addMonths(T0, 12)).toISOString().slice(0, 10)).toBe('2027-01-31');
  });

  it('the earliest dimension wins; no use means no distance forecast, the calendar still counts', () => {
    const p = program({ intervalKm: 1000, intervalDays: 100 });
    const now = T0 + 10 * DAY;
    expect(decideDue(p, state({ kmSince: 500, kmPerDay: 100 }), now)).toMatchObject({
      dueBy: 'distance',
      forecastDueAt: now + 5 * DAY,
      remainingKm: 500,
    });
    expect(decideDue(p, state({ kmSince: 500, kmPerDay: 1 }), now)).toMatchObject({
      dueBy: 'calendar',
      forecastDueAt: T0 + 100 * DAY,
    });
    expect(decideDue(p, state({ kmSince: 0, kmPerDay: 0 }), now).dueBy).toBe('calendar');
  });

  it('due soon inside a margin (km, hours or days to the forecast); overdue once any dimension is used up', () => {
    const p = program({ intervalKm: 1000, intervalHours: 50, soonKm: 100, soonHours: 5, soonDays: 3 });
    const now = T0 + DAY;
    expect(decideDue(p, state({ kmSince: 850, kmPerDay: 10 }), now).status).toBe('ok');
    expect(decideDue(p, state({ kmSince: 950, kmPerDay: 10 }), now).status).toBe('due_soon');
    expect(decideDue(p, state({ hoursSince: 46 }), now).status).toBe('due_soon');
    expect(decideDue(p, state({ kmSince: 800, kmPerDay: 100 }), now).status).toBe('due_soon');
    const over = decideDue(p, state({ hoursSince: 51, kmSince: 10 }), now);
    expect(over).toMatchObject({ status: 'overdue', dueBy: 'hours', forecastDueAt: now, remainingHours: -1 });
  });
});
