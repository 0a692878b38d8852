import { SimError, SimErrorCode } from '../errors.ts';
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
import { type SatelliteView, SkyModel } from './sky.ts';

/** Sentence types this receiver can send; each epoch sends them in this order (u-blox order). */
export const NMEA_SENTENCE_TYPES = ['RMC', 'VTG', 'GGA', 'GSA', 'GSV'] as const;
export type NmeaSentenceType = (typeof NMEA_SENTENCE_TYPES)[number];
/** What the receiver sends unless told otherwise (what agents and tests have always seen). */
export const DEFAULT_SENTENCES: readonly NmeaSentenceType[] = ['RMC', 'GGA'];

/** GP: a GPS-only receiver; GN: a multi-constellation one (GPS + GLONASS), GSV per system. */
export type Talker = 'GP' | 'GN';

export interface NmeaGeneratorOptions {
  seed: number;
  /** Geoid height above the ellipsoid at the route (GGA field 11), metres. */
  geoidSeparationM: number;
  /** Talker id; default GP (GPS-only receiver). */
  talker?: Talker;
  /** Sentences per epoch; default RMC + GGA. Always sent in NMEA_SENTENCE_TYPES order. */
  sentences?: readonly NmeaSentenceType[];
}

/** One fix epoch: the sentences a receiver sends for one second, and what they say. */
export interface NmeaEpoch {
  /** Epoch ms of the fix (UTC), the time written in the sentences. */
  readonly timeMs: number;
  readonly sentences: readonly string[];
  /** All sentences concatenated, ready for the wire. */
  readonly text: string;
  /**
   * Position as written (and as a reader parses it back). Without a fix the sentences leave the
   * position fields empty; these then hold the true position, as it would have been written.
   */
  readonly lat: NmeaCoordinate;
  readonly lon: NmeaCoordinate;
  /** False during a fix loss: RMC status V, GGA quality 0, GSA mode 1, VTG mode N. */
  readonly fix: boolean;
  /** Satellites used in the fix (GGA field 7); 0 without a fix. */
  readonly satellitesUsed: number;
}

const KMH_PER_KNOT = 1.852;

export function parseSentenceList(text: string): NmeaSentenceType[] {
  const names = text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'ALL') return [...NMEA_SENTENCE_TYPES];
  for (const n of names) {
    if (!(NMEA_SENTENCE_TYPES as readonly string[]).includes(n)) {
      throw new SimError(
        SimErrorCode.InvalidOption,
        `unknown NMEA sentence "${n}" (known: ${NMEA_SENTENCE_TYPES.join(', ')}, or all)`,
      );
    }
  }
  if (!names.includes('RMC')) {
    throw new SimError(
      SimErrorCode.InvalidOption,
      'the sentence list must include RMC (it carries the date)',
    );
  }
  return names as NmeaSentenceType[];
}

/**
 * A GPS receiver: per epoch RMC, VTG, GGA, GSA and GSV (those configured), from a vehicle state
 * at its simulated time. Satellite count and HDOP drift slowly (seeded) like a receiver's in a
 * city. `setFix(false)` simulates a fix loss (tunnel, multi-storey car park): time keeps coming
 * from the receiver's clock, position fields go empty, status and quality flags say invalid.
 */
export class NmeaGenerator {
  private readonly rng: Random;
  private readonly talker: Talker;
  private readonly types: ReadonlySet<NmeaSentenceType>;
  private readonly sky: SkyModel | null;
  private satellites: number;
  private hasFix = true;

  constructor(private readonly options: NmeaGeneratorOptions) {
    this.rng = Random.fork(options.seed, 'gps');
    this.talker = options.talker ?? 'GP';
    this.types = new Set(options.sentences ?? DEFAULT_SENTENCES);
    this.sky =
      this.types.has('GSA') || this.types.has('GSV')
        ? new SkyModel(options.seed, this.talker === 'GN')
        : null;
    this.satellites = this.rng.int(7, 11);
  }

  get fix(): boolean {
    return this.hasFix;
  }

  /** Lose (false) or regain (true) the fix from the next epoch on. */
  setFix(fix: boolean): void {
    this.hasFix = fix;
  }

  epoch(state: VehicleState): NmeaEpoch {
    // The same draws every epoch, fix or not, so a fix loss does not shift later epochs.
    if (this.rng.chance(0.05))
      this.satellites = Math.min(12, Math.max(5, this.satellites + (this.rng.chance(0.5) ? 1 : -1)));
    const hdop = 0.6 + 4 / this.satellites + this.rng.range(0, 0.1);
    const fix = this.hasFix;

    const time = formatUtcTime(state.simTimeMs);
    const date = formatUtcDate(state.simTimeMs);
    const lat = formatLatitude(state.lat);
    const lon = formatLongitude(state.lon);
    const knots = (state.speedKmh / KMH_PER_KNOT).toFixed(2);
    const kmh = state.speedKmh.toFixed(2);
    const course = state.headingDeg.toFixed(2);
    const t = this.talker;
    const sentences: string[] = [];

    // RMC (NMEA 0183 v2.3): time, status A/V, position, speed (knots), course, date,
    // magnetic variation (empty), mode A = autonomous / N = no fix.
    sentences.push(
      nmeaSentence(
        fix
          ? `${t}RMC,${time},A,${lat.field},${lat.hemisphere},${lon.field},${lon.hemisphere},${knots},${course},${date},,,A`
          : `${t}RMC,${time},V,,,,,,,${date},,,N`,
      ),
    );
    // VTG: course true / magnetic (empty), speed in knots and km/h, mode.
    if (this.types.has('VTG')) {
      sentences.push(
        nmeaSentence(fix ? `${t}VTG,${course},T,,M,${knots},N,${kmh},K,A` : `${t}VTG,,T,,M,,N,,K,N`),
      );
    }
    const sky = this.sky?.view(state.simTimeMs, fix) ?? [];
    const used = fix ? this.usedSatellites(sky) : [];
    // With a sky model the count is what GSA lists; without one, the drifting count alone.
    const satellitesUsed = fix ? (this.sky ? used.length : this.satellites) : 0;
    // GGA: time, position, fix quality 1 (GPS) / 0 (invalid), satellites used, HDOP, altitude
    // MSL, geoid separation, DGPS age and station (empty).
    if (this.types.has('GGA')) {
      sentences.push(
        nmeaSentence(
          fix
            ? [
                `${t}GGA`,
                time,
                lat.field,
                lat.hemisphere,
                lon.field,
                lon.hemisphere,
                '1',
                String(satellitesUsed).padStart(2, '0'),
                hdop.toFixed(2),
                state.altitudeM.toFixed(1),
                'M',
                this.options.geoidSeparationM.toFixed(1),
                'M',
                '',
                '',
              ].join(',')
            : `${t}GGA,${time},,,,,0,00,99.99,,M,,M,,`,
        ),
      );
    }
    // GSA: mode A (automatic), fix type 3 (3D) / 1 (none), up to 12 ids used, PDOP, HDOP, VDOP.
    // A GN receiver sends one GNGSA per constellation (NMEA 0183 v4.0 practice).
    if (this.types.has('GSA')) {
      const vdop = hdop * 1.3;
      const pdop = Math.sqrt(hdop * hdop + vdop * vdop);
      const systems: SatelliteView['system'][] = t === 'GN' ? ['GPS', 'GLONASS'] : ['GPS'];
      for (const system of systems) {
        const ids = used.filter((s) => s.system === system).map((s) => String(s.id).padStart(2, '0'));
        while (ids.length < 12) ids.push('');
        const dops = fix ? [pdop, hdop, vdop].map((d) => d.toFixed(2)) : ['99.99', '99.99', '99.99'];
        sentences.push(
          nmeaSentence([`${t}GSA`, 'A', fix ? '3' : '1', ...ids.slice(0, 12), ...dops].join(',')),
        );
      }
    }
    // GSV: satellites in view, four per sentence: id, elevation, azimuth, SNR (empty: not tracked).
    if (this.types.has('GSV')) {
      const groups: [string, SatelliteView[]][] =
        t === 'GN'
          ? [
              ['GP', sky.filter((s) => s.system === 'GPS')],
              ['GL', sky.filter((s) => s.system === 'GLONASS')],
            ]
          : [['GP', sky]];
      for (const [talker, sats] of groups) sentences.push(...gsvSentences(talker, sats));
    }
    return {
      timeMs: state.simTimeMs,
      sentences,
      text: sentences.join(''),
      lat,
      lon,
      fix,
      satellitesUsed,
    };
  }

  /** The `satellites` strongest signals are the ones in the solution (GGA count = GSA ids). */
  private usedSatellites(sky: SatelliteView[]): SatelliteView[] {
    return [...sky]
      .filter((s) => s.snrDb !== null)
      .sort((a, b) => b.snrDb! - a.snrDb! || a.id - b.id)
      .slice(0, Math.min(12, this.satellites));
  }
}

/** GSV sentences for one constellation: total count, sentence number, satellites in view. */
export function gsvSentences(talker: string, sats: readonly SatelliteView[]): string[] {
  const total = Math.max(1, Math.ceil(sats.length / 4));
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    const fields = [`${talker}GSV`, String(total), String(i + 1), String(sats.length).padStart(2, '0')];
    for (const s of sats.slice(i * 4, i * 4 + 4)) {
      fields.push(
        String(s.id).padStart(2, '0'),
        String(s.elevationDeg).padStart(2, '0'),
        String(s.azimuthDeg).padStart(3, '0'),
        s.snrDb === null ? '' : String(s.snrDb).padStart(2, '0'),
      );
    }
    out.push(nmeaSentence(fields.join(',')));
  }
  return out;
}
