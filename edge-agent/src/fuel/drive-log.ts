import { splitCsvLine } from '@fleet/shared';
/**
 * The drive log: one sample per row, what a logger on the vehicle recorded, as the detectors see
 * it. The same shape comes from the CSV log format (firmware-sim writes it, `fleet-agent replay`
 * reads it), from a Torque Pro export (torque-log.ts) and from the live agent's samples.
 *
 * CSV log format (header row required, column order free, unknown columns ignored):
 *   ts              ISO 8601 (2024-05-01T08:00:00.000Z) or epoch milliseconds
 *   speed_kmh       PID 0D, km/h
 *   rpm             PID 0C
 *   fuel_level_pct  PID 2F as read: 0..100 in 100/255 % steps (raw, with slosh)
 *   fuel_rate_lph   PID 5E, L/h
 *   maf_gps         PID 10, g/s
 *   lat, lon        degrees
 *   ignition        1/0 (also true/false, on/off)
 * optional: coolant_c, odometer_km, accel_x_g (longitudinal, g), accel_y_g (lateral, g)
 * An empty cell is a missing value. A row that cannot be read (bad time, non-numeric cell, wrong
 * cell count) is skipped and reported with its line number; it never stops the parse.
 */

export interface DriveSample {
  /** Epoch ms. */
  ts: number;
  speedKmh: number | null;
  rpm: number | null;
  /** Raw PID 2F reading, percent of the sender's range (not calibrated, not filtered). */
  fuelLevelPct: number | null;
  fuelRateLph: number | null;
  mafGps: number | null;
  lat: number | null;
  lon: number | null;
  /** null: not known (a log without the column; the detectors then infer it from rpm). */
  ignition: boolean | null;
  coolantC?: number | null;
  odometerKm?: number | null;
  /** Longitudinal acceleration, g, positive forwards. */
  accelXG?: number | null;
  /** Lateral acceleration, g. */
  accelYG?: number | null;
}

export interface DriveLogError {
  /** 1-based line number in the text. */
  line: number;
  reason: string;
}

export interface DriveLogParse {
  samples: DriveSample[];
  errors: DriveLogError[];
}

type NumField = Exclude<keyof DriveSample, 'ts' | 'ignition'>;

const NUMERIC_COLUMNS: Record<string, NumField> = {
  speed_kmh: 'speedKmh',
  rpm: 'rpm',
  fuel_level_pct: 'fuelLevelPct',
  fuel_rate_lph: 'fuelRateLph',
  maf_gps: 'mafGps',
  lat: 'lat',
  lon: 'lon',
  coolant_c: 'coolantC',
  odometer_km: 'odometerKm',
  accel_x_g: 'accelXG',
  accel_y_g: 'accelYG',
};

/** Plausible bounds per column; a value outside is a bad row (a corrupt cell, not a reading). */
const BOUNDS: Partial<Record<NumField, [number, number]>> = {
  speedKmh: [0, 400],
  rpm: [0, 20_000],
  fuelLevelPct: [0, 100.5],
  fuelRateLph: [0, 3276.75],
  mafGps: [0, 655.35],
  lat: [-90, 90],
  lon: [-180, 180],
};

const ISO_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** Epoch ms from an ISO 8601 string or an epoch-ms number; NaN when it is neither. */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^\d{9,14}(\.\d+)?$/.test(t)) return Math.round(Number(t));
  if (!ISO_RE.test(t)) return Number.NaN;
  return Date.parse(t);
}

function parseIgnition(text: string): boolean | null | undefined {
  switch (text.trim().toLowerCase()) {
    case '':
      return null;
    case '1':
    case 'true':
    case 'on':
      return true;
    case '0':
    case 'false':
    case 'off':
      return false;
    default:
      return undefined;
  }
}

/**
 * Parses the CSV log format. Never throws: a missing `ts` header column is reported as an error
 * on line 1 with no samples; bad rows are skipped with their line and reason.
 */
export function parseDriveLogCsv(text: string): DriveLogParse {
  const samples: DriveSample[] = [];
  const errors: DriveLogError[] = [];
  const lines = text.split(/\r?\n/);
  let headerIdx = 0;
  while (headerIdx < lines.length && lines[headerIdx]!.trim() === '') headerIdx++;
  if (headerIdx >= lines.length) {
    errors.push({ line: 1, reason: 'empty file: no header row' });
    return { samples, errors };
  }
  const header = splitCsvLine(lines[headerIdx]!.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
  const tsCol = header.indexOf('ts');
  if (tsCol < 0) {
    errors.push({
      line: headerIdx + 1,
      reason: `header has no "ts" column (got: ${header.slice(0, 12).join(',')})`,
    });
    return { samples, errors };
  }
  const ignCol = header.indexOf('ignition');
  const numCols: [number, NumField][] = [];
  header.forEach((name, i) => {
    const field = NUMERIC_COLUMNS[name];
    if (field) numCols.push([i, field]);
  });
  const hasExtra = new Set(numCols.map(([, f]) => f));

  for (let li = headerIdx + 1; li < lines.length; li++) {
    const raw = lines[li]!;
    if (raw.trim() === '') continue;
    const cells = splitCsvLine(raw);
    if (cells.length !== header.length) {
      errors.push({
        line: li + 1,
        reason: `${cells.length} cells, header has ${header.length}`,
      });
      continue;
    }
    const ts = parseTimestamp(cells[tsCol]!);
    if (!Number.isFinite(ts)) {
      errors.push({ line: li + 1, reason: `bad ts "${cells[tsCol]!.slice(0, 40)}"` });
      continue;
    }
    const s: DriveSample = {
      ts,
      speedKmh: null,
      rpm: null,
      fuelLevelPct: null,
      fuelRateLph: null,
      mafGps: null,
      lat: null,
      lon: null,
      ignition: null,
    };
    if (hasExtra.has('coolantC')) s.coolantC = null;
    if (hasExtra.has('odometerKm')) s.odometerKm = null;
    if (hasExtra.has('accelXG')) s.accelXG = null;
    if (hasExtra.has('accelYG')) s.accelYG = null;
    let bad: string | null = null;
    for (const [i, field] of numCols) {
      const cell = cells[i]!.trim();
      if (cell === '') continue;
      const v = Number(cell);
      if (!Number.isFinite(v)) {
        bad = `${header[i]} "${cell.slice(0, 20)}" is not a number`;
        break;
      }
      const b = BOUNDS[field];
      if (b && (v < b[0] || v > b[1])) {
        bad = `${header[i]} ${v} outside ${b[0]}..${b[1]}`;
        break;
      }
      s[field] = v;
    }
    if (bad === null && ignCol >= 0) {
      const ign = parseIgnition(cells[ignCol]!);
      if (ign === undefined) bad = `ignition "${cells[ignCol]!.slice(0, 20)}" is not 1/0`;
      else s.ignition = ign;
    }
    if (bad !== null) {
      errors.push({ line: li + 1, reason: bad });
      continue;
    }
    samples.push(s);
  }
  return { samples, errors };
}
