import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModelArtifact, keyIdOf, type ModelRefusal, readEd25519Key } from './model-verify.ts';
import { testModelArtifact } from './testing/model-artifact.ts';

const publisher = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const artifact = (o: Parameters<typeof testModelArtifact>[1] = {}) => testModelArtifact(publisher, o);
const check = (a: unknown, key = publisher.publicKey) => checkModelArtifact(JSON.stringify(a), key);

/** The refusal and its reason; fails the test when the artifact passes. */
function refusal(result: ReturnType<typeof checkModelArtifact>): { refusal: ModelRefusal; reason: string } {
  if (result.ok) throw new Error('expected a refusal, the artifact passed');
  return result;
}

describe('checkModelArtifact: the rules the cloud and every vehicle apply', () => {
  it('passes a signed artifact and gives its manifest and weights', () => {
    const r = check(artifact({ version: 7 }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.manifest.version).toBe(7);
    expect(new Float32Array(r.weights.buffer, r.weights.byteOffset, 4)[1]).toBe(-1.25);
  });

  it('refuses an unsigned artifact, with or without a key to check against', () => {
    expect(refusal(check(artifact({ unsigned: true })))).toEqual({
      ok: false,
      refusal: 'unsigned',
      reason: 'it is not signed',
    });
    expect(refusal(checkModelArtifact(JSON.stringify(artifact({ unsigned: true }))))).toMatchObject({
      refusal: 'unsigned',
    });
  });

  it('refuses one signed by another key, naming both key ids, and one whose key id lies', () => {
    const foreign = { ...artifact({ signWith: stranger.privateKey }), keyId: keyIdOf(stranger.publicKey) };
    const r = refusal(check(foreign));
    expect(r.refusal).toBe('bad-signature');
    expect(r.reason).toContain(keyIdOf(stranger.publicKey));
    expect(r.reason).toContain(keyIdOf(publisher.publicKey));
    expect(refusal(check(artifact({ signWith: stranger.privateKey }))).reason).toMatch(
      /signature does not verify/,
    );
  });

  it('refuses a manifest edited after signing (a raised threshold)', () => {
    const a = artifact();
    a.manifest.threshold = 99;
    expect(refusal(check(a)).refusal).toBe('bad-signature');
  });

  it('refuses a flipped weight byte, and a byte count the weights do not have, as checksum mismatches', () => {
    const flipped = artifact();
    const w = Buffer.from(flipped.weights, 'base64');
    w[5] = (w[5] ?? 0) ^ 0x01;
    flipped.weights = w.toString('base64');
    expect(refusal(check(flipped))).toMatchObject({ refusal: 'checksum-mismatch', reason: /checksum/ });
    // Signed and the SHA-256 right: only the length in the manifest is wrong.
    const bytes = artifact().manifest.weights;
    const longer = artifact({ over: { weights: { ...bytes, bytes: bytes.bytes + 4 } } });
    expect(refusal(check(longer))).toMatchObject({ refusal: 'checksum-mismatch', reason: /20 bytes/ });
  });

  it('refuses signed weight specs that describe other bytes than the weights (tfjs could not load them)', () => {
    const model = artifact().manifest.model;
    const specs = artifact({
      over: { model: { ...model, weightSpecs: [{ name: 'w', shape: [2, 4], dtype: 'float32' }] } },
    });
    expect(refusal(check(specs))).toEqual({
      ok: false,
      refusal: 'malformed',
      reason: 'weight specs describe 32 bytes, the weights are 16',
    });
  });

  it('refuses malformed input with the reason', () => {
    expect(refusal(checkModelArtifact('{"manifest":', publisher.publicKey))).toMatchObject({
      refusal: 'malformed',
      reason: /^not JSON/,
    });
    expect(refusal(checkModelArtifact('[1,2]', publisher.publicKey)).refusal).toBe('malformed');
    // Signed but not a valid manifest (an unknown feature): the signature is right, the content is not.
    const bad = artifact({ over: { features: [{ name: 'boost_kpa' as never, mean: 0, std: 1 }] } });
    expect(refusal(check(bad))).toMatchObject({ refusal: 'malformed', reason: /features/ });
  });

  it('without a key, checks everything but the signature', () => {
    expect(checkModelArtifact(JSON.stringify(artifact({ signWith: stranger.privateKey }))).ok).toBe(true);
    const flipped = artifact();
    flipped.weights = Buffer.alloc(16).toString('base64');
    expect(refusal(checkModelArtifact(JSON.stringify(flipped))).refusal).toBe('checksum-mismatch');
  });
});

describe('Ed25519 keys', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-model-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a key by the same id from its private and its public half', () => {
    expect(keyIdOf(publisher.privateKey)).toBe(keyIdOf(publisher.publicKey));
    expect(keyIdOf(publisher.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(stranger.publicKey)).not.toBe(keyIdOf(publisher.publicKey));
  });

  it('reads Ed25519 PEM files only, saying why another is refused', () => {
    const pub = path.join(dir, 'ed.pub');
    const key = path.join(dir, 'ed.key');
    writeFileSync(pub, publisher.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(key, publisher.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const readPub = readEd25519Key(pub, 'public');
    expect(readPub.ok && keyIdOf(readPub.key)).toBe(keyIdOf(publisher.publicKey));
    const readKey = readEd25519Key(key, 'private');
    expect(readKey.ok && readKey.key.type).toBe('private');

    const rsa = path.join(dir, 'rsa.pub');
    const rsaPair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(rsa, rsaPair.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(readEd25519Key(rsa, 'public')).toEqual({
      ok: false,
      reason: `${rsa} holds a rsa key; model artifacts are signed with Ed25519`,
    });
    expect(readEd25519Key(pub, 'private')).toMatchObject({ ok: false, reason: /cannot read/ });
    expect(readEd25519Key(path.join(dir, 'missing.pub'), 'public')).toMatchObject({
      ok: false,
      reason: /cannot read .*missing\.pub/,
    });
  });
});
