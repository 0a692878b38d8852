import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createLogger } from '@fleet/shared/log';
import type { ElmErrorAnswer } from '../elm327/faults.ts';
import { MODE01_PIDS } from '../elm327/pids.ts';
import { SimError, SimErrorCode } from '../errors.ts';
import type { Label } from '../scenarios/labels.ts';
import { type AdapterControl, ScenarioRunner } from '../scenarios/runner.ts';
import { buildVehicle, labelsMeta, type VehicleConfig } from '../vehicle/config.ts';
import type { VehicleState } from '../vehicle/model.ts';
import { type CsvExtraColumn, type CsvSample, csvHeader, csvRow } from './format.ts';

/**
 *   ScenarioRunner.advance() x (hours * 3600), no timers, no sockets
 *        | state + adapter/GPS flags after each second's events
 *        v
 *   what a logger polling OBD and reading NMEA would have recorded (PID resolutions, empty
 *   cells when the ECU or adapter is silent) --> CSV rows at --hz --> FILE.csv
 *   labels (sorted by start, meta line first) --> FILE.jsonl
 */
export interface FastForwardOptions extends VehicleConfig {
  /** Simulated duration, hours (> 0). */
  hours: number;
  /** Rows per simulated second, (0...10], default 1. */
  hz?: number;
  out: string;
  labelsOut?: string;
  extraColumns?: readonly CsvExtraColumn[];
  /** Service 01 PIDs the ECU supports; fuel_rate_lph needs 5E, maf_gps needs 10. Default: all. */
  pids?: readonly number[];
}

export interface FastForwardResult {
  rows: number;
  labels: number;
  simulatedS: number;
  elapsedMs: number;
}

const G = 9.81;
const ROWS_PER_WRITE = 4096;

/** The log's view of the adapter: scripted error answers and glitches cost the next samples. */
class LoggedAdapter implements AdapterControl {
  private lostSamples = 0;

  unplug(): void {}
  plugIn(): void {}

  injectAnswer(_answer: ElmErrorAnswer, count: number): void {
    this.lostSamples += count;
  }

  /** The glitched request and the re-initialisation after the banner. */
  powerGlitch(): void {
    this.lostSamples += 2;
  }

  /** Whether this sample's OBD read fails (consumes one lost sample). */
  takeLoss(): boolean {
    if (this.lostSamples === 0) return false;
    this.lostSamples -= 1;
    return true;
  }
}

interface Snapshot {
  state: VehicleState;
  /** The ECU answered through a plugged adapter (before injected errors). */
  obd: boolean;
  fix: boolean;
}

/** Run a scenario for `hours` without real time and write the CSV log and the labels. */
export function runFastForward(options: FastForwardOptions): FastForwardResult {
  const started = performance.now();
  const hz = options.hz ?? 1;
  if (!(hz > 0 && hz <= 10))
    throw new SimError(SimErrorCode.InvalidOption, `--hz must be in (0...10]: ${hz}`);
  const totalS = Math.round(options.hours * 3600);
  if (!(totalS >= 1))
    throw new SimError(SimErrorCode.InvalidOption, `--hours must give >= 1 s: ${options.hours}`);
  const extra = options.extraColumns ?? [];
  const pids = new Set(options.pids ?? [...MODE01_PIDS.keys()]);
  const has = {
    speed: pids.has(0x0d),
    rpm: pids.has(0x0c),
    level: pids.has(0x2f),
    rate: pids.has(0x5e),
    maf: pids.has(0x10),
    coolant: pids.has(0x05),
    odometer: pids.has(0xa6),
  };

  const built = buildVehicle(options);
  const adapter = new LoggedAdapter();
  const labels: Label[] = [];
  const runner = new ScenarioRunner({
    model: built.model,
    scenario: built.scenario,
    seed: options.seed,
    vehicleId: options.id,
    diagnostics: built.diagnostics,
    adapter,
    onLabel: (label) => labels.push(label),
    logger: createLogger('scenario', { vehicle: options.id }),
  });
  const meta = labelsMeta(options, built, runner.thresholds);

  let fd: number;
  try {
    fd = openSync(options.out, 'w');
  } catch (cause) {
    throw new SimError(
      SimErrorCode.InvalidOption,
      `cannot write ${options.out}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  let rows = 0;
  let chunk: string[] = [csvHeader(extra)];
  const flush = (): void => {
    if (chunk.length === 0) return;
    try {
      writeSync(fd, `${chunk.join('\n')}\n`);
    } catch (cause) {
      throw new SimError(SimErrorCode.LogWriteFailed, `cannot write ${options.out}`, { cause });
    }
    chunk = [];
  };

  // One reused sample object: the writer allocates little besides the row strings.
  const row: CsvSample = {
    ts: 0,
    speedKmh: null,
    rpm: null,
    fuelLevelPct: null,
    fuelRateLph: null,
    mafGs: null,
    lat: null,
    lon: null,
    ignition: false,
    coolantC: null,
    odometerKm: null,
    accelXG: 0,
    accelYG: 0,
  };
  /** The sample at fraction f between snapshots a and b (f = 0: a itself). */
  const sample = (ts: number, a: Snapshot, b: Snapshot, f: number): CsvSample => {
    // Between two seconds (--hz > 1): continuous signals interpolate, the sender's reading holds.
    const s = a.state;
    const t = b.state;
    const obd = (f === 0 ? a.obd : a.obd && b.obd) && !adapter.takeLoss();
    row.ts = ts;
    if (obd) {
      const speed = f === 0 ? s.speedKmh : s.speedKmh + (t.speedKmh - s.speedKmh) * f;
      const rpm = f === 0 ? s.rpm : s.rpm + (t.rpm - s.rpm) * f;
      const rate = f === 0 ? s.fuelRateLph : s.fuelRateLph + (t.fuelRateLph - s.fuelRateLph) * f;
      const maf = f === 0 ? s.mafGs : s.mafGs + (t.mafGs - s.mafGs) * f;
      const coolant = f === 0 ? s.coolantC : s.coolantC + (t.coolantC - s.coolantC) * f;
      const km = f === 0 ? s.odometerKm : s.odometerKm + (t.odometerKm - s.odometerKm) * f;
      row.speedKmh = has.speed ? Math.min(255, Math.round(speed)) : null;
      row.rpm = has.rpm ? Math.min(16383.75, Math.round(rpm * 4) / 4) : null;
      row.fuelLevelPct = has.level ? s.fuelLevelPct : null;
      row.fuelRateLph = has.rate ? Math.min(3276.75, Math.round(rate * 20) / 20) : null;
      row.mafGs = has.maf ? Math.min(655.35, Math.round(maf * 100) / 100) : null;
      row.coolantC = has.coolant ? Math.min(215, Math.max(-40, Math.round(coolant))) : null;
      row.odometerKm = has.odometer ? Math.round(km * 10) / 10 : null;
    } else {
      row.speedKmh = row.rpm = row.fuelLevelPct = row.fuelRateLph = row.mafGs = null;
      row.coolantC = row.odometerKm = null;
    }
    if (a.fix) {
      row.lat = nmeaDegrees(f === 0 ? s.lat : s.lat + (t.lat - s.lat) * f);
      row.lon = nmeaDegrees(f === 0 ? s.lon : s.lon + (t.lon - s.lon) * f);
    } else {
      row.lat = row.lon = null;
    }
    row.ignition = s.ignition;
    row.accelXG = s.accelMps2 / G;
    row.accelYG = s.lateralAccelMps2 / G;
    return row;
  };
  const snapshot = (): Snapshot => ({
    state: runner.state,
    obd: runner.state.ignition && runner.adapterPlugged,
    fix: runner.gpsFix,
  });
  const push = (s: CsvSample): void => {
    chunk.push(csvRow(s, extra));
    rows += 1;
    if (chunk.length >= ROWS_PER_WRITE) flush();
  };

  try {
    runner.begin();
    let prev = snapshot();
    const t0 = prev.state.simTimeMs;
    push(sample(t0, prev, prev, 0));
    let k = 1; // next row: at k / hz seconds
    for (let t = 1; t <= totalS; t++) {
      runner.advance();
      const cur = snapshot();
      for (let tau = k / hz; tau <= t + 1e-9; tau = ++k / hz) {
        const f = tau - (t - 1);
        const ts = t0 + Math.round(tau * 1000);
        push(f >= 1 - 1e-9 ? sample(ts, cur, cur, 0) : sample(ts, prev, cur, f));
      }
      prev = cur;
    }
    runner.finish();
    flush();
  } finally {
    closeSync(fd);
  }

  if (options.labelsOut) {
    const sorted = [...labels].sort((a, b) => a.start - b.start || a.type.localeCompare(b.type));
    const text = [meta, ...sorted].map((l) => JSON.stringify(l)).join('\n');
    try {
      writeFileSync(options.labelsOut, `${text}\n`);
    } catch (cause) {
      throw new SimError(SimErrorCode.LabelsWriteFailed, `cannot write ${options.labelsOut}`, { cause });
    }
  }
  return { rows, labels: labels.length, simulatedS: totalS, elapsedMs: performance.now() - started };
}

/** Degrees as an NMEA field pair reads back: rounded to 1e-4 minute (same as sentence.ts). */
function nmeaDegrees(value: number): number {
  const units = Math.round(Math.abs(value) * 600_000);
  const deg = Math.floor(units / 600_000);
  const degrees = deg + (units - deg * 600_000) / 10_000 / 60;
  return value < 0 ? -degrees : degrees;
}
