/**
 * Baseline (b): the Isolation Forest the design documents propose for fuel theft
 * (shared/seeds: sklearn IsolationForest(contamination=0.01) on [fuel_level,
 * distance_traveled, engine_runtime], "-1 = anomaly" = theft).
 *
 * Implemented here from the paper (Liu, Ting, Zhou, "Isolation Forest", ICDM 2008) rather than
 * taken from npm: the two packages there (isolation-forest 0.0.9, ml-isolation-forest 0.1.0)
 * are pre-1.0, draw from Math.random (so two benchmark runs would disagree), and the algorithm
 * is some 60 lines. As in the paper and sklearn's defaults: 100 trees, sub-samples of 256, height
 * limit ceil(log2 256), path length plus c(n) at an external node, score 2^(-E[h(x)] / c(psi));
 * `contamination` sets the threshold at that quantile of the training scores (sklearn's
 * offset_). sklearn's StandardScaler is left out: each split is drawn uniformly between a
 * feature's min and max, which per-feature scaling does not change.
 *
 * Rows: one per 5-minute window of the log with fuel readings. Features, read charitably:
 *   fuel_level         the change of the mean level (litres, calibrated) since the previous
 *                      window with readings (the level itself says nothing about a theft)
 *   distance_traveled  km driven since then (speed integrated)
 *   engine_runtime     s with the engine turning (rpm > 0) since then
 * The forest is fitted on the vehicle's own whole log (what "historical_data" would be) and then
 * scores the same windows as they close: optimistic, since it has seen the future. A flagged
 * window is a fuel_drain (fuel fell) or a refuel (fuel rose), emitted when the window closes.
 */
import type { DriveSample } from '../../../edge-agent/src/fuel/drive-log.ts';
import type { VehicleEvent } from '../../../shared/src/events.ts';
import { type BenchDetector, EventFactory, litresFromReading, type RunContext } from '../detector.ts';

/** mulberry32: a small seeded PRNG, so the forest is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Average path length of an unsuccessful BST search among n points (the paper's c(n)). */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

type Node = { size: number } | { feature: number; split: number; left: Node; right: Node };

export class IsolationForest {
  private trees: Node[] = [];
  private psi = 0;
  /** Scores above this are anomalies (set by fit from the contamination). */
  threshold = 1;

  constructor(
    private readonly options: {
      trees?: number;
      sampleSize?: number;
      contamination?: number;
      seed?: number;
    } = {},
  ) {}

  fit(rows: readonly number[][]): this {
    const rand = prng(this.options.seed ?? 1);
    const nTrees = this.options.trees ?? 100;
    this.psi = Math.min(this.options.sampleSize ?? 256, rows.length);
    const limit = Math.ceil(Math.log2(Math.max(2, this.psi)));
    this.trees = [];
    for (let t = 0; t < nTrees; t++) {
      // Sub-sample without replacement (partial Fisher-Yates).
      const idx = rows.map((_, i) => i);
      for (let i = 0; i < this.psi; i++) {
        const j = i + Math.floor(rand() * (idx.length - i));
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
      this.trees.push(
        this.grow(
          idx.slice(0, this.psi).map((i) => rows[i]!),
          0,
          limit,
          rand,
        ),
      );
    }
    const scores = rows.map((r) => this.score(r)).sort((a, b) => a - b);
    const c = this.options.contamination ?? 0.01;
    this.threshold = scores[Math.min(scores.length - 1, Math.floor((1 - c) * scores.length))] ?? 1;
    return this;
  }

  private grow(rows: number[][], depth: number, limit: number, rand: () => number): Node {
    if (depth >= limit || rows.length <= 1) return { size: rows.length };
    const dims = rows[0]!.length;
    // Only features that still vary in this node can split it.
    const varying: number[] = [];
    for (let f = 0; f < dims; f++) {
      const v0 = rows[0]![f]!;
      if (rows.some((r) => r[f] !== v0)) varying.push(f);
    }
    if (varying.length === 0) return { size: rows.length };
    const feature = varying[Math.floor(rand() * varying.length)]!;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const r of rows) {
      lo = Math.min(lo, r[feature]!);
      hi = Math.max(hi, r[feature]!);
    }
    const split = lo + rand() * (hi - lo);
    const left = rows.filter((r) => r[feature]! < split);
    const right = rows.filter((r) => r[feature]! >= split);
    return {
      feature,
      split,
      left: this.grow(left, depth + 1, limit, rand),
      right: this.grow(right, depth + 1, limit, rand),
    };
  }

  /** Anomaly score in (0, 1]: near 1 is isolated early (anomalous), below 0.5 is normal. */
  score(row: readonly number[]): number {
    if (this.trees.length === 0) throw new Error('IsolationForest: fit() first');
    let total = 0;
    for (const tree of this.trees) {
      let node = tree;
      let depth = 0;
      while ('feature' in node) {
        node = row[node.feature]! < node.split ? node.left : node.right;
        depth += 1;
      }
      total += depth + averagePathLength(node.size);
    }
    return 2 ** (-(total / this.trees.length) / averagePathLength(this.psi));
  }
}

const WINDOW_MS = 5 * 60_000;

interface Window {
  /** The previous window's last reading (the features are changes since then), or this window's first. */
  start: number;
  end: number;
  /** ts of the first sample after the window: when it closes. */
  closesAt: number;
  features: [number, number, number];
}

/** The log's 5-minute windows with fuel readings and their three features. */
export function fuelWindows(samples: readonly DriveSample[], litres: (pct: number) => number): Window[] {
  const out: Window[] = [];
  let prevMean: number | null = null;
  let prevEnd: number | null = null;
  let km = 0;
  let runtimeS = 0;
  let cur: { key: number; start: number; end: number; sum: number; n: number } | null = null;
  let prev: DriveSample | null = null;
  const close = (closesAt: number) => {
    if (!cur || cur.n === 0) return;
    const mean = cur.sum / cur.n;
    out.push({
      start: prevEnd ?? cur.start,
      end: cur.end,
      closesAt,
      features: [prevMean === null ? 0 : mean - prevMean, km, runtimeS],
    });
    prevMean = mean;
    prevEnd = cur.end;
    km = 0;
    runtimeS = 0;
  };
  for (const s of samples) {
    const key = Math.floor(s.ts / WINDOW_MS);
    if (cur && key !== cur.key) {
      close(s.ts);
      cur = null;
    }
    if (prev) {
      const dt = Math.min(10, (s.ts - prev.ts) / 1000);
      km += ((prev.speedKmh ?? 0) * dt) / 3600;
      if ((prev.rpm ?? 0) > 0) runtimeS += dt;
    }
    if (s.fuelLevelPct !== null) {
      if (!cur) cur = { key, start: s.ts, end: s.ts, sum: 0, n: 0 };
      cur.sum += litres(s.fuelLevelPct);
      cur.n += 1;
      cur.end = s.ts;
    }
    prev = s;
  }
  close(prev?.ts ?? 0);
  return out;
}

export function isolationForestDetector(contamination = 0.01): BenchDetector {
  return {
    name: 'IsolationForest',
    open(ctx: RunContext, history: readonly DriveSample[]) {
      const litres = litresFromReading(ctx.calibration);
      const windows = fuelWindows(history, litres);
      const forest = new IsolationForest({ contamination, seed: 1 }).fit(windows.map((w) => w.features));
      const flagged = windows.filter((w) => forest.score(w.features) > forest.threshold);
      const events = new EventFactory();
      let next = 0;
      const due = (ts: number, s: DriveSample): VehicleEvent[] => {
        const out: VehicleEvent[] = [];
        while (next < flagged.length && flagged[next]!.closesAt <= ts) {
          const w = flagged[next++]!;
          const delta = w.features[0];
          out.push(
            events.make(
              delta > 0 ? 'refuel' : 'fuel_drain',
              w.start,
              w.end,
              s,
              { score: forest.score(w.features), threshold: forest.threshold, features: w.features },
              Math.abs(delta),
            ),
          );
        }
        return out;
      };
      let last: DriveSample | null = null;
      return {
        push(s: DriveSample) {
          last = s;
          return due(s.ts, s);
        },
        flush: () => (last ? due(Number.POSITIVE_INFINITY, last) : []),
      };
    },
  };
}
