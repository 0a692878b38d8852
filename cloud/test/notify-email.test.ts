/**
 * E-mail notifications against a real SMTP server (smtp-server, STARTTLS + AUTH) and the real
 * PostgreSQL: what arrives (parsed with mailparser), 4xx retried, 5xx dead, header injection
 * refused with nothing queued, a worker SIGKILLed mid-send, database connections dropped.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { inTenant } from '../src/db/tenant.ts';
import { CloudErrorCode, isCloudError } from '../src/errors.ts';
import { alertLink, enqueueNotifications, type NotificationItem } from '../src/notifications/index.ts';
import { NotificationWorker } from '../src/notifications/worker.ts';
import { startLineChild } from './support/line-child.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { startSmtpServer, testCertificate, waitFor } from './support/notify-servers.ts';
import { fastSettings } from './support/notify-settings.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';

const log = createLogger('notify-email-test').child({}, { level: 'fatal' });
const FROM = 'Fleet <alerts@fleet.test>';

const mail = (alertId: number, to: string, over: Partial<NotificationItem> = {}): NotificationItem => ({
  alertId,
  tenantId: 'acme',
  recipient: { address: to },
  channel: 'email',
  severity: 'critical',
  subject: `Fuel drain on van-1 (alert ${alertId})`,
  text: `van-1 lost 42.5 l at Hauptstrasse 5, Berlin.`,
  link: alertLink('https://fleet.test', alertId),
  data: { vehicleId: 'van-1', litres: 42.5 },
  ...over,
});

async function enqueue(pool: pg.Pool, items: NotificationItem[]) {
  return inTenant(pool, 'acme', (c) => enqueueNotifications(c, items));
}

async function statuses(pool: pg.Pool) {
  const { rows } = await pool.query<{
    target: string;
    status: string;
    attempts: number;
    last_error: string | null;
  }>('SELECT target, status, attempts, last_error FROM notification_deliveries ORDER BY created_at');
  return rows;
}

describe('e-mail notifications (in-process worker)', () => {
  let db: Awaited<ReturnType<typeof openTestPool>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let worker: NotificationWorker;

  beforeAll(async () => {
    await requireServices({ postgres: true });
    db = await openTestPool('t_notify_mail');
    await migrate(db.pool, log);
    await seedNotifyTenant(db.pool, 'acme', [{ id: 'u-ann', email: 'ann@acme.test' }]);
    smtp = await startSmtpServer();
    worker = new NotificationWorker(
      db.pool,
      fastSettings(db.schema, {
        email: { url: smtp.url, from: FROM, requireTls: true, ca: testCertificate().cert },
        throttlePerHour: 1000,
      }),
      log,
    );
    await worker.start();
  });
  afterAll(async () => {
    await worker?.stop();
    await smtp?.close();
    await db?.drop();
  });

  it('delivers one message per notification over STARTTLS with AUTH: text and HTML parts, the link, the key', async () => {
    const r = await enqueue(db.pool, [
      mail(101, 'ops@acme.test'),
      mail(102, 'ops@acme.test'),
      { ...mail(103, 'x'), recipient: { userId: 'u-ann' } },
    ]);
    expect(r.queued).toHaveLength(3);
    // Enqueued again (a redelivered event): the same keys, nothing new.
    expect((await enqueue(db.pool, [mail(101, 'ops@acme.test')])).duplicates).toEqual([0]);
    await waitFor('3 e-mails', () => smtp.arrivals.length >= 3);
    await waitFor('3 sent', async () => (await statuses(db.pool)).every((s) => s.status === 'sent'));
    expect(smtp.arrivals).toHaveLength(3);
    const byAlert = new Map(smtp.arrivals.map((a) => [a.mail.headers.get('fleet-alert-id'), a]));
    const first = byAlert.get('101')!;
    expect(first.secure).toBe(true);
    expect(first.user).toBe('fleet');
    expect(first.rcpt).toEqual(['ops@acme.test']);
    expect(first.mail.subject).toBe('Fuel drain on van-1 (alert 101)');
    expect(first.mail.text).toContain('42.5 l at Hauptstrasse 5');
    expect(first.mail.text).toContain('https://fleet.test/alerts?alert=101');
    expect(first.mail.html).toContain('<a href="https://fleet.test/alerts?alert=101">');
    const key = r.queued[0]!.idempotencyKey;
    expect(first.messageId).toBe(`<${key}@fleet.test>`);
    expect(first.mail.headers.get('fleet-idempotency-key')).toBe(key);
    expect(byAlert.get('103')!.rcpt).toEqual(['ann@acme.test']); // the user's account address
    const { rows: logRows } = await db.pool.query(
      `SELECT event FROM notification_delivery_log WHERE delivery_id = $1 ORDER BY id`,
      [r.queued[0]!.deliveryId],
    );
    expect(logRows.map((l) => l.event)).toEqual(['queued', 'sent']);
  });

  it('retries SMTP 4xx until accepted and dead-letters 5xx at once', async () => {
    smtp.behaviour.reply = (n, rcpt) =>
      rcpt === 'busy@acme.test' && n <= 2 ? 451 : rcpt === 'gone@acme.test' ? 550 : null;
    const r = await enqueue(db.pool, [mail(201, 'busy@acme.test'), mail(202, 'gone@acme.test')]);
    const [busy, gone] = r.queued.map((q) => q.deliveryId);
    const status = async (id: string) =>
      (
        await db.pool.query(
          'SELECT status, attempts, last_error FROM notification_deliveries WHERE id = $1',
          [id],
        )
      ).rows[0];
    await waitFor(
      '4xx delivered on the third attempt',
      async () => (await status(busy!)).status === 'sent',
      40_000,
    );
    await waitFor('5xx dead', async () => (await status(gone!)).status === 'dead');
    expect(await status(busy!)).toMatchObject({ status: 'sent', attempts: 3 });
    expect(await status(gone!)).toMatchObject({ status: 'dead', attempts: 1, last_error: 'SMTP 550' });
    const events = async (id: string) =>
      (
        await db.pool.query(
          `SELECT event, detail FROM notification_delivery_log WHERE delivery_id = $1 ORDER BY id`,
          [id],
        )
      ).rows;
    expect((await events(busy!)).map((e) => e.event)).toEqual([
      'queued',
      'failed',
      'retried',
      'failed',
      'retried',
      'sent',
    ]);
    expect(await events(gone!)).toEqual([
      { event: 'queued', detail: null },
      { event: 'dead', detail: 'SMTP 550' },
    ]);
    smtp.behaviour.reply = () => null;
  });

  it('refuses header injection and bad addresses with field errors, and queues nothing of the call', async () => {
    const before = (await statuses(db.pool)).length;
    const err = await enqueue(db.pool, [
      mail(301, 'ok@acme.test'),
      mail(302, 'ops@acme.test', { subject: 'Drain\r\nBcc: everyone@example.com' }),
      mail(303, 'ops@acme.test\r\nBcc: everyone@example.com'),
      mail(304, 'not-an-address'),
      { ...mail(305, 'x'), recipient: { userId: 'nobody' } },
    ]).catch((e: unknown) => e);
    expect(isCloudError(err, CloudErrorCode.NotificationInvalid)).toBe(true);
    const fields = (err as { fields: Record<string, string> }).fields;
    expect(Object.keys(fields).sort()).toEqual([
      'items.1.subject',
      'items.2.recipient.address',
      'items.3.recipient.address',
    ]);
    expect(fields['items.1.subject']).toMatch(/line break/);
    expect(fields['items.2.recipient.address']).toMatch(/header injection/);
    expect(fields['items.3.recipient.address']).toMatch(/not an e-mail address/);
    // The unknown user is found only after the syntax checks pass; it is refused the same way.
    const err2 = await enqueue(db.pool, [{ ...mail(305, 'x'), recipient: { userId: 'nobody' } }]).catch(
      (e: unknown) => e,
    );
    expect((err2 as { fields: Record<string, string> }).fields).toEqual({
      'items.0.recipient': 'no user nobody in this tenant',
    });
    expect((await statuses(db.pool)).length).toBe(before);
  });

  it('loses nothing when the database drops the worker connections mid-delivery', async () => {
    // A second worker on a pool whose connections the test can find and kill.
    await worker.stop();
    const app = `notify_drop_${process.pid}`;
    const pool = await openPool({
      url: `${POSTGRES_URL}?application_name=${app}`,
      schema: db.schema,
      max: 4,
    });
    const w2 = new NotificationWorker(
      pool,
      fastSettings(db.schema, {
        email: { url: smtp.url, from: FROM, requireTls: true, ca: testCertificate().cert },
        throttlePerHour: 1000,
      }),
      log,
    );
    await w2.start();
    try {
      smtp.behaviour.holdMs = 150;
      const seen = smtp.arrivals.length;
      const r = await enqueue(
        db.pool,
        Array.from({ length: 20 }, (_, i) => mail(400 + i, 'drop@acme.test')),
      );
      let kills = 0;
      const killer = setInterval(() => {
        db.pool
          .query(
            'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
            [app],
          )
          .then((q) => {
            kills += q.rows[0].n;
          })
          .catch(() => {});
      }, 400);
      await new Promise((res) => setTimeout(res, 4000));
      clearInterval(killer);
      await waitFor(
        'all 20 sent',
        async () => {
          const { rows } = await db.pool.query(
            `SELECT count(*)::int AS n FROM notification_deliveries WHERE alert_id BETWEEN 400 AND 419 AND status = 'sent'`,
          );
          return rows[0].n === 20;
        },
        50_000,
      ).catch(async (err: Error) => {
        const { rows } = await db.pool.query(
          `SELECT status, attempts, count(*)::int FROM notification_deliveries WHERE alert_id BETWEEN 400 AND 419 GROUP BY 1, 2`,
        );
        throw new Error(`${err.message}: ${JSON.stringify(rows)}`);
      });
      expect(kills).toBeGreaterThan(0);
      const ids = new Set(smtp.arrivals.slice(seen).map((a) => a.messageId));
      expect(ids).toEqual(new Set(r.queued.map((q) => `<${q.idempotencyKey}@fleet.test>`)));
    } finally {
      smtp.behaviour.holdMs = 0;
      await w2.stop();
      await pool.end();
    }
  });
});

describe('e-mail worker SIGKILLed mid-send', () => {
  it('delivers every notification after a restart, one Message-ID each', async () => {
    await requireServices({ postgres: true });
    const db = await openTestPool('t_notify_kill');
    const smtp = await startSmtpServer();
    try {
      await migrate(db.pool, log);
      await seedNotifyTenant(db.pool, 'acme', []);
      const r = await enqueue(
        db.pool,
        Array.from({ length: 5 }, (_, i) => mail(500 + i, `kill${i}@acme.test`)),
      );
      // The server keeps every message it gets, and sits on its answer to the first one.
      smtp.behaviour.holdMs = 60_000;
      const args = [POSTGRES_URL, db.schema, smtp.url, testCertificate().caFile];
      const script = `${import.meta.dirname}/support/notify-worker-child.ts`;
      const first = await startLineChild('notify worker', script, args);
      await waitFor('a message in flight', () => smtp.arrivals.length >= 1);
      first.child.kill('SIGKILL');
      await new Promise((res) => first.child.once('exit', res));
      const inFlight = (await statuses(db.pool)).filter((s) => s.status === 'sending').length;
      expect(inFlight).toBeGreaterThan(0);
      smtp.behaviour.holdMs = 0;
      const second = await startLineChild('notify worker', script, args);
      try {
        await waitFor(
          'all 5 sent',
          async () => (await statuses(db.pool)).every((s) => s.status === 'sent'),
          45_000,
        );
      } finally {
        second.child.kill('SIGTERM');
      }
      const expected = new Set(r.queued.map((q) => `<${q.idempotencyKey}@fleet.test>`));
      expect(new Set(smtp.arrivals.map((a) => a.messageId))).toEqual(expected);
      // The message whose answer never reached the killed worker came again, with the same id.
      expect(smtp.arrivals.length).toBeGreaterThanOrEqual(expected.size);
    } finally {
      await smtp.close();
      await db.drop();
    }
  });
});
