import type { DriveSample } from '../fuel/drive-log.ts';
import type { DetectedEvent, Detector, ResolvedDetectorConfig } from './detector.ts';
import { MAX_STEP_S } from './episode.ts';
import { drivingEvent, round } from './event.ts';

/**
 * Driving-behaviour rules: harsh acceleration / braking / cornering. Each episode becomes one
 * event when it ends (its end is then known), so a driver's three-second emergency stop is one
 * harsh_brake, not three.
 */

const G = 9.81;
interface HarshEpisode {
  start: number;
  end: number;
  lat: number | null;
  lon: number | null;
  peakG: number;
  speedBefore: number | null;
  speedAfter: number | null;
}

/**
 * Harsh acceleration and braking from the IMU's longitudinal g when the log has it, else from
 * the speed's derivative (PID 0D is whole km/h, 0.028 g per step at 1 Hz: fine for 0.3 g rules);
 * harsh cornering from the lateral g, else from speed x GPS heading change.
 */
export class HarshDetector implements Detector {
  private prev: DriveSample | null = null;
  private prevBearing: number | null = null;
  private brake: HarshEpisode | null = null;
  private accel: HarshEpisode | null = null;
  private corner: HarshEpisode | null = null;

  constructor(private readonly cfg: ResolvedDetectorConfig) {}

  push(s: DriveSample): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    const prev = this.prev;
    this.prev = s;
    const dtS = prev ? (s.ts - prev.ts) / 1000 : 0;
    let ax: number | null = null;
    if (s.accelXG !== undefined && s.accelXG !== null) ax = s.accelXG;
    else if (prev && dtS > 0 && dtS <= MAX_STEP_S && s.speedKmh !== null && prev.speedKmh !== null) {
      ax = (s.speedKmh - prev.speedKmh) / 3.6 / dtS / G;
    }
    let ay: number | null = null;
    if (s.accelYG !== undefined && s.accelYG !== null) ay = s.accelYG;
    else {
      const bearing = prev ? bearingDeg(prev, s) : null;
      if (
        bearing !== null &&
        this.prevBearing !== null &&
        dtS > 0 &&
        dtS <= MAX_STEP_S &&
        s.speedKmh !== null &&
        s.speedKmh >= 20
      ) {
        let d = bearing - this.prevBearing;
        d = ((d + 540) % 360) - 180;
        ay = ((s.speedKmh / 3.6) * ((d * Math.PI) / 180)) / dtS / G;
      }
      this.prevBearing = bearing ?? (prev && dtS <= MAX_STEP_S ? this.prevBearing : null);
    }
    const gap = !prev || dtS > MAX_STEP_S;
    this.brake = this.track(
      'harsh_brake',
      this.brake,
      ax === null ? null : -ax,
      this.cfg.harshBrakeG,
      s,
      prev,
      gap,
      out,
    );
    this.accel = this.track('harsh_accel', this.accel, ax, this.cfg.harshAccelG, s, prev, gap, out);
    this.corner = this.track(
      'harsh_corner',
      this.corner,
      ay === null ? null : Math.abs(ay),
      this.cfg.harshCornerG,
      s,
      prev,
      gap,
      out,
    );
    return out;
  }

  flush(): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    for (const [type, e] of [
      ['harsh_brake', this.brake],
      ['harsh_accel', this.accel],
      ['harsh_corner', this.corner],
    ] as const) {
      if (e) this.emit(type, e, out);
    }
    this.brake = this.accel = this.corner = null;
    return out;
  }

  private track(
    type: 'harsh_brake' | 'harsh_accel' | 'harsh_corner',
    open: HarshEpisode | null,
    g: number | null,
    threshold: number,
    s: DriveSample,
    prev: DriveSample | null,
    gap: boolean,
    out: DetectedEvent[],
  ): HarshEpisode | null {
    if (open && (gap || g === null || g < threshold)) {
      this.emit(type, open, out);
      open = null;
    }
    if (g !== null && g >= threshold && !gap) {
      if (!open) {
        open = {
          start: prev ? prev.ts : s.ts,
          end: s.ts,
          lat: prev?.lat ?? s.lat,
          lon: prev?.lon ?? s.lon,
          peakG: g,
          speedBefore: prev?.speedKmh ?? null,
          speedAfter: s.speedKmh,
        };
      } else {
        open.end = s.ts;
        open.peakG = Math.max(open.peakG, g);
        open.speedAfter = s.speedKmh;
      }
    }
    return open;
  }

  private emit(
    type: 'harsh_brake' | 'harsh_accel' | 'harsh_corner',
    e: HarshEpisode,
    out: DetectedEvent[],
  ): void {
    const threshold =
      type === 'harsh_brake'
        ? this.cfg.harshBrakeG
        : type === 'harsh_accel'
          ? this.cfg.harshAccelG
          : this.cfg.harshCornerG;
    out.push(
      drivingEvent(
        this.cfg,
        type,
        e.start,
        e.end,
        e.lat,
        e.lon,
        0.6 + (0.4 * (e.peakG - threshold)) / threshold,
        {
          peakG: round(e.peakG, 3),
          thresholdG: threshold,
          speedKmhBefore: e.speedBefore,
          speedKmhAfter: e.speedAfter,
        },
      ),
    );
  }
}

/** Course over ground between two fixes, degrees; null when they are too close to tell. */
function bearingDeg(a: DriveSample, b: DriveSample): number | null {
  if (a.lat === null || a.lon === null || b.lat === null || b.lon === null) return null;
  const y = (b.lon - a.lon) * Math.cos((a.lat * Math.PI) / 180);
  const x = b.lat - a.lat;
  // Under ~3 m the GPS noise dominates the direction.
  if (Math.hypot(x, y) * 111_320 < 3) return null;
  return (Math.atan2(y, x) * 180) / Math.PI;
}
