/**
 * Why our fuel detector fired, missed or mis-sized, on the tuning seeds only: every false drain
 * and missed theft with the context a person judging it needs (the vehicle's modes before and
 * after, the level trace around it, the event's details: judgedFrom, thresholdL,
 * afterDrainBiasL), every matched theft with its signed volume error (--tp), and one summary line
 * with the figures. The held-out seeds are not offered: they are for judging, not looking.
 *
 *   pnpm exec tsx bench/fuel/explain.ts [--set tuning|tuning-wide|dev|dev2] [--sender real|ideal]
 *                                       [--tp] [--trace] [--only ID-SUBSTRING]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runDetectors } from '../../edge-agent/src/detectors/index.ts';
import type { DriveSample } from '../../edge-agent/src/fuel/drive-log.ts';
import type { SenderModelName } from '../../firmware-sim/src/vehicle/fuel-sender.ts';
import { datasetRuns, ensureRun, idlingMs, loadRun, type RunSpec } from './dataset.ts';
import { type Detection, matchEvents, Scoreboard } from './score.ts';

/**
 * 'tuning-wide': the tuning runs, plus the same run kinds re-seeded with the tuning range's unused
 * seeds (16-30 thefts, 69-92 long drives; still 1-99), the real sender's damping ECU rotated over
 * them: more hours to count rare false drains on, none of them held out.
 */
export function specsFor(set: string, sender: SenderModelName): RunSpec[] {
  if (set === 'tuning') return datasetRuns('tuning', sender);
  if (set === 'dev') return devRuns(sender);
  if (set === 'dev2') return dev2Runs(sender);
  if (set !== 'tuning-wide') throw new Error(`--set tuning, tuning-wide, dev or dev2 (got "${set}")`);
  const base = datasetRuns('tuning', sender);
  const extra: RunSpec[] = [];
  const reseed = (r: RunSpec, seed: number, k: number): RunSpec => {
    const damp = sender === 'real' && k % 3 === 1;
    const { senderParams: _drop, ...rest } = r;
    return {
      ...rest,
      seed,
      id: `${r.id.replace(/-s\d+(-real)?$/, '')}-s${seed}${sender === 'real' ? '-real' : ''}`,
      ...(damp ? { senderParams: { ecuDampingS: 60, ecuRateLimitPctPerS: 0.1 } } : {}),
    };
  };
  const thefts = base.filter((r) => r.group === 'theft-sweep');
  for (const [i, r] of thefts.entries()) extra.push(reseed(r, 16 + i, i + 2));
  const drives = base.filter((r) => r.group === 'long-drive');
  for (let c = 0; c < 3; c++) {
    for (const [i, r] of drives.entries()) extra.push(reseed(r, 69 + c * 8 + i, i + c + 1));
  }
  if (extra.some((r) => r.seed >= 100)) throw new Error('tuning seeds must stay in 1-99');
  return [...base, ...extra];
}

/**
 * 'dev': the held-out set's run kinds and size (244 runs, 4,752 vehicle-hours per sender) on seeds
 * 100-639, which neither set uses: enough hours to see a detector's rare false drains (1 in
 * thousands of hours) without looking at the held-out runs. The same tanks, shapes, routes and
 * scenarios as the held-out runs, other traffic, stops, sender noise and thefts.
 */
function devRuns(sender: SenderModelName): RunSpec[] {
  return heldOutKindsOn('dev', sender, (r) => r.seed - 900, [100, 1000]);
}

/**
 * 'dev2': the same 244 runs on the seeds that tuning (1-99), dev (100-639) and held-out (>= 1000)
 * leave free. 640-999 holds fewer than the held-out span (1000-1539), so the runs take them one
 * each in the set's order (thefts 640-723, leaks 724-735, refuels 736-743, long drives 744-883):
 * no seed serves two runs, and a second look at rare false drains once dev has none left.
 */
function dev2Runs(sender: SenderModelName): RunSpec[] {
  return heldOutKindsOn('dev2', sender, (_, i) => 640 + i, [640, 1000]);
}

/** The held-out set's runs re-seeded by `seedOf`; throws if a seed leaves [from, to). */
function heldOutKindsOn(
  set: string,
  sender: SenderModelName,
  seedOf: (r: RunSpec, i: number) => number,
  [from, to]: [number, number],
): RunSpec[] {
  const runs = datasetRuns('held-out', sender).map((r, i) => {
    const seed = seedOf(r, i);
    return { ...r, seed, id: r.id.replace(/-s\d+(?=-real$|$)/, `-s${seed}`) };
  });
  if (runs.some((r) => r.seed < from || r.seed >= to))
    throw new Error(`${set} seeds must stay in ${from}-${to - 1}`);
  return runs;
}

function modeOf(s: DriveSample | undefined): string {
  if (!s) return '-';
  if (!s.ignition) return 'off';
  if ((s.speedKmh ?? 0) >= 2) return 'moving';
  return (s.rpm ?? 0) >= 300 ? 'idle' : 'parked';
}

function at(samples: readonly DriveSample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (samples[m]!.ts < t) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Modes as runs: "moving 1200s, idle 300s, off 3600s". */
function modeRuns(samples: readonly DriveSample[], from: number, to: number): string {
  const out: string[] = [];
  let cur = '';
  let start = from;
  let prevTs = from;
  for (let i = at(samples, from); i < samples.length && samples[i]!.ts <= to; i++) {
    const s = samples[i]!;
    const m = s.ts - prevTs > 30_000 ? 'gap' : modeOf(s);
    if (s.ts - prevTs > 30_000) {
      if (cur) out.push(`${cur} ${Math.round((prevTs - start) / 1000)}s`);
      out.push(`gap ${Math.round((s.ts - prevTs) / 1000)}s`);
      cur = modeOf(s);
      start = s.ts;
    } else if (m !== cur) {
      if (cur) out.push(`${cur} ${Math.round((s.ts - start) / 1000)}s`);
      cur = m;
      start = s.ts;
    }
    prevTs = s.ts;
  }
  if (cur) out.push(`${cur} ${Math.round((prevTs - start) / 1000)}s`);
  return out.join(', ');
}

/** Level % every `stepS` from..to, with the mode letter. */
function trace(samples: readonly DriveSample[], from: number, to: number, stepS: number): string {
  const out: string[] = [];
  let next = from;
  for (let i = at(samples, from); i < samples.length && samples[i]!.ts <= to; i++) {
    const s = samples[i]!;
    if (s.ts < next) continue;
    next = s.ts + stepS * 1000;
    const m = modeOf(s)[0];
    const cell = `${m}${s.fuelLevelPct?.toFixed(1) ?? '-'}`;
    // Ignition off: one cell for the whole silence.
    if (cell === 'o-' && out.at(-1)?.endsWith(':o-')) continue;
    out.push(`${Math.round((s.ts - from) / 1000)}:${cell}`);
  }
  return out.join(' ');
}

const HELP = `Usage: pnpm exec tsx bench/fuel/explain.ts [--set tuning|tuning-wide|dev|dev2] [--sender real|ideal]
                                       [--tp] [--trace] [--only ID-SUBSTRING]

Every false drain and missed theft of a set (never the held-out one), with the modes and level
around it; --tp adds matched thefts with their volume error, --trace the level every 20 s, --only
the runs whose id contains the substring. Ends with one SUMMARY line of the issue's figures.
Sets: tuning (seeds 1-99), tuning-wide (more of 1-99), dev (100-639), dev2 (640-883).`;

const iso = (t: number) => new Date(t).toISOString().slice(11, 19);

function main(): void {
  const { values } = parseArgs({
    options: {
      set: { type: 'string', default: 'tuning' },
      sender: { type: 'string', default: 'real' },
      trace: { type: 'boolean', default: false },
      only: { type: 'string' },
      tp: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const specs = specsFor(values.set, values.sender as SenderModelName);
  const board = new Scoreboard();
  for (const spec of specs) {
    if (values.only && !spec.id.includes(values.only)) continue;
    const run = loadRun(ensureRun(spec));
    const events = runDetectors(run.samples, {
      tankLitres: run.meta.tankLitres,
      calibration: run.meta.calibration,
    });
    const byKey = new Map<string, (typeof events)[number]>();
    const dets: Detection[] = [];
    // emittedAt is not needed for matching.
    for (const e of events) {
      dets.push({ type: e.type, start: e.start, end: e.end, volumeL: e.volumeL, emittedAt: e.end });
      byKey.set(`${e.type}:${e.start}:${e.end}`, e);
    }
    const score = matchEvents(dets, run.truths);
    board.addRun(score, run.drivingMs, idlingMs(run.samples));
    const tank = run.meta.tankLitres;
    const damping = spec.senderParams?.ecuDampingS ?? 0;
    const head = `${spec.id} tank ${tank} L ${spec.tankShape.kind} damp ${damping}`;
    for (const d of score.falsePositives) {
      if (d.type !== 'fuel_drain') continue;
      const e = byKey.get(`${d.type}:${d.start}:${d.end}`)!;
      const losses = run.truths.filter((t) => t.label === 'fuel_theft' || t.label === 'fuel_leak');
      const nearLoss = losses.some(
        (t) => Math.max(0, d.start - Math.max(t.end, t.observableAt), t.start - d.end) <= 120_000,
      );
      console.log(
        `FALSE ${nearLoss ? '(near a loss) ' : ''}${head}: ${iso(d.start)}-${iso(d.end)} ${d.volumeL} L (${((100 * (d.volumeL ?? 0)) / tank).toFixed(2)} %) ${JSON.stringify(e.details)}`,
      );
      console.log(`   modes: ${modeRuns(run.samples, d.start - 1200_000, d.end + 600_000)}`);
      if (values.trace)
        console.log(`   trace: ${trace(run.samples, d.start - 600_000, d.end + 300_000, 20)}`);
    }
    for (const p of score.pairs) {
      if (p.truth.type !== 'fuel_drain' || !values.tp) continue;
      const e = byKey.get(`fuel_drain:${p.detection.start}:${p.detection.end}`)!;
      const err = (100 * ((p.detection.volumeL ?? 0) - p.truth.volumeL!)) / p.truth.volumeL!;
      console.log(
        `TP ${head}: ${iso(p.truth.start)}-${iso(p.truth.end)} true ${p.truth.volumeL} L det ${p.detection.volumeL} L err ${err.toFixed(1)} % ${JSON.stringify(e.details)}`,
      );
      if (values.trace && Math.abs(err) > 12) {
        console.log(`   modes: ${modeRuns(run.samples, p.truth.start - 1200_000, p.truth.end + 900_000)}`);
        console.log(`   trace: ${trace(run.samples, p.truth.start - 600_000, p.truth.end + 600_000, 15)}`);
      }
    }
    for (const t of score.missed) {
      if (t.type !== 'fuel_drain') continue;
      console.log(
        `MISSED ${head}: ${iso(t.start)}-${iso(t.end)} ${t.volumeL} L (${((100 * (t.volumeL ?? 0)) / tank).toFixed(2)} %) moving ${t.moving}`,
      );
      console.log(`   modes: ${modeRuns(run.samples, t.start - 1200_000, t.end + 600_000)}`);
    }
  }
  const fd = board.falseDrains();
  const m = board.metrics('fuel_drain');
  const big = board.drainRecall({ minFraction: 0.05, moving: false });
  const small = board.drainRecall({ maxFraction: 0.05, moving: false });
  console.log(
    `SUMMARY ${values.set} ${values.sender}: ${specs.length} runs; false drains ${fd.count} ` +
      `(${fd.per1000h.toFixed(2)} per 1,000 driving h of ${fd.drivingHours.toFixed(0)}, ` +
      `${fd.per1000IdlingH.toFixed(2)} per 1,000 idling h of ${fd.idlingHours.toFixed(0)}); ` +
      `recall >= 5 % ${big.found}/${big.total}, < 5 % ${small.found}/${small.total}; volume error mean ${m.volumeErrorPct.mean.toFixed(1)} ` +
      `p50 ${m.volumeErrorPct.p50.toFixed(1)} p95 ${m.volumeErrorPct.p95.toFixed(1)} %; refuel P/R ` +
      `${board.metrics('refuel').precision.toFixed(2)}/${board.metrics('refuel').recall.toFixed(2)}; ` +
      `leak P/R ${board.metrics('fuel_leak').precision.toFixed(2)}/${board.metrics('fuel_leak').recall.toFixed(2)}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
