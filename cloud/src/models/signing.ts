/**
 * The model publisher's Ed25519 key pair and the artifact's signature (shared/src/model-artifact.ts).
 * The private key lives in a mode-600 file on the training host and is never logged or printed;
 * vehicles hold the public key (`fleet-agent run --model-public-key`).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type ModelArtifact, type ModelManifest, modelSigningText } from '@fleet/shared';
import { CloudError, CloudErrorCode } from '../errors.ts';

/** First 16 hex of SHA-256 over the public key's SPKI DER (the agent computes the same). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

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

export function readSigningKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (err) {
    // The message of a PEM parse error never contains the key material.
    throw new CloudError(
      CloudErrorCode.ModelSigningKey,
      `cannot read the signing key ${file}: ${(err as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new CloudError(
      CloudErrorCode.ModelSigningKey,
      `${file} is a ${key.asymmetricKeyType} key, not Ed25519`,
    );
  }
  return key;
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
