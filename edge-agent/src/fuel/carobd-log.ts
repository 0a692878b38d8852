import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { DriveLogError, DriveLogParse, DriveSample } from './drive-log.ts';

/**
 * A carOBD log (github.com/eron93br/carOBD: a Carloop logger on the OBD-II port) as drive samples.
 *
 * The files are gzip-compressed CSV (plain CSV is read too) with one header line of PID names
 * followed by " ()": `ENGINE_RUN_TINE ()` (sic, PID 1F, seconds since engine start),
 * `ENGINE_RPM ()`, `VEHICLE_SPEED ()` (km/h), `FUEL_TANK ()` (PID 2F, %), `COOLANT_TEMPERATURE ()`
 * and 22 more the detectors do not use. Rows end in CRLF, most with a trailing comma; the last row
 * of a trip can be cut short where the logger lost power.
 *
 * There is no wall clock: the logger wrote about two rows per second but only the run-time column
 * says when, in whole seconds, and several rows share one value. Timestamps are synthesized from
 * it: the rows that share a run time are spread evenly up to the next run time, so the stream is
 * strictly increasing at its real pace (the last group at NOMINAL_ROW_MS). If the run time falls
 * back (an engine restart inside one log), time continues from where it was, as the length of the
 * stop is not known. `startMs` places run time 0; by default the epoch, which is honest about a log
 * that carries no date.
 *
 * No ignition, position, MAF or fuel-rate column: those are null (the detectors infer ignition
 * from rpm and fall back to their idle consumption).
 */

/** The logger's row interval (2 rows/s), used where the run time cannot tell. */
const NOMINAL_ROW_MS = 500;

type Column = 'runTimeS' | 'rpm' | 'speedKmh' | 'fuelLevelPct' | 'coolantC';

/** Header names per field (the source's typo first), and plausible ranges: a value outside is a corrupt cell. */
const COLUMNS: Record<Column, { names: string[]; range: [number, number] }> = {
  runTimeS: { names: ['ENGINE_RUN_TINE', 'ENGINE_RUN_TIME'], range: [0, 65_535] },
  rpm: { names: ['ENGINE_RPM'], range: [0, 16_383.75] },
  speedKmh: { names: ['VEHICLE_SPEED'], range: [0, 255] },
  fuelLevelPct: { names: ['FUEL_TANK'], range: [0, 100.5] },
  coolantC: { names: ['COOLANT_TEMPERATURE'], range: [-40, 215] },
};

export interface CarObdOptions {
  /** Epoch ms of run time 0 (default 0: the log has no date). */
  startMs?: number;
}

interface Row {
  line: number;
  runTimeS: number;
  values: Record<Exclude<Column, 'runTimeS'>, number | null>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** "ENGINE_RUN_TINE ()" -> "ENGINE_RUN_TINE". */
const columnName = (h: string): string =>
  h
    .trim()
    .replace(/\s*\([^)]*\)$/, '')
    .toUpperCase();

/** Parses a carOBD log (gzip or plain CSV bytes). Never throws: bad rows come back by line. */
export function parseCarObdLog(data: Uint8Array, options: CarObdOptions = {}): DriveLogParse {
  let text: string;
  try {
    const gz = data[0] === GZIP_MAGIC[0] && data[1] === GZIP_MAGIC[1];
    text = Buffer.from(gz ? gunzipSync(data) : data).toString('utf8');
  } catch (cause) {
    return {
      samples: [],
      errors: [{ line: 1, reason: `not a readable gzip file: ${(cause as Error).message}` }],
    };
  }
  return parseCarObdCsv(text, options);
}

/** Parses the CSV text of a carOBD log. Never throws. */
export function parseCarObdCsv(text: string, options: CarObdOptions = {}): DriveLogParse {
  const errors: DriveLogError[] = [];
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '')
    .replace(/^\uFEFF/, '')
    .split(',')
    .map(columnName);
  // A trailing comma leaves an empty last header cell in some exports: not a column.
  while (header.length > 0 && header[header.length - 1] === '') header.pop();
  const index = Object.fromEntries(
    Object.entries(COLUMNS).map(([key, c]) => [key, header.findIndex((h) => c.names.includes(h))]),
  ) as Record<Column, number>;
  if (index.runTimeS < 0) {
    errors.push({ line: 1, reason: 'not a carOBD log: no "ENGINE_RUN_TINE ()" run-time column' });
    return { samples: [], errors };
  }

  const rows: Row[] = [];
  for (let li = 1; li < lines.length; li++) {
    const raw = lines[li]!;
    if (raw.trim() === '') continue;
    const cells = raw.split(',');
    // Most rows end with a comma: one empty cell past the header.
    if (cells.length === header.length + 1 && cells[header.length]!.trim() === '') cells.pop();
    if (cells.length !== header.length) {
      errors.push({ line: li + 1, reason: `${cells.length} cells, header has ${header.length}` });
      continue;
    }
    const read = (c: Column): number | null | string => {
      const i = index[c];
      if (i < 0) return null;
      const cell = cells[i]!.trim();
      if (cell === '') return null;
      const v = Number(cell);
      const [lo, hi] = COLUMNS[c].range;
      if (!Number.isFinite(v)) return `${header[i]} "${cell.slice(0, 20)}" is not a number`;
      if (v < lo || v > hi) return `${header[i]} ${v} outside ${lo}..${hi}`;
      return v;
    };
    const got = Object.fromEntries((Object.keys(COLUMNS) as Column[]).map((c) => [c, read(c)]));
    const bad = Object.values(got).find((v) => typeof v === 'string');
    if (bad !== undefined) {
      errors.push({ line: li + 1, reason: bad as string });
      continue;
    }
    const { runTimeS, ...values } = got as Record<Column, number | null>;
    if (runTimeS === null) {
      errors.push({ line: li + 1, reason: `${header[index.runTimeS]} is empty` });
      continue;
    }
    rows.push({ line: li + 1, runTimeS, values });
  }
  return { samples: timeRows(rows, options.startMs ?? 0), errors };
}

/** Drive samples with timestamps synthesized from the run time (see the file comment). */
function timeRows(rows: Row[], startMs: number): DriveSample[] {
  const samples: DriveSample[] = [];
  // Run time -> log time: grows by the stop's unknown length on an engine restart.
  let restartOffsetMs = 0;
  let i = 0;
  while (i < rows.length) {
    const t = rows[i]!.runTimeS;
    let j = i;
    while (j < rows.length && rows[j]!.runTimeS === t) j++;
    const next = rows[j]?.runTimeS;
    const spanMs = next !== undefined && next > t ? (next - t) * 1000 : (j - i) * NOMINAL_ROW_MS;
    const groupStart = startMs + restartOffsetMs + t * 1000;
    for (let k = i; k < j; k++) {
      const r = rows[k]!;
      samples.push({
        ts: Math.round(groupStart + ((k - i) * spanMs) / (j - i)),
        speedKmh: r.values.speedKmh,
        rpm: r.values.rpm,
        fuelLevelPct: r.values.fuelLevelPct,
        fuelRateLph: null,
        mafGps: null,
        lat: null,
        lon: null,
        ignition: null,
        coolantC: r.values.coolantC,
      });
    }
    if (next !== undefined && next < t) restartOffsetMs += t * 1000 + spanMs;
    i = j;
  }
  return samples;
}

/** Reads a carOBD log file; an unreadable file is LogNotFound, bad content comes back as errors. */
export function readCarObdLog(path: string, options: CarObdOptions = {}): DriveLogParse {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (cause) {
    throw new AgentError(AgentErrorCode.LogNotFound, `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseCarObdLog(data, options);
}
