/**
 * NMEA 0183 sentence building blocks: `$<talker><type>,<fields>*HH<CR><LF>` where HH is the XOR
 * of every character between `$` and `*`, two uppercase hex digits (NMEA 0183 section 5.3).
 */

/** XOR checksum of the characters between `$` and `*`. */
export function nmeaChecksum(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

/** A complete sentence with checksum and CR LF from its body (`GPRMC,...`, without `$` or `*`). */
export function nmeaSentence(body: string): string {
  return `$${body}*${nmeaChecksum(body)}\r\n`;
}

export interface NmeaCoordinate {
  /** `ddmm.mmmm` (latitude) or `dddmm.mmmm` (longitude). */
  readonly field: string;
  readonly hemisphere: 'N' | 'S' | 'E' | 'W';
  /**
   * Signed decimal degrees exactly as a reader gets them back from the two fields:
   * degrees + minutes / 60, negated for S and W. Ground truth compares against this.
   */
  readonly degrees: number;
}

/** Four decimals of a minute: 1/600000 degree, about 0.19 m of latitude. */
const MINUTE_DECIMALS = 4;
const MINUTE_SCALE = 10 ** MINUTE_DECIMALS;

function formatCoordinate(
  value: number,
  degreeDigits: 2 | 3,
  positive: 'N' | 'E',
  negative: 'S' | 'W',
): NmeaCoordinate {
  // Round once, in integer units of 1e-4 minute, so 59.99996' carries into the degrees
  // instead of printing "60.0000".
  const units = Math.round(Math.abs(value) * 60 * MINUTE_SCALE);
  const deg = Math.floor(units / (60 * MINUTE_SCALE));
  const minUnits = units - deg * 60 * MINUTE_SCALE;
  const minutes = `${String(Math.floor(minUnits / MINUTE_SCALE)).padStart(2, '0')}.${String(minUnits % MINUTE_SCALE).padStart(MINUTE_DECIMALS, '0')}`;
  const field = `${String(deg).padStart(degreeDigits, '0')}${minutes}`;
  const hemisphere = value < 0 && units > 0 ? negative : positive;
  return { field, hemisphere, degrees: parseNmeaCoordinate(field, hemisphere) };
}

export function formatLatitude(lat: number): NmeaCoordinate {
  return formatCoordinate(lat, 2, 'N', 'S');
}

export function formatLongitude(lon: number): NmeaCoordinate {
  return formatCoordinate(lon, 3, 'E', 'W');
}

/** `ddmm.mmmm` / `dddmm.mmmm` + hemisphere back to signed decimal degrees. */
export function parseNmeaCoordinate(field: string, hemisphere: string): number {
  const dot = field.indexOf('.');
  const degDigits = (dot < 0 ? field.length : dot) - 2;
  const degrees = Number(field.slice(0, degDigits)) + Number(field.slice(degDigits)) / 60;
  return hemisphere === 'S' || hemisphere === 'W' ? -degrees : degrees;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** UTC time of day `hhmmss.ss`. */
export function formatUtcTime(epochMs: number): string {
  const d = new Date(epochMs);
  const centis = Math.floor(d.getUTCMilliseconds() / 10);
  return `${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}.${pad2(centis)}`;
}

/** UTC date `ddmmyy` (two-digit year, as RMC carries it). */
export function formatUtcDate(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad2(d.getUTCDate())}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCFullYear() % 100)}`;
}
