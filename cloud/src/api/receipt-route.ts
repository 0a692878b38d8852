/**
 * The receipt photos' HTTP routes, beside tRPC because a photo is bytes, not JSON (base64 would
 * add a third to every upload on a phone's weak signal). Same session (cookie or bearer), same
 * permissions and rate limits as the tRPC procedures (server.ts applies the limits first).
 *
 *   PUT /receipts/<refuel client id>   raw image body; x-receipt-id (UUID, the idempotency key),
 *                                      x-content-sha256 (hex) -> 201 stored | 200 already stored
 *                                      | 4xx {error: {message, code}} (fuel/receipts.ts)
 *   GET /receipts/<refuel log id>      the image (fuel:read, the office's finance view);
 *                                      404 when the tenant has none (another tenant's is never seen)
 */
import type http from 'node:http';
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { can, type Permission } from '../auth/permissions.ts';
import type { Session } from '../auth/session.ts';
import { CloudErrorCode, isCloudError } from '../errors.ts';
import {
  countReceiptUpload,
  MAX_RECEIPT_BYTES,
  readReceipt,
  receiptOutcomeOf,
  storeReceipt,
} from '../fuel/receipts.ts';

export const RECEIPT_PATH = /^\/receipts\/([0-9a-fA-F-]{36}|\d{1,18})$/;
/** Past this much body the connection is cut (the 413 was decided at MAX_RECEIPT_BYTES). */
const DRAIN_LIMIT = 4 * MAX_RECEIPT_BYTES;

const STATUS: Partial<Record<CloudErrorCode, number>> = {
  [CloudErrorCode.ReceiptTooLarge]: 413,
  [CloudErrorCode.ReceiptTypeRefused]: 415,
  [CloudErrorCode.ReceiptHashMismatch]: 422,
  [CloudErrorCode.ReceiptRefuelUnknown]: 404,
  [CloudErrorCode.ReceiptConflict]: 409,
};

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const refuse = (res: http.ServerResponse, status: number, message: string, code?: number) =>
  answer(res, status, { error: { message, ...(code ? { code } : {}) } });

/** Signed in and allowed, or answered 401/403 (and false). */
function allowed(
  res: http.ServerResponse,
  session: Session | null,
  permission: Permission,
): session is Session {
  if (!session) {
    refuse(res, 401, 'sign in first');
    return false;
  }
  if (!can(session.role, permission, session.scopes)) {
    refuse(res, 403, `role ${session.role} may not ${permission}`);
    return false;
  }
  return true;
}

/** The body up to the limit; `tooLarge` once it passed it (the rest is read and dropped). */
async function readBody(
  req: http.IncomingMessage,
): Promise<{ bytes: Buffer; tooLarge: boolean; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > DRAIN_LIMIT) {
      req.destroy();
      break;
    }
    if (size <= MAX_RECEIPT_BYTES) chunks.push(chunk as Buffer);
  }
  return { bytes: Buffer.concat(chunks), tooLarge: size > MAX_RECEIPT_BYTES, size };
}

export async function handleReceipt(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: { pool: pg.Pool; session: Session | null; id: string; log: Logger },
): Promise<void> {
  const { pool, session, id, log } = opts;
  try {
    if (req.method === 'PUT') {
      if (!allowed(res, session, 'refuels:log')) return;
      const header = (name: string) => {
        const v = req.headers[name];
        return (Array.isArray(v) ? v[0] : v) ?? '';
      };
      const body = await readBody(req);
      if (body.tooLarge) {
        countReceiptUpload('too_large');
        return refuse(
          res,
          413,
          `the receipt is ${body.size} bytes or more; at most ${MAX_RECEIPT_BYTES} bytes (2 MB) are accepted`,
          CloudErrorCode.ReceiptTooLarge,
        );
      }
      const stored = await storeReceipt(pool, session, {
        refuelClientId: id,
        receiptId: header('x-receipt-id'),
        sha256: header('x-content-sha256'),
        bytes: body.bytes,
      });
      countReceiptUpload(stored.created ? 'stored' : 'replayed');
      return answer(res, stored.created ? 201 : 200, { receipt: stored });
    }
    if (req.method === 'GET') {
      if (!allowed(res, session, 'fuel:read')) return;
      if (!/^\d+$/.test(id)) return refuse(res, 404, 'no such receipt');
      const receipt = await readReceipt(pool, session.tenantId, Number(id));
      if (!receipt) return refuse(res, 404, 'no such receipt');
      res
        .writeHead(200, {
          'content-type': receipt.contentType,
          'content-length': String(receipt.bytes.length),
          'x-content-sha256': receipt.sha256,
          // A receipt is personal data: kept by no shared cache, and only briefly by the browser.
          'cache-control': 'private, max-age=300',
        })
        .end(receipt.bytes);
      return;
    }
    res.setHeader('allow', 'GET, PUT');
    refuse(res, 405, 'GET or PUT');
  } catch (err) {
    if (isCloudError(err) && STATUS[err.code]) {
      countReceiptUpload(receiptOutcomeOf(err));
      return refuse(res, STATUS[err.code]!, err.message, err.code);
    }
    log.error({ err: (err as Error).message, id }, 'receipt request failed');
    refuse(res, 500, 'internal error');
  }
}
