import type { VehicleState } from '../vehicle/model.ts';
import { Random } from '../vehicle/random.ts';
import {
  formatLatitude,
  formatLongitude,
  formatUtcDate,
  formatUtcTime,
  type NmeaCoordinate,
  nmeaSentence,
} from './sentence.ts';

export interface NmeaGeneratorOptions {
  seed: number;
  /** Geoid height above the ellipsoid at the route (GGA field 11), metres. */
  geoidSeparationM: number;
  /** Talker id; default GP (GPS-only receiver). */
  talker?: string;
}

/** One fix epoch: the sentences a receiver sends for one second, and what they say. */
export interface NmeaEpoch {
  /** Epoch ms of the fix (UTC), the time written in the sentences. */
  readonly timeMs: number;
  readonly sentences: readonly string[];
  /** All sentences concatenated, ready for the wire. */
  readonly text: string;
  /** Position as written (and as a reader parses it back). */
  readonly lat: NmeaCoordinate;
  readonly lon: NmeaCoordinate;
}

const KMH_PER_KNOT = 1.852;

/**
 * A GPS receiver with a 3D fix: one RMC then one GGA per epoch, from a vehicle state at its
 * simulated time. Satellite count and HDOP drift slowly (seeded) like a receiver's in a city.
 */
export class NmeaGenerator {
  private readonly rng: Random;
  private readonly talker: string;
  private satellites: number;

  constructor(private readonly options: NmeaGeneratorOptions) {
    this.rng = Random.fork(options.seed, 'gps');
    this.talker = options.talker ?? 'GP';
    this.satellites = this.rng.int(7, 11);
  }

  epoch(state: VehicleState): NmeaEpoch {
    if (this.rng.chance(0.05))
      this.satellites = Math.min(12, Math.max(5, this.satellites + (this.rng.chance(0.5) ? 1 : -1)));
    const hdop = 0.6 + 4 / this.satellites + this.rng.range(0, 0.1);

    const time = formatUtcTime(state.simTimeMs);
    const lat = formatLatitude(state.lat);
    const lon = formatLongitude(state.lon);
    const knots = (state.speedKmh / KMH_PER_KNOT).toFixed(2);
    const course = state.headingDeg.toFixed(2);

    // RMC (NMEA 0183 v2.3): time, status A, position, speed (knots), course, date,
    // magnetic variation (empty), mode A = autonomous.
    const rmc = nmeaSentence(
      [
        `${this.talker}RMC`,
        time,
        'A',
        lat.field,
        lat.hemisphere,
        lon.field,
        lon.hemisphere,
        knots,
        course,
        formatUtcDate(state.simTimeMs),
        '',
        '',
        'A',
      ].join(','),
    );
    // GGA: time, position, fix quality 1 (GPS), satellites, HDOP, altitude MSL, geoid separation,
    // DGPS age and station (empty).
    const gga = nmeaSentence(
      [
        `${this.talker}GGA`,
        time,
        lat.field,
        lat.hemisphere,
        lon.field,
        lon.hemisphere,
        '1',
        String(this.satellites).padStart(2, '0'),
        hdop.toFixed(2),
        state.altitudeM.toFixed(1),
        'M',
        this.options.geoidSeparationM.toFixed(1),
        'M',
        '',
        '',
      ].join(','),
    );
    const sentences = [rmc, gga];
    return { timeMs: state.simTimeMs, sentences, text: sentences.join(''), lat, lon };
  }
}
