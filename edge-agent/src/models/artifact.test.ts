import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ModelManifest, modelSigningText } from '@fleet/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../errors.ts';
import { keyIdOf, readPublicKey, verifyArtifact } from './artifact.ts';
import { ModelStore, modelsDirFor } from './model-store.ts';

// No tfjs here: signature, checksum, version and store rules on small hand-made artifacts
// (the topology is never loaded by these checks). cloud/test/models.test.ts runs real ones.
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-model-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const publisher = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

function manifest(version: number, weights: Buffer, over: Partial<ModelManifest> = {}): ModelManifest {
  return {
    v: 1,
    name: 'engine-anomaly',
    version,
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
    ...over,
  };
}

function artifact(
  version: number,
  opts: { key?: KeyObject; unsigned?: boolean; over?: Partial<ModelManifest> } = {},
) {
  const weights = Buffer.from(new Float32Array([0.5, -1.25, 3, 7]).buffer);
  const m = manifest(version, weights, opts.over);
  const key = opts.key ?? publisher.privateKey;
  return {
    manifest: m,
    keyId: keyIdOf(key.type === 'private' ? publisher.publicKey : key),
    ...(opts.unsigned
      ? {}
      : { signature: sign(null, Buffer.from(modelSigningText(m)), key).toString('base64') }),
    weights: weights.toString('base64'),
  };
}

function refusal(fn: () => unknown): { code: AgentErrorCode; message: string } {
  try {
    fn();
  } catch (err) {
    if (isAgentError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal, the artifact was accepted');
}

const verify = (a: unknown) => verifyArtifact(JSON.stringify(a), publisher.publicKey, { vehicleId: 'VAN-1' });

describe('verifyArtifact', () => {
  it('accepts a signed artifact and reads its manifest and weights', () => {
    const v = verify(artifact(3));
    expect(v.label).toBe('engine-anomaly@3');
    expect(new Float32Array(v.weights.buffer, v.weights.byteOffset, 4)[1]).toBe(-1.25);
  });

  it('refuses an unsigned artifact', () => {
    const r = refusal(() => verify(artifact(3, { unsigned: true })));
    expect(r.code).toBe(AgentErrorCode.ModelUnsigned);
    expect(r.message).toMatch(/not signed/);
  });

  it('refuses one signed by another key, naming both key ids', () => {
    const a = artifact(3, { key: stranger.privateKey });
    a.keyId = keyIdOf(stranger.publicKey);
    const r = refusal(() => verify(a));
    expect(r.code).toBe(AgentErrorCode.ModelBadSignature);
    expect(r.message).toContain(keyIdOf(stranger.publicKey));
    expect(r.message).toContain(keyIdOf(publisher.publicKey));
    // ...and the same when the envelope lies about which key signed it.
    const liar = artifact(3, { key: stranger.privateKey });
    expect(refusal(() => verify(liar)).code).toBe(AgentErrorCode.ModelBadSignature);
  });

  it('refuses a manifest edited after signing (a raised threshold)', () => {
    const a = artifact(3);
    a.manifest.threshold = 99;
    expect(refusal(() => verify(a)).code).toBe(AgentErrorCode.ModelBadSignature);
  });

  it('refuses a flipped weight byte as a checksum mismatch', () => {
    const a = artifact(3);
    const w = Buffer.from(a.weights, 'base64');
    w[5] = (w[5] ?? 0) ^ 0x01;
    a.weights = w.toString('base64');
    const r = refusal(() => verify(a));
    expect(r.code).toBe(AgentErrorCode.ModelChecksumMismatch);
    expect(r.message).toMatch(/checksum mismatch/);
  });

  it('refuses malformed input with the reason', () => {
    expect(refusal(() => verifyArtifact('{"manifest":', publisher.publicKey)).code).toBe(
      AgentErrorCode.ModelMalformed,
    );
    expect(refusal(() => verifyArtifact('[1,2]', publisher.publicKey)).code).toBe(
      AgentErrorCode.ModelMalformed,
    );
    // Signed but not a valid manifest (an unknown feature): the signature is right, the content is not.
    const bad = artifact(3, { over: { features: [{ name: 'boost_kpa' as never, mean: 0, std: 1 }] } });
    const r = refusal(() => verify(bad));
    expect(r.code).toBe(AgentErrorCode.ModelMalformed);
    expect(r.message).toMatch(/features/);
  });

  it('refuses a model trained for another vehicle', () => {
    const r = refusal(() => verify(artifact(3, { over: { vehicleId: 'VAN-2' } })));
    expect(r.code).toBe(AgentErrorCode.ModelWrongVehicle);
  });

  it('reads only Ed25519 public keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const file = path.join(dir, 'rsa.pub');
    writeFileSync(file, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(refusal(() => readPublicKey(file)).code).toBe(AgentErrorCode.ModelKeyInvalid);
    expect(refusal(() => readPublicKey(path.join(dir, 'missing.pub'))).code).toBe(
      AgentErrorCode.ModelKeyInvalid,
    );
  });
});

describe('ModelStore', () => {
  it('lives beside the database', () => {
    expect(modelsDirFor('/var/lib/fleet/agent.db')).toBe('/var/lib/fleet/models');
  });

  it('installs newer versions only, keeps active + previous, rolls back once, never retakes a rolled-back version', () => {
    const store = new ModelStore(path.join(dir, 'store-1'));
    expect(store.install(verify(artifact(1)))).toEqual({ status: 'installed', previous: null });
    expect(store.install(verify(artifact(1)))).toEqual({ status: 'unchanged' });
    expect(store.install(verify(artifact(2))).status).toBe('installed');
    expect(store.install(verify(artifact(5))).status).toBe('installed');
    expect(store.state('engine-anomaly')).toMatchObject({ active: 5, previous: 2, highestInstalled: 5 });
    // Version 1 was pruned; no temporary file is left behind.
    expect(readdirSync(path.join(store.dir, 'engine-anomaly')).sort()).toEqual([
      '2.json',
      '5.json',
      'state.json',
    ]);

    const older = refusal(() => store.install(verify(artifact(4))));
    expect(older.code).toBe(AgentErrorCode.ModelOlderVersion);
    expect(older.message).toMatch(/not newer than 5/);

    const st = store.rollback('engine-anomaly');
    expect(st).toMatchObject({ active: 2, previous: null, rolledBack: 5, highestInstalled: 5 });
    expect(refusal(() => store.rollback('engine-anomaly')).code).toBe(AgentErrorCode.ModelNoPrevious);
    // The broker delivers the retained 5 again at the next reconnect: refused, 2 stays.
    const again = refusal(() => store.install(verify(artifact(5))));
    expect(again.code).toBe(AgentErrorCode.ModelOlderVersion);
    expect(again.message).toMatch(/rolled back/);
    expect(store.install(verify(artifact(6))).status).toBe('installed');
    expect(store.state('engine-anomaly')).toMatchObject({ active: 6, previous: 2, rolledBack: null });
    expect(existsSync(store.artifactFile('engine-anomaly', 5))).toBe(false);
  });
});
