/**
 * Refuel receipt photos (migration 000031, fuel/receipts.ts, api/receipt-route.ts) on the real
 * PostgreSQL, through the API's HTTP routes with real sessions: the same receipt twice makes one
 * row; a hash mismatch, a file that is not an image, and one over 2 MB are refused with their
 * codes (and counted); finance reads the image; another tenant sees nothing, by RLS alone.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../src/api/server.ts';
import { createUser, login } from '../src/auth/auth-service.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { CloudErrorCode } from '../src/errors.ts';
import { readReceipt } from '../src/fuel/receipts.ts';
import { registry } from '../src/metrics/registry.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('refuel-receipts-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let api: Awaited<ReturnType<typeof startApiServer>>;
const tokens: Record<'driver' | 'finance' | 'otherFinance', string> = {
  driver: '',
  finance: '',
  otherFinance: '',
};
const refuelClientId = randomUUID();
let refuelLogId: number;

/** A small but real JPEG header (SOI + APP0 JFIF) and some bytes: magic bytes are what is checked. */
const jpeg = (fill: number, size = 4096) => {
  const b = Buffer.alloc(size, fill);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]).copy(b);
  return b;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const put = (body: Buffer, headers: Record<string, string>, token = tokens.driver, refuel = refuelClientId) =>
  fetch(`${api.url}/receipts/${refuel}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', ...headers },
    body,
  });

const uploadsCounted = async (result: string) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'fleet_receipt_uploads_total');
  return (metric?.values.find((v) => v.labels.result === result)?.value as number | undefined) ?? 0;
};

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_receipts');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await pool.query(`INSERT INTO vehicles (id, tenant_id) VALUES ('van-1', 'acme')`);
  const password = 'receipt-test-password-1';
  const users = [
    ['driver', 'acme', 'driver'],
    ['finance', 'acme', 'finance'],
    ['otherFinance', 'globex', 'finance'],
  ] as const;
  for (const [key, tenantId, role] of users) {
    const email = `${key.toLowerCase()}@receipts.test`;
    await createUser(pool, {
      tenantId,
      email,
      name: key,
      role,
      password,
      ...(role === 'driver' ? { vehicleId: 'van-1' } : {}),
    });
    const r = await login(pool, email, password);
    if (!('token' in r)) throw new Error(`sign-in of ${key} failed`);
    tokens[key] = r.token;
  }
  const driverId = (
    await pool.query<{ id: string }>(`SELECT id FROM users WHERE email = 'driver@receipts.test'`)
  ).rows[0]!.id;
  refuelLogId = (
    await pool.query<{ id: number }>(
      `INSERT INTO refuel_logs (tenant_id, client_id, vehicle_id, user_id, ts, litres, fuel_type)
       VALUES ('acme', $1, 'van-1', $2, now(), 40, 'diesel') RETURNING id::int AS id`,
      [refuelClientId, driverId],
    )
  ).rows[0]!.id;
  api = await startApiServer({ pool, host: '127.0.0.1', port: 0, log });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('PUT /receipts/<refuel client id>', () => {
  const receiptId = randomUUID();
  const photo = jpeg(7);

  it('stores a receipt once: the same receipt sent again answers the first row and adds none', async () => {
    const first = await put(photo, { 'x-receipt-id': receiptId, 'x-content-sha256': sha(photo) });
    expect(first.status).toBe(201);
    const again = await put(photo, { 'x-receipt-id': receiptId, 'x-content-sha256': sha(photo) });
    expect(again.status).toBe(200);
    const [a, b] = [
      (await first.json()) as { receipt: unknown },
      (await again.json()) as { receipt: unknown },
    ];
    expect({ ...(b.receipt as object), created: true }).toEqual(a.receipt);
    const { rows } = await pool.query<{ n: number; stored: string; sha256: string; content_type: string }>(
      `SELECT count(*) OVER ()::int AS n, encode(sha256(bytes), 'hex') AS stored, sha256, content_type
         FROM refuel_receipts WHERE refuel_log_id = $1`,
      [refuelLogId],
    );
    expect(rows).toEqual([{ n: 1, stored: sha(photo), sha256: sha(photo), content_type: 'image/jpeg' }]);
    // A second, different photo for the same refuel is a conflict, not a second row.
    const other = jpeg(8);
    const second = await put(other, { 'x-receipt-id': randomUUID(), 'x-content-sha256': sha(other) });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: number } }).error.code).toBe(
      CloudErrorCode.ReceiptConflict,
    );
  });

  it('refuses a hash mismatch, a file that is not an image and one over 2 MB, each with its code, and counts them', async () => {
    const before = {
      hash: await uploadsCounted('hash_mismatch'),
      type: await uploadsCounted('type_refused'),
      size: await uploadsCounted('too_large'),
    };
    const damaged = jpeg(9);
    const mismatch = await put(damaged, { 'x-receipt-id': randomUUID(), 'x-content-sha256': sha(jpeg(10)) });
    expect(mismatch.status).toBe(422);
    const m = (await mismatch.json()) as { error: { code: number; message: string } };
    expect(m.error).toEqual({
      code: CloudErrorCode.ReceiptHashMismatch,
      message: expect.stringContaining('changed on the way'),
    });

    const pdf = Buffer.from('%PDF-1.7 not a photo');
    const wrongType = await put(pdf, { 'x-receipt-id': randomUUID(), 'x-content-sha256': sha(pdf) });
    expect(wrongType.status).toBe(415);
    expect(((await wrongType.json()) as { error: { code: number; message: string } }).error).toEqual({
      code: CloudErrorCode.ReceiptTypeRefused,
      message: 'the receipt is not a JPEG, PNG or WebP image',
    });

    const huge = jpeg(11, 2 * 1024 * 1024 + 1);
    const tooBig = await put(huge, { 'x-receipt-id': randomUUID(), 'x-content-sha256': sha(huge) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { code: number; message: string } }).error).toMatchObject({
      code: CloudErrorCode.ReceiptTooLarge,
      message: expect.stringContaining('at most 2097152 bytes (2 MB)'),
    });

    expect(await uploadsCounted('hash_mismatch')).toBe(before.hash + 1);
    expect(await uploadsCounted('type_refused')).toBe(before.type + 1);
    expect(await uploadsCounted('too_large')).toBe(before.size + 1);
    // Nothing of these reached the table.
    expect((await pool.query('SELECT 1 FROM refuel_receipts')).rowCount).toBe(1);
  });

  it('is the driver’s: finance may not upload, nobody signed out may', async () => {
    const p = jpeg(12);
    const headers = { 'x-receipt-id': randomUUID(), 'x-content-sha256': sha(p) };
    expect((await put(p, headers, tokens.finance)).status).toBe(403);
    expect((await put(p, headers, 'no-such-session')).status).toBe(401);
  });
});

describe('GET /receipts/<refuel log id>', () => {
  it('finance of the tenant gets the image; finance of another tenant gets 404 (RLS alone hides the row)', async () => {
    const res = await fetch(`${api.url}/receipts/${refuelLogId}`, {
      headers: { authorization: `Bearer ${tokens.finance}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha(body)).toBe(res.headers.get('x-content-sha256'));
    expect(sha(body)).toBe(sha(jpeg(7)));

    const other = await fetch(`${api.url}/receipts/${refuelLogId}`, {
      headers: { authorization: `Bearer ${tokens.otherFinance}` },
    });
    expect(other.status).toBe(404);
    // The query has no tenant filter of its own: row-level security is what hides acme's receipt.
    expect(await readReceipt(pool, 'globex', refuelLogId)).toBeNull();
    expect(
      await inTenant(pool, 'globex', async (c) => (await c.query('SELECT 1 FROM refuel_receipts')).rowCount),
    ).toBe(0);
    // A driver does not read the office's receipts.
    const asDriver = await fetch(`${api.url}/receipts/${refuelLogId}`, {
      headers: { authorization: `Bearer ${tokens.driver}` },
    });
    expect(asDriver.status).toBe(403);
  });
});
