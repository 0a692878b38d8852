/**
 * Scoring detected events against firmware-sim's ground-truth labels.
 *
 *   labels (firmware-sim/src/scenarios/labels.ts)          detections (VehicleEvent + when emitted)
 *        | fuel_theft -> fuel_drain, fuel_leak, refuel,            |
 *        | long_idle, harsh_brake/accel, speeding                  |
 *        v                                                         v
 *   Truth[] ------------- matchEvents(): one-to-one, per type, intervals within a tolerance
 *        |
 *        v
 *   Scoreboard: precision, recall, F1, latency (emission - label end), volume error,
 *   drain recall by size and state, false drains per 1,000 driving hours
 *
 * Label intervals are half-open [start, end); a detection is a candidate for a label of its own
 * type when the two intervals come within the type's tolerance of each other. A fuel label's
 * interval is stretched to its first observable reading (a theft with the ignition off can only
 * be seen once the ECU speaks again), and the fuel tolerance is short (2 min): a detector that
 * alarms every minute must not collect thefts by chance. Candidates are
 * paired closest first, each detection and each label at most once: a second alarm for the same
 * theft is a false positive, as the manager reading it would see it. A label the run cut short
 * (`truncated`) is "don't care": a detection on it is neither right nor wrong, missing it costs
 * nothing.
 */
import type { VehicleEventType } from '../../shared/src/events.ts';

export const SCORED_TYPES = [
  'fuel_drain',
  'fuel_leak',
  'refuel',
  'long_idle',
  'harsh_brake',
  'harsh_accel',
  'speeding',
] as const;
export type ScoredType = (typeof SCORED_TYPES)[number];

/** Which detector event answers which label type. */
export const LABEL_EVENT_TYPE: Readonly<Record<string, ScoredType>> = {
  fuel_theft: 'fuel_drain',
  fuel_leak: 'fuel_leak',
  refuel: 'refuel',
  long_idle: 'long_idle',
  harsh_brake: 'harsh_brake',
  harsh_accel: 'harsh_accel',
  speeding: 'speeding',
};

/**
 * How far apart a detection and a label may be and still be the same thing, ms. A leak is only
 * visible after hours of loss; a harsh brake is a second long and the agent sees it at once.
 */
export const DEFAULT_TOLERANCE_MS: Readonly<Record<ScoredType, number>> = {
  fuel_drain: 2 * 60_000,
  refuel: 2 * 60_000,
  fuel_leak: 6 * 3_600_000,
  long_idle: 2 * 60_000,
  harsh_brake: 5_000,
  harsh_accel: 5_000,
  speeding: 60_000,
};

/** What the scorer needs of a detector's event: the VehicleEvent fields and when it came out. */
export interface Detection {
  type: VehicleEventType;
  start: number;
  end: number;
  volumeL?: number | undefined;
  /** Epoch ms of the sample whose processing produced the event (the end of the log for flush()). */
  emittedAt: number;
}

/** One ground-truth label, as scored. */
export interface Truth {
  type: ScoredType;
  /** The label's own type (fuel_theft, ...). */
  label: string;
  start: number;
  end: number;
  volumeL?: number | undefined;
  /** volumeL / tank capacity (fuel labels). */
  tankFraction?: number | undefined;
  /** The vehicle moved during the interval (a drain "in motion"). */
  moving: boolean;
  truncated: boolean;
  /**
   * The first sample at or after `end` carrying the value the detector needs (a fuel level for
   * fuel labels): the earliest moment anything reading the log could know. With the ignition
   * off the ECU is silent, so a theft at a parked vehicle is only visible once it is switched on.
   */
  observableAt: number;
}

export interface Pair {
  detection: Detection;
  truth: Truth;
}

export interface RunScore {
  pairs: Pair[];
  /** Detections of a scored type that matched nothing. */
  falsePositives: Detection[];
  missed: Truth[];
  /** Detections on truncated labels, or of types with no labels (harsh_corner, dtc, ...). */
  ignored: Detection[];
  /** Every truth of the run, truncated ones too (false-drain accounting looks at fuel losses). */
  truths: Truth[];
}

const isScored = (t: string): t is ScoredType => (SCORED_TYPES as readonly string[]).includes(t);

/** Gap between two intervals, ms (0 when they overlap or touch). */
function gap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, a0 - b1, b0 - a1);
}

/** Gap between a detection and a label stretched to the label's first observable reading. */
function gapToTruth(d: Detection, t: Truth): number {
  return gap(d.start, d.end, t.start, Math.max(t.end, t.observableAt));
}

/** Pairs detections with labels one-to-one, per type, closest first. */
export function matchEvents(
  detections: readonly Detection[],
  truths: readonly Truth[],
  tolerance: Partial<Record<ScoredType, number>> = {},
): RunScore {
  const tol = { ...DEFAULT_TOLERANCE_MS, ...tolerance };
  const candidates: { d: number; t: number; gap: number; skew: number }[] = [];
  detections.forEach((det, d) => {
    if (!isScored(det.type)) return;
    truths.forEach((truth, t) => {
      if (truth.type !== det.type) return;
      const g = gapToTruth(det, truth);
      if (g <= tol[truth.type]) candidates.push({ d, t, gap: g, skew: Math.abs(det.start - truth.start) });
    });
  });
  candidates.sort((a, b) => a.gap - b.gap || a.skew - b.skew || a.d - b.d || a.t - b.t);
  const detUsed = new Set<number>();
  const truthUsed = new Set<number>();
  const pairs: Pair[] = [];
  const ignored: Detection[] = [];
  for (const c of candidates) {
    if (detUsed.has(c.d)) continue;
    const truth = truths[c.t]!;
    // Every alarm on a truncated label is don't-care, not only the first.
    if (truth.truncated) {
      detUsed.add(c.d);
      ignored.push(detections[c.d]!);
      continue;
    }
    if (truthUsed.has(c.t)) continue;
    detUsed.add(c.d);
    truthUsed.add(c.t);
    pairs.push({ detection: detections[c.d]!, truth });
  }
  const falsePositives: Detection[] = [];
  detections.forEach((det, d) => {
    if (detUsed.has(d)) return;
    if (isScored(det.type)) falsePositives.push(det);
    else ignored.push(det);
  });
  const missed = truths.filter((t, i) => !truthUsed.has(i) && !t.truncated);
  return { pairs, falsePositives, missed, ignored, truths: [...truths] };
}

/** Nearest-rank percentile; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface TypeMetrics {
  type: ScoredType;
  tp: number;
  fp: number;
  fn: number;
  /** NaN when there is nothing to divide (no detections / no labels). */
  precision: number;
  recall: number;
  f1: number;
  /** Emission - label end, s. */
  latencyS: { p50: number; p95: number; max: number };
  /** Emission - max(label end, first observable sample after it), s: what the detector adds. */
  latencyAfterObservableS: { p50: number; p95: number; max: number };
  /** |detected - true| / true volume, % (fuel types with a labelled volume). */
  volumeErrorPct: { mean: number; p50: number; p95: number; n: number };
}

export interface DrainBucket {
  /** Drains with volume / tank >= minFraction (and < maxFraction when given). */
  minFraction?: number;
  maxFraction?: number;
  moving?: boolean;
}

const ratio = (a: number, b: number): number => (b === 0 ? Number.NaN : a / b);
const stats3 = (xs: number[]) => ({
  p50: percentile(xs, 50),
  p95: percentile(xs, 95),
  max: percentile(xs, 100),
});

/** Sums run scores over a dataset. */
export interface FalseDrains {
  count: number;
  drivingHours: number;
  /** Per 1,000 driving hours. */
  per1000h: number;
  idlingHours: number;
  per1000IdlingH: number;
}

export class Scoreboard {
  private readonly runs: RunScore[] = [];
  private drivingMs = 0;
  private idlingMs = 0;

  /**
   * `drivingMs`: time with the ignition on and the vehicle moving in that run's log; `idlingMs`:
   * with the engine running and the vehicle standing (where a settling sender tempts a detector).
   */
  addRun(score: RunScore, drivingMs: number, idlingMs = 0): void {
    this.runs.push(score);
    this.drivingMs += drivingMs;
    this.idlingMs += idlingMs;
  }

  get drivingHours(): number {
    return this.drivingMs / 3_600_000;
  }

  get idlingHours(): number {
    return this.idlingMs / 3_600_000;
  }

  metrics(type: ScoredType): TypeMetrics {
    const pairs = this.runs.flatMap((r) => r.pairs.filter((p) => p.truth.type === type));
    const fp = this.runs.reduce((n, r) => n + r.falsePositives.filter((d) => d.type === type).length, 0);
    const fn = this.runs.reduce((n, r) => n + r.missed.filter((t) => t.type === type).length, 0);
    const tp = pairs.length;
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    const f1 =
      Number.isNaN(precision) || Number.isNaN(recall)
        ? Number.NaN
        : precision + recall === 0
          ? 0
          : (2 * precision * recall) / (precision + recall);
    const latency = pairs.map((p) => (p.detection.emittedAt - p.truth.end) / 1000);
    const afterObservable = pairs.map(
      (p) => (p.detection.emittedAt - Math.max(p.truth.end, p.truth.observableAt)) / 1000,
    );
    const volErr = pairs
      .filter((p) => p.truth.volumeL !== undefined && p.truth.volumeL > 0)
      .map((p) => (100 * Math.abs((p.detection.volumeL ?? 0) - p.truth.volumeL!)) / p.truth.volumeL!);
    return {
      type,
      tp,
      fp,
      fn,
      precision,
      recall,
      f1,
      latencyS: stats3(latency),
      latencyAfterObservableS: stats3(afterObservable),
      volumeErrorPct: {
        mean: volErr.length === 0 ? Number.NaN : volErr.reduce((a, b) => a + b, 0) / volErr.length,
        p50: percentile(volErr, 50),
        p95: percentile(volErr, 95),
        n: volErr.length,
      },
    };
  }

  /** Theft recall over the drains in a size / state bucket. */
  drainRecall(bucket: DrainBucket): { found: number; total: number; recall: number } {
    const inBucket = (t: Truth) =>
      t.type === 'fuel_drain' &&
      !t.truncated &&
      (bucket.minFraction === undefined || (t.tankFraction ?? 0) >= bucket.minFraction) &&
      (bucket.maxFraction === undefined || (t.tankFraction ?? 0) < bucket.maxFraction) &&
      (bucket.moving === undefined || t.moving === bucket.moving);
    const found = this.runs.reduce((n, r) => n + r.pairs.filter((p) => inBucket(p.truth)).length, 0);
    const total = found + this.runs.reduce((n, r) => n + r.missed.filter(inBucket).length, 0);
    return { found, total, recall: ratio(found, total) };
  }

  /**
   * Drain alarms where no fuel left the tank: unmatched fuel_drain detections that do not
   * overlap a labelled loss (a theft matched to another alarm, a leak) within the drain
   * tolerance, per 1,000 hours of driving. An alarm during a real leak is the wrong kind but not
   * a false alarm to the manager; it still counts against fuel_drain precision. Also per 1,000
   * hours of idling: every false drain counts against both, the stricter bar for idle ones.
   */
  falseDrains(): FalseDrains {
    const tol = DEFAULT_TOLERANCE_MS.fuel_drain;
    let count = 0;
    for (const r of this.runs) {
      const losses = r.truths.filter((t) => t.label === 'fuel_theft' || t.label === 'fuel_leak');
      for (const d of r.falsePositives) {
        if (d.type !== 'fuel_drain') continue;
        if (losses.some((t) => gapToTruth(d, t) <= tol)) continue;
        count += 1;
      }
    }
    return {
      count,
      drivingHours: this.drivingHours,
      per1000h: ratio(count * 1000, this.drivingHours),
      idlingHours: this.idlingHours,
      per1000IdlingH: ratio(count * 1000, this.idlingHours),
    };
  }
}
