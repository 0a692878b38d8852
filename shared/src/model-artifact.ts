import { z } from 'zod';

/**
 * A model artifact: what the cloud trains and signs, and what a vehicle verifies before it runs it.
 *
 *   {
 *     "manifest":  { name, version, created, vehicleId, features (+ normalisation), gate, window,
 *                    threshold, model (tfjs layers topology + weight specs), weights: { sha256, bytes } },
 *     "keyId":     first 16 hex of SHA-256 over the signer's SPKI DER (a hint for the error message),
 *     "signature": Ed25519 over signingBytes(manifest), base64,
 *     "weights":   the tfjs weight data (little-endian float32), base64
 *   }
 *
 * The signature covers the manifest only; the manifest carries the weights' SHA-256, so a flipped
 * weight byte fails the checksum and an edited manifest (threshold, version) fails the signature.
 * `version` only grows: a vehicle refuses any version not above every one it has installed, so a
 * replayed (genuinely signed) old artifact cannot downgrade it; only a local rollback goes back.
 *
 * Delivered on `{base}/v1/{tenant}/{vehicle}/model`, retained, QoS 1 (shared/src/topics.ts), and
 * kept by the agent as the same JSON file. Pure (no node:crypto) so the web bundle can import it.
 */
export const MODEL_ARTIFACT_VERSION = 1;

/** Domain separation: these signed bytes can never be mistaken for another signed message. */
export const MODEL_SIGNING_PREFIX = 'fleet-model-artifact-v1\n';

/**
 * Inputs a model may use, named as the CSV drive-log columns (edge-agent/src/fuel/drive-log.ts)
 * and, where it has them, the cloud's telemetry table.
 */
export const MODEL_FEATURES = ['rpm', 'speed_kmh', 'coolant_c', 'fuel_rate_lph', 'maf_gps'] as const;
export type ModelFeature = (typeof MODEL_FEATURES)[number];

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const ModelManifest = z.object({
  v: z.literal(MODEL_ARTIFACT_VERSION),
  /** What the model does, e.g. `engine-anomaly`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/),
  /** Monotonic per name; the vehicle refuses anything not above what it has installed. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** ISO 8601. */
  created: z.string().datetime(),
  /** The vehicle whose normal data trained it; null for a fleet-wide model. */
  vehicleId: z.string().max(64).nullable(),
  /** Input order of the network; each normalised as (x - mean) / std. */
  features: z
    .array(z.object({ name: z.enum(MODEL_FEATURES), mean: z.number(), std: z.number().positive() }))
    .min(1)
    .max(MODEL_FEATURES.length),
  /** Samples below this rpm are not scored (engine off or cranking: not what the model learned). */
  gate: z.object({ minRpm: z.number().min(0).max(20_000) }),
  /** Samples are scored in windows of `ms` of data time; a window needs `minSamples` scored ones. */
  window: z.object({ ms: z.number().int().min(1000).max(600_000), minSamples: z.number().int().min(1) }),
  /**
   * A window is anomalous when the median per-sample reconstruction error (mean squared error over
   * the normalised features) exceeds this: p99.5 of the errors on held-out normal data.
   */
  threshold: z.number().positive(),
  model: z.object({
    format: z.literal('tfjs-layers'),
    topology: z.record(z.string(), z.unknown()),
    weightSpecs: z
      .array(
        z.object({
          name: z.string(),
          shape: z.array(z.number().int().min(0)),
          dtype: z.literal('float32'),
        }),
      )
      .min(1),
  }),
  weights: z.object({
    sha256: Sha256Hex,
    bytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024),
  }),
  /** How it was made (rows, epochs, source); informative, signed with the rest. */
  training: z.record(z.string(), z.unknown()),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

export const ModelArtifact = z.object({
  manifest: z.unknown(),
  keyId: z.string().max(64).optional(),
  signature: z.string().max(256).optional(),
  weights: z.string(),
});
export type ModelArtifact = z.infer<typeof ModelArtifact>;

/** `engine-anomaly@20261126230500`: what events carry as `modelVersion`. */
export function modelVersionLabel(m: Pick<ModelManifest, 'name' | 'version'>): string {
  return `${m.name}@${m.version}`;
}

/** JSON with object keys sorted at every level and no whitespace: the same bytes on both sides. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonicalJson: non-finite number');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The exact text an Ed25519 signature covers (UTF-8 of it). Verify over the manifest as received,
 * before any schema parse drops or coerces a field.
 */
export function modelSigningText(manifest: unknown): string {
  return MODEL_SIGNING_PREFIX + canonicalJson(manifest);
}
