import { SimError, SimErrorCode } from '../errors.ts';

/**
 * The CSV log format: what a logger on the vehicle would have recorded, one row per sample
 * (1 Hz by default), for detector benchmarks. This is a contract with the benchmark's reader;
 * it belongs in `shared/` once a second package reads it (see the README).
 *
 *   ts              ISO 8601 UTC with milliseconds (2024-05-01T08:00:00.000Z)
 *   speed_kmh       PID 0D, integer km/h
 *   rpm             PID 0C, 0.25 rpm steps
 *   fuel_level_pct  PID 2F, the tank sender reading with slosh, 100/255 % steps (4 decimals,
 *                   enough to recover the byte: A = round(pct * 2.55))
 *   fuel_rate_lph   PID 5E, 0.05 L/h steps (2 decimals)
 *   maf_gps         PID 10, 0.01 g/s steps (2 decimals)
 *   lat, lon        GPS position as the NMEA sentences give it, degrees (7 decimals)
 *   ignition        1 / 0: the ignition key (ground truth; a logger infers it from ATRV)
 * optional (--columns):
 *   coolant_c       PID 05, integer degrees C
 *   odometer_km     PID A6, 0.1 km steps
 *   accel_x_g       longitudinal acceleration over the last second, g (3 decimals), from an IMU
 *   accel_y_g       lateral acceleration, g, positive to the left (3 decimals), from an IMU
 *
 * Empty cell = no value: OBD columns are empty while the ECU is silent (ignition off), the
 * adapter is unplugged, or an injected error answer hit that sample; fuel_rate_lph / maf_gps
 * also when the ECU does not support the PID; lat/lon while the GPS has no fix.
 */
export const CSV_BASE_COLUMNS = [
  'ts',
  'speed_kmh',
  'rpm',
  'fuel_level_pct',
  'fuel_rate_lph',
  'maf_gps',
  'lat',
  'lon',
  'ignition',
] as const;

export const CSV_EXTRA_COLUMNS = ['coolant_c', 'odometer_km', 'accel_x_g', 'accel_y_g'] as const;
export type CsvExtraColumn = (typeof CSV_EXTRA_COLUMNS)[number];

export function parseExtraColumns(text: string): CsvExtraColumn[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return [...CSV_EXTRA_COLUMNS];
  for (const n of names) {
    if (!(CSV_EXTRA_COLUMNS as readonly string[]).includes(n)) {
      throw new SimError(
        SimErrorCode.InvalidOption,
        `unknown column "${n}" (optional columns: ${CSV_EXTRA_COLUMNS.join(', ')}, or all)`,
      );
    }
  }
  // Always in the documented order, whatever order they were asked in.
  return CSV_EXTRA_COLUMNS.filter((c) => names.includes(c));
}

export function csvHeader(extra: readonly CsvExtraColumn[]): string {
  return [...CSV_BASE_COLUMNS, ...extra].join(',');
}

/** One sample as the logger saw it; null = empty cell. */
export interface CsvSample {
  ts: number;
  speedKmh: number | null;
  rpm: number | null;
  fuelLevelPct: number | null;
  fuelRateLph: number | null;
  mafGs: number | null;
  lat: number | null;
  lon: number | null;
  ignition: boolean;
  coolantC: number | null;
  odometerKm: number | null;
  accelXG: number;
  accelYG: number;
}

const SCALE = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000];

/**
 * Fixed-point text of v with `decimals` digits, by integer arithmetic (several times quicker than
 * toFixed on the hot path of a 100k-rows/s writer), never "-0.000".
 */
export function fixed(v: number, decimals: number): string {
  const scale = SCALE[decimals]!;
  const r = Math.round(Math.abs(v) * scale);
  const sign = v < 0 && r !== 0 ? '-' : '';
  if (decimals === 0) return `${sign}${r}`;
  const whole = Math.floor(r / scale);
  const frac = String(r - whole * scale);
  return `${sign}${whole}.${'0000000'.slice(0, decimals - frac.length)}${frac}`;
}

const cell = (v: number | null, decimals: number): string => (v === null ? '' : fixed(v, decimals));

let dayStart = Number.NaN;
let dayPrefix = '';
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** ISO 8601 UTC with milliseconds, like Date#toISOString, with the date part cached per day. */
export function isoTime(ms: number): string {
  if (!(ms >= dayStart && ms < dayStart + 86_400_000)) {
    dayStart = Math.floor(ms / 86_400_000) * 86_400_000;
    dayPrefix = new Date(dayStart).toISOString().slice(0, 11);
  }
  let rest = ms - dayStart;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  return `${dayPrefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

export function csvRow(s: CsvSample, extra: readonly CsvExtraColumn[]): string {
  let row = `${isoTime(s.ts)},${cell(s.speedKmh, 0)},${cell(s.rpm, 2)},${cell(s.fuelLevelPct, 4)},${cell(s.fuelRateLph, 2)},${cell(s.mafGs, 2)},${cell(s.lat, 7)},${cell(s.lon, 7)},${s.ignition ? '1' : '0'}`;
  for (const c of extra) {
    if (c === 'coolant_c') row += `,${cell(s.coolantC, 0)}`;
    else if (c === 'odometer_km') row += `,${cell(s.odometerKm, 1)}`;
    else if (c === 'accel_x_g') row += `,${fixed(s.accelXG, 3)}`;
    else row += `,${fixed(s.accelYG, 3)}`;
  }
  return row;
}
