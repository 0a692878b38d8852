/**
 * The cloud's remote-command key pair (Ed25519): the private half signs every command
 * (FLEET_COMMAND_KEY_FILE, mode 600, never logged), vehicles hold the public half
 * (`fleet-agent run --command-public-key`). Its own pair, not the model publisher's: a leaked
 * training host key must not command vehicles. Generated like the model key (models/signing.ts).
 */
import type { KeyObject } from 'node:crypto';
import { readEd25519Key } from '@fleet/shared/model-verify';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { generateSigningKeys, type KeygenResult } from '../models/signing.ts';

export function readCommandKey(file: string): KeyObject {
  const read = readEd25519Key(file, 'private');
  if (!read.ok) throw new CloudError(CloudErrorCode.CommandKey, `command signing key: ${read.reason}`);
  return read.key;
}

/** A new pair; refuses to overwrite an existing private key unless `force`. */
export function generateCommandKeys(
  privateKeyFile: string,
  publicKeyFile: string,
  force = false,
): KeygenResult {
  try {
    return generateSigningKeys(privateKeyFile, publicKeyFile, force);
  } catch (err) {
    throw new CloudError(CloudErrorCode.CommandKey, (err as Error).message, { cause: err });
  }
}
