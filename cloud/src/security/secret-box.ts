/**
 * Secrets at rest (integration credentials, webhook secrets): AES-256-GCM under a key from the
 * environment, never from the database it protects.
 *
 *   FLEET_SECRET_KEYS = "k2:<base64 32 bytes>,k1:<base64 32 bytes>"
 *                        ^ the first key encrypts; every listed key decrypts
 *
 * A sealed value is `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts, 12-byte random IV,
 * 16-byte tag). The caller's `context` (e.g. "tenant:acme/secret:fuel-card-webhook") is bound as
 * additional authenticated data: a ciphertext copied into another row or tenant does not open.
 * Rotation: put the new key first, run `fleet-cloud secrets rotate` (re-seals every value under
 * it), then drop the old key from the list.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { CloudError, CloudErrorCode } from '../errors.ts';

const FORMAT = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  readonly activeKeyId: string;

  constructor(keys: { id: string; key: Buffer }[]) {
    if (keys.length === 0)
      throw new CloudError(CloudErrorCode.SecretKeys, 'no secret key configured (FLEET_SECRET_KEYS)');
    this.keys = new Map();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id))
        throw new CloudError(CloudErrorCode.SecretKeys, `secret key id "${id}" is not ${KEY_ID.source}`);
      if (key.length !== 32)
        throw new CloudError(
          CloudErrorCode.SecretKeys,
          `secret key "${id}" has ${key.length} bytes; AES-256 needs 32`,
        );
      if (this.keys.has(id))
        throw new CloudError(CloudErrorCode.SecretKeys, `secret key id "${id}" listed twice`);
      this.keys.set(id, key);
    }
    this.activeKeyId = keys[0]!.id;
  }

  /** From a key list as FLEET_SECRET_KEYS holds it ("id:base64,id:base64", first = active; config.ts). */
  static fromKeyList(keyList: string | undefined): SecretBox {
    const spec = keyList?.trim();
    if (!spec) throw new CloudError(CloudErrorCode.SecretKeys, 'FLEET_SECRET_KEYS is not set');
    return new SecretBox(
      spec.split(',').map((part) => {
        const [id, b64] = part.trim().split(':');
        if (!id || !b64)
          throw new CloudError(CloudErrorCode.SecretKeys, 'FLEET_SECRET_KEYS entries are "id:base64key"');
        return { id, key: Buffer.from(b64, 'base64') };
      }),
    );
  }

  /** A new random key in the form FLEET_SECRET_KEYS takes. */
  static generateKey(id: string): string {
    return `${id}:${randomBytes(32).toString('base64')}`;
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.activeKeyId, iv, ct, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT)
      throw new CloudError(
        CloudErrorCode.SecretUnreadable,
        'not a sealed secret (expected v1.<key>.<iv>.<ct>.<tag>)',
      );
    const [, keyId, iv, ct, tag] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key)
      throw new CloudError(
        CloudErrorCode.SecretUnreadable,
        `secret sealed under key "${keyId}", which FLEET_SECRET_KEYS no longer lists (rotate before removing a key)`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch (err) {
      // The message never carries key or plaintext material.
      throw new CloudError(
        CloudErrorCode.SecretUnreadable,
        'secret does not authenticate: tampered, or sealed for another context',
        { cause: err },
      );
    }
  }

  /**
   * A key for one purpose (e.g. signing download links), derived with HKDF-SHA256 from a listed
   * key (default the active one): the secret keys themselves never sign or leave this class.
   * Undefined for a key id the list no longer holds.
   */
  derivedKey(purpose: string, keyId: string = this.activeKeyId): Buffer | undefined {
    const key = this.keys.get(keyId);
    return key ? Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `fleet:${purpose}`, 32)) : undefined;
  }

  keyIdOf(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }

  /** Re-sealed under the active key, or null when it already is. */
  reseal(sealed: string, context: string): string | null {
    return this.keyIdOf(sealed) === this.activeKeyId ? null : this.seal(this.open(sealed, context), context);
  }
}
