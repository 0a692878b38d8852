/**
 * Engine anomalies: the vehicle's own autoencoder (trained in the cloud on its normal driving)
 * cannot reconstruct what it has never seen: fuel burnt that the air flow and rpm do not explain,
 * coolant hot for the load, rpm that does not fit the speed.
 *
 *   samples (engine running, every feature present)
 *     --> windows of manifest.window.ms of data time (10 s: 100 samples at 10 Hz, ONE predict)
 *     --> per-sample error; window score = median error (one spike is noise, half a window is not)
 *     --> score > threshold (p99.5 of held-out normal errors): the window is anomalous
 *     --> consecutive anomalous windows form one event, emitted when they stop, or after
 *         maxEventMs (60 s) so a lasting fault is reported within a minute and then again
 *
 * Without an active model it emits nothing (and says so in `stats`). A model swapped in mid-window
 * closes what is open under the old version first: an event carries the version that decided it.
 */
import type { Logger } from '@fleet/shared/log';
import type { DetectedEvent, Detector } from '../detectors/index.ts';
import type { DriveSample } from '../fuel/drive-log.ts';
import type { EngineModel } from './engine-model.ts';
import { DailyEngineScores } from './engine-scores.ts';

export interface EngineAnomalyOptions {
  /** A run of anomalous windows is reported at the latest after this much data time (default 60 s). */
  maxEventMs?: number;
  driverId?: string | null;
  /** Told once per model when the samples never carry one of its inputs (it then cannot score). */
  log?: Logger;
}

/** Engine-running samples in a row without a model input before the warning (10 min at 1 Hz). */
const SILENT_MODEL_SAMPLES = 600;

interface Run {
  model: EngineModel;
  start: number;
  end: number;
  lat: number | null;
  lon: number | null;
  windows: number;
  samples: number;
  maxScore: number;
  ratioSum: number;
  featureSq: Float64Array;
  continued: boolean;
}

export interface EngineAnomalyStats {
  samples: number;
  /** Scored by the model (engine running, all features present). */
  scored: number;
  /** Not scorable: engine off, a feature missing, or no model active. */
  skipped: number;
  windows: number;
  anomalousWindows: number;
  /** Model calls (one per window). */
  predicts: number;
}

export class EngineAnomalyDetector implements Detector {
  readonly stats: EngineAnomalyStats = {
    samples: 0,
    scored: 0,
    skipped: 0,
    windows: 0,
    anomalousWindows: 0,
    predicts: 0,
  };
  private readonly maxEventMs: number;
  private readonly driverId: string | null;
  private windowModel: EngineModel | null = null;
  private windowStart = 0;
  private window: DriveSample[] = [];
  private rows = new Float32Array(0);
  private run: Run | null = null;
  /** The last event was cut at maxEventMs while still anomalous. */
  private continues = false;

  /** `model()` is read on every sample: the ModelService's current model, hot-swapped. */
  constructor(
    private readonly model: () => EngineModel | null,
    opts: EngineAnomalyOptions = {},
  ) {
    this.maxEventMs = opts.maxEventMs ?? 60_000;
    this.driverId = opts.driverId ?? null;
    this.log = opts.log;
    this.daily = new DailyEngineScores(this.driverId);
  }

  /** Every scored window's score, summarised per day: `engine_scores` events (engine-scores.ts). */
  private readonly daily: DailyEngineScores;
  /** The last sample that knew had the ignition on (a summary is sent when it goes off). */
  private ignitionOn = false;

  private readonly log: Logger | undefined;
  /** Engine-running samples in a row that lacked a model input, and whether that was reported. */
  private missingRun = 0;
  private warnedFor: EngineModel | null = null;

  /** A model trained on inputs this vehicle's samples do not carry is silent: say so, once. */
  private noteMissing(m: EngineModel, s: DriveSample): void {
    const missing = m.missingFeature(s);
    if (missing === null) {
      this.missingRun = 0;
      return;
    }
    if (++this.missingRun < SILENT_MODEL_SAMPLES || this.warnedFor === m) return;
    this.warnedFor = m;
    this.log?.warn(
      { model: m.label, missing, samples: this.missingRun },
      'the engine model needs an input these samples never carry: it cannot score (train it with --features the vehicle polls)',
    );
  }

  push(s: DriveSample): DetectedEvent[] {
    this.stats.samples++;
    const out: DetectedEvent[] = [];
    const m = this.model();
    if (m !== this.windowModel) {
      // New version (or none): finish the old version's window and event under its own name.
      this.closeWindow(out);
      this.endRun(out);
      this.windowModel = m;
      this.window = [];
    } else if (this.window.length > 0 && m && s.ts - this.windowStart >= m.manifest.window.ms) {
      this.closeWindow(out);
    }
    if (s.ignition === false && this.ignitionOn) {
      // Ignition off: the drive's last window, then its scores (the day so far) go out now.
      this.closeWindow(out);
      this.endRun(out);
      this.daily.close(out, 'ignition_off');
    }
    // Unknown (null: the link reconnecting) keeps the last known state.
    if (s.ignition !== null) this.ignitionOn = s.ignition;
    if (m === null || s.rpm === null || s.rpm < m.manifest.gate.minRpm) {
      this.stats.skipped++;
      return out;
    }
    if (this.window.length === 0) this.windowStart = s.ts;
    this.window.push(s);
    this.noteMissing(m, s);
    return out;
  }

  flush(): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    this.closeWindow(out);
    this.endRun(out);
    this.daily.close(out, 'flush');
    return out;
  }

  private closeWindow(out: DetectedEvent[]): void {
    const m = this.windowModel;
    const samples = this.window;
    this.window = [];
    if (!m || samples.length === 0) return;
    const f = m.featureCount;
    if (this.rows.length < samples.length * f) this.rows = new Float32Array(samples.length * f * 2);
    const used: DriveSample[] = [];
    for (const s of samples) {
      if (m.normalise(s, this.rows, used.length * f)) used.push(s);
    }
    this.stats.skipped += samples.length - used.length;
    this.stats.scored += used.length;
    if (used.length < m.manifest.window.minSamples) {
      // Too little to judge (a gap, missing PIDs): it neither starts nor continues an anomaly.
      this.endRun(out);
      return;
    }
    this.stats.windows++;
    this.stats.predicts++;
    const { errors, featureSq } = m.reconstruct(this.rows, used.length);
    const score = median(errors);
    const threshold = m.manifest.threshold;
    this.daily.add(out, m, used[0]!.ts, used[used.length - 1]!.ts, score, featureSq);
    if (score <= threshold) {
      this.endRun(out);
      return;
    }
    this.stats.anomalousWindows++;
    const first = used[0]!;
    const last = used[used.length - 1]!;
    if (this.run === null) {
      const located = used.find((s) => s.lat !== null && s.lon !== null) ?? first;
      this.run = {
        model: m,
        start: first.ts,
        end: last.ts,
        lat: located.lat,
        lon: located.lon,
        windows: 0,
        samples: 0,
        maxScore: 0,
        ratioSum: 0,
        featureSq: new Float64Array(f),
        continued: this.continues,
      };
      this.continues = false;
    }
    const run = this.run;
    run.end = last.ts;
    run.windows++;
    run.samples += used.length;
    run.maxScore = Math.max(run.maxScore, score);
    run.ratioSum += score / threshold;
    for (let i = 0; i < f; i++) run.featureSq[i] = (run.featureSq[i] ?? 0) + (featureSq[i] ?? 0);
    if (run.end - run.start >= this.maxEventMs) {
      this.endRun(out);
      // Still anomalous: if the next window is too, it starts a follow-up event, marked as such.
      this.continues = true;
    }
  }

  private endRun(out: DetectedEvent[]): void {
    const run = this.run;
    this.continues = false;
    if (run === null) return;
    this.run = null;
    const m = run.model;
    const meanRatio = run.ratioSum / run.windows;
    const totalSq = run.featureSq.reduce((a, b) => a + b, 0) || 1;
    const contributions = m.manifest.features
      .map((feat, i) => ({ feature: feat.name, share: round((run.featureSq[i] ?? 0) / totalSq, 3) }))
      .sort((a, b) => b.share - a.share);
    out.push({
      type: 'engine_anomaly',
      start: run.start,
      end: run.end,
      lat: run.lat,
      lon: run.lon,
      driverId: this.driverId,
      // 1 - 1/ratio: just over the threshold is a weak call, 10x over is 0.9.
      confidence: round(Math.min(0.999, Math.max(0, 1 - 1 / meanRatio)), 3),
      modelVersion: m.label,
      details: {
        score: round(run.maxScore, 5),
        threshold: round(m.manifest.threshold, 5),
        ratio: round(meanRatio, 2),
        windows: run.windows,
        samples: run.samples,
        // Which inputs the model could not explain: where a technician looks first.
        features: contributions.slice(0, 3),
        ...(run.continued ? { continued: true } : {}),
      },
    });
  }
}

function median(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
