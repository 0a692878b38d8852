/**
 * Throttle, quiet hours and digests against the real SMTP server and PostgreSQL: 50 alerts to one
 * recipient in an hour give the throttle's 10 and one digest listing the other 40; quiet hours
 * (the recipient's time zone) hold what is not critical for one digest, critical goes through.
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { enqueueNotifications, type NotificationItem } from '../src/notifications/index.ts';
import { NotificationWorker } from '../src/notifications/worker.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { startSmtpServer, testCertificate, waitFor } from './support/notify-servers.ts';
import { fastSettings } from './support/notify-settings.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('notify-policy-test').child({}, { level: 'fatal' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let worker: NotificationWorker;
const WINDOW_MS = 6000; // "an hour", shortened so the digest is due within the test

const item = (alertId: number, over: Partial<NotificationItem> = {}): NotificationItem => ({
  alertId,
  tenantId: 'acme',
  recipient: { userId: 'u-eve' },
  channel: 'email',
  severity: 'warning',
  subject: `Idling on van-1 (alert ${alertId})`,
  text: 'van-1 idled 25 minutes.',
  link: `https://fleet.test/alerts?alert=${alertId}`,
  ...over,
});
const enqueue = (items: NotificationItem[]) =>
  inTenant(db.pool, 'acme', (c) => enqueueNotifications(c, items));
const to = (addr: string) => smtp.arrivals.filter((a) => a.rcpt.includes(addr));

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_notify_policy');
  await migrate(db.pool, log);
  await seedNotifyTenant(db.pool, 'acme', [
    { id: 'u-eve', email: 'eve@acme.test' },
    { id: 'u-qui', email: 'quiet@acme.test' },
  ]);
  smtp = await startSmtpServer();
  worker = new NotificationWorker(
    db.pool,
    fastSettings(db.schema, {
      email: {
        url: smtp.url,
        from: 'Fleet <alerts@fleet.test>',
        requireTls: true,
        ca: testCertificate().cert,
      },
      throttleWindowMs: WINDOW_MS,
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

describe('throttle', () => {
  it('50 alerts to one recipient: the throttle (10), then one digest of the other 40', async () => {
    const r = await enqueue(Array.from({ length: 50 }, (_, i) => item(1000 + i)));
    expect(r.queued).toHaveLength(50);
    await waitFor(
      'the digest',
      () => to('eve@acme.test').some((a) => a.mail.subject?.includes('held back')),
      30_000,
    );
    await new Promise((res) => setTimeout(res, 1500)); // anything more would arrive now
    const mails = to('eve@acme.test');
    const digests = mails.filter((a) => a.mail.subject?.includes('held back'));
    expect(mails.length).toBe(11);
    expect(digests).toHaveLength(1);
    expect(digests[0]!.mail.subject).toBe('40 alerts held back over the hourly limit');
    expect(digests[0]!.mail.text?.match(/^- \[warning\] Idling on van-1/gm)).toHaveLength(40);
    const { rows } = await db.pool.query(
      `SELECT status, count(*)::int AS n FROM notification_deliveries WHERE recipient = 'user:u-eve' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { status: 'digested', n: 40 },
      { status: 'sent', n: 11 },
    ]);
  });
});

describe('quiet hours', () => {
  it('holds non-critical alerts in the recipient time zone, lets critical through, then sends one digest', async () => {
    // Quiet from an hour ago to an hour from now, in Kolkata time (UTC+05:30).
    const hhmm = (ms: number) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Asia/Kolkata',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(ms));
    await db.pool.query(
      `INSERT INTO notification_settings (tenant_id, user_id, quiet_start, quiet_end, time_zone)
       VALUES ('acme', 'u-qui', $1, $2, 'Asia/Kolkata')`,
      [hhmm(Date.now() - 3_600_000), hhmm(Date.now() + 3_600_000)],
    );
    const rcpt = { recipient: { userId: 'u-qui' } };
    const r = await enqueue([
      item(2001, { ...rcpt, severity: 'info' }),
      item(2002, { ...rcpt, severity: 'major' }),
      item(2003, { ...rcpt, severity: 'critical', subject: 'Fuel theft on van-2' }),
    ]);
    await waitFor('critical through', () => to('quiet@acme.test').length >= 1);
    await new Promise((res) => setTimeout(res, 1500));
    expect(to('quiet@acme.test').map((a) => a.mail.subject)).toEqual(['Fuel theft on van-2']);
    const { rows: digest } = await db.pool.query(
      `SELECT id, reason, due_at FROM notification_digests WHERE recipient = 'user:u-qui' AND status = 'open'`,
    );
    expect(digest).toHaveLength(1);
    expect(digest[0].reason).toBe('quiet_hours');
    // Due at the end of the quiet hours, about an hour from now.
    expect(Math.abs(digest[0].due_at.getTime() - (Date.now() + 3_600_000))).toBeLessThan(120_000);
    // The quiet hours end (the clock moved on): the one digest goes out.
    await db.pool.query('UPDATE notification_digests SET due_at = now() WHERE id = $1', [digest[0].id]);
    await waitFor('the digest', () => to('quiet@acme.test').length >= 2);
    const d = to('quiet@acme.test')[1]!;
    expect(d.mail.subject).toBe('2 alerts held back during your quiet hours');
    expect(d.mail.text).toContain('[info] Idling on van-1 (alert 2001)');
    expect(d.mail.text).toContain('[major] Idling on van-1 (alert 2002)');
    expect(d.messageId).toBe(`<digest-${digest[0].id}@fleet.test>`);
    const { rows: log2 } = await db.pool.query(
      `SELECT event FROM notification_delivery_log WHERE delivery_id = $1 ORDER BY id`,
      [r.queued[0]!.deliveryId],
    );
    expect(log2.map((l) => l.event)).toEqual(['queued', 'held', 'digested']);
  });
});
