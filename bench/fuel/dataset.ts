/**
 * Labelled drive logs for the fuel detector benchmark, generated in-process by firmware-sim's
 * fast-forward (the same code as `firmware-sim log`) and cached under os.tmpdir().
 *
 *   RunSpec (scenario, seed, tank, shape, sender model, noise, route, profile, PIDs)
 *        | runFastForward()  --> FILE.csv (the CSV log format) + FILE.jsonl (meta + labels)
 *        | sender noise overlay (ideal sender only; seeded, re-quantised to PID 2F's 1/255 steps)
 *        v
 *   cache dir: <tmpdir>/fleet-fuel-bench/<id>-<hash>.{csv,jsonl}, regenerated when missing
 *        | loadRun(): the agent's own CSV parser (edge-agent/src/fuel/drive-log.ts) + labels
 *        v
 *   LoadedRun { samples, meta, truths, drivingMs }
 *
 * Two sets that share no seed:
 *   held-out  seeds >= 1000: what the benchmark scores. The detectors' author never sees them.
 *   tuning    seeds 1-99: the same kinds of runs, smaller, for whoever tunes the detectors
 *             (`pnpm exec tsx bench/fuel/dataset.ts --set tuning` writes them and prints paths).
 *
 * The held-out set spans tank sizes 40-400 L and three tank shapes, thefts of 2-50 % of the tank
 * (custom scenarios: the built-in fuel-theft scenario only takes 10-30 L), slow leaks of 0.3-3 L/h,
 * refuels, and long drives with aggressive driving and harsh events (the slosh that makes false
 * drains) for the false-drain rate.
 *
 * Two sender models (firmware-sim/src/vehicle/fuel-sender.ts), the same runs and seeds for each:
 *   ideal  the simulator's first sender. It has no noise option, so extra sender noise (sigma 0.3
 *          or 0.6 % of the tank, on top of its own slosh and 0.1-0.3 % noise) is added here to a
 *          third of the runs each, then rounded back to the 1/255 grid a real ECU reports. Its
 *          files and cache names are what they were before the real model existed.
 *   real   tilt, slosh waves, settling for minutes after stops and starts, float hysteresis,
 *          thermal expansion, tuned on real trips (bench/fuel-sender.ts); no overlay (it brings its
 *          own noise). A third of the runs have an ECU that damps (60 s) and rate-limits
 *          (0.1 %/s) the level, as many clusters and ECUs do; the rest report it raw.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type DriveSample, parseDriveLogCsv } from '../../edge-agent/src/fuel/drive-log.ts';
import { runFastForward } from '../../firmware-sim/src/csv-log/fast-forward.ts';
import { parseScenario, type ScenarioDefinition } from '../../firmware-sim/src/scenarios/format.ts';
import type { Label, LabelsMeta } from '../../firmware-sim/src/scenarios/labels.ts';
import {
  type RealSenderParams,
  SENDER_MODELS,
  type SenderModelName,
} from '../../firmware-sim/src/vehicle/fuel-sender.ts';
import type { SpeedProfile } from '../../firmware-sim/src/vehicle/model.ts';
import { Random } from '../../firmware-sim/src/vehicle/random.ts';
import type { TankShape } from '../../firmware-sim/src/vehicle/tank.ts';
import { LABEL_EVENT_TYPE, type Truth } from './score.ts';

/** Bump when the generation changes, so stale cached files are not reused. */
const DATASET_VERSION = 1;
const START_MS = Date.UTC(2024, 4, 1, 6);

export type RunGroup = 'theft-sweep' | 'leak' | 'refuel' | 'long-drive';
export type DatasetSet = 'held-out' | 'tuning';

export interface RunSpec {
  id: string;
  group: RunGroup;
  seed: number;
  hours: number;
  hz: number;
  tankLitres: number;
  tankShape: TankShape;
  route: string;
  speedProfile: SpeedProfile;
  /** Extra sender noise, sigma in % of the tank (0: the simulator's own only; ideal sender only). */
  noisePct: number;
  /** Service 01 PIDs the ECU answers; without 5E the engine's consumption comes from MAF. */
  pids: number[];
  scenario: ScenarioDefinition;
  /** Fuel sender model behind PID 2F; the real one's parameters over its tuned defaults. */
  sender: SenderModelName;
  senderParams?: Partial<RealSenderParams>;
}

/** An ECU that damps and rate-limits the level it reports (many clusters do; the carOBD car does not). */
const DAMPING_ECU: Partial<RealSenderParams> = { ecuDampingS: 60, ecuRateLimitPctPerS: 0.1 };

const ALL_PIDS = [0x05, 0x0c, 0x0d, 0x10, 0x1f, 0x2f, 0x5e, 0xa6];
const NO_FUEL_RATE = ALL_PIDS.filter((p) => p !== 0x5e);
const CITY_ROUTES = ['nyc-midtown', 'munich-altstadtring', 'melbourne-cbd', 'buenos-aires-centro'];
const ALL_ROUTES = [...CITY_ROUTES, 'munich-motorway-ring'];
const PROFILES: SpeedProfile[] = ['calm', 'normal', 'aggressive'];
const NOISE = [0, 0.3, 0.6];

/** A stepped tank (round a spare wheel): steep at the bottom, flat in the middle. */
function steppedShape(capacity: number): TankShape {
  const f = [0, 0.06, 0.2, 0.45, 0.62, 0.8, 1];
  const pct = [0, 15, 30, 50, 70, 85, 100];
  return {
    kind: 'table',
    points: pct.map((p, i) => [p, Math.round(f[i]! * capacity * 1000) / 1000] as const),
  };
}

function shapeFor(i: number, capacity: number): TankShape {
  const k = i % 3;
  return k === 0 ? { kind: 'linear' } : k === 1 ? { kind: 'cylinder' } : steppedShape(capacity);
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function theftScenario(tank: number, fraction: number): ScenarioDefinition {
  const v = fraction * tank;
  return parseScenario({
    name: `bench-theft-${Math.round(fraction * 100)}pct`,
    description: `Thefts of ${fraction * 100} % of the tank (+-10 %) while parked, every 2-4 h`,
    vehicle: { initialFuelPct: [80, 95] },
    // Refuel early enough that the tank holds the next theft.
    schedule: {
      tripS: ['30m', '90m'],
      parkS: ['5m', '30m'],
      refuelBelowPct: Math.min(85, Math.round(fraction * 100) + 30),
      refuelToPct: [92, 100],
    },
    events: [
      {
        type: 'fuel_theft',
        at: ['20m', '60m'],
        every: ['2h', '4h'],
        volumeL: [Math.max(0.2, r1(0.9 * v)), Math.max(0.3, r1(1.1 * v))],
        durationS: ['3m', '20m'],
      },
    ],
  });
}

function leakScenario(rate: [number, number]): ScenarioDefinition {
  return parseScenario({
    name: `bench-leak-${rate[0]}-${rate[1]}lph`,
    description: `Slow leaks of ${rate[0]}-${rate[1]} L/h for 2-6 h, driving or parked, every 8-12 h`,
    vehicle: { initialFuelPct: [70, 95] },
    schedule: { tripS: ['20m', '60m'], parkS: ['10m', '40m'], refuelBelowPct: 20, refuelToPct: [85, 100] },
    events: [
      { type: 'leak', at: ['30m', '2h'], every: ['8h', '12h'], rateLph: rate, durationS: ['2h', '6h'] },
    ],
  });
}

function refuelScenario(tank: number): ScenarioDefinition {
  return parseScenario({
    name: 'bench-refuel',
    description: 'Starts low; refuels of 20-60 % of the tank every 2-4 h, and whenever below 15 %',
    vehicle: { initialFuelPct: [15, 30] },
    schedule: { tripS: ['20m', '60m'], parkS: ['5m', '30m'], refuelBelowPct: 15, refuelToPct: [85, 100] },
    events: [
      {
        type: 'refuel',
        at: ['15m', '45m'],
        every: ['2h', '4h'],
        volumeL: [r1(0.2 * tank), r1(0.6 * tank)],
      },
    ],
  });
}

/** Hours at the wheel with hard braking and launches: the slosh that fools level-only detectors. */
function longDriveScenario(): ScenarioDefinition {
  return parseScenario({
    name: 'bench-long-drive',
    description:
      'Shifts of 2-5 h driving, short stops, harsh events, speeding bursts, idles; refuels below 20 %',
    vehicle: { initialFuelPct: [50, 95] },
    schedule: { tripS: ['2h', '5h'], parkS: ['5m', '20m'], refuelBelowPct: 20, refuelToPct: [85, 100] },
    events: [
      { type: 'harsh_brake', at: ['10m', '40m'], every: ['30m', '90m'], g: [0.4, 0.7] },
      { type: 'harsh_accel', at: ['20m', '50m'], every: ['40m', '100m'], g: [0.32, 0.45] },
      { type: 'speeding', at: ['1h', '2h'], every: ['1h', '3h'], overKmh: [15, 30], durationS: ['1m', '3m'] },
      { type: 'idle', at: ['1h', '3h'], every: ['3h', '6h'], durationS: ['6m', '20m'] },
    ],
  });
}

const TANKS = [40, 60, 80, 120, 200, 300, 400];
const FRACTIONS = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
const LEAK_RATES: [number, number][] = [
  [0.3, 0.8],
  [0.8, 1.5],
  [1.5, 3],
];

interface SetPlan {
  seedBase: number;
  tanks: number[];
  fractions: number[];
  theftHours: number;
  leaks: number;
  refuels: number;
  longDrives: number;
  longDriveHours: number;
  /** Seed offsets of the leak, refuel and long-drive runs from seedBase. */
  offsets: [number, number, number];
}

const PLANS: Record<DatasetSet | 'quick', SetPlan> = {
  'held-out': {
    seedBase: 1000,
    tanks: TANKS,
    fractions: FRACTIONS,
    theftHours: 12,
    leaks: 12,
    refuels: 8,
    // Enough driving that "at most 1 false drain per 1,000 h" can be shown: zero in ~3,000 h
    // bounds the rate under 1 per 1,000 h (95 %, rule of three).
    longDrives: 140,
    longDriveHours: 24,
    offsets: [200, 300, 400],
  },
  // A slice of the held-out set (same seeds, same files) for a run of about a minute.
  quick: {
    seedBase: 1000,
    tanks: [60, 400],
    fractions: [0.03, 0.05, 0.1, 0.5],
    theftHours: 12,
    leaks: 2,
    refuels: 2,
    longDrives: 4,
    longDriveHours: 24,
    offsets: [200, 300, 400],
  },
  tuning: {
    seedBase: 1,
    tanks: [50, 90, 250],
    fractions: [0.03, 0.05, 0.1, 0.25, 0.45],
    theftHours: 12,
    leaks: 4,
    refuels: 3,
    longDrives: 8,
    longDriveHours: 24,
    offsets: [40, 50, 60],
  },
};

/**
 * The runs of a set, in a fixed order; seeds are stable per run (a quick run reuses held-out files).
 * The real sender's runs are the ideal ones (same seeds, scenarios, tanks) with the other sender.
 */
export function datasetRuns(set: DatasetSet | 'quick', sender: SenderModelName = 'ideal'): RunSpec[] {
  const runs = idealRuns(set);
  if (sender === 'ideal') return runs;
  return runs.map((r, i) => ({
    ...r,
    id: `${r.id}-real`,
    noisePct: 0,
    sender,
    ...(i % 3 === 1 ? { senderParams: DAMPING_ECU } : {}),
  }));
}

function idealRuns(set: DatasetSet | 'quick'): RunSpec[] {
  const plan = PLANS[set];
  const full = set === 'quick' ? PLANS['held-out'] : plan;
  const runs: RunSpec[] = [];
  // Theft sweep: seed from the position in the full grid, so quick picks the same runs.
  full.tanks.forEach((tank, ti) => {
    full.fractions.forEach((fraction, fi) => {
      if (!plan.tanks.includes(tank) || !plan.fractions.includes(fraction)) return;
      const i = ti * full.fractions.length + fi;
      runs.push({
        id: `theft-${tank}L-${Math.round(fraction * 100)}pct`,
        group: 'theft-sweep',
        seed: plan.seedBase + i,
        hours: plan.theftHours,
        hz: 1,
        tankLitres: tank,
        tankShape: shapeFor(i, tank),
        route: ALL_ROUTES[i % ALL_ROUTES.length]!,
        speedProfile: PROFILES[i % 3]!,
        noisePct: NOISE[Math.floor(i / 3) % 3]!,
        pids: i % 3 === 2 ? NO_FUEL_RATE : ALL_PIDS,
        scenario: theftScenario(tank, fraction),
        sender: 'ideal',
      });
    });
  });
  for (let k = 0; k < plan.leaks; k++) {
    const tank = full.tanks[(k * 3) % full.tanks.length]!;
    runs.push({
      id: `leak-${k}`,
      group: 'leak',
      seed: plan.seedBase + plan.offsets[0] + k,
      hours: 24,
      hz: 1,
      tankLitres: tank,
      tankShape: shapeFor(k, tank),
      route: CITY_ROUTES[k % CITY_ROUTES.length]!,
      speedProfile: PROFILES[k % 3]!,
      noisePct: NOISE[(k >> 1) % 3]!,
      pids: k % 4 === 3 ? NO_FUEL_RATE : ALL_PIDS,
      scenario: leakScenario(LEAK_RATES[k % LEAK_RATES.length]!),
      sender: 'ideal',
    });
  }
  for (let k = 0; k < plan.refuels; k++) {
    const tank = full.tanks[(k * 2 + 1) % full.tanks.length]!;
    runs.push({
      id: `refuel-${k}`,
      group: 'refuel',
      seed: plan.seedBase + plan.offsets[1] + k,
      hours: 12,
      hz: 1,
      tankLitres: tank,
      tankShape: shapeFor(k + 1, tank),
      route: ALL_ROUTES[k % ALL_ROUTES.length]!,
      speedProfile: PROFILES[(k + 1) % 3]!,
      noisePct: NOISE[k % 3]!,
      pids: k % 3 === 1 ? NO_FUEL_RATE : ALL_PIDS,
      scenario: refuelScenario(tank),
      sender: 'ideal',
    });
  }
  for (let k = 0; k < plan.longDrives; k++) {
    const tank = full.tanks[k % full.tanks.length]!;
    runs.push({
      id: `long-drive-${k}`,
      group: 'long-drive',
      seed: plan.seedBase + plan.offsets[2] + k,
      hours: plan.longDriveHours,
      hz: 1,
      tankLitres: tank,
      tankShape: shapeFor(k, tank),
      route: ALL_ROUTES[k % ALL_ROUTES.length]!,
      // Two in three aggressive: the most slosh.
      speedProfile: k % 3 === 0 ? 'normal' : 'aggressive',
      noisePct: NOISE[Math.floor(k / 2) % 3]!,
      pids: k % 3 === 2 ? NO_FUEL_RATE : ALL_PIDS,
      scenario: longDriveScenario(),
      sender: 'ideal',
    });
  }
  if (set === 'tuning' && runs.some((r) => r.seed >= 100)) throw new Error('tuning seeds must stay in 1-99');
  if (set !== 'tuning' && runs.some((r) => r.seed < 1000)) throw new Error('held-out seeds must be >= 1000');
  return runs.map((r) => ({ ...r, id: `${r.id}-s${r.seed}` }));
}

export const CACHE_DIR = path.join(tmpdir(), 'fleet-fuel-bench');

export interface RunFiles {
  spec: RunSpec;
  csv: string;
  labels: string;
  /** Generated in this call (false: taken from the cache). */
  generated: boolean;
  generateMs: number;
}

function specHash(spec: RunSpec): string {
  // Without the sender field for the ideal model: its cached files keep their names.
  const { sender, ...before } = spec;
  return createHash('sha256')
    .update(JSON.stringify({ v: DATASET_VERSION, spec: sender === 'ideal' ? before : spec }))
    .digest('hex')
    .slice(0, 10);
}

/** Adds Gaussian sender noise to fuel_level_pct and rounds back to PID 2F's 1/255 grid. */
function addSenderNoise(csvPath: string, spec: RunSpec): void {
  const rng = Random.fork(spec.seed, 'bench:sender-noise');
  const lines = readFileSync(csvPath, 'utf8').split('\n');
  const col = lines[0]!.split(',').indexOf('fuel_level_pct');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const cells = line.split(',');
    const cell = cells[col]!;
    if (cell === '') continue;
    const pct = Number(cell) + rng.gaussian() * spec.noisePct;
    const byte = Math.min(255, Math.max(0, Math.round((pct * 255) / 100)));
    cells[col] = ((byte * 100) / 255).toFixed(4);
    lines[i] = cells.join(',');
  }
  writeFileSync(csvPath, lines.join('\n'));
}

/** The run's files, generating them (atomically: tmp + rename) when the cache lacks them. */
export function ensureRun(spec: RunSpec, dir = CACHE_DIR): RunFiles {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${spec.id}-${specHash(spec)}`);
  const csv = `${base}.csv`;
  const labels = `${base}.jsonl`;
  if (existsSync(csv) && existsSync(labels)) return { spec, csv, labels, generated: false, generateMs: 0 };
  const started = performance.now();
  const tmpCsv = `${csv}.${process.pid}.tmp`;
  const tmpLabels = `${labels}.${process.pid}.tmp`;
  try {
    runFastForward({
      id: spec.id,
      seed: spec.seed,
      startTimeMs: START_MS,
      scenario: spec.scenario,
      route: spec.route,
      tankLitres: spec.tankLitres,
      tankShape: spec.tankShape,
      speedProfile: spec.speedProfile,
      hours: spec.hours,
      hz: spec.hz,
      out: tmpCsv,
      labelsOut: tmpLabels,
      extraColumns: ['coolant_c', 'odometer_km', 'accel_x_g', 'accel_y_g'],
      pids: spec.pids,
      sender: spec.sender,
      ...(spec.senderParams ? { senderParams: spec.senderParams } : {}),
    });
    if (spec.noisePct > 0) addSenderNoise(tmpCsv, spec);
    renameSync(tmpCsv, csv);
    renameSync(tmpLabels, labels);
  } finally {
    rmSync(tmpCsv, { force: true });
    rmSync(tmpLabels, { force: true });
  }
  return { spec, csv, labels, generated: true, generateMs: performance.now() - started };
}

export interface LoadedRun {
  spec: RunSpec;
  meta: LabelsMeta;
  labels: Label[];
  samples: DriveSample[];
  /** Rows the agent's parser refused (should be 0 for generated logs). */
  parseErrors: number;
  truths: Truth[];
  /** Ignition on and moving, ms (gaps between samples capped at 10 s). */
  drivingMs: number;
}

/** First index with samples[i].ts >= t (binary search; samples are in time order). */
function lowerBound(samples: readonly DriveSample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const FUEL_TYPES = new Set(['fuel_drain', 'fuel_leak', 'refuel']);

/** Reads a run through the agent's own CSV parser and turns its labels into scorable truths. */
export function loadRun(files: RunFiles): LoadedRun {
  const { samples, errors } = parseDriveLogCsv(readFileSync(files.csv, 'utf8'));
  const records = readFileSync(files.labels, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LabelsMeta | Label);
  const meta = records[0] as LabelsMeta;
  if (meta?.type !== 'meta') throw new Error(`${files.labels}: first line is not the meta line`);
  const labels = records.slice(1) as Label[];
  const lastTs = samples.at(-1)?.ts ?? 0;
  const truths: Truth[] = [];
  for (const l of labels) {
    const type = LABEL_EVENT_TYPE[l.type];
    if (!type) continue;
    const end = l.end ?? lastTs;
    const needsFuel = FUEL_TYPES.has(type);
    let moving = false;
    for (let i = lowerBound(samples, l.start); i < samples.length && samples[i]!.ts < end; i++) {
      if ((samples[i]!.speedKmh ?? 0) > 0) {
        moving = true;
        break;
      }
    }
    let observableAt = lastTs;
    let observable = false;
    for (let i = lowerBound(samples, end); i < samples.length; i++) {
      const s = samples[i]!;
      if (needsFuel ? s.fuelLevelPct !== null : s.speedKmh !== null) {
        observableAt = s.ts;
        observable = true;
        break;
      }
    }
    // A theft or refuel at a parked vehicle that the log ends before the ignition comes back on
    // cannot be seen by anything reading it (the ECU was silent throughout): cut short, like a
    // label the run truncated. A leak is seen while it runs, so it stays scored.
    const unseen = needsFuel && type !== 'fuel_leak' && !observable;
    const volumeL = 'volumeL' in l ? l.volumeL : undefined;
    truths.push({
      type,
      label: l.type,
      start: l.start,
      end,
      volumeL,
      tankFraction: volumeL === undefined ? undefined : volumeL / meta.tankLitres,
      moving,
      truncated: l.truncated === true || l.end === null || unseen,
      observableAt,
    });
  }
  let drivingMs = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.ignition && (s.speedKmh ?? 0) > 0) drivingMs += Math.min(10_000, s.ts - samples[i - 1]!.ts);
  }
  return { spec: files.spec, meta, labels, samples, parseErrors: errors.length, truths, drivingMs };
}

const HELP = `Usage: pnpm exec tsx bench/fuel/dataset.ts [--set held-out|tuning|quick] [--sender ideal|real] [--dir DIR] [--json]

Generates (or finds in the cache) the labelled logs of one set and prints one line per run:
the CSV log, the labels file (meta line first), seed, tank, shape, noise. --sender picks the
fuel sender model (default ideal: the files as they always were; real: firmware-sim's real
sender, with a damping ECU in a third of the runs). The tuning set
(seeds 1-99) is for tuning detectors; the held-out set (seeds >= 1000) is what
bench/fuel-detectors.ts scores. Default cache: ${CACHE_DIR}`;

function main(): void {
  const { values } = parseArgs({
    options: {
      set: { type: 'string', default: 'tuning' },
      sender: { type: 'string', default: 'ideal' },
      dir: { type: 'string', default: CACHE_DIR },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const set = values.set as DatasetSet | 'quick';
  if (!(set in PLANS)) {
    process.stderr.write(`unknown --set "${set}" (held-out, tuning, quick)\n`);
    process.exit(2);
  }
  if (!(SENDER_MODELS as readonly string[]).includes(values.sender)) {
    process.stderr.write(`unknown --sender "${values.sender}" (${SENDER_MODELS.join(', ')})\n`);
    process.exit(2);
  }
  for (const spec of datasetRuns(set, values.sender as SenderModelName)) {
    const f = ensureRun(spec, values.dir);
    const row = {
      id: spec.id,
      csv: f.csv,
      labels: f.labels,
      seed: spec.seed,
      tankLitres: spec.tankLitres,
      tankShape: spec.tankShape.kind,
      noisePct: spec.noisePct,
      sender: spec.sender,
      ecuDampingS: spec.senderParams?.ecuDampingS ?? 0,
      hours: spec.hours,
      generatedMs: Math.round(f.generateMs),
    };
    process.stdout.write(values.json ? `${JSON.stringify(row)}\n` : `${row.id}\t${row.csv}\t${row.labels}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();

/** Time with the engine running and the vehicle standing, ms (steps over 10 s are holes). */
export function idlingMs(samples: readonly DriveSample[]): number {
  let ms = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.ignition && (s.speedKmh ?? 0) === 0 && (s.rpm ?? 0) > 0)
      ms += Math.min(10_000, s.ts - samples[i - 1]!.ts);
  }
  return ms;
}
