/**
 * The agent's GPS odometer (issue 17 §2): jitter-filtered GPS distance, in metres, since the store
 * was created. Every sample carries the running total, so the distance between any two samples
 * is a subtraction, whatever was lost or sent in between; after a restart it goes on from the
 * newest stored sample. The filter (shared/src/gps-distance.ts) is the one the cloud uses.
 */
import { GpsDistanceFilter, type GpsFixForDistance } from '@fleet/shared';

export class GpsOdometer {
  private readonly filter = new GpsDistanceFilter();

  constructor(private metres: number) {}

  /** The total after this fix: its step counted when the vehicle moved, not when it wandered. */
  advance(fix: GpsFixForDistance): number {
    const step = this.filter.push(fix);
    if (step) this.metres += step.metres;
    // 0.1 m: what the telemetry payload carries (telemetry-codec.ts), so SQLite and cloud agree.
    return Math.round(this.metres * 10) / 10;
  }
}
