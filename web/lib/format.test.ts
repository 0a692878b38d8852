import { describe, expect, it } from 'vitest';
import {
  formatAmount,
  formatAxisTick,
  formatClock,
  formatCount,
  formatLocalDateTime,
  formatNumber,
  formatOnline,
  formatPosition,
  formatTimestamp,
  formatUtcDateTime,
  MISSING,
  toIsoTimestamp,
  utcDayInputs,
  utcDaySpan,
} from './format.ts';

const utc = { locale: 'en-GB', timeZone: 'UTC' };

describe('formatNumber', () => {
  it('rounds to the requested decimals with thousands separators', () => {
    expect(formatNumber(87.6)).toBe('88');
    expect(formatNumber(2450.25)).toBe('2,450');
    expect(formatNumber(42.345, 1)).toBe('42.3');
    expect(formatNumber(50, 1)).toBe('50.0');
    expect(formatNumber(0)).toBe('0');
  });

  it('never prints "-0" for a value that rounds to zero', () => {
    expect(formatNumber(-0.2)).toBe('0');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(-3.4)).toBe('-3');
  });

  it('shows missing and non-finite values as a dash', () => {
    expect(formatNumber(null)).toBe(MISSING);
    expect(formatNumber(undefined)).toBe(MISSING);
    expect(formatNumber(Number.NaN)).toBe(MISSING);
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe(MISSING);
  });
});

describe('formatPosition', () => {
  it('prints lat, lon with 5 decimals and no grouping', () => {
    expect(formatPosition(52.520008, 13.404954)).toBe('52.52001, 13.40495');
    expect(formatPosition(-33.8688, 151.2093)).toBe('-33.86880, 151.20930');
    expect(formatPosition(0, -0.000001)).toBe('0.00000, 0.00000');
  });

  it('needs both coordinates', () => {
    expect(formatPosition(null, 13.4)).toBe(MISSING);
    expect(formatPosition(52.5, null)).toBe(MISSING);
    expect(formatPosition(null, null)).toBe(MISSING);
  });
});

describe('formatOnline', () => {
  it('maps the tri-state to words', () => {
    expect(formatOnline(true)).toBe('Online');
    expect(formatOnline(false)).toBe('Offline');
    expect(formatOnline(null)).toBe('Unknown');
    expect(formatOnline(undefined)).toBe('Unknown');
  });
});

describe('formatTimestamp', () => {
  const now = Date.UTC(2025, 5, 14, 18, 30, 0);

  it('shows only the clock time for a sample from the same day', () => {
    expect(formatTimestamp(Date.UTC(2025, 5, 14, 9, 5, 7), now, utc)).toBe('09:05:07');
  });

  it('adds the date for a sample from another day', () => {
    expect(formatTimestamp(Date.UTC(2025, 5, 13, 23, 59, 59), now, utc)).toBe('13 Jun 2025, 23:59:59');
  });

  it('decides "same day" in the display time zone', () => {
    // 23:30 UTC on the 13th is already the 14th in Berlin (UTC+2 in summer).
    const sample = Date.UTC(2025, 5, 13, 23, 30, 0);
    expect(formatTimestamp(sample, now, { locale: 'en-GB', timeZone: 'Europe/Berlin' })).toBe('01:30:00');
  });

  it('shows missing or out-of-range times as a dash', () => {
    expect(formatTimestamp(null, now, utc)).toBe(MISSING);
    expect(formatTimestamp(Number.NaN, now, utc)).toBe(MISSING);
    expect(formatTimestamp(9e15, now, utc)).toBe(MISSING);
  });
});

describe('toIsoTimestamp', () => {
  it('gives an ISO 8601 instant for <time dateTime>', () => {
    expect(toIsoTimestamp(Date.UTC(2025, 5, 14, 9, 5, 7, 120))).toBe('2025-06-14T09:05:07.120Z');
    expect(toIsoTimestamp(null)).toBeUndefined();
    expect(toIsoTimestamp(-9e15)).toBeUndefined();
  });
});

describe('formatCount', () => {
  it('pluralises, with grouping', () => {
    expect(formatCount(0, 'vehicle')).toBe('0 vehicles');
    expect(formatCount(1, 'vehicle')).toBe('1 vehicle');
    expect(formatCount(1234, 'vehicle')).toBe('1,234 vehicles');
    expect(formatCount(2, 'refuel entry', 'refuel entries')).toBe('2 refuel entries');
  });
});

describe('formatAmount', () => {
  it('prints two decimals and the currency, or a dash when nothing was paid', () => {
    expect(formatAmount(70, 'EUR')).toBe('70.00 EUR');
    expect(formatAmount(1234.5, null)).toBe('1,234.50');
    expect(formatAmount(null, 'EUR')).toBe(MISSING);
  });
});

describe('formatUtcDateTime', () => {
  it('prints the UTC date and minute with the zone, whatever the runtime zone', () => {
    expect(formatUtcDateTime(Date.UTC(2026, 10, 26, 14, 5, 59))).toBe('26 Nov 2026, 14:05 UTC');
    expect(formatUtcDateTime(Date.UTC(2025, 0, 3, 0, 0))).toBe('3 Jan 2025, 00:00 UTC');
  });

  it('shows a missing time as a dash', () => {
    expect(formatUtcDateTime(null)).toBe(MISSING);
    expect(formatUtcDateTime(Number.NaN)).toBe(MISSING);
  });
});

describe('formatAxisTick', () => {
  const t = Date.UTC(2026, 10, 26, 14, 5);
  it('labels a span of up to two days by clock time, a longer one by day (UTC)', () => {
    expect(formatAxisTick(t, 86_400_000)).toBe('14:05');
    expect(formatAxisTick(t, 7 * 86_400_000)).toBe('26 Nov');
  });
});

describe('the driver phone formats (the runtime time zone)', () => {
  // Built from local fields, so the expectation holds in any zone the tests run in.
  const t = new Date(2026, 10, 26, 9, 7).getTime();
  it('prints a 24-hour clock and a medium date with the time', () => {
    expect(formatClock(t)).toBe('09:07');
    expect(formatLocalDateTime(t)).toBe('26 Nov 2026, 09:07');
  });
});

describe('utcDaySpan / utcDayInputs', () => {
  it('turns UTC date inputs into a half-open span ending at the next midnight', () => {
    expect(utcDaySpan({ fromDate: '2026-11-01', toDate: '2026-11-02' })).toEqual({
      from: Date.UTC(2026, 10, 1),
      to: Date.UTC(2026, 10, 3),
    });
    expect(utcDaySpan({ fromDate: '', toDate: '' })).toEqual({});
    expect(utcDaySpan({ fromDate: '', toDate: '2026-11-02' })).toEqual({ to: Date.UTC(2026, 10, 3) });
  });

  it('gives back the inputs a span came from', () => {
    const inputs = { fromDate: '2026-02-27', toDate: '2026-03-01' };
    expect(utcDayInputs(utcDaySpan(inputs))).toEqual(inputs);
    expect(utcDayInputs({})).toEqual({ fromDate: '', toDate: '' });
  });
});
