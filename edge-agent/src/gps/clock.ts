/**
 * Time on a vehicle computer without a real-time clock.
 *
 * A Raspberry Pi boots with its clock at 1970 (or at the last fake-hwclock save) and keeps it
 * until NTP answers, which on a vehicle may be never. The GPS receiver, once it has a fix, knows
 * UTC to a microsecond. So:
 *
 *   - A sample's time is its GPS fix's time (`stampFix`), never the system clock.
 *   - Anything else that needs "now" (status messages, logs of a trip) asks `now()`: the system
 *     clock when it is plausible (after `minValidMs` and within `maxSkewMs` of GPS time), else
 *     the last GPS time plus the monotonic time elapsed since it arrived.
 *
 * Monotonic guard, per boot (per SampleClock instance): `stampFix` hands out strictly
 * increasing sample times and refuses (null) a fix not newer than the last one stamped, so a
 * receiver repeating an epoch, a replayed capture or gpsd reconnecting cannot write a second
 * sample at a time already written or move the record backwards; `now()` never returns less
 * than it returned before, even when NTP or the GPS steps the system clock back.
 */
import type { GpsFix } from './nmea/rmc.ts';

/** Where `now()` took its answer from. `unsynced`: no GPS time yet and the system clock is implausible. */
export type ClockSource = 'gps' | 'system' | 'unsynced';

export interface SampleClockOptions {
  /** Wall clock; default Date.now. */
  systemNow?: () => number;
  /** Monotonic milliseconds from any origin; default performance.now. */
  monotonicNow?: () => number;
  /**
   * A system clock before this is unset; default 2020-01-01T00:00:00Z (a Pi without RTC boots
   * at 1970 or at its fake-hwclock save, usually older).
   */
  minValidMs?: number;
  /** [100...86400000] ms a plausible-looking system clock may differ from GPS time, default: 2000. */
  maxSkewMs?: number;
}

export const MIN_VALID_SYSTEM_TIME_MS = Date.UTC(2020, 0, 1);

export class SampleClock {
  private readonly systemNow: () => number;
  private readonly monotonicNow: () => number;
  private readonly minValidMs: number;
  private readonly maxSkewMs: number;
  /** Last GPS time and the monotonic instant it was observed at. */
  private anchor: { gpsMs: number; monoMs: number } | null = null;
  private lastNow = Number.NEGATIVE_INFINITY;
  private lastStamp = Number.NEGATIVE_INFINITY;
  private lastSource: ClockSource = 'unsynced';

  constructor(options: SampleClockOptions = {}) {
    this.systemNow = options.systemNow ?? Date.now;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.minValidMs = options.minValidMs ?? MIN_VALID_SYSTEM_TIME_MS;
    this.maxSkewMs = options.maxSkewMs ?? 2000;
  }

  /** Records GPS time as observed now (each fix stamped does this). */
  observeGpsTime(gpsMs: number): void {
    if (!Number.isFinite(gpsMs)) return;
    this.anchor = { gpsMs, monoMs: this.monotonicNow() };
  }

  /**
   * The sample time of a fix: its GPS time, or null when it is not newer than the last fix
   * stamped (the caller skips it).
   */
  stampFix(fix: Pick<GpsFix, 'ts'>): number | null {
    if (!Number.isFinite(fix.ts) || fix.ts <= this.lastStamp) return null;
    this.lastStamp = fix.ts;
    this.observeGpsTime(fix.ts);
    return fix.ts;
  }

  /** Best estimate of UTC now, epoch ms; never less than a previous answer. */
  now(): number {
    const system = this.systemNow();
    const plausible = system >= this.minValidMs;
    let value: number;
    if (this.anchor) {
      const fromGps = this.anchor.gpsMs + (this.monotonicNow() - this.anchor.monoMs);
      if (plausible && Math.abs(system - fromGps) <= this.maxSkewMs) {
        value = system;
        this.lastSource = 'system';
      } else {
        value = fromGps;
        this.lastSource = 'gps';
      }
    } else {
      value = system;
      this.lastSource = plausible ? 'system' : 'unsynced';
    }
    if (value < this.lastNow) value = this.lastNow;
    this.lastNow = value;
    return value;
  }

  /** Source of the last `now()` answer. */
  get source(): ClockSource {
    return this.lastSource;
  }
}
