/**
 * Distance from GPS fixes without the wander of a parked receiver (issue 17 §2).
 *
 * A stationary receiver's fix drifts by metres to tens of metres (multipath, changing satellite
 * geometry); summing the steps between 1 Hz fixes turns a night in the depot into kilometres.
 * The filter keeps an anchor and counts the step from it only when the vehicle is moving: the
 * speed (OBD or GPS) says so when it is known, and the fix must have left the anchor by
 * `minStepM`. A fix implying an impossible speed is a glitch and is skipped; several in a row
 * mean the receiver was right after all (it had jumped, or was wrong before), so the anchor moves there
 * without adding distance (that stretch is unknown, not driven at 1,000 km/h).
 *
 * Used by the agent (the GPS odometer it sends, edge-agent/src/gps-odometer.ts) and by the cloud
 * (the per-jurisdiction split of the same track, cloud/src/reports/distance), so both sides
 * filter alike.
 */
import { haversineM } from './geo.ts';

export interface GpsDistanceOptions {
  /** A step shorter than this from the anchor is wander (default 10 m). */
  minStepM: number;
  /** At or below this speed the vehicle stands (default 3 km/h); null speed: unknown. */
  stationaryKmh: number;
  /** A step implying more than this is a glitch (default 250 km/h). */
  maxSpeedKmh: number;
  /** Glitches in a row after which the receiver is believed again (default 3). */
  glitchesToReanchor: number;
}

export const DEFAULT_GPS_DISTANCE_OPTIONS: GpsDistanceOptions = {
  minStepM: 10,
  stationaryKmh: 3,
  maxSpeedKmh: 250,
  glitchesToReanchor: 3,
};

export interface GpsFixForDistance {
  ts: number;
  lat: number | null;
  lon: number | null;
  speedKmh: number | null;
}

/** A counted step: from the anchor to this fix. */
export interface GpsStep {
  from: { lat: number; lon: number; ts: number };
  to: { lat: number; lon: number; ts: number };
  metres: number;
}

export class GpsDistanceFilter {
  private anchor: { lat: number; lon: number; ts: number } | null = null;
  private glitches = 0;
  private readonly o: GpsDistanceOptions;

  constructor(options: Partial<GpsDistanceOptions> = {}) {
    this.o = { ...DEFAULT_GPS_DISTANCE_OPTIONS, ...options };
  }

  /** The step this fix adds, or null (no position, standing, wander, glitch, first fix). */
  push(fix: GpsFixForDistance): GpsStep | null {
    if (fix.lat === null || fix.lon === null) return null;
    const here = { lat: fix.lat, lon: fix.lon, ts: fix.ts };
    const anchor = this.anchor;
    if (!anchor) {
      this.anchor = here;
      return null;
    }
    if (fix.speedKmh !== null && fix.speedKmh <= this.o.stationaryKmh) return null;
    const metres = haversineM(anchor.lat, anchor.lon, here.lat, here.lon);
    if (metres < this.o.minStepM) return null;
    const seconds = Math.max(fix.ts - anchor.ts, 1) / 1000;
    if ((metres / seconds) * 3.6 > this.o.maxSpeedKmh) {
      this.glitches++;
      if (this.glitches >= this.o.glitchesToReanchor) {
        this.anchor = here;
        this.glitches = 0;
      }
      return null;
    }
    this.glitches = 0;
    this.anchor = here;
    return { from: anchor, to: here, metres };
  }
}
