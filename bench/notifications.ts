/**
 * E-mail deliveries per second through the notification worker (outbox → pg-boss → policy →
 * nodemailer → log), next to a bare nodemailer client sending the same messages to the same
 * local SMTP server in the same run: the ratio is what the durability costs.
 *
 *   server  smtp-server in this process on loopback, STARTTLS + AUTH (as the tests), every
 *           message parsed (mailparser) so both sides pay the same receiving cost
 *   worker  NotificationWorker on PostgreSQL (database `test`, a schema of its own, dropped at
 *           the end), one pooled SMTP transport (4 connections), batches of 50
 *   bare    nodemailer's pooled transport (4 connections), the same N messages, all at once
 *
 *   node --import tsx bench/notifications.ts      BENCH_N=1000 messages per side (default 1000)
 *
 * One process; run it alone (the machine's 2 cores are the limit it measures).
 */

import { migrate } from '../cloud/src/db/migrate.ts';
import { inTenant } from '../cloud/src/db/tenant.ts';
import { enqueueNotifications } from '../cloud/src/notifications/index.ts';
import { NotificationWorker } from '../cloud/src/notifications/worker.ts';
import { seedNotifyTenant } from '../cloud/test/support/notify-seed.ts';
import {
  bareSmtpClient,
  startSmtpServer,
  testCertificate,
  waitFor,
} from '../cloud/test/support/notify-servers.ts';
import { fastSettings } from '../cloud/test/support/notify-settings.ts';
import { openTestPool } from '../cloud/test/support/services.ts';
import { createLogger } from '../shared/src/log.ts';

const N = Number(process.env.BENCH_N ?? 1000);
const log = createLogger('bench-notifications').child({}, { level: 'error' });
const text = 'van-1 lost 42.5 l at Hauptstrasse 5, Berlin. '.repeat(4);

const smtp = await startSmtpServer();
const db = await openTestPool('b_notify');
try {
  await migrate(db.pool, log);
  await seedNotifyTenant(db.pool, 'bench', []);

  // Bare nodemailer: the ceiling of this client against this server.
  const bare = bareSmtpClient(smtp.port, 4);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      bare.sendMail({
        from: 'Fleet <alerts@fleet.test>',
        to: `bare${i % 50}@bench.test`,
        subject: `Fuel drain (alert ${i})`,
        text,
        html: `<p>${text}</p>`,
        messageId: `<bare-${i}@fleet.test>`,
      }),
    ),
  );
  const bareS = (performance.now() - t0) / 1000;
  bare.close();

  const worker = new NotificationWorker(
    db.pool,
    fastSettings(db.schema, {
      email: {
        url: smtp.url,
        from: 'Fleet <alerts@fleet.test>',
        requireTls: true,
        ca: testCertificate().cert,
      },
      throttlePerHour: 1_000_000,
      batchSize: 50,
      relayMs: 50,
    }),
    log,
  );
  await worker.start();
  const before = smtp.arrivals.length;
  const t1 = performance.now();
  // 50 recipients, as an alert storm to a team would be; one transaction per 100 (the rules
  // engine enqueues in the transaction of the alerts it opens).
  for (let i = 0; i < N; i += 100)
    await inTenant(db.pool, 'bench', (c) =>
      enqueueNotifications(
        c,
        Array.from({ length: Math.min(100, N - i) }, (_, j) => ({
          alertId: 1 + i + j,
          tenantId: 'bench',
          recipient: { address: `w${(i + j) % 50}@bench.test` },
          channel: 'email' as const,
          severity: 'critical' as const,
          subject: `Fuel drain (alert ${i + j})`,
          text,
          link: `https://fleet.test/alerts?alert=${i + j}`,
        })),
      ),
    );
  const enqueuedS = (performance.now() - t1) / 1000;
  await waitFor('every worker e-mail', () => smtp.arrivals.length - before >= N, 600_000);
  const workerS = (performance.now() - t1) / 1000;
  await waitFor('every delivery logged sent', async () => {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM notification_deliveries WHERE status = 'sent'`,
    );
    return rows[0].n === N;
  });
  const loggedS = (performance.now() - t1) / 1000;
  await worker.stop();

  const rate = (s: number) => Math.round(N / s);
  console.log(`N=${N} e-mails each, smtp-server on loopback (STARTTLS + AUTH), 4 SMTP connections per side`);
  console.log(`bare nodemailer          ${rate(bareS)}/s (${bareS.toFixed(2)} s)`);
  console.log(
    `worker, accepted by SMTP ${rate(workerS)}/s (${workerS.toFixed(2)} s; enqueue took ${enqueuedS.toFixed(2)} s)`,
  );
  console.log(`worker, logged sent      ${rate(loggedS)}/s (${loggedS.toFixed(2)} s)`);
  console.log(`ratio worker/bare        ${(bareS / workerS).toFixed(2)}`);
} finally {
  await smtp.close();
  // pg-boss's schema too (fastSettings puts it beside ours), not only ours.
  await db.pool.query(`DROP SCHEMA IF EXISTS ${db.schema}_queue CASCADE`);
  await db.drop();
}
process.exit(0);
