/**
 * The model publisher's Ed25519 key pair and the artifact's signature (shared/src/model-artifact.ts).
 * The private key lives in a mode-600 file on the training host and is never logged or printed;
 * vehicles hold the public key (`fleet-agent run --model-public-key`).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { type ModelArtifact, type ModelManifest, modelSigningText } from '@fleet/shared';
import { keyIdOf, readEd25519Key } from '@fleet/shared/model-verify';
import { CloudError, CloudErrorCode } from '../errors.ts';

export interface KeygenResult {
  privateKeyFile: string;
  publicKeyFile: string;
  keyId: string;
}

/** Writes a new pair; refuses to overwrite an existing private key unless `force`. */
export function generateSigningKeys(
  privateKeyFile: string,
  publicKeyFile: string,
  force = false,
): KeygenResult {
  if (existsSync(privateKeyFile) && !force) {
    throw new CloudError(
      CloudErrorCode.ModelSigningKey,
      `${privateKeyFile} exists; refusing to overwrite a signing key (vehicles trust its public half). Use --force to replace it`,
    );
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(privateKeyFile, 0o600); // an existing file keeps its old mode on write
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return { privateKeyFile, publicKeyFile, keyId: keyIdOf(publicKey) };
}

function readKey(file: string, kind: 'public' | 'private'): KeyObject {
  const read = readEd25519Key(file, kind);
  if (!read.ok) throw new CloudError(CloudErrorCode.ModelSigningKey, `${kind} key: ${read.reason}`);
  return read.key;
}

/** The private key that signs artifacts (`model train --signing-key`). */
export function readSigningKey(file: string): KeyObject {
  return readKey(file, 'private');
}

/** Its public half, the one vehicles trust (`model publish --public-key` checks with it). */
export function readPublicKey(file: string): KeyObject {
  return readKey(file, 'public');
}

/** The artifact envelope, signed: what `model publish` sends and the agent verifies. */
export function signArtifact(manifest: ModelManifest, weights: Buffer, key: KeyObject): ModelArtifact {
  return {
    manifest,
    keyId: keyIdOf(key),
    signature: sign(null, Buffer.from(modelSigningText(manifest), 'utf8'), key).toString('base64'),
    weights: weights.toString('base64'),
  };
}
