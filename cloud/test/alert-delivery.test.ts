/**
 * Issue 16 must-show 1 at the cloud's edge: an admin writes a theft rule with e-mail and webhook
 * recipients (tRPC, real PostgreSQL); a drain stored as the event ingest stores it opens the
 * alert in the inbox and queues its deliveries in the same transaction; the real worker (pg-boss)
 * delivers exactly one e-mail to a real SMTP server (smtp-server, STARTTLS + AUTH; parsed with
 * mailparser) naming the vehicle, the place, the litres and a working link, and exactly one
 * webhook whose signature the receiver verifies. Repeats and escalation go the same way.
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleDelivery } from '../src/alerts/rules/delivery.ts';
import { setAlertDelivery } from '../src/alerts/rules/rule-alerts.ts';
import { sweepRules } from '../src/alerts/rules/sweep.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { AddressGuard } from '../src/notifications/channels/address-guard.ts';
import { createWebhookEndpoint } from '../src/notifications/endpoints.ts';
import { NotificationWorker } from '../src/notifications/worker.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { verifyWebhook } from '../src/webhooks/signature.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { startHttpReceiver, startSmtpServer, testCertificate, waitFor } from './support/notify-servers.ts';
import { fastSettings } from './support/notify-settings.ts';
import { seedEvents, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('alert-delivery-test').child({}, { level: 'fatal' });
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 9) }]);
let db: Awaited<ReturnType<typeof openTestPool>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let rx: Awaited<ReturnType<typeof startHttpReceiver>>;
let worker: NotificationWorker;
let secret: string;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_alert_delivery');
  await migrate(db.pool, log);
  await seedNotifyTenant(db.pool, 'acme', [
    { id: 'u-mia', email: 'mia@acme.test', role: 'fleet_manager' },
    { id: 'u-ada', email: 'ada@acme.test', role: 'admin' },
  ]);
  await db.pool.query(
    `INSERT INTO vehicles (id, tenant_id, online, tank_litres) VALUES ('van-1', 'acme', true, 80)`,
  );
  smtp = await startSmtpServer();
  rx = await startHttpReceiver();
  const hook = await inTenant(db.pool, 'acme', (c) =>
    createWebhookEndpoint(c, new AddressGuard(['127.0.0.1']), box, {
      tenantId: 'acme',
      name: 'ops',
      url: `${rx.url}/theft`,
      format: 'json',
      ratePerMinute: 600,
      actor: 'user:u-ada',
    }),
  );
  secret = hook.secret;
  worker = new NotificationWorker(
    db.pool,
    fastSettings(db.schema, {
      secretBox: box,
      email: {
        url: smtp.url,
        from: 'Fleet <alerts@fleet.test>',
        requireTls: true,
        ca: testCertificate().cert,
      },
    }),
    log,
  );
  await worker.start();
  setAlertDelivery(ruleDelivery('https://fleet.test', log));
});

afterAll(async () => {
  setAlertDelivery(null);
  await worker?.stop();
  await smtp?.close();
  await rx?.close();
  await db?.drop();
});

describe('a theft rule with e-mail and webhook recipients', () => {
  it('one drain: the inbox alert, exactly one e-mail with vehicle, place, litres and link, exactly one signed webhook', async () => {
    const admin = callerAs(db.pool, sessionOf('admin', 'acme'));
    await admin.alertRules.create({
      name: 'Theft at night',
      source: 'fuel_drain',
      severity: 'critical',
      condition: { minLitres: 5, minConfidence: 0.6 },
      recipients: { roles: ['fleet_manager'] },
      channels: { critical: ['in_app', 'email', 'webhook'] },
      escalation: [{ afterMinutes: 15, recipients: { userIds: ['u-ada'] } }],
    });
    const at = Date.now() - 10 * 60_000;
    const drain = vehicleEvent({
      id: 501,
      type: 'fuel_drain',
      start: at,
      end: at + 20 * 60_000,
      volumeL: 23.4,
      lat: 52.52,
      lon: 13.405,
      confidence: 0.93,
      details: { during: 'ignition_off' },
    });
    await seedEvents(db.pool, 'acme', 'van-1', [drain]);
    // Resent by the agent (lost ack): stores nothing, alerts nothing, sends nothing.
    expect(await seedEvents(db.pool, 'acme', 'van-1', [drain])).toBe(0);

    const inbox = await callerAs(db.pool, sessionOf('fleet_manager', 'acme')).alerts.list({
      statuses: ['open'],
    });
    expect(inbox.items.map((a) => [a.type, a.title, a.severity])).toEqual([
      ['fuel_drain', 'Fuel drain: 23.4 L lost', 'critical'],
    ]);
    const alertId = inbox.items[0]!.id;

    await waitFor('the e-mail and the webhook', () => smtp.arrivals.length >= 1 && rx.received.length >= 1);
    await new Promise((r) => setTimeout(r, 2000)); // a duplicate would arrive by now
    expect(smtp.arrivals).toHaveLength(1);
    const mail = smtp.arrivals[0]!;
    expect(mail.rcpt).toEqual(['mia@acme.test']);
    expect(mail.mail.subject).toBe('Fuel drain: 23.4 L lost — van-1');
    expect(mail.mail.text).toContain('Vehicle: van-1');
    expect(mail.mail.text).toContain('Place: 52.52000, 13.40500');
    expect(mail.mail.text).toContain('Litres: 23.4');
    const link = `https://fleet.test/alerts?alert=${alertId}`;
    expect(mail.mail.text).toContain(link);
    // The link is the dashboard's alerts page with this alert: the web app's route exists.
    expect(new URL(link).pathname).toBe('/alerts');

    expect(rx.received).toHaveLength(1);
    const hook = rx.received[0]!;
    expect(verifyWebhook(secret, hook.headers['fleet-signature'] as string, Buffer.from(hook.body)).ok).toBe(
      true,
    );
    expect(JSON.parse(hook.body)).toMatchObject({ data: { vehicleId: 'van-1', litres: 23.4, alertId } });

    // Unacknowledged past 15 minutes: escalated once to the admin, by e-mail.
    const opened = (await db.pool.query('SELECT created_at FROM alerts WHERE id = $1', [alertId])).rows[0]
      .created_at;
    await sweepRules(db.pool, opened.getTime() + 16 * 60_000, log, ruleDelivery('https://fleet.test', log));
    await sweepRules(db.pool, opened.getTime() + 60 * 60_000, log, ruleDelivery('https://fleet.test', log));
    await waitFor('the escalation e-mail', () => smtp.arrivals.length >= 2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.arrivals.map((a) => a.rcpt[0])).toEqual(['mia@acme.test', 'ada@acme.test']);
    expect(smtp.arrivals[1]!.mail.subject).toBe('[Escalated] Fuel drain: 23.4 L lost — van-1');

    // The alert's delivery log says what went where.
    const log2 = await callerAs(db.pool, sessionOf('admin', 'acme')).notifications.forAlert({ alertId });
    expect(log2.length).toBeGreaterThanOrEqual(3);
  });
});
