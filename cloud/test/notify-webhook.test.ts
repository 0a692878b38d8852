/**
 * Webhook, push and SMS notifications against real HTTP servers on loopback and the real
 * PostgreSQL: signatures a receiver verifies, one idempotency key across a receiver outage,
 * 4xx dead and redelivered, SSRF refused at creation and at connect time, Slack and Teams bodies,
 * the per-endpoint rate limit, Web Push decrypted with the subscription's keys, the SMS API shape.
 */
import { createECDH, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@fleet/shared/log';
import ece from 'http_ece';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { CloudErrorCode, isCloudError } from '../src/errors.ts';
import { AddressGuard } from '../src/notifications/channels/address-guard.ts';
import { createWebhookEndpoint, savePushSubscription } from '../src/notifications/endpoints.ts';
import { enqueueNotifications, type NotificationItem } from '../src/notifications/index.ts';
import { redeliver } from '../src/notifications/outbox.ts';
import { NotificationWorker } from '../src/notifications/worker.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { verifyWebhook } from '../src/webhooks/signature.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { type Received, startHttpReceiver, waitFor } from './support/notify-servers.ts';
import { fastSettings } from './support/notify-settings.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('notify-webhook-test').child({}, { level: 'fatal' });
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
const vapid = webpush.generateVAPIDKeys();
let db: Awaited<ReturnType<typeof openTestPool>>;
let worker: NotificationWorker;
const allowLoopback = new AddressGuard(['127.0.0.1']);

const item = (
  alertId: number,
  webhookId: number,
  over: Partial<NotificationItem> = {},
): NotificationItem => ({
  alertId,
  tenantId: 'acme',
  recipient: { webhookId },
  channel: 'webhook',
  severity: 'critical',
  subject: `Fuel theft on van-1 (alert ${alertId})`,
  text: 'van-1 lost 38 l at the depot.',
  link: `https://fleet.test/alerts?alert=${alertId}`,
  data: { vehicleId: 'van-1', litres: 38 },
  ...over,
});

const enqueue = (items: NotificationItem[]) =>
  inTenant(db.pool, 'acme', (c) => enqueueNotifications(c, items));
const endpoint = (
  name: string,
  url: string,
  over: { format?: 'json' | 'slack' | 'teams'; ratePerMinute?: number; guard?: AddressGuard } = {},
) =>
  inTenant(db.pool, 'acme', (c) =>
    createWebhookEndpoint(c, over.guard ?? allowLoopback, box, {
      tenantId: 'acme',
      name,
      url,
      format: over.format ?? 'json',
      ratePerMinute: over.ratePerMinute ?? 600,
      actor: 'user:admin',
    }),
  );
const status = async (id: string) =>
  (
    await db.pool.query('SELECT status, attempts, last_error FROM notification_deliveries WHERE id = $1', [
      id,
    ])
  ).rows[0] as {
    status: string;
    attempts: number;
    last_error: string | null;
  };

/** An HTTP receiver on a fixed port that can be stopped (connection refused) and started again. */
async function flakyReceiver() {
  const received: Received[] = [];
  let server: http.Server | null = null;
  const start = async (port = 0) => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), url: req.url ?? '' });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };
  const port = await start();
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    stop: () =>
      new Promise<void>((r) => {
        server!.closeAllConnections();
        server!.close(() => r());
      }),
    restart: () => start(port),
  };
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_notify_hook');
  await migrate(db.pool, log);
  await seedNotifyTenant(
    db.pool,
    'acme',
    [{ id: 'u-dan', email: 'dan@acme.test', role: 'driver' }].map((u) => ({ ...u, role: 'fleet_manager' })),
  );
  worker = new NotificationWorker(
    db.pool,
    fastSettings(db.schema, {
      secretBox: box,
      push: { ...vapid, subject: 'mailto:ops@fleet.test' },
      sms: { url: 'http://127.0.0.1:1', accountId: 'AC123', token: 'sms-token', from: '+15005550006' },
    }),
    log,
  );
  await worker.start();
});
afterAll(async () => {
  await worker?.stop();
  await db?.drop();
});

describe('webhooks', () => {
  it('posts signed JSON the receiver verifies, with one idempotency key', async () => {
    const rx = await startHttpReceiver();
    const { id, secret } = await endpoint('ops', `${rx.url}/ops`);
    const r = await enqueue([item(11, id)]);
    await waitFor('the webhook', () => rx.received.length >= 1);
    const got = rx.received[0]!;
    const check = verifyWebhook(secret, got.headers['fleet-signature'] as string, Buffer.from(got.body));
    expect(check.ok).toBe(true);
    expect(
      verifyWebhook('another-secret', got.headers['fleet-signature'] as string, Buffer.from(got.body)).ok,
    ).toBe(false);
    expect(got.headers['fleet-idempotency-key']).toBe(r.queued[0]!.idempotencyKey);
    expect(JSON.parse(got.body)).toMatchObject({
      idempotencyKey: r.queued[0]!.idempotencyKey,
      alertId: 11,
      severity: 'critical',
      link: 'https://fleet.test/alerts?alert=11',
      data: { vehicleId: 'van-1', litres: 38 },
    });
    await waitFor('sent', async () => (await status(r.queued[0]!.deliveryId)).status === 'sent');
    await rx.close();
  });

  it('delivers each alert once per key after the receiver was down for a while', async () => {
    const rx = await flakyReceiver();
    const { id } = await endpoint('flaky', rx.url);
    await rx.stop(); // down: connection refused
    const r = await enqueue([item(21, id), item(22, id), item(23, id)]);
    await waitFor(
      'first failures',
      async () => (await status(r.queued[0]!.deliveryId)).status === 'retrying',
    );
    await new Promise((res) => setTimeout(res, 4000));
    expect(rx.received).toHaveLength(0);
    await rx.restart();
    for (const q of r.queued)
      await waitFor(
        'delivered after the outage',
        async () => (await status(q.deliveryId)).status === 'sent',
        40_000,
      );
    const keys = rx.received.map((x) => x.headers['fleet-idempotency-key']);
    expect(keys.sort()).toEqual(r.queued.map((q) => q.idempotencyKey).sort());
    for (const q of r.queued) expect((await status(q.deliveryId)).attempts).toBeGreaterThan(1);
    const { rows } = await db.pool.query(
      `SELECT DISTINCT event FROM notification_delivery_log WHERE delivery_id = $1`,
      [r.queued[0]!.deliveryId],
    );
    expect(rows.map((x) => x.event).sort()).toEqual(['failed', 'queued', 'retried', 'sent']);
    await rx.stop();
  });

  it('dead-letters a 4xx answer at once, retries a 5xx, and redelivers a dead one on request', async () => {
    let mode = 400;
    const rx = await startHttpReceiver(() => mode);
    const { id } = await endpoint('strict', `${rx.url}/strict`);
    const r = await enqueue([item(31, id)]);
    const d = r.queued[0]!.deliveryId;
    await waitFor('dead', async () => (await status(d)).status === 'dead');
    expect(await status(d)).toMatchObject({ attempts: 1, last_error: `webhook ${id} answered HTTP 400` });
    mode = 503;
    expect(await inTenant(db.pool, 'acme', (c) => redeliver(c, 'acme', d, 'user:admin'))).toBe(true);
    await waitFor('retrying on 503', async () => (await status(d)).status === 'retrying');
    mode = 200;
    await waitFor('sent after redeliver', async () => (await status(d)).status === 'sent', 30_000);
    // Another tenant cannot redeliver it (RLS): it is not there for them.
    await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('globex', 'globex') ON CONFLICT DO NOTHING`);
    expect(await inTenant(db.pool, 'globex', (c) => redeliver(c, 'acme', d, 'user:x'))).toBe(false);
    await rx.close();
  });

  it('refuses private, loopback and link-local URLs unless allow-listed, and queues nothing for them', async () => {
    const strict = new AddressGuard([]);
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://localhost:9/x', // a name that resolves to loopback
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/hook',
      'http://192.168.1.1/hook',
      'http://[::1]:9/x',
      'http://[::ffff:127.0.0.1]:9/x',
      'ftp://example.com/x',
      'https://user:pw@example.com/x',
    ]) {
      const err = await endpoint(`bad-${url.length}-${Math.random()}`, url, { guard: strict }).catch(
        (e: unknown) => e,
      );
      expect(isCloudError(err), url).toBe(true);
      expect(Object.keys((err as { fields: object }).fields)).toEqual(['url']);
    }
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM notification_webhooks WHERE name LIKE 'bad-%'`,
    );
    expect(rows[0].n).toBe(0);
    // Checked again where the socket connects: a worker without the allow-list refuses an
    // endpoint stored under one (as it would a name that re-resolved to a private address).
    const rx = await startHttpReceiver();
    const { id } = await endpoint('rebound', `http://localhost:${rx.port}/x`);
    const w = new NotificationWorker(
      db.pool,
      fastSettings(db.schema, { secretBox: box, allowAddresses: [] }),
      log,
    );
    await worker.stop();
    await w.start();
    try {
      const r = await enqueue([item(41, id)]);
      await waitFor(
        'refused at connect',
        async () => (await status(r.queued[0]!.deliveryId)).status === 'dead',
      );
      expect((await status(r.queued[0]!.deliveryId)).last_error).toMatch(/private, loopback or link-local/);
      expect(rx.received).toHaveLength(0);
    } finally {
      await w.stop();
      worker = new NotificationWorker(
        db.pool,
        fastSettings(db.schema, {
          secretBox: box,
          push: { ...vapid, subject: 'mailto:ops@fleet.test' },
        }),
        log,
      );
      await worker.start();
      await rx.close();
    }
  });

  it('speaks Slack and Microsoft Teams incoming-webhook formats', async () => {
    const rx = await startHttpReceiver();
    const slack = await endpoint('slack', `${rx.url}/slack`, { format: 'slack' });
    const teams = await endpoint('teams', `${rx.url}/teams`, { format: 'teams' });
    await enqueue([item(51, slack.id), item(51, teams.id)]);
    await waitFor('both', () => rx.received.length >= 2);
    const by = new Map(rx.received.map((x) => [x.url, JSON.parse(x.body)]));
    expect(by.get('/slack').text).toBe(
      '[CRITICAL] Fuel theft on van-1 (alert 51) <https://fleet.test/alerts?alert=51|Open the alert>',
    );
    expect(by.get('/slack').blocks[1].elements[0].url).toBe('https://fleet.test/alerts?alert=51');
    const card = by.get('/teams').attachments[0];
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.type).toBe('AdaptiveCard');
    expect(card.content.actions[0]).toEqual({
      type: 'Action.OpenUrl',
      title: 'Open the alert',
      url: 'https://fleet.test/alerts?alert=51',
    });
    await rx.close();
  });

  it('holds an endpoint to its rate per minute', async () => {
    const rx = await startHttpReceiver();
    const { id } = await endpoint('slow', `${rx.url}/slow`, { ratePerMinute: 2 });
    const r = await enqueue([61, 62, 63, 64].map((a) => item(a, id)));
    await waitFor('two', () => rx.received.length >= 2);
    await new Promise((res) => setTimeout(res, 3000));
    expect(rx.received).toHaveLength(2);
    const states = await Promise.all(r.queued.map((q) => status(q.deliveryId)));
    expect(states.filter((s) => s.status === 'sent')).toHaveLength(2);
    expect(states.filter((s) => s.status === 'scheduled')).toHaveLength(2); // waiting for the minute
    await rx.close();
  });
});

describe('web push', () => {
  it('sends aes128gcm with VAPID that the subscription keys decrypt', async () => {
    const ua = createECDH('prime256v1');
    ua.generateKeys();
    const authSecret = randomBytes(16);
    const got: { body: Buffer; headers: http.IncomingHttpHeaders }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ body: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await inTenant(db.pool, 'acme', (c) =>
      savePushSubscription(c, allowLoopback, 'acme', 'u-dan', {
        endpoint: `http://127.0.0.1:${port}/push/abc`,
        keys: { p256dh: ua.getPublicKey('base64url'), auth: authSecret.toString('base64url') },
      }),
    );
    const r = await enqueue([
      { ...item(71, 1), recipient: { userId: 'u-dan' }, channel: 'push', severity: 'major' },
    ]);
    await waitFor('a push', () => got.length >= 1);
    const { body, headers } = got[0]!;
    expect(headers['content-encoding']).toBe('aes128gcm');
    expect(headers.authorization).toMatch(
      new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${vapid.publicKey}$`),
    );
    const plain = ece.decrypt(body, {
      version: 'aes128gcm',
      privateKey: ua,
      authSecret: authSecret.toString('base64url'),
    });
    expect(JSON.parse(plain.toString('utf8'))).toEqual({
      key: r.queued[0]!.idempotencyKey,
      title: 'Fuel theft on van-1 (alert 71)',
      body: 'van-1 lost 38 l at the depot.',
      url: 'https://fleet.test/alerts?alert=71',
      severity: 'major',
      alertId: 71,
    });
    await waitFor('sent', async () => (await status(r.queued[0]!.deliveryId)).status === 'sent');
    // A subscription the push service calls gone (410) is removed.
    server.removeAllListeners('request');
    server.on('request', (_q, s) => s.writeHead(410).end());
    const r2 = await enqueue([
      { ...item(72, 1), recipient: { userId: 'u-dan' }, channel: 'push', severity: 'major' },
    ]);
    await waitFor('dead', async () => (await status(r2.queued[0]!.deliveryId)).status === 'dead');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM push_subscriptions')).rows[0].n).toBe(0);
    server.close();
  });

  it('refuses a subscription endpoint on a private address', async () => {
    const err = await inTenant(db.pool, 'acme', (c) =>
      savePushSubscription(c, new AddressGuard([]), 'acme', 'u-dan', {
        endpoint: 'http://10.0.0.8/push',
        keys: { p256dh: 'x', auth: 'y' },
      }),
    ).catch((e: unknown) => e);
    expect(isCloudError(err, CloudErrorCode.NotificationAddressRefused)).toBe(true);
  });
});

describe('sms', () => {
  it('posts a Twilio-shaped form request with basic auth, off unless configured', async () => {
    const rx = await startHttpReceiver(() => 201);
    const w = new NotificationWorker(
      db.pool,
      fastSettings(db.schema, {
        sms: { url: rx.url, accountId: 'AC123', token: 'sms-token', from: '+15005550006' },
      }),
      log,
    );
    await worker.stop();
    await w.start();
    try {
      const r = await enqueue([{ ...item(81, 1), recipient: { address: '+4915112345678' }, channel: 'sms' }]);
      await waitFor('an sms', () => rx.received.length >= 1);
      const got = rx.received[0]!;
      expect(got.url).toBe('/2010-04-01/Accounts/AC123/Messages.json');
      expect(got.headers.authorization).toBe(`Basic ${Buffer.from('AC123:sms-token').toString('base64')}`);
      expect(got.headers['idempotency-key']).toBe(r.queued[0]!.idempotencyKey);
      expect(Object.fromEntries(new URLSearchParams(got.body))).toEqual({
        To: '+4915112345678',
        From: '+15005550006',
        Body: 'Fuel theft on van-1 (alert 81) https://fleet.test/alerts?alert=81',
      });
      const bad = await enqueue([
        { ...item(82, 1), recipient: { address: '0151 1234' }, channel: 'sms' },
      ]).catch((e: unknown) => e);
      expect((bad as { fields: object }).fields).toEqual({
        'items.0.recipient.address': 'address is not a phone number in international form (+4915112345678)',
      });
    } finally {
      await w.stop();
      await rx.close();
    }
  });
});
