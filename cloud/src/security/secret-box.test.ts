import { describe, expect, it } from 'vitest';
import { isCloudError } from '../errors.ts';
import { SecretBox } from './secret-box.ts';

const key = (byte: number) => Buffer.alloc(32, byte);
const ctx = 'tenant:acme/secret:fuel-card-webhook';

describe('SecretBox (AES-256-GCM)', () => {
  it('seals and opens; the sealed form carries no plaintext and differs every time (random IV)', () => {
    const box = new SecretBox([{ id: 'k1', key: key(1) }]);
    const a = box.seal('whsec_topsecret', ctx);
    const b = box.seal('whsec_topsecret', ctx);
    expect(a).not.toBe(b);
    expect(a).not.toContain('topsecret');
    expect(a.startsWith('v1.k1.')).toBe(true);
    expect(box.open(a, ctx)).toBe('whsec_topsecret');
    expect(box.open(box.seal('', ctx), ctx)).toBe('');
    expect(box.open(box.seal('ünïcødé ✓', ctx), ctx)).toBe('ünïcødé ✓');
  });

  it('refuses a ciphertext moved to another context, a flipped bit, a truncated value', () => {
    const box = new SecretBox([{ id: 'k1', key: key(1) }]);
    const sealed = box.seal('s3cret', ctx);
    const bad = (v: string, c = ctx) => {
      try {
        box.open(v, c);
        return 'opened';
      } catch (err) {
        return isCloudError(err) ? err.message : String(err);
      }
    };
    expect(bad(sealed, 'tenant:globex/secret:fuel-card-webhook')).toMatch(/does not authenticate/);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0]! ^= 1;
    parts[3] = ct.toString('base64url');
    expect(bad(parts.join('.'))).toMatch(/does not authenticate/);
    expect(bad(sealed.split('.').slice(0, 4).join('.'))).toMatch(/not a sealed secret/);
    expect(bad('plain text')).toMatch(/not a sealed secret/);
  });

  it('rotates: old key still opens, reseal moves to the new one, a removed key is named', () => {
    const old = new SecretBox([{ id: 'k1', key: key(1) }]);
    const sealed = old.seal('v', ctx);
    const both = new SecretBox([
      { id: 'k2', key: key(2) },
      { id: 'k1', key: key(1) },
    ]);
    expect(both.open(sealed, ctx)).toBe('v');
    const resealed = both.reseal(sealed, ctx)!;
    expect(both.keyIdOf(resealed)).toBe('k2');
    expect(both.reseal(resealed, ctx)).toBeNull();
    const onlyNew = new SecretBox([{ id: 'k2', key: key(2) }]);
    expect(onlyNew.open(resealed, ctx)).toBe('v');
    expect(() => onlyNew.open(sealed, ctx)).toThrow(/key "k1", which FLEET_SECRET_KEYS no longer lists/);
  });

  it('reads FLEET_SECRET_KEYS and refuses bad keys with a clear error', () => {
    const spec = `${SecretBox.generateKey('k2')},${SecretBox.generateKey('k1')}`;
    expect(SecretBox.fromKeyList(spec).activeKeyId).toBe('k2');
    expect(() => SecretBox.fromKeyList(undefined)).toThrow(/FLEET_SECRET_KEYS is not set/);
    expect(() => SecretBox.fromKeyList('k1:AAAA')).toThrow(/has 3 bytes; AES-256 needs 32/);
    expect(() => SecretBox.fromKeyList('nocolon')).toThrow(/"id:base64key"/);
    expect(() => new SecretBox([{ id: 'a.b', key: key(1) }])).toThrow(/key id/);
  });
});
