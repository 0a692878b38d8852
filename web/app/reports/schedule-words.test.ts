import { describe, expect, it } from 'vitest';
import { formatInZone, recurrenceInWords, type ScheduleForm, scheduleInputOf } from './schedule-words.ts';

const form: ScheduleForm = {
  name: 'Quarterly IFTA',
  kind: 'ifta',
  format: 'pdf',
  quarter: '',
  vehicles: '',
  frequency: 'quarterly',
  time: '06:30',
  weekday: '1',
  dayOfMonth: '31',
  recipients: 'a@fleet.test, b@fleet.test',
  delivery: 'link',
  linkTtlHours: '48',
};

describe('schedule words', () => {
  it('says a recurrence with its local time and zone', () => {
    expect(
      recurrenceInWords({ frequency: 'weekly', hour: 7, minute: 0, weekday: 1 }, 'America/New_York'),
    ).toBe('Weekly on Monday at 07:00 (America/New_York)');
    expect(recurrenceInWords({ frequency: 'monthly', hour: 23, minute: 5, dayOfMonth: 22 }, 'UTC')).toBe(
      'Monthly on the 22nd at 23:05 (UTC)',
    );
    expect(recurrenceInWords({ frequency: 'monthly', hour: 0, minute: 0, dayOfMonth: 11 }, 'UTC')).toBe(
      'Monthly on the 11th at 00:00 (UTC)',
    );
  });

  it('shows an instant on the zone wall clock across a DST change', () => {
    // 12:00 UTC is 07:00 in New York before 8 March 2026 (EST), 08:00 after (EDT).
    expect(formatInZone(Date.UTC(2026, 2, 2, 12), 'America/New_York')).toBe(
      'Mon, 2 Mar 2026, 07:00 America/New_York',
    );
    expect(formatInZone(Date.UTC(2026, 2, 9, 12), 'America/New_York')).toBe(
      'Mon, 9 Mar 2026, 08:00 America/New_York',
    );
  });

  it('builds the API input, or names each wrong field', () => {
    expect(scheduleInputOf(form)).toEqual({
      ok: true,
      input: {
        name: 'Quarterly IFTA',
        report: { kind: 'ifta', format: 'pdf', params: {} },
        recurrence: { frequency: 'quarterly', hour: 6, minute: 30, dayOfMonth: 31 },
        recipients: ['a@fleet.test', 'b@fleet.test'],
        delivery: 'link',
        linkTtlHours: 48,
      },
    });
    const bad = scheduleInputOf({
      ...form,
      name: ' ',
      kind: 'detail',
      recipients: 'a@fleet.test, nobody',
      time: '25:00',
      dayOfMonth: '0',
      linkTtlHours: '721',
    });
    expect(bad.ok).toBe(false);
    expect(Object.keys(bad.ok ? {} : bad.errors).sort()).toEqual([
      'dayOfMonth',
      'format',
      'linkTtlHours',
      'name',
      'recipients',
      'time',
    ]);
  });
});
