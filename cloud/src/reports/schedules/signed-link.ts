/**
 * Download links that need no sign-in and expire: `/exports/<token>` where the token names the
 * tenant, the run and the expiry, signed with HMAC-SHA256 under a key derived from
 * FLEET_SECRET_KEYS (SecretBox.derivedKey). The key id travels in the token, so links mailed
 * before a key rotation keep working while the old key is still listed.
 *
 *   token = base64url(JSON {v:1, k: keyId, t: tenant, r: runId, e: expiry epoch s}) "." base64url(HMAC)
 *
 * The server regenerates the export from the run's stored report and period (nothing is kept on
 * disk), so a link works on every API process.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import type { SecretBox } from '../../security/secret-box.ts';

const PURPOSE = 'report-export-link';

export interface ExportLinkClaims {
  tenantId: string;
  runId: number;
  /** Epoch ms. */
  expiresAt: number;
}

function mac(box: SecretBox, keyId: string, payload: string): Buffer {
  const key = box.derivedKey(PURPOSE, keyId);
  if (!key)
    throw new CloudError(CloudErrorCode.ExportLinkInvalid, 'link signed with a key that is no longer listed');
  return createHmac('sha256', key).update(payload).digest();
}

export function signExportToken(box: SecretBox, claims: ExportLinkClaims): string {
  const payload = Buffer.from(
    JSON.stringify({
      v: 1,
      k: box.activeKeyId,
      t: claims.tenantId,
      r: claims.runId,
      e: Math.floor(claims.expiresAt / 1000),
    }),
  ).toString('base64url');
  return `${payload}.${mac(box, box.activeKeyId, payload).toString('base64url')}`;
}

/** The claims of a genuine, unexpired token; else ExportLinkInvalid or ExportLinkExpired. */
export function verifyExportToken(box: SecretBox, token: string, now = Date.now()): ExportLinkClaims {
  const invalid = (why: string) => new CloudError(CloudErrorCode.ExportLinkInvalid, why);
  const m = /^([A-Za-z0-9_-]{10,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) throw invalid('this is not a download link (malformed token)');
  const [, payload, sig] = m as unknown as [string, string, string];
  let claims: { v?: unknown; k?: unknown; t?: unknown; r?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid('this is not a download link (malformed token)');
  }
  if (
    claims.v !== 1 ||
    typeof claims.k !== 'string' ||
    typeof claims.t !== 'string' ||
    !Number.isSafeInteger(claims.r) ||
    !Number.isSafeInteger(claims.e)
  )
    throw invalid('this is not a download link (malformed token)');
  const expected = mac(box, claims.k, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw invalid('the download link does not verify: it was altered, or signed by another installation');
  const expiresAt = (claims.e as number) * 1000;
  if (expiresAt <= now)
    throw new CloudError(
      CloudErrorCode.ExportLinkExpired,
      `the download link expired at ${new Date(expiresAt).toISOString()}; ask for a new one`,
    );
  return { tenantId: claims.t, runId: claims.r as number, expiresAt };
}

/**
 * The link as mailed or returned by the API: `<prefix>/<token>`, the prefix being where people
 * reach the API's `/exports` route: the web app's proxy (`https://fleet.example.com/api/exports`,
 * web/app/api/exports) or the API itself (`http://127.0.0.1:4000/exports`).
 */
export function exportLink(prefix: string, token: string): string {
  return `${prefix.replace(/\/+$/, '')}/${token}`;
}
