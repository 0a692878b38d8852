/**
 * Verifying a model artifact (shared/src/model-artifact.ts) before anything runs it:
 *
 *   JSON envelope --signature?--> Ed25519 over the manifest as received (the trusted publisher key)
 *     --> manifest schema --> SHA-256 of the weights == manifest.weights.sha256 --> right vehicle
 *
 * Each refusal is an AgentError whose code names the reason (7xx), so the log line, the CLI's
 * `[E70x]` and `model status` all say why a model was not taken.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ModelArtifact, ModelManifest, modelSigningText, modelVersionLabel } from '@fleet/shared';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';

export interface VerifiedArtifact {
  manifest: ModelManifest;
  /** The tfjs weight data, checked against the manifest's SHA-256. */
  weights: Buffer;
  /** The artifact exactly as received: what the model store keeps. */
  text: string;
  /** `name@version`. */
  label: string;
}

/** First 16 hex of SHA-256 over the key's SPKI DER: names a key without showing it. */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** The publisher's Ed25519 public key (PEM, SPKI) that every artifact must be signed by. */
export function readPublicKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(file));
  } catch (err) {
    throw new AgentError(
      AgentErrorCode.ModelKeyInvalid,
      `cannot read the model publisher's public key from ${file}: ${(err as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AgentError(
      AgentErrorCode.ModelKeyInvalid,
      `${file} holds a ${key.asymmetricKeyType} key; model artifacts are signed with Ed25519`,
    );
  }
  return key;
}

function malformed(why: string): AgentError {
  return new AgentError(AgentErrorCode.ModelMalformed, `model artifact malformed: ${why}`);
}

export interface VerifyOptions {
  /** This vehicle: a model trained for another one is refused. */
  vehicleId?: string;
}

export function verifyArtifact(
  input: string | Buffer,
  publicKey: KeyObject,
  opts: VerifyOptions = {},
): VerifiedArtifact {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw malformed(`not JSON (${(err as Error).message})`);
  }
  const envelope = ModelArtifact.safeParse(json);
  if (!envelope.success) throw malformed(z.prettifyError(envelope.error).replaceAll('\n', ' '));
  const { manifest: rawManifest, signature, keyId } = envelope.data;
  if (!signature) {
    throw new AgentError(AgentErrorCode.ModelUnsigned, 'model artifact refused: it is not signed');
  }
  const trusted = keyIdOf(publicKey);
  if (keyId !== undefined && keyId !== trusted) {
    throw new AgentError(
      AgentErrorCode.ModelBadSignature,
      `model artifact refused: signed by another key (key id ${keyId}; this vehicle trusts ${trusted})`,
    );
  }
  let good = false;
  try {
    good = verify(
      null,
      Buffer.from(modelSigningText(rawManifest), 'utf8'),
      publicKey,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    good = false;
  }
  if (!good) {
    throw new AgentError(
      AgentErrorCode.ModelBadSignature,
      `model artifact refused: the signature does not verify with the trusted key ${trusted} (edited after signing, or signed by another key)`,
    );
  }
  const parsed = ModelManifest.safeParse(rawManifest);
  if (!parsed.success) throw malformed(z.prettifyError(parsed.error).replaceAll('\n', ' '));
  const manifest = parsed.data;
  const weights = Buffer.from(envelope.data.weights, 'base64');
  const sha256 = createHash('sha256').update(weights).digest('hex');
  if (weights.length !== manifest.weights.bytes || sha256 !== manifest.weights.sha256) {
    throw new AgentError(
      AgentErrorCode.ModelChecksumMismatch,
      `model artifact refused: weights checksum mismatch (sha256 ${sha256.slice(0, 16)}..., ${weights.length} bytes; the signed manifest says ${manifest.weights.sha256.slice(0, 16)}..., ${manifest.weights.bytes} bytes)`,
    );
  }
  const expectedBytes = manifest.model.weightSpecs.reduce(
    (n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1),
    0,
  );
  if (expectedBytes !== weights.length) {
    throw malformed(`weight specs describe ${expectedBytes} bytes, the weights are ${weights.length}`);
  }
  if (opts.vehicleId !== undefined && manifest.vehicleId !== null && manifest.vehicleId !== opts.vehicleId) {
    throw new AgentError(
      AgentErrorCode.ModelWrongVehicle,
      `model artifact refused: ${modelVersionLabel(manifest)} was trained for vehicle ${manifest.vehicleId}, this is ${opts.vehicleId}`,
    );
  }
  return { manifest, weights, text, label: modelVersionLabel(manifest) };
}
