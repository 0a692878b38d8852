/**
 * The notification worker on the embedded default (PGlite over its socket): pg-boss installs its
 * schema there and works the queue; e-mails and a retried webhook arrive as on PostgreSQL.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { inTenant } from '../src/db/tenant.ts';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';
import { AddressGuard } from '../src/notifications/channels/address-guard.ts';
import { createWebhookEndpoint } from '../src/notifications/endpoints.ts';
import { enqueueNotifications } from '../src/notifications/index.ts';
import { NotificationWorker } from '../src/notifications/worker.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { startHttpReceiver, startSmtpServer, testCertificate, waitFor } from './support/notify-servers.ts';
import { fastSettings } from './support/notify-settings.ts';

const log = createLogger('notify-pglite-test').child({}, { level: 'fatal' });
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 9) }]);
let pool: pg.Pool;
let close: () => Promise<void>;

beforeAll(async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const db = await startEmbeddedDatabase({ host: '127.0.0.1', port, log });
  // Several connections, as the cloud uses it: the socket server runs one transaction at a time.
  pool = await openPool({ url: db.url, max: 4 });
  close = async () => {
    await pool.end();
    await db.close();
  };
  await migrate(pool, log);
  await seedNotifyTenant(pool, 'acme', []);
}, 60_000);
afterAll(async () => {
  await close?.();
});

describe('notifications on PGlite', () => {
  it('delivers e-mails and retries a webhook through pg-boss on the embedded database', async () => {
    const smtp = await startSmtpServer();
    let n = 0;
    const rx = await startHttpReceiver(() => (++n <= 1 ? 503 : 200));
    const worker = new NotificationWorker(
      pool,
      fastSettings('public', {
        email: {
          url: smtp.url,
          from: 'Fleet <alerts@fleet.test>',
          requireTls: true,
          ca: testCertificate().cert,
        },
        secretBox: box,
      }),
      log,
    );
    await worker.start();
    try {
      const { id } = await inTenant(pool, 'acme', (c) =>
        createWebhookEndpoint(c, new AddressGuard(['127.0.0.1']), box, {
          tenantId: 'acme',
          name: 'ops',
          url: `${rx.url}/hook`,
          format: 'json',
          ratePerMinute: 60,
          actor: 'test',
        }),
      );
      const base = {
        tenantId: 'acme',
        severity: 'critical' as const,
        text: 'van-1 lost 40 l.',
        subject: 'Fuel theft',
      };
      const r = await inTenant(pool, 'acme', (c) =>
        enqueueNotifications(c, [
          ...[1, 2, 3].map((a) => ({
            ...base,
            alertId: a,
            channel: 'email' as const,
            recipient: { address: 'ops@acme.test' },
          })),
          { ...base, alertId: 4, channel: 'webhook' as const, recipient: { webhookId: id } },
        ]),
      );
      await waitFor('3 e-mails', () => smtp.arrivals.length >= 3, 40_000);
      await waitFor('the webhook, second try', () => rx.received.length >= 2, 40_000);
      expect(new Set(smtp.arrivals.map((a) => a.messageId)).size).toBe(3);
      expect(rx.received.map((x) => x.headers['fleet-idempotency-key'])).toEqual([
        r.queued[3]!.idempotencyKey,
        r.queued[3]!.idempotencyKey,
      ]);
      await waitFor('all sent', async () => {
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM notification_deliveries WHERE status = 'sent'`,
        );
        return rows[0].n === 4;
      });
    } finally {
      await worker.stop();
      await smtp.close();
      await rx.close();
    }
  });
});
