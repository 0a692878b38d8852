/**
 * Signing and checking the cloud's commands to a vehicle (commands.ts): the cloud signs with its
 * command key (Ed25519, PKCS#8 PEM, mode 600), every vehicle holds the public half
 * (`fleet-agent run --command-public-key`). The same key handling as the model artifacts
 * (model-verify.ts: readEd25519Key, keyIdOf). What only the vehicle can judge (has it run this
 * id already) stays in the agent. Never throws on a bad command: a refusal is a value. Node only.
 */
import { type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import {
  AGENT_COMMAND_VERSION,
  type AgentCommand,
  type CommandRefusal,
  commandSigningText,
} from './commands.ts';
import { keyIdOf } from './model-verify.ts';

export interface CommandToSign {
  id: string;
  name: string;
  args?: unknown;
  tenantId: string;
  vehicleId: string;
  issuedAt: number;
  expiresAt: number;
  /** Default: 16 fresh random bytes. */
  nonce?: string;
}

/** The command as published: envelope, key id and signature. */
export function signCommand(c: CommandToSign, privateKey: KeyObject): AgentCommand {
  const command: AgentCommand = {
    v: AGENT_COMMAND_VERSION,
    id: c.id,
    name: c.name,
    ...(c.args === undefined ? {} : { args: c.args }),
    tenantId: c.tenantId,
    vehicleId: c.vehicleId,
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
    nonce: c.nonce ?? randomBytes(16).toString('base64url'),
  };
  const signature = sign(null, Buffer.from(commandSigningText(command), 'utf8'), privateKey);
  return { ...command, keyId: keyIdOf(privateKey), signature: signature.toString('base64') };
}

export type CommandCheck = { ok: true } | { ok: false; refusal: CommandRefusal; reason: string };

export interface CommandExpectation {
  publicKey: KeyObject;
  tenantId: string;
  vehicleId: string;
  /** The vehicle's clock, epoch ms. */
  now: number;
  /** [0...600000] ms a command issued "in the future" is still taken (clock skew), default 120 s. */
  skewMs?: number;
}

/**
 * Signature first (over the command exactly as received), then the vehicle and the time: a
 * forged command is called forged even when it also names another vehicle.
 */
export function checkCommand(raw: Record<string, unknown>, want: CommandExpectation): CommandCheck {
  const { signature, tenantId, vehicleId, issuedAt, expiresAt, nonce } = raw;
  if (typeof signature !== 'string' || signature.length === 0)
    return { ok: false, refusal: 'unsigned', reason: 'the command is not signed' };
  let good = false;
  try {
    good = verify(
      null,
      Buffer.from(commandSigningText(raw), 'utf8'),
      want.publicKey,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    good = false; // a signature of the wrong length, a field canonicalJson refuses
  }
  if (!good)
    return {
      ok: false,
      refusal: 'forged',
      reason: `the signature does not verify with the trusted command key ${keyIdOf(want.publicKey)}`,
    };
  if (typeof issuedAt !== 'number' || typeof expiresAt !== 'number' || typeof nonce !== 'string')
    return { ok: false, refusal: 'forged', reason: 'signed without issuedAt, expiresAt or nonce' };
  if (tenantId !== want.tenantId || vehicleId !== want.vehicleId)
    return {
      ok: false,
      refusal: 'other-vehicle',
      reason: `signed for ${String(tenantId)}/${String(vehicleId)}, this is ${want.tenantId}/${want.vehicleId}`,
    };
  if (want.now > expiresAt)
    return {
      ok: false,
      refusal: 'expired',
      reason: `expired ${Math.round((want.now - expiresAt) / 1000)} s ago (vehicle clock ${new Date(want.now).toISOString()})`,
    };
  if (issuedAt > want.now + (want.skewMs ?? 120_000))
    return { ok: false, refusal: 'expired', reason: 'issued in the future (vehicle clock behind?)' };
  return { ok: true };
}
