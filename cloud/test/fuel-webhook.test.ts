/**
 * Fuel-card purchases through the signed webhook, over HTTP, against the real PostgreSQL: a signed
 * body becomes fuel_transactions rows (bad items dead-lettered with their reason, duplicates
 * harmless); a bad signature and an old timestamp are refused with 401 and audited.
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { migrate } from '../src/db/migrate.ts';
import { putTenantSecret } from '../src/db/queries/tenant-secrets.ts';
import { drainFuelCardInbox, FUEL_CARD_SOURCE } from '../src/fuel/webhook-inbox.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { signWebhook } from '../src/webhooks/signature.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('fuel-webhook-test').child({}, { level: 'fatal' });
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
const SECRET = 'whsec_acme_fuelcard_fedcba9876543210';
let db: Awaited<ReturnType<typeof openTestPool>>;
let api: ApiServer;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_fuel_wh');
  await migrate(db.pool, log);
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
  await db.pool.query(`INSERT INTO vehicles (id, tenant_id) VALUES ('van-1', 'acme'), ('gx-1', 'globex')`);
  const c = await db.pool.connect();
  await putTenantSecret(c, box, {
    tenantId: 'acme',
    name: `webhook:${FUEL_CARD_SOURCE}`,
    value: SECRET,
    actor: 'user:admin',
  });
  c.release();
  api = await startApiServer({ pool: db.pool, host: '127.0.0.1', port: 0, log, secretBox: box });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const post = (body: string, signature: string) =>
  fetch(`${api.url}/webhooks/acme/${FUEL_CARD_SOURCE}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'fleet-signature': signature },
    body,
  });

const purchase = (id: string, over: Record<string, unknown> = {}) => ({
  externalId: id,
  ts: '2026-10-05T10:02:00+02:00',
  litres: 46.2,
  amount: 83.11,
  currency: 'eur',
  fuelType: 'diesel',
  station: 'Aral Leopoldstr. 12',
  lat: 48.137,
  lon: 11.575,
  cardId: 'CARD-1',
  vehicleId: 'van-1',
  driverId: 'drv-7',
  odometerKm: 123456,
  ...over,
});

describe('POST /webhooks/<tenant>/fuel-card', () => {
  it('stores the purchases of a signed body once; bad items dead-lettered with a reason', async () => {
    const body = JSON.stringify({
      transactions: [
        purchase('WEX-1'),
        purchase('WEX-2', { litres: undefined, gallons: 10 }),
        purchase('WEX-3', { ts: '2026-10-05 10:02' }), // no zone
        purchase('WEX-4', { vehicleId: 'gx-1' }), // another tenant's vehicle
        purchase('WEX-5', { litres: -4 }),
      ],
    });
    const now = Math.floor(Date.now() / 1000);
    expect((await post(body, signWebhook(SECRET, body, now))).status).toBe(202);
    // The provider retries the same purchases later (a new signature): nothing new is stored.
    expect((await post(body, signWebhook(SECRET, body, now + 1))).status).toBe(202);
    // One purchase on its own, without the wrapper.
    const single = JSON.stringify(purchase('WEX-6', { vehicleId: undefined, litres: 20 }));
    expect((await post(single, signWebhook(SECRET, single, now))).status).toBe(202);

    const result = await drainFuelCardInbox(db.pool, log);
    expect(result).toEqual({ messages: 3, stored: 3, duplicates: 2, refused: 6 });
    expect(await drainFuelCardInbox(db.pool, log)).toEqual({
      messages: 0,
      stored: 0,
      duplicates: 0,
      refused: 0,
    });

    const { rows } = await db.pool.query(
      `SELECT external_id, source, vehicle_id, ts, litres, amount, currency, card_id, driver_id
         FROM fuel_transactions ORDER BY external_id`,
    );
    expect(rows).toEqual([
      {
        external_id: 'WEX-1',
        source: 'webhook',
        vehicle_id: 'van-1',
        ts: new Date('2026-10-05T08:02:00Z'),
        litres: 46.2,
        amount: '83.11',
        currency: 'EUR',
        card_id: 'CARD-1',
        driver_id: 'drv-7',
      },
      expect.objectContaining({ external_id: 'WEX-2', litres: 37.854 }),
      expect.objectContaining({ external_id: 'WEX-6', vehicle_id: null, litres: 20 }),
    ]);
    const { rows: letters } = await db.pool.query<{ topic: string; reason: string }>(
      'SELECT topic, reason FROM dead_letters ORDER BY id',
    );
    expect(letters.every((l) => l.topic.startsWith('webhook:acme/fuel-card#'))).toBe(true);
    const reasons = letters.map((l) => l.reason);
    expect(
      reasons.filter((r) => r.startsWith('item 2:') && /ts must be ISO 8601 with a zone/.test(r)),
    ).toHaveLength(2);
    expect(
      reasons.filter((r) => r === 'item 3: vehicle "gx-1" is not a vehicle of tenant "acme"'),
    ).toHaveLength(2);
    expect(reasons.filter((r) => r.startsWith('item 4:') && /litres/.test(r))).toHaveLength(2);
  });

  it('refuses a bad signature and an old timestamp with 401, audits both, stores nothing', async () => {
    const body = JSON.stringify({ transactions: [purchase('WEX-90', { litres: 300 })] });
    const now = Math.floor(Date.now() / 1000);
    const before = await db.pool.query('SELECT count(*)::int AS n FROM webhook_inbox');
    expect((await post(body, signWebhook('not-the-secret', body, now))).status).toBe(401);
    expect((await post(body, signWebhook(SECRET, body, now - 600))).status).toBe(401);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM webhook_inbox')).rows).toEqual(before.rows);
    expect((await drainFuelCardInbox(db.pool, log)).stored).toBe(0);
    expect(
      (await db.pool.query(`SELECT 1 FROM fuel_transactions WHERE external_id = 'WEX-90'`)).rowCount,
    ).toBe(0);
    const { rows: audit } = await db.pool.query<{ action: string; actor: string; reason: string }>(
      `SELECT action, actor, after->>'reason' AS reason FROM audit_log
        WHERE tenant_id = 'acme' AND entity = 'webhook:fuel-card' AND action = 'webhook.refused' ORDER BY id`,
    );
    expect(audit).toEqual([
      { action: 'webhook.refused', actor: 'ip:127.0.0.1', reason: 'signature does not match' },
      {
        action: 'webhook.refused',
        actor: 'ip:127.0.0.1',
        reason: expect.stringMatching(/outside the 300 s window/),
      },
    ]);
  });
});
