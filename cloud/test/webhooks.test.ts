/**
 * Signed webhooks over HTTP against the real PostgreSQL: a good request is queued once; a bad
 * signature, a tampered body, an old or future timestamp and a replay are refused and audited.
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { migrate } from '../src/db/migrate.ts';
import { putTenantSecret } from '../src/db/queries/tenant-secrets.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { signWebhook } from '../src/webhooks/signature.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('webhooks-test').child({}, { level: 'fatal' });
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 3) }]);
const SECRET = 'whsec_acme_fuelcard_0123456789';
let db: Awaited<ReturnType<typeof openTestPool>>;
let api: ApiServer;
let noKeys: ApiServer;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_webhooks');
  await migrate(db.pool, log);
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme')`);
  const c = await db.pool.connect();
  await putTenantSecret(c, box, {
    tenantId: 'acme',
    name: 'webhook:fuel-card',
    value: SECRET,
    actor: 'user:admin',
  });
  c.release();
  api = await startApiServer({ pool: db.pool, host: '127.0.0.1', port: 0, log, secretBox: box });
  noKeys = await startApiServer({ pool: db.pool, host: '127.0.0.1', port: 0, log });
});
afterAll(async () => {
  await api?.close();
  await noKeys?.close();
  await db?.drop();
});

const post = (body: string, signature: string | null, path = '/webhooks/acme/fuel-card', server = api) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'fleet-signature': signature } : {}) },
    body,
  });

describe('POST /webhooks/<tenant>/<source>', () => {
  it('accepts a correctly signed request once, refuses its replay; every refusal audited', async () => {
    const body = JSON.stringify({ card: '4111-XXXX', litres: 52.4, at: '2026-11-26T10:00:00Z' });
    const now = Math.floor(Date.now() / 1000);
    const good = signWebhook(SECRET, body, now);

    expect((await post(body, good)).status).toBe(202);
    expect((await post(body, good)).status).toBe(409); // replay, inside the time window
    expect((await post(body, signWebhook('wrong-secret', body, now))).status).toBe(401);
    expect((await post(body.replace('52.4', '92.4'), good)).status).toBe(401); // tampered body
    expect((await post(body, signWebhook(SECRET, body, now - 301))).status).toBe(401); // too old
    // From the future, timed now: `now` above may be seconds old on a loaded machine.
    expect((await post(body, signWebhook(SECRET, body, Math.floor(Date.now() / 1000) + 303))).status).toBe(
      401,
    );
    expect((await post(body, null)).status).toBe(401);
    expect((await post(body, 't=abc,v1=zz')).status).toBe(401);
    expect((await post('not json', signWebhook(SECRET, 'not json', now))).status).toBe(400);
    expect((await post(body, good, '/webhooks/globex/fuel-card')).status).toBe(404); // no such secret
    expect((await post('x'.repeat(300 * 1024), good)).status).toBe(413);
    expect((await post(body, good, '/webhooks/acme/fuel-card', noKeys)).status).toBe(503);

    const { rows: inbox } = await db.pool.query('SELECT tenant_id, source, body FROM webhook_inbox');
    expect(inbox).toEqual([{ tenant_id: 'acme', source: 'fuel-card', body: JSON.parse(body) }]);
    const { rows: audit } = await db.pool.query<{ action: string; reason: string | null }>(
      `SELECT action, after->>'reason' AS reason FROM audit_log WHERE entity = 'webhook:fuel-card' ORDER BY id`,
    );
    expect(audit.map((a) => a.action)).toEqual([
      'webhook.accepted',
      'webhook.replay-refused',
      'webhook.refused',
      'webhook.refused',
      'webhook.refused',
      'webhook.refused',
      'webhook.refused',
      'webhook.refused',
      'webhook.refused',
    ]);
    expect(audit.map((a) => a.reason)).toEqual([
      null,
      'replay of an already accepted request',
      'signature does not match',
      'signature does not match',
      expect.stringMatching(/outside the 300 s window/),
      expect.stringMatching(/outside the 300 s window/),
      'missing fleet-signature header',
      'malformed signature header',
      expect.stringMatching(/^body is not JSON/),
    ]);
  });
});
