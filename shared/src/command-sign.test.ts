import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkCommand, signCommand } from './command-sign.ts';
import { commandSigningText } from './commands.ts';

const cloud = generateKeyPairSync('ed25519');
const intruder = generateKeyPairSync('ed25519');
const NOW = Date.UTC(2026, 11, 7, 9, 0, 0);
const base = {
  id: 'cmd-1',
  name: 'clearDtcs',
  args: { reason: 'repaired the O2 sensor' },
  tenantId: 'acme',
  vehicleId: 'VAN-1',
  issuedAt: NOW,
  expiresAt: NOW + 60_000,
};
const want = { publicKey: cloud.publicKey, tenantId: 'acme', vehicleId: 'VAN-1', now: NOW + 1000 };
const roundTrip = (c: unknown) => JSON.parse(JSON.stringify(c)) as Record<string, unknown>;

describe('canonical encoding', () => {
  it('does not depend on key order, and leaves out the signature and key id', () => {
    const a = { v: 1, id: 'x', name: 'ping', args: { b: 1, a: [2, { d: 3, c: 4 }] }, nonce: 'n' };
    const b = { nonce: 'n', args: { a: [2, { c: 4, d: 3 }], b: 1 }, name: 'ping', id: 'x', v: 1 };
    expect(commandSigningText(a)).toBe(commandSigningText(b));
    expect(commandSigningText({ ...a, signature: 'zz', keyId: 'k' })).toBe(commandSigningText(a));
    expect(commandSigningText(a)).toBe(
      'fleet-agent-command/v1\n{"args":{"a":[2,{"c":4,"d":3}],"b":1},"id":"x","name":"ping","nonce":"n","v":1}',
    );
  });
});

describe('sign and check', () => {
  it('a command signed by the cloud for this vehicle, in time, passes (after JSON transport)', () => {
    const signed = signCommand(base, cloud.privateKey);
    expect(signed.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(checkCommand(roundTrip(signed), want)).toEqual({ ok: true });
  });

  it('two signings of the same command differ by their nonce', () => {
    const a = signCommand(base, cloud.privateKey);
    const b = signCommand(base, cloud.privateKey);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.signature).not.toBe(b.signature);
  });

  it('refuses an unsigned, a forged (other key), an edited, an expired and an other-vehicle command', () => {
    const signed = roundTrip(signCommand(base, cloud.privateKey));
    const { signature: _s, ...unsigned } = signed;
    expect(checkCommand(unsigned, want)).toMatchObject({ ok: false, refusal: 'unsigned' });
    expect(checkCommand(roundTrip(signCommand(base, intruder.privateKey)), want)).toMatchObject({
      ok: false,
      refusal: 'forged',
    });
    // Edited after signing: a longer expiry, another vehicle, other args.
    expect(checkCommand({ ...signed, expiresAt: NOW + 3_600_000 }, want)).toMatchObject({
      refusal: 'forged',
    });
    expect(checkCommand({ ...signed, vehicleId: 'VAN-2' }, want)).toMatchObject({ refusal: 'forged' });
    expect(checkCommand({ ...signed, args: { reason: 'other' } }, want)).toMatchObject({ refusal: 'forged' });
    expect(checkCommand({ ...signed, signature: 'AAAA' }, want)).toMatchObject({ refusal: 'forged' });
    expect(checkCommand(signed, { ...want, now: NOW + 60_001 })).toMatchObject({ refusal: 'expired' });
    expect(checkCommand(signed, { ...want, now: NOW - 10 * 60_000 })).toMatchObject({ refusal: 'expired' });
    const other = roundTrip(signCommand({ ...base, vehicleId: 'VAN-2' }, cloud.privateKey));
    expect(checkCommand(other, want)).toMatchObject({ refusal: 'other-vehicle' });
    const otherTenant = roundTrip(signCommand({ ...base, tenantId: 'beta' }, cloud.privateKey));
    expect(checkCommand(otherTenant, want)).toMatchObject({ refusal: 'other-vehicle' });
  });
});
