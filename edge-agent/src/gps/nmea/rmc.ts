import { MALFORMED, type NmeaObservation, parseNmeaDate, parseNmeaTime } from './observation.ts';
import { type NmeaSentence, parseLatLon } from './sentence.ts';

export const KNOTS_TO_KMH = 1.852;

/** gpsd's fix modes: 1 no fix, 2 horizontal position only, 3 position and altitude. */
export type GpsFixMode = 1 | 2 | 3;

/**
 * A position fix, whatever the source (raw NMEA or gpsd): one per receiver epoch, every
 * sentence (or gpsd report) of that epoch merged. Only epochs with a valid position become a
 * GpsFix, so `mode` is 2 or 3 here; epochs without a fix are reported as GpsNoFix (mode 1).
 * Numbers are null when the receiver did not send them.
 */
export interface GpsFix {
  /** Epoch ms, UTC, from the receiver's clock. */
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  /** Course over ground, degrees true. */
  courseDeg: number | null;
  /** Altitude above mean sea level, metres. */
  altitudeM: number | null;
  mode: 2 | 3;
  satellitesUsed: number | null;
  satellitesVisible: number | null;
  hdop: number | null;
  pdop: number | null;
  vdop: number | null;
  /**
   * Estimated horizontal position error, metres (~95 %): HDOP x the user-equivalent range
   * error gpsd assumes (19 m, or 4.75 m with DGPS/RTK corrections), or gpsd's own TPV `eph`.
   */
  ephM: number | null;
  source: 'nmea' | 'gpsd';
}

/** An epoch (or gpsd report) without a usable position: the receiver is searching. */
export interface GpsNoFix {
  /** Epoch ms when the receiver sent a dated time, else null. */
  ts: number | null;
  mode: 1;
  satellitesUsed: number | null;
  satellitesVisible: number | null;
  source: 'nmea' | 'gpsd';
}

/**
 * RMC (recommended minimum): time, status, lat, N/S, lon, E/W, speed (knots), course, date
 * (ddmmyy), magnetic variation, E/W, [FAA mode (2.3+)], [navigational status (4.1+)].
 * Status `V` (navigation receiver warning) means no valid fix: gpsd notes that several chips
 * (MTK3301, RGM-3800) also send bogus dates then, so a `V` sentence gives no date (its time of
 * day only closes the epoch). FAA mode `N` (data not valid) is a warning too.
 */
export function decodeRmc(s: NmeaSentence): NmeaObservation | string {
  const [time = '', status = '', lat = '', ns = '', lon = '', ew = '', speed = '', course = '', date = ''] =
    s.fields;
  const faaMode = s.fields[11] ?? '';
  const obs: NmeaObservation = { kind: 'RMC' };
  const timeOfDayMs = parseNmeaTime(time);
  if (timeOfDayMs === null) obs.timeless = true;
  if ((status !== 'A' && status !== 'D') || faaMode === 'N') {
    // Its time of day still delimits the epoch (a no-fix epoch); its date is not trusted.
    if (typeof timeOfDayMs === 'number') obs.timeOfDayMs = timeOfDayMs;
    return { ...obs, noFix: true };
  }
  const dateMs = parseNmeaDate(date);
  if (timeOfDayMs === MALFORMED || dateMs === MALFORMED) return 'RMC time or date malformed';
  if (timeOfDayMs !== null) obs.timeOfDayMs = timeOfDayMs;
  if (dateMs !== null && timeOfDayMs !== null) obs.dateMs = dateMs;
  const la = parseLatLon(lat, ns, 2);
  const lo = parseLatLon(lon, ew, 3);
  if (la === null || lo === null) {
    if (lat || lon) return 'RMC position malformed';
    return { ...obs, noFix: true };
  }
  obs.lat = la;
  obs.lon = lo;
  const knots = speed === '' ? null : Number(speed);
  const courseDeg = course === '' ? null : Number(course);
  if (knots !== null && Number.isFinite(knots) && knots >= 0) obs.speedKnots = knots;
  if (courseDeg !== null && Number.isFinite(courseDeg)) obs.courseDeg = courseDeg;
  return obs;
}

/**
 * One RMC sentence alone -> a fix (no merging with the rest of the epoch, no rollover
 * correction): the building block the epoch reader and its tests share.
 */
export function fixFromRmc(s: NmeaSentence): GpsFix | null {
  if (s.type !== 'RMC') return null;
  const obs = decodeRmc(s);
  if (typeof obs === 'string' || obs.noFix || obs.lat === undefined || obs.lon === undefined) return null;
  if (obs.timeOfDayMs === undefined || obs.dateMs === undefined) return null;
  return {
    ts: obs.dateMs + obs.timeOfDayMs,
    lat: obs.lat,
    lon: obs.lon,
    speedKmh: obs.speedKnots === undefined ? null : obs.speedKnots * KNOTS_TO_KMH,
    courseDeg: obs.courseDeg ?? null,
    altitudeM: null,
    mode: 2,
    satellitesUsed: null,
    satellitesVisible: null,
    hdop: null,
    pdop: null,
    vdop: null,
    ephM: null,
    source: 'nmea',
  };
}
