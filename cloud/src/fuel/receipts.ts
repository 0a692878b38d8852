/**
 * Receipt photos of the drivers' logged refuels (migration 000031, issue 19 §4).
 *
 *   phone: photo --compress (JPEG)--> SHA-256 --outbox (IndexedDB)--> PUT /receipts/<refuel client id>
 *   here:  size <= 2 MB --> JPEG/PNG/WebP by magic bytes --> SHA-256 recomputed = the phone's
 *          --> the refuel is the uploader's --> one row per receipt id (a resend finds it)
 *
 * The phone's hash is checked, not trusted: a photo damaged in the outbox or on the way is
 * refused (the phone keeps it and the driver sees why) instead of stored as evidence. Every
 * outcome is counted (fleet_receipt_uploads_total) so a phone model that sends broken photos shows.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { Counter } from 'prom-client';
import type { Session } from '../auth/session.ts';
import { appendAudit } from '../db/queries/audit-log.ts';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { registry } from '../metrics/registry.ts';

/** The phone compresses to ~100-300 kB; an uncompressed photo from an old browser still fits. */
export const MAX_RECEIPT_BYTES = 2 * 1024 * 1024;

export const RECEIPT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const OUTCOMES = [
  'stored',
  'replayed',
  'too_large',
  'type_refused',
  'hash_mismatch',
  'refuel_unknown',
  'conflict',
  'bad_request',
] as const;
export type ReceiptOutcome = (typeof OUTCOMES)[number];

const uploads = new Counter<'result'>({
  name: 'fleet_receipt_uploads_total',
  help: 'Refuel receipt uploads by result: stored, replayed (same receipt again) or why refused.',
  labelNames: ['result'],
  registers: [registry],
});
for (const result of OUTCOMES) uploads.inc({ result }, 0);

export function countReceiptUpload(result: ReceiptOutcome): void {
  uploads.inc({ result });
}

const OUTCOME_OF: Partial<Record<CloudErrorCode, ReceiptOutcome>> = {
  [CloudErrorCode.ReceiptTooLarge]: 'too_large',
  [CloudErrorCode.ReceiptTypeRefused]: 'type_refused',
  [CloudErrorCode.ReceiptHashMismatch]: 'hash_mismatch',
  [CloudErrorCode.ReceiptRefuelUnknown]: 'refuel_unknown',
  [CloudErrorCode.ReceiptConflict]: 'conflict',
};

/** The outcome label of a refusal from storeReceipt (anything else is a bad request). */
export function receiptOutcomeOf(err: CloudError): ReceiptOutcome {
  return OUTCOME_OF[err.code] ?? 'bad_request';
}

/** What the bytes are, by their first bytes (the content-type header is the client's word only). */
export function sniffImageType(bytes: Uint8Array): ReceiptType | null {
  const at = (i: number, ...sig: number[]) => sig.every((b, k) => bytes[i + k] === b);
  if (bytes.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (bytes.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  // RIFF....WEBP
  if (bytes.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50))
    return 'image/webp';
  return null;
}

export interface StoredReceipt {
  id: number;
  /** The receipt's idempotency key (made on the phone). */
  clientId: string;
  refuelLogId: number;
  contentType: ReceiptType;
  sha256: string;
  sizeBytes: number;
  /** false: this receipt was already stored (a resend); nothing was written. */
  created: boolean;
}

interface ReceiptRow {
  id: number;
  client_id: string;
  refuel_log_id: number;
  content_type: ReceiptType;
  sha256: string;
  size_bytes: number;
}
const COLUMNS =
  'id::int AS id, client_id, refuel_log_id::int AS refuel_log_id, content_type, sha256, size_bytes';

const toStored = (r: ReceiptRow, created: boolean): StoredReceipt => ({
  id: r.id,
  clientId: r.client_id,
  refuelLogId: r.refuel_log_id,
  contentType: r.content_type,
  sha256: r.sha256,
  sizeBytes: r.size_bytes,
  created,
});

/**
 * Stores a receipt for the uploader's own refuel (found by the refuel's client id, the key the
 * phone already has). The same receipt id with the same bytes answers the first row
 * (`created: false`); with other bytes, or a second receipt for the refuel, is a conflict.
 * Throws CloudError (790-794) for what the caller sent wrong.
 */
export async function storeReceipt(
  pool: pg.Pool,
  session: Session,
  upload: { refuelClientId: string; receiptId: string; sha256: string; bytes: Buffer },
): Promise<StoredReceipt> {
  const { refuelClientId, receiptId, bytes } = upload;
  const claimed = upload.sha256.trim().toLowerCase();
  if (!UUID.test(refuelClientId) || !UUID.test(receiptId))
    throw new CloudError(
      CloudErrorCode.ReceiptRefuelUnknown,
      'the refuel id and the receipt id must be UUIDs',
    );
  if (bytes.length === 0) throw new CloudError(CloudErrorCode.ReceiptTooLarge, 'the receipt is empty');
  if (bytes.length > MAX_RECEIPT_BYTES)
    throw new CloudError(
      CloudErrorCode.ReceiptTooLarge,
      `the receipt is ${bytes.length} bytes; at most ${MAX_RECEIPT_BYTES} bytes (2 MB) are accepted`,
    );
  if (!SHA256_HEX.test(claimed))
    throw new CloudError(
      CloudErrorCode.ReceiptHashMismatch,
      'x-content-sha256 must be the SHA-256 of the photo, 64 hex digits',
    );
  const contentType = sniffImageType(bytes);
  if (!contentType)
    throw new CloudError(CloudErrorCode.ReceiptTypeRefused, 'the receipt is not a JPEG, PNG or WebP image');
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== claimed)
    throw new CloudError(
      CloudErrorCode.ReceiptHashMismatch,
      `the photo's SHA-256 is ${actual}, not the ${claimed} it was sent with: it changed on the way`,
    );
  return inTenant(pool, session.tenantId, async (db) => {
    const replay = (row: ReceiptRow) => {
      if (row.sha256 !== actual)
        throw new CloudError(
          CloudErrorCode.ReceiptConflict,
          'this receipt id is already used for another photo',
        );
      return toStored(row, false);
    };
    const existing = await db.query<ReceiptRow>(
      `SELECT ${COLUMNS} FROM refuel_receipts WHERE tenant_id = $1 AND client_id = $2`,
      [session.tenantId, receiptId],
    );
    if (existing.rows[0]) return replay(existing.rows[0]);
    const refuel = await db.query<{ id: number }>(
      'SELECT id::int AS id FROM refuel_logs WHERE tenant_id = $1 AND client_id = $2 AND user_id = $3',
      [session.tenantId, refuelClientId, session.userId],
    );
    const refuelLogId = refuel.rows[0]?.id;
    if (refuelLogId === undefined)
      throw new CloudError(
        CloudErrorCode.ReceiptRefuelUnknown,
        'no refuel of yours with this id: send the refuel before its receipt',
      );
    const inserted = await db.query<ReceiptRow>(
      `INSERT INTO refuel_receipts (tenant_id, client_id, refuel_log_id, user_id, content_type, sha256, size_bytes, bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
      [session.tenantId, receiptId, refuelLogId, session.userId, contentType, actual, bytes.length, bytes],
    );
    if (!inserted.rows[0]) {
      // Either the same receipt raced in from another sender (its row is the answer), or the
      // refuel already has a different receipt.
      const raced = await db.query<ReceiptRow>(
        `SELECT ${COLUMNS} FROM refuel_receipts WHERE tenant_id = $1 AND client_id = $2`,
        [session.tenantId, receiptId],
      );
      if (raced.rows[0]) return replay(raced.rows[0]);
      throw new CloudError(CloudErrorCode.ReceiptConflict, 'this refuel already has another receipt');
    }
    await appendAudit(db, {
      tenantId: session.tenantId,
      actor: `user:${session.userId}`,
      action: 'refuel.receipt',
      entity: `refuel:${refuelLogId}`,
      after: { receiptId, contentType, sha256: actual, sizeBytes: bytes.length },
    });
    return toStored(inserted.rows[0], true);
  });
}

/** A refuel's receipt as this tenant sees it (RLS): null when there is none, or it is another tenant's. */
export async function readReceipt(
  pool: pg.Pool,
  tenantId: string,
  refuelLogId: number,
): Promise<{ contentType: ReceiptType; sha256: string; bytes: Buffer } | null> {
  return inTenant(pool, tenantId, async (db) => {
    const { rows } = await db.query<{ content_type: ReceiptType; sha256: string; bytes: Buffer }>(
      'SELECT content_type, sha256, bytes FROM refuel_receipts WHERE refuel_log_id = $1',
      [refuelLogId],
    );
    const row = rows[0];
    return row ? { contentType: row.content_type, sha256: row.sha256, bytes: row.bytes } : null;
  });
}
