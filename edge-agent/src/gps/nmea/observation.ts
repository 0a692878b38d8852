/**
 * What one decoded sentence says about the current epoch. The epoch assembler merges the
 * observations that share one UTC time into one fix; a field is absent when the sentence does
 * not carry it (or carries it empty).
 */
export interface NmeaObservation {
  /** Sentence formatter (RMC, GGA, ...), for logs and the "later wins" order. */
  kind: string;
  /** Talker id (GP, GN, GL, ...): SiRFstarV sends one GGA per constellation. */
  talker?: string;
  /** UTC time of day, ms since midnight: the epoch key. */
  timeOfDayMs?: number;
  /**
   * A sentence type that normally carries the time (RMC, GGA, GLL, GNS, ZDA) sent it empty: a
   * receiver without a fix (Quectel's `$GPRMC,,V,,,,,,,,,,N`). It stands alone and ends the
   * epoch in progress, as gpsd forces a report on it.
   */
  timeless?: true;
  /** UTC midnight of the sentence's date, epoch ms (RMC ddmmyy, ZDA dd,mm,yyyy). */
  dateMs?: number;
  /** The sentence says there is no valid fix (RMC `V`, GGA quality 0, GSA mode 1, ...). */
  noFix?: true;
  lat?: number;
  lon?: number;
  speedKnots?: number;
  courseDeg?: number;
  /** Metres above mean sea level. */
  altitudeM?: number;
  /** GGA fix quality: 1 GPS, 2 DGPS, 4/5 RTK, 6 dead reckoning, ... */
  quality?: number;
  satellitesUsed?: number;
  hdop?: number;
  pdop?: number;
  vdop?: number;
  /** GSA: navigation mode (2 = 2D, 3 = 3D) and the PRNs used, per talker/system. */
  gsa?: { mode: 2 | 3; system: string; prns: string[] };
  /** GSV: satellites in view for one constellation (talker + NMEA 4.1 signal id). */
  gsv?: { system: string; inView: number };
  /** GST: 1-sigma latitude / longitude error, metres. */
  latErrM?: number;
  lonErrM?: number;
}

/** A field that is present but cannot be read: the whole sentence is refused. */
export const MALFORMED = 'malformed' as const;

export const DAY_MS = 86_400_000;

/** `hhmmss[.s...]` -> ms since UTC midnight; null when empty. Second 60 is a leap second. */
export function parseNmeaTime(text: string): number | null | typeof MALFORMED {
  if (text === '') return null;
  const m = /^(\d{2})(\d{2})(\d{2})(\.\d*)?$/.exec(text);
  if (!m) return MALFORMED;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || min > 59 || s > 60) return MALFORMED;
  const frac = m[4] && m[4].length > 1 ? Math.round(Number(`0${m[4]}`) * 1000) : 0;
  return ((h * 60 + min) * 60 + s) * 1000 + frac;
}

/**
 * Two-digit years: 80-99 are 1980-1999 and 00-79 are 2000-2079, gpsd's pivot (GPS time starts
 * in 1980). A receiver sending 99 in 2019 is one hit by the week rollover: the epoch assembler
 * moves such dates forward by 1024 weeks.
 */
export function fullYear(yy: number): number {
  return yy >= 80 ? 1900 + yy : 2000 + yy;
}

/** RMC `ddmmyy` -> UTC midnight (epoch ms); null when empty. */
export function parseNmeaDate(text: string): number | null | typeof MALFORMED {
  if (text === '') return null;
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return MALFORMED;
  return utcMidnight(fullYear(Number(m[3])), Number(m[2]), Number(m[1]));
}

/** UTC midnight of a calendar date, or MALFORMED when the date does not exist (31 Feb). */
export function utcMidnight(year: number, month: number, day: number): number | typeof MALFORMED {
  if (month < 1 || month > 12 || day < 1 || day > 31) return MALFORMED;
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return MALFORMED;
  return ms;
}

/** A decimal field: null when empty, MALFORMED when not a finite number. */
export function parseDecimal(text: string): number | null | typeof MALFORMED {
  if (text === '') return null;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) return MALFORMED;
  return Number(text);
}
