/**
 * Signed webhooks (fuel-card providers and other integrations):
 *
 *   Fleet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The timestamp is inside the MAC, so it cannot be moved; a request older (or newer) than the
 * tolerance is refused, and within it each signature is accepted once (webhook_receipts), so a
 * captured request cannot be replayed. Comparison is constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'fleet-signature';
export const DEFAULT_TOLERANCE_S = 300;

export type SignatureCheck =
  | { ok: true; timestamp: number; signature: string }
  | { ok: false; reason: string };

export function signWebhook(
  secret: string,
  body: string | Buffer,
  timestampS = Math.floor(Date.now() / 1000),
): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.`).update(body).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: Buffer,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = DEFAULT_TOLERANCE_S,
): SignatureCheck {
  if (!header) return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  const parts = Object.fromEntries(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
  const t = Number(parts.t);
  const v1 = parts.v1 ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(v1))
    return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(nowS - t) > toleranceS) {
    return { ok: false, reason: `timestamp ${t} is outside the ${toleranceS} s window (now ${nowS})` };
  }
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex')))
    return { ok: false, reason: 'signature does not match' };
  return { ok: true, timestamp: t, signature: v1 };
}
