/**
 * Verifying a model artifact (shared/src/model-artifact.ts) before anything runs it: the shape,
 * signature and checksum rules the cloud's `model publish` applies too
 * (shared/src/model-verify.ts), always with the trusted publisher key, then what only this
 * vehicle can judge: that the model was trained for it.
 *
 * Each refusal is an AgentError whose code names the reason (7xx), so the log line, the CLI's
 * `[E70x]` and `model status` all say why a model was not taken.
 */
import type { KeyObject } from 'node:crypto';
import { type ModelManifest, modelVersionLabel } from '@fleet/shared';
import { checkModelArtifact, type ModelRefusal, readEd25519Key } from '@fleet/shared/model-verify';
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

/** The publisher's Ed25519 public key (PEM, SPKI) that every artifact must be signed by. */
export function readPublicKey(file: string): KeyObject {
  const read = readEd25519Key(file, 'public');
  if (!read.ok) {
    throw new AgentError(AgentErrorCode.ModelKeyInvalid, `model publisher's public key: ${read.reason}`);
  }
  return read.key;
}

const REFUSAL_CODE: Record<ModelRefusal, AgentErrorCode> = {
  malformed: AgentErrorCode.ModelMalformed,
  unsigned: AgentErrorCode.ModelUnsigned,
  'bad-signature': AgentErrorCode.ModelBadSignature,
  'checksum-mismatch': AgentErrorCode.ModelChecksumMismatch,
};

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
  const check = checkModelArtifact(text, publicKey);
  if (!check.ok) {
    throw new AgentError(
      REFUSAL_CODE[check.refusal],
      check.refusal === 'malformed'
        ? `model artifact malformed: ${check.reason}`
        : `model artifact refused: ${check.reason}`,
    );
  }
  const { manifest, weights } = check;
  if (opts.vehicleId !== undefined && manifest.vehicleId !== null && manifest.vehicleId !== opts.vehicleId) {
    throw new AgentError(
      AgentErrorCode.ModelWrongVehicle,
      `model artifact refused: ${modelVersionLabel(manifest)} was trained for vehicle ${manifest.vehicleId}, this is ${opts.vehicleId}`,
    );
  }
  return { manifest, weights, text, label: modelVersionLabel(manifest) };
}
