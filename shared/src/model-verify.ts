/**
 * The one check of a model artifact (model-artifact.ts), made by the cloud before `fleet-cloud
 * model publish` sends it and by every vehicle before it runs it: what one accepts the other
 * accepts, so a file the operator could publish is never refused by the whole fleet.
 *
 *   JSON envelope --signature?--> [key id, Ed25519 over the manifest as received]
 *     --> manifest schema --> weights: SHA-256 and length == manifest.weights
 *     --> weight specs describe exactly those bytes
 *
 * The signature is checked when a public key is given (always on a vehicle; `model publish
 * --public-key` in the cloud). What only a vehicle can judge (its own id, a version newer than
 * the installed ones) stays in the agent. Never throws: each runtime turns a refusal into its
 * own error code. Node only (node:crypto), hence not exported from the package index that the
 * web bundle reads.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ModelArtifact, ModelManifest, modelSigningText } from './model-artifact.ts';

/** Why an artifact is refused; each runtime maps these to its own error codes. */
export type ModelRefusal = 'malformed' | 'unsigned' | 'bad-signature' | 'checksum-mismatch';

export type ModelArtifactCheck =
  | {
      ok: true;
      manifest: ModelManifest;
      /** The tfjs weight data, checked against the manifest's SHA-256 and weight specs. */
      weights: Buffer;
    }
  | { ok: false; refusal: ModelRefusal; reason: string };

/** First 16 hex of SHA-256 over the public key's SPKI DER: names a key without showing it. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** An Ed25519 key from a PEM file (SPKI public or PKCS#8 private), or why it is not one. */
export function readEd25519Key(
  file: string,
  kind: 'public' | 'private',
): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  let key: KeyObject;
  try {
    const pem = readFileSync(file);
    key = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
  } catch (err) {
    // The message of a PEM parse error never contains the key material.
    return { ok: false, reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return {
      ok: false,
      reason: `${file} holds a ${key.asymmetricKeyType} key; model artifacts are signed with Ed25519`,
    };
  }
  return { ok: true, key };
}

const refuse = (refusal: ModelRefusal, reason: string) => ({ ok: false, refusal, reason }) as const;
const schemaError = (error: z.ZodError) => z.prettifyError(error).replaceAll('\n', ' ');

/** Checks an artifact's text; with `publicKey`, also that this key signed it. */
export function checkModelArtifact(input: string | Buffer, publicKey?: KeyObject): ModelArtifactCheck {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return refuse('malformed', `not JSON (${(err as Error).message})`);
  }
  const envelope = ModelArtifact.safeParse(json);
  if (!envelope.success) return refuse('malformed', schemaError(envelope.error));
  const { manifest: rawManifest, signature, keyId } = envelope.data;
  if (!signature) return refuse('unsigned', 'it is not signed');
  if (publicKey) {
    const trusted = keyIdOf(publicKey);
    if (keyId !== undefined && keyId !== trusted) {
      return refuse(
        'bad-signature',
        `signed by another key (key id ${keyId}; the trusted key is ${trusted})`,
      );
    }
    let good = false;
    try {
      // Over the manifest as received: a schema parse may drop or coerce a field.
      good = verify(
        null,
        Buffer.from(modelSigningText(rawManifest), 'utf8'),
        publicKey,
        Buffer.from(signature, 'base64'),
      );
    } catch {
      good = false; // a signature of the wrong length, a manifest canonicalJson refuses
    }
    if (!good) {
      return refuse(
        'bad-signature',
        `the signature does not verify with the trusted key ${trusted} (edited after signing, or signed by another key)`,
      );
    }
  }
  const parsed = ModelManifest.safeParse(rawManifest);
  if (!parsed.success) return refuse('malformed', schemaError(parsed.error));
  const manifest = parsed.data;
  const weights = Buffer.from(envelope.data.weights, 'base64');
  const sha256 = createHash('sha256').update(weights).digest('hex');
  if (weights.length !== manifest.weights.bytes || sha256 !== manifest.weights.sha256) {
    return refuse(
      'checksum-mismatch',
      `weights checksum mismatch (sha256 ${sha256.slice(0, 16)}..., ${weights.length} bytes; the signed manifest says ${manifest.weights.sha256.slice(0, 16)}..., ${manifest.weights.bytes} bytes)`,
    );
  }
  // float32 only (the schema says so): 4 bytes per element of every tensor.
  const specBytes = manifest.model.weightSpecs.reduce(
    (n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1),
    0,
  );
  if (specBytes !== weights.length) {
    return refuse('malformed', `weight specs describe ${specBytes} bytes, the weights are ${weights.length}`);
  }
  return { ok: true, manifest, weights };
}
