/**
 * The engine model's scores summarised per day (issue 18 §2, predictive maintenance): every
 * scored window, anomalous or not, adds to the day's count, mean, p95 and max, and to each input's
 * share of the reconstruction error (which PIDs the model could not explain). The cloud compares a
 * day with the vehicle's own earlier days and turns a high one into an "inspect" suggestion.
 *
 *   window score (EngineAnomalyDetector) --> add() --> segment of one UTC day, one model version
 *     --> `engine_scores` event at ignition off, at the UTC day's end (the first window of the
 *         next day, by its start), on a model swap, at flush
 *
 * Segments never overlap, so the cloud adds them up per day; a restart loses only the open one.
 */
import type { DetectedEvent } from '../detectors/index.ts';
import type { EngineModel } from './engine-model.ts';

const DAY_MS = 86_400_000;

export type ScoreSegmentEnd = 'ignition_off' | 'day_end' | 'model_change' | 'flush';

interface Segment {
  model: EngineModel;
  day: number;
  start: number;
  end: number;
  scores: number[];
  anomalous: number;
  featureSq: Float64Array;
}

export const utcDay = (ts: number): string =>
  new Date(Math.floor(ts / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

export class DailyEngineScores {
  private seg: Segment | null = null;

  constructor(private readonly driverId: string | null = null) {}

  /** A scored window: its score (median error), the per-input squared error it summed. */
  add(
    out: DetectedEvent[],
    model: EngineModel,
    start: number,
    end: number,
    score: number,
    featureSq: Float64Array,
  ): void {
    const day = Math.floor(start / DAY_MS);
    if (this.seg && (this.seg.model !== model || this.seg.day !== day)) {
      this.close(out, this.seg.model !== model ? 'model_change' : 'day_end');
    }
    if (!this.seg) {
      this.seg = {
        model,
        day,
        start,
        end,
        scores: [],
        anomalous: 0,
        featureSq: new Float64Array(model.featureCount),
      };
    }
    const s = this.seg;
    s.end = end;
    s.scores.push(score);
    if (score > model.manifest.threshold) s.anomalous++;
    for (let i = 0; i < s.featureSq.length; i++) s.featureSq[i] = (s.featureSq[i] ?? 0) + (featureSq[i] ?? 0);
  }

  /** Ends the open segment (nothing when no window was scored since the last one). */
  close(out: DetectedEvent[], reason: ScoreSegmentEnd): void {
    const s = this.seg;
    this.seg = null;
    if (!s || s.scores.length === 0) return;
    const m = s.model;
    const sorted = Float64Array.from(s.scores).sort();
    const n = sorted.length;
    const mean = sorted.reduce((a, b) => a + b, 0) / n;
    // Nearest-rank p95: with 20 windows or fewer it is the max.
    const p95 = sorted[Math.min(n - 1, Math.ceil(0.95 * n) - 1)] ?? 0;
    const totalSq = s.featureSq.reduce((a, b) => a + b, 0) || 1;
    const features = m.manifest.features
      .map((f, i) => ({ feature: f.name, share: round((s.featureSq[i] ?? 0) / totalSq, 3) }))
      .sort((a, b) => b.share - a.share);
    out.push({
      type: 'engine_scores',
      start: s.start,
      end: s.end,
      lat: null,
      lon: null,
      driverId: this.driverId,
      confidence: 1,
      modelVersion: m.label,
      details: {
        day: utcDay(s.day * DAY_MS),
        windows: n,
        anomalousWindows: s.anomalous,
        mean: round(mean, 5),
        p95: round(p95, 5),
        max: round(sorted[n - 1] ?? 0, 5),
        threshold: round(m.manifest.threshold, 5),
        // Every input's share of the segment's reconstruction error, largest first.
        features,
        reason,
      },
    });
  }
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
