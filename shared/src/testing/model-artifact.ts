/**
 * Small hand-made model artifacts for tests of the artifact rules: four float32 weights, a
 * topology no check loads (no tfjs needed). Signed by `publisher` unless told otherwise.
 */
import { createHash, type KeyObject, sign } from 'node:crypto';
import { type ModelManifest, modelSigningText } from '../model-artifact.ts';
import { keyIdOf } from '../model-verify.ts';

export interface TestArtifactOptions {
  version?: number;
  /** Sign with this private key instead of the publisher's (the key id still names the publisher's). */
  signWith?: KeyObject;
  unsigned?: boolean;
  /** Manifest fields to replace (before signing). */
  over?: Partial<ModelManifest>;
}

export function testModelArtifact(
  publisher: { privateKey: KeyObject; publicKey: KeyObject },
  o: TestArtifactOptions = {},
) {
  const weights = Buffer.from(new Float32Array([0.5, -1.25, 3, 7]).buffer);
  const manifest: ModelManifest = {
    v: 1,
    name: 'engine-anomaly',
    version: o.version ?? 3,
    created: '2026-11-26T23:00:00.000Z',
    vehicleId: 'VAN-1',
    features: [
      { name: 'rpm', mean: 1500, std: 400 },
      { name: 'maf_gps', mean: 8, std: 5 },
    ],
    gate: { minRpm: 400 },
    window: { ms: 10_000, minSamples: 5 },
    threshold: 0.05,
    model: {
      format: 'tfjs-layers',
      topology: { class_name: 'Sequential' },
      weightSpecs: [{ name: 'w', shape: [weights.length / 4], dtype: 'float32' }],
    },
    weights: { sha256: createHash('sha256').update(weights).digest('hex'), bytes: weights.length },
    training: { rows: 1000 },
    ...o.over,
  };
  const signer = o.signWith ?? publisher.privateKey;
  return {
    manifest,
    keyId: keyIdOf(publisher.publicKey),
    ...(o.unsigned
      ? {}
      : { signature: sign(null, Buffer.from(modelSigningText(manifest)), signer).toString('base64') }),
    weights: weights.toString('base64'),
  };
}
