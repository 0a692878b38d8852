import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { keyIdOf } from '@fleet/shared/model-verify';
import { testModelArtifact } from '@fleet/shared/testing/model-artifact';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../errors.ts';
import { readPublicKey, verifyArtifact } from './artifact.ts';
import { ModelStore, modelsDirFor } from './model-store.ts';

// No tfjs here: the agent's side of the artifact rules (each refusal's code, the vehicle, the
// store) on small hand-made artifacts; shared/src/model-verify.test.ts tests the rules
// themselves, test/integration/models.test.ts real artifacts end to end.
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-model-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const publisher = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const artifact = (version: number, o: Parameters<typeof testModelArtifact>[1] = {}) =>
  testModelArtifact(publisher, { version, ...o });

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

  it('refuses with a code per reason, the message saying why', () => {
    const flipped = artifact(3);
    flipped.weights = Buffer.alloc(16).toString('base64');
    const foreign = { ...artifact(3, { signWith: stranger.privateKey }), keyId: keyIdOf(stranger.publicKey) };
    const cases: [string, unknown, AgentErrorCode, RegExp][] = [
      [
        'unsigned',
        artifact(3, { unsigned: true }),
        AgentErrorCode.ModelUnsigned,
        /refused: it is not signed/,
      ],
      ['another key', foreign, AgentErrorCode.ModelBadSignature, /refused: signed by another key/],
      [
        'flipped weights',
        flipped,
        AgentErrorCode.ModelChecksumMismatch,
        /refused: weights checksum mismatch/,
      ],
      ['not JSON', '{"manifest":', AgentErrorCode.ModelMalformed, /^model artifact malformed: not JSON/],
    ];
    for (const [what, a, code, message] of cases) {
      const r = refusal(() =>
        verifyArtifact(typeof a === 'string' ? a : JSON.stringify(a), publisher.publicKey),
      );
      expect(r.code, what).toBe(code);
      expect(r.message, what).toMatch(message);
    }
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
