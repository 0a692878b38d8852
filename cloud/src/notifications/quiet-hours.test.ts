import { describe, expect, it } from 'vitest';
import { localMinute, quietUntil } from './quiet-hours.ts';

describe('quiet hours', () => {
  const night = { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' };

  it('holds inside a window that crosses midnight and ends at the local end time', () => {
    // 23:30 in Berlin (CET, UTC+1) on 2026-01-15.
    const at = new Date('2026-01-15T22:30:00Z');
    expect(localMinute(at, 'Europe/Berlin')).toBe(23 * 60 + 30);
    expect(quietUntil(night, at)?.toISOString()).toBe('2026-01-16T06:00:00.000Z');
    expect(quietUntil(night, new Date('2026-01-15T12:00:00Z'))).toBeNull();
    expect(quietUntil(night, new Date('2026-01-16T06:00:00Z'))).toBeNull(); // 07:00 is over
  });

  it('counts a DST change inside the night as the zone does', () => {
    // Night of 28 to 29 March 2026: Berlin goes from UTC+1 to UTC+2 at 02:00.
    const at = new Date('2026-03-28T23:00:00Z'); // 00:00 local (CET)
    expect(quietUntil(night, at)?.toISOString()).toBe('2026-03-29T05:00:00.000Z'); // 07:00 CEST
  });

  it('honours the recipient zone, not the server one', () => {
    const q = { start: '09:00', end: '10:00', timeZone: 'Asia/Kolkata' };
    expect(quietUntil(q, new Date('2026-05-01T03:45:00Z'))?.toISOString()).toBe('2026-05-01T04:30:00.000Z');
    expect(quietUntil(q, new Date('2026-05-01T09:15:00Z'))).toBeNull();
  });
});
