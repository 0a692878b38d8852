import { describe, expect, it } from 'vitest';
import { SampleClock } from './clock.ts';

/** A clock whose system time and monotonic time the test moves by hand. */
function harness(systemStart: number) {
  let system = systemStart;
  let mono = 1_000;
  const clock = new SampleClock({ systemNow: () => system, monotonicNow: () => mono });
  return {
    clock,
    setSystem: (ms: number) => {
      system = ms;
    },
    elapse: (ms: number) => {
      system += ms;
      mono += ms;
    },
  };
}

const GPS_T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const PI_BOOT = Date.UTC(1970, 0, 1, 0, 0, 12); // a Pi without RTC, 12 s after boot

describe('SampleClock', () => {
  it('uses GPS time while the system clock is unset (Pi without RTC at 1970)', () => {
    const h = harness(PI_BOOT);
    expect(h.clock.now()).toBe(PI_BOOT);
    expect(h.clock.source).toBe('unsynced');
    expect(h.clock.stampFix({ ts: GPS_T0 })).toBe(GPS_T0);
    h.elapse(1500);
    expect(h.clock.now()).toBe(GPS_T0 + 1500);
    expect(h.clock.source).toBe('gps');
  });

  it('uses GPS time when a plausible-looking system clock is far from it (stale fake-hwclock)', () => {
    const h = harness(Date.UTC(2023, 0, 1)); // after 2020 but 16 months behind GPS
    h.clock.stampFix({ ts: GPS_T0 });
    expect(h.clock.now()).toBe(GPS_T0);
    expect(h.clock.source).toBe('gps');
  });

  it('uses the system clock when it agrees with GPS time (NTP-synced)', () => {
    const h = harness(GPS_T0 + 300);
    h.clock.stampFix({ ts: GPS_T0 });
    expect(h.clock.now()).toBe(GPS_T0 + 300);
    expect(h.clock.source).toBe('system');
  });

  it('trusts a plausible system clock before the first fix', () => {
    const h = harness(GPS_T0);
    expect(h.clock.now()).toBe(GPS_T0);
    expect(h.clock.source).toBe('system');
  });

  it('never goes backwards: a system clock stepped back by NTP, or a later GPS anchor behind', () => {
    const h = harness(GPS_T0);
    const a = h.clock.now();
    h.setSystem(GPS_T0 - 60_000);
    expect(h.clock.now()).toBe(a);
    h.clock.stampFix({ ts: GPS_T0 - 30_000 }); // a replayed capture's old fix
    expect(h.clock.now()).toBeGreaterThanOrEqual(a);
    // Forward jumps are fine: 1970 -> 2024 when the first fix arrives.
    const boot = harness(PI_BOOT);
    const before = boot.clock.now();
    boot.clock.stampFix({ ts: GPS_T0 });
    expect(boot.clock.now()).toBeGreaterThan(before);
  });

  it('stamps each fix with its GPS time, strictly increasing; repeats and steps back are refused', () => {
    const h = harness(PI_BOOT);
    expect(h.clock.stampFix({ ts: GPS_T0 })).toBe(GPS_T0);
    expect(h.clock.stampFix({ ts: GPS_T0 })).toBeNull(); // receiver repeats the epoch
    expect(h.clock.stampFix({ ts: GPS_T0 - 1000 })).toBeNull(); // gpsd reconnect replays
    expect(h.clock.stampFix({ ts: GPS_T0 + 1000 })).toBe(GPS_T0 + 1000);
    expect(h.clock.stampFix({ ts: Number.NaN })).toBeNull();
  });
});
