import { Random } from '../vehicle/random.ts';

/** One satellite as GSV reports it. */
export interface SatelliteView {
  /** NMEA satellite id: GPS PRN 1-32, GLONASS 65-96 (NMEA 0183 v2.3 numbering). */
  readonly id: number;
  readonly system: 'GPS' | 'GLONASS';
  /** Degrees above the horizon [0...90]. */
  readonly elevationDeg: number;
  /** Degrees from true north [0...359]. */
  readonly azimuthDeg: number;
  /** Signal-to-noise ratio, dB-Hz [0...99]; null while not tracked (GSV leaves it empty). */
  readonly snrDb: number | null;
}

interface Orbit {
  id: number;
  system: 'GPS' | 'GLONASS';
  elevation0: number;
  azimuth0: number;
  /** Degrees per hour: the sky turns a little, so GSV is not a frozen picture. */
  azimuthRate: number;
  elevationSwing: number;
  phase: number;
}

/**
 * The satellites a receiver sees, seeded: 9-12 GPS satellites (plus 6-9 GLONASS ones for a GN
 * receiver) at fixed-looking positions that drift slowly with time, with signal strength
 * growing with elevation. Not an orbit propagator: enough for GSV / GSA to look like a
 * receiver's and agree with GGA's satellite count.
 */
export class SkyModel {
  private readonly orbits: Orbit[] = [];
  private readonly noise: Random;

  constructor(seed: number, withGlonass: boolean) {
    const rng = Random.fork(seed, 'gps-sky');
    this.noise = Random.fork(seed, 'gps-sky-noise');
    const pick = (pool: number[], n: number): number[] => {
      const ids = [...pool];
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(ids.splice(rng.int(0, ids.length - 1), 1)[0]!);
      return out.sort((a, b) => a - b);
    };
    const gps = pick(
      Array.from({ length: 32 }, (_, i) => i + 1),
      rng.int(9, 12),
    );
    const glonass = withGlonass
      ? pick(
          Array.from({ length: 24 }, (_, i) => i + 65),
          rng.int(6, 9),
        )
      : [];
    for (const [ids, system] of [
      [gps, 'GPS'],
      [glonass, 'GLONASS'],
    ] as const) {
      for (const id of ids) {
        this.orbits.push({
          id,
          system,
          elevation0: rng.range(8, 85),
          azimuth0: rng.range(0, 360),
          azimuthRate: rng.range(-15, 15),
          elevationSwing: rng.range(2, 10),
          phase: rng.range(0, 2 * Math.PI),
        });
      }
    }
  }

  /** The sky at an instant; `tracking: false` (no fix: tunnel, garage) leaves every SNR empty. */
  view(timeMs: number, tracking: boolean): SatelliteView[] {
    const hours = timeMs / 3_600_000;
    return this.orbits.map((o) => {
      const elevation = Math.min(
        89,
        Math.max(1, o.elevation0 + o.elevationSwing * Math.sin(o.phase + (2 * Math.PI * hours) / 6)),
      );
      const azimuth = (((o.azimuth0 + o.azimuthRate * hours) % 360) + 360) % 360;
      const snr = tracking
        ? Math.round(Math.min(50, 18 + 0.35 * elevation + this.noise.gaussian() * 2))
        : null;
      return {
        id: o.id,
        system: o.system,
        elevationDeg: Math.round(elevation),
        azimuthDeg: Math.round(azimuth) % 360,
        snrDb: snr === null ? null : Math.max(10, snr),
      };
    });
  }
}
