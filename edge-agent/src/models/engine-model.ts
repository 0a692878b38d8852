/**
 * A verified engine-anomaly artifact made runnable: the tfjs autoencoder (features -> 8 -> 4 -> 8
 * -> features) plus the manifest's normalisation, gate and threshold. Immutable: a new version is
 * a new EngineModel, swapped in whole by the ModelService, so a window is never scored half by one
 * version and half by another.
 */
import type { ModelFeature, ModelManifest } from '@fleet/shared';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { DriveSample } from '../fuel/drive-log.ts';
import type { VerifiedArtifact } from './artifact.ts';
import { loadTf, type Tf } from './tf.ts';

type LayersModel = Awaited<ReturnType<Tf['loadLayersModel']>>;

/** Where each model feature (a drive-log column name) lives on a sample. */
const FIELD: Record<ModelFeature, (s: DriveSample) => number | null | undefined> = {
  rpm: (s) => s.rpm,
  speed_kmh: (s) => s.speedKmh,
  coolant_c: (s) => s.coolantC,
  fuel_rate_lph: (s) => s.fuelRateLph,
  maf_gps: (s) => s.mafGps,
};

export interface Reconstruction {
  /** Per sample: mean squared error over the normalised features. */
  errors: Float32Array;
  /** Per feature: summed squared error over all samples (which input the model could not explain). */
  featureSq: Float64Array;
}

export class EngineModel {
  readonly featureCount: number;

  private constructor(
    readonly manifest: ModelManifest,
    /** `name@version`, what events carry as modelVersion. */
    readonly label: string,
    private readonly tf: Tf,
    private readonly net: LayersModel,
  ) {
    this.featureCount = manifest.features.length;
  }

  static async load(a: VerifiedArtifact): Promise<EngineModel> {
    let tf: Tf;
    try {
      tf = await loadTf();
    } catch (err) {
      throw new AgentError(
        AgentErrorCode.ModelRuntimeFailed,
        `tfjs (wasm backend) did not start: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const { manifest, weights } = a;
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
    let net: LayersModel;
    try {
      net = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: manifest.model.topology as never,
          weightSpecs: manifest.model.weightSpecs,
          weightData: weightData as ArrayBuffer,
        }),
      );
    } catch (err) {
      throw new AgentError(
        AgentErrorCode.ModelMalformed,
        `model artifact malformed: ${a.label} does not load as a tfjs layers model (${(err as Error).message})`,
      );
    }
    const f = manifest.features.length;
    const inShape = net.inputs[0]?.shape;
    const outShape = net.outputs[0]?.shape;
    if (net.inputs.length !== 1 || inShape?.length !== 2 || inShape[1] !== f || outShape?.[1] !== f) {
      net.dispose();
      throw new AgentError(
        AgentErrorCode.ModelMalformed,
        `model artifact malformed: ${a.label} maps [${inShape}] -> [${outShape}], expected ${f} features in and out`,
      );
    }
    return new EngineModel(manifest, a.label, tf, net);
  }

  /**
   * Writes the sample's normalised features at `offset`; false (nothing usable) when the engine is
   * not running (below the gate) or a feature the model needs is missing.
   */
  normalise(s: DriveSample, into: Float32Array, offset: number): boolean {
    const rpm = s.rpm;
    if (rpm === null || rpm < this.manifest.gate.minRpm) return false;
    const features = this.manifest.features;
    for (let i = 0; i < features.length; i++) {
      const f = features[i]!;
      const v = FIELD[f.name](s);
      if (v === null || v === undefined || !Number.isFinite(v)) return false;
      into[offset + i] = (v - f.mean) / f.std;
    }
    return true;
  }

  /** The first input the sample lacks (null: it has them all). */
  missingFeature(s: DriveSample): ModelFeature | null {
    for (const f of this.manifest.features) {
      const v = FIELD[f.name](s);
      if (v === null || v === undefined || !Number.isFinite(v)) return f.name;
    }
    return null;
  }

  /** One predict for `n` normalised rows (a whole window: one call per ~10 s of data). */
  reconstruct(rows: Float32Array, n: number): Reconstruction {
    const f = this.featureCount;
    const out = this.tf.tidy(() => {
      const y = this.net.predict(this.tf.tensor2d(rows.subarray(0, n * f), [n, f])) as {
        dataSync(): unknown;
      };
      return y.dataSync() as Float32Array;
    });
    const errors = new Float32Array(n);
    const featureSq = new Float64Array(f);
    for (let r = 0; r < n; r++) {
      let sum = 0;
      for (let c = 0; c < f; c++) {
        const d = (out[r * f + c] ?? 0) - (rows[r * f + c] ?? 0);
        sum += d * d;
        featureSq[c] = (featureSq[c] ?? 0) + d * d;
      }
      errors[r] = sum / f;
    }
    return { errors, featureSq };
  }

  dispose(): void {
    this.net.dispose();
  }
}
