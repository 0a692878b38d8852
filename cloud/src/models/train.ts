/**
 * Training the engine-anomaly autoencoder on one vehicle's normal driving:
 *
 *   rows (engine running, every chosen feature present), oldest first
 *     --> first 80 % train, last 20 % held out (later driving the network never saw)
 *     --> z-score each feature with the train part's mean / std
 *     --> dense F -> 8 -> 4 -> 8 -> F (tanh; linear out), Adam, mean squared error
 *     --> threshold = p99.5 of the held-out per-sample errors
 *     --> manifest (features + normalisation, gate, window, threshold, tfjs topology, weights'
 *         SHA-256) + weight bytes; signing.ts signs it
 *
 * On the vehicle a window of 10 s is anomalous when its MEDIAN sample error exceeds the threshold,
 * i.e. when more than half its samples are worse than all but 0.5 % of held-out normal ones.
 * A few KB in all: ~170 float32 weights and the topology JSON.
 */
import { createHash } from 'node:crypto';
import { MODEL_ARTIFACT_VERSION, MODEL_FEATURES, type ModelFeature, ModelManifest } from '@fleet/shared';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { loadTf } from './tf.ts';
import type { TrainingData } from './training-data.ts';

export const ENGINE_MODEL_NAME = 'engine-anomaly';

export interface TrainOptions {
  vehicleId: string | null;
  /** Monotonic; default the UTC time as YYYYMMDDHHMMSS (grows without a registry). */
  version?: number;
  /** [1...500], default 40. */
  epochs?: number;
  batchSize?: number;
  /** Evenly thinned to at most this many rows (default 50,000: seconds of training). */
  maxRows?: number;
  /** Below this rpm the engine is off or cranking: not trained on, not scored (default 400). */
  gateMinRpm?: number;
  windowMs?: number;
  minWindowSamples?: number;
  /** Quantile of held-out errors used as the threshold (default 0.995). */
  quantile?: number;
  /** Share of the newest rows held out (default 0.2). */
  holdout?: number;
  /**
   * Only these inputs (default: every feature the data has in 90 % of running rows). A model
   * needs all its inputs on every live sample, so pick what the vehicle polls, not what a log had.
   */
  features?: readonly ModelFeature[];
  /** Width of the middle layer (default 4): narrower than the features, so they must explain each other. */
  bottleneck?: number;
  /** Seeds the initial weights (default 1): the same data gives the same model. */
  seed?: number;
  /** Fewer usable rows than this is refused (default 500). */
  minRows?: number;
  now?: Date;
}

export interface TrainedModel {
  manifest: ModelManifest;
  weights: Buffer;
}

/** UTC time as a 14-digit integer: 2026-11-26T23:05:07Z -> 20261126230507. */
export function timeVersion(now: Date): number {
  return Number(now.toISOString().replace(/\D/g, '').slice(0, 14));
}

export function quantile(values: Float32Array | number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function fail(message: string): CloudError {
  return new CloudError(CloudErrorCode.ModelTraining, message);
}

export async function trainEngineModel(data: TrainingData, o: TrainOptions): Promise<TrainedModel> {
  const gate = o.gateMinRpm ?? 400;
  const epochs = o.epochs ?? 40;
  if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= 500))
    throw fail(`epochs must be in [1...500]: ${epochs}`);
  const rpmAt = data.columns.indexOf('rpm');
  if (rpmAt < 0) throw fail('the training data has no rpm');
  const running = data.rows.filter((r) => r[rpmAt] !== null && (r[rpmAt] as number) >= gate);
  const minRows = o.minRows ?? 500;
  if (running.length < minRows) {
    throw fail(
      `need at least ${minRows} samples with the engine running; ${data.source} has ${running.length}`,
    );
  }
  // A feature the source mostly lacks (an ECU without PID 5E) would leave too few complete rows.
  const chosen: ModelFeature[] = [];
  for (const f of MODEL_FEATURES) {
    if (o.features && !o.features.includes(f)) continue;
    const i = data.columns.indexOf(f);
    if (i < 0) continue;
    const present = running.filter((r) => r[i] !== null).length;
    if (running.length > 0 && present / running.length >= 0.9) chosen.push(f);
  }
  if (chosen.length < 2) {
    throw fail(
      `need rpm and at least one more feature present in 90 % of running rows; have ${chosen.join(', ') || 'none'}`,
    );
  }
  const idx = chosen.map((f) => data.columns.indexOf(f));
  let rows = running
    .filter((r) => idx.every((i) => r[i] !== null))
    .map((r) => idx.map((i) => r[i] as number));
  if (rows.length < minRows) {
    throw fail(
      `need at least ${minRows} samples with the engine running and every feature present; ${data.source} has ${rows.length}`,
    );
  }
  const maxRows = o.maxRows ?? 50_000;
  if (rows.length > maxRows) {
    const step = rows.length / maxRows;
    rows = Array.from({ length: maxRows }, (_, k) => rows[Math.floor(k * step)]!);
  }
  const split = Math.floor(rows.length * (1 - (o.holdout ?? 0.2)));
  const train = rows.slice(0, split);
  const held = rows.slice(split);
  const F = chosen.length;
  const features = chosen.map((name, c) => {
    const mean = train.reduce((a, r) => a + r[c]!, 0) / train.length;
    const sd = Math.sqrt(train.reduce((a, r) => a + (r[c]! - mean) ** 2, 0) / train.length);
    // A constant feature (a PID stuck at one value) would divide by zero: leave it unscaled.
    return { name, mean, std: sd > 1e-6 ? sd : 1 };
  });
  const normalise = (set: number[][]) => {
    const out = new Float32Array(set.length * F);
    set.forEach((r, i) => {
      for (let c = 0; c < F; c++) out[i * F + c] = (r[c]! - features[c]!.mean) / features[c]!.std;
    });
    return out;
  };

  const tf = await loadTf();
  const seed = o.seed ?? 1;
  const dense = (units: number, activation: 'tanh' | 'linear', k: number, inputDim?: number) =>
    tf.layers.dense({
      units,
      activation,
      ...(inputDim ? { inputShape: [inputDim] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + k }),
    });
  const net = tf.sequential({
    layers: [
      dense(8, 'tanh', 1, F),
      dense(o.bottleneck ?? 4, 'tanh', 2),
      dense(8, 'tanh', 3),
      dense(F, 'linear', 4),
    ],
  });
  net.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
  // Shuffled once with the seed instead of by fit() (Math.random): the same data and seed give the
  // same model, so a threshold that passes review passes every time.
  const xTrain = tf.tensor2d(normalise(seededShuffle(train, seed)), [train.length, F]);
  const xHeld = tf.tensor2d(normalise(held), [held.length, F]);
  let finalLoss = Number.NaN;
  try {
    const h = await net.fit(xTrain, xTrain, {
      epochs,
      batchSize: o.batchSize ?? 256,
      shuffle: false,
      verbose: 0,
    });
    finalLoss = Number(h.history.loss?.at(-1));
    if (!Number.isFinite(finalLoss)) throw fail(`training diverged (loss ${finalLoss})`);
    const errors = tf.tidy(() => {
      const y = net.predict(xHeld) as ReturnType<typeof tf.tensor2d>;
      return y.sub(xHeld).square().mean(1).dataSync() as Float32Array;
    });
    const q = o.quantile ?? 0.995;
    const threshold = quantile(errors, q);
    if (!(threshold > 0)) throw fail(`held-out errors give no usable threshold (${threshold})`);

    let saved: { modelTopology: unknown; weightSpecs: unknown; weightData: unknown } | null = null;
    await net.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts as typeof saved;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const s = saved as unknown as {
      modelTopology: Record<string, unknown>;
      weightSpecs: unknown[];
      weightData: ArrayBuffer | ArrayBuffer[];
    };
    const weightData = Array.isArray(s.weightData)
      ? tf.io.concatenateArrayBuffers(s.weightData)
      : s.weightData;
    const weights = Buffer.from(weightData);
    const now = o.now ?? new Date();
    const manifest = ModelManifest.parse({
      v: MODEL_ARTIFACT_VERSION,
      name: ENGINE_MODEL_NAME,
      version: o.version ?? timeVersion(now),
      created: now.toISOString(),
      vehicleId: o.vehicleId,
      features,
      gate: { minRpm: gate },
      window: { ms: o.windowMs ?? 10_000, minSamples: o.minWindowSamples ?? 5 },
      threshold,
      model: { format: 'tfjs-layers', topology: s.modelTopology, weightSpecs: s.weightSpecs },
      weights: { sha256: createHash('sha256').update(weights).digest('hex'), bytes: weights.length },
      training: {
        source: data.source,
        rows: rows.length,
        trainRows: train.length,
        heldOutRows: held.length,
        epochs,
        finalLoss: Math.round(finalLoss * 1e6) / 1e6,
        heldOutMedianError: Math.round(quantile(errors, 0.5) * 1e6) / 1e6,
        quantile: q,
        seed,
        backend: tf.getBackend(),
      },
    });
    return { manifest, weights };
  } finally {
    xTrain.dispose();
    xHeld.dispose();
    net.dispose();
  }
}

/** Fisher-Yates with mulberry32: a copy of `rows` in an order fixed by `seed`. */
function seededShuffle<T>(rows: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const out = [...rows];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
