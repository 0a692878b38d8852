/**
 * Issue 16 must-show 7: from a fuel drain detected on the vehicle to the e-mail accepted by the
 * SMTP server, p50/p95/max over 100 drains, with the agent's DEFAULT sync settings, every part real:
 *
 *   agent (per vehicle)  AgentDb (SQLite, a temp dir) + BrokerLink with brokerLinkOptions() of a
 *                        config that sets nothing but ids and URLs: the event lane looks at its
 *                        outbox every 2 s, sends, waits for the cloud's ack after COMMIT
 *   broker               the local Mosquitto (127.0.0.1:1883), a base topic of this run
 *   cloud                EventIngest into PostgreSQL (database `test`, a schema of its own, dropped
 *                        at the end); a theft rule made through the API (alertRules.create: fuel
 *                        drain, critical -> in_app + email, to a fleet manager), ruleDelivery()
 *                        queueing in the ingest's transaction, NotificationWorker (pg-boss) with the
 *                        production defaults (relay 250 ms, poll 1 s, batches of 20) except the
 *                        per-recipient throttle (10 an hour would hold 90 of the 100 for a digest)
 *   SMTP                smtp-server in this process (STARTTLS + AUTH, every message parsed)
 *
 * "Detection" is EventOutbox.record() returning (the detectors' call); "accepted" is the server
 * accepting DATA. Each e-mail's alert link names its alert, the alert its event (episode
 * `event:<id>`), the event its detection time. 100 drains, one every 200-500 ms (random) round
 * robin over 5 vehicles. Where the time goes comes from the rows' own timestamps (alert stored,
 * pg-boss job created and started, the policy transaction's start) and sits next to the limits
 * measured in the same run: MQTT QoS 1 round trip on the same broker, a bare nodemailer send to
 * the same server, and the configured intervals (agent event flush, relay).
 *
 * Part 2 of must-show 7 (worker deliveries/s next to a bare nodemailer client, the ratio) is
 * bench/notifications.ts: it runs after part 1 in a process of its own (BENCH_THROUGHPUT=0 skips).
 *
 *   node --import tsx bench/alert-delivery.ts       (about a minute, bench/notifications.ts included)
 *   BENCH_DRAINS=N  drains (default 100)    BENCH_VEHICLES=N  vehicles (default 5)
 *
 * Run it alone: the machine's 2 cores are shared by the agents, the broker, the cloud and SMTP.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ruleDelivery } from '../cloud/src/alerts/rules/delivery.ts';
import { setAlertDelivery } from '../cloud/src/alerts/rules/rule-alerts.ts';
import { migrate } from '../cloud/src/db/migrate.ts';
import { openPool } from '../cloud/src/db/pool.ts';
import { EventIngest } from '../cloud/src/ingest/event-ingest.ts';
import {
  DEFAULT_NOTIFICATION_SETTINGS,
  DELIVERY_QUEUE,
  NotificationWorker,
} from '../cloud/src/notifications/worker.ts';
import { seedNotifyTenant } from '../cloud/test/support/notify-seed.ts';
import {
  bareSmtpClient,
  startSmtpServer,
  testCertificate,
  waitFor,
} from '../cloud/test/support/notify-servers.ts';
import { mqtt } from '../cloud/test/support/publisher.ts';
import { MQTT_URL, POSTGRES_URL, uniqueId } from '../cloud/test/support/services.ts';
import { callerAs, sessionOf } from '../cloud/test/support/sessions.ts';
import { parseAgentConfig } from '../edge-agent/src/config.ts';
import { AgentDb } from '../edge-agent/src/store/agent-db.ts';
import { BrokerLink, brokerLinkOptions } from '../edge-agent/src/sync/broker-link.ts';
import { vehicleTopic } from '../shared/src/index.ts';
import { createLogger } from '../shared/src/log.ts';
import { percentile } from './support/percentile.ts';

const DRAINS = Number(process.env.BENCH_DRAINS ?? 100);
const VEHICLES = Number(process.env.BENCH_VEHICLES ?? 5);
const TENANT = 'bench';
const PUBLIC_URL = 'https://fleet.test';
const log = createLogger('bench-alert-delivery').child({}, { level: 'error' });
const id = randomBytes(4).toString('hex');
const base = `bench-alert-${id}`;

const ms = (n: number) => (n < 10 ? `${n.toFixed(1)} ms` : `${Math.round(n).toLocaleString('en-US')} ms`);
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));
const stats = (xs: number[]) =>
  `p50 ${ms(percentile(xs, 50))}  p95 ${ms(percentile(xs, 95))}  max ${ms(Math.max(...xs))}`;

/** MQTT QoS 1 publish -> the same message back from the broker to a subscriber (one client). */
async function mqttRoundTrips(n: number): Promise<number[]> {
  const c = await mqtt.connectAsync(MQTT_URL, { clientId: `${base}-rtt`, clean: true, protocolVersion: 5 });
  const topic = `${base}/rtt`;
  await c.subscribeAsync(topic, { qos: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const back = new Promise<void>((resolve) => c.once('message', () => resolve()));
      const t = performance.now();
      await c.publishAsync(topic, `rtt ${i}`, { qos: 1 });
      await back;
      times.push(performance.now() - t);
    }
  } finally {
    await c.endAsync();
  }
  return times;
}

/** One message at a time through a warm bare nodemailer connection: the SMTP floor. */
async function bareSends(port: number, n: number): Promise<number[]> {
  const bare = bareSmtpClient(port, 1);
  const send = (i: number) =>
    bare.sendMail({
      from: 'Fleet <alerts@fleet.test>',
      to: 'bare@bench.test',
      subject: `Fuel drain: 23.4 L lost — bare ${i}`,
      text: `Fuel drain: 23.4 L lost\nVehicle: van-1\nLitres: 23.4\nOpen: ${PUBLIC_URL}/alerts?bare=${i}`,
      // Text and HTML, as the worker's e-mails: the server parses the same kind of message.
      html: `<p>Fuel drain: 23.4 L lost</p><p>Vehicle: van-1<br>Litres: 23.4</p><p><a href="${PUBLIC_URL}/alerts?bare=${i}">Open</a></p>`,
      messageId: `<bare-${id}-${i}@fleet.test>`,
    });
  const times: number[] = [];
  try {
    // Connect, STARTTLS, AUTH (100+ ms here): the worker's pool pays it once per connection, for
    // its first 4 e-mails; after that its connections are warm too.
    await send(-1);
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await send(i);
      times.push(performance.now() - t);
    }
  } finally {
    bare.close();
  }
  return times;
}

async function main() {
  const smtp = await startSmtpServer();
  // The cloud's default pool size (DATABASE_POOL_SIZE 10), shared by the ingest and the worker.
  const schema = uniqueId('b_alert_delivery');
  const db = { schema, pool: await openPool({ url: POSTGRES_URL, schema, max: 10 }) };
  const queueSchema = `${schema}_queue`;
  const dirs: string[] = [];
  const agents: { vehicleId: string; clientId: string; store: AgentDb; link: BrokerLink }[] = [];
  let ingest: EventIngest | undefined;
  let worker: NotificationWorker | undefined;
  const ingestClientId = `${base}-ingest`;
  const results: [string, string, string][] = [];
  try {
    await migrate(db.pool, log);
    await seedNotifyTenant(db.pool, TENANT, [
      { id: 'u-mia', email: 'mia@bench.test', role: 'fleet_manager' },
      { id: 'u-ada', email: 'ada@bench.test', role: 'admin' },
    ]);
    const vehicleIds = Array.from({ length: VEHICLES }, (_, i) => `van-${i + 1}`);
    for (const v of vehicleIds)
      await db.pool.query(
        `INSERT INTO vehicles (id, tenant_id, online, tank_litres) VALUES ($1, $2, true, 80)`,
        [v, TENANT],
      );
    await callerAs(db.pool, sessionOf('admin', TENANT)).alertRules.create({
      name: 'Theft',
      source: 'fuel_drain',
      severity: 'critical',
      condition: { minLitres: 5, minConfidence: 0.6 },
      recipients: { userIds: ['u-mia'] },
      channels: { critical: ['in_app', 'email'] },
    });
    setAlertDelivery(ruleDelivery(PUBLIC_URL, log));

    // The limits, in this run, before anything else is busy.
    const rtt = await mqttRoundTrips(50);
    const bare = await bareSends(smtp.port, 30);

    // The cloud: ingest and worker.
    ingest = new EventIngest({
      pool: db.pool,
      mqttUrl: MQTT_URL,
      baseTopic: base,
      clientId: ingestClientId,
      autoRegisterVehicles: false,
      sharedGroup: base,
      log,
    });
    await ingest.start();
    worker = new NotificationWorker(
      db.pool,
      {
        ...DEFAULT_NOTIFICATION_SETTINGS,
        queueSchema,
        publicUrl: PUBLIC_URL,
        email: {
          url: smtp.url,
          from: 'Fleet <alerts@fleet.test>',
          requireTls: true,
          ca: testCertificate().cert,
        },
        throttlePerHour: 1000,
      },
      log,
    );
    await worker.start();

    // The vehicles: the agent's store and broker link, its defaults.
    for (const vehicleId of vehicleIds) {
      const dir = mkdtempSync(path.join(tmpdir(), 'bench-alert-agent-'));
      dirs.push(dir);
      const config = parseAgentConfig({
        tenantId: TENANT,
        vehicleId,
        obdPort: 'tcp://127.0.0.1:35000', // never opened: only the store and the link run here
        gpsNmeaPort: 'tcp://127.0.0.1:10110',
        dbPath: path.join(dir, 'agent.db'),
        mqttUrl: MQTT_URL,
        baseTopic: base,
      });
      const store = new AgentDb(config.dbPath, {
        diskBudgetBytes: config.diskBudgetBytes,
        metricBufferLimit: config.metricBufferLimit,
      });
      const clientId = `${base}-${vehicleId}`;
      const link = new BrokerLink(store, { ...brokerLinkOptions(config), clientId }, log);
      link.start();
      agents.push({ vehicleId, clientId, store, link });
    }
    await waitFor('every agent connected', () => agents.every((a) => a.link.connected), 10_000);
    await sleep(2500); // past each lane's first look at its (empty) outbox

    // The drains, as the detectors record them.
    const detectedAt = new Map<string, number>(); // `${vehicle}/${event id}` -> epoch ms
    const t0 = performance.now();
    for (let i = 0; i < DRAINS; i++) {
      const a = agents[i % agents.length]!;
      const end = Date.now();
      const saved = a.store.events.record({
        type: 'fuel_drain',
        start: end - 6 * 60_000,
        end,
        volumeL: 20 + (i % 10),
        lat: 52.52 + i / 1000,
        lon: 13.405,
        driverId: null,
        confidence: 0.93,
        modelVersion: null,
        details: { during: 'ignition_off' },
      });
      detectedAt.set(`${a.vehicleId}/${saved.id}`, Date.now());
      await sleep(200 + Math.random() * 300);
    }
    const spreadS = (performance.now() - t0) / 1000;
    const isAlertMail = (text: string | false | undefined) =>
      typeof text === 'string' && /\/alerts\?alert=\d+/.test(text);
    const mails = () => smtp.arrivals.filter((m) => isAlertMail(m.mail.text));
    await waitFor('an e-mail for every drain', () => mails().length >= DRAINS, 60_000).catch((err: Error) =>
      console.error(err.message),
    );
    await sleep(3000); // a duplicate would be here by now

    // Match: e-mail -> alert (its link) -> event (episode) -> detection time; and the job's times.
    const { rows } = await db.pool.query<{
      alert_id: string;
      vehicle_id: string;
      episode: string;
      stored: string;
      job_created: string | null;
      job_started: string | null;
      attempt: string | null;
    }>(
      `SELECT a.id::text AS alert_id, a.vehicle_id, a.episode,
              extract(epoch FROM a.created_at) * 1000 AS stored,
              extract(epoch FROM j.created_on) * 1000 AS job_created,
              extract(epoch FROM j.started_on) * 1000 AS job_started,
              extract(epoch FROM d.first_attempt_at) * 1000 AS attempt
         FROM alerts a
         JOIN notification_deliveries d ON d.alert_id = a.id AND d.channel = 'email'
         LEFT JOIN ${queueSchema}.job j ON j.name = $1 AND j.data->>'deliveryId' = d.id::text`,
      [DELIVERY_QUEUE],
    );
    const byAlert = new Map(rows.map((r) => [r.alert_id, r]));
    const perAlert = new Map<string, number>();
    const total: number[] = [];
    const toStored: number[] = [];
    const toJob: number[] = [];
    const pickup: number[] = [];
    const toPolicy: number[] = [];
    const toAccepted: number[] = [];
    let unmatched = 0;
    for (const m of mails()) {
      const alertId = /\/alerts\?alert=(\d+)/.exec(m.mail.text as string)![1]!;
      perAlert.set(alertId, (perAlert.get(alertId) ?? 0) + 1);
      if (perAlert.get(alertId)! > 1) continue; // counted as a duplicate below, timed once
      const r = byAlert.get(alertId);
      const eventId = r?.episode.startsWith('event:') ? r.episode.slice('event:'.length) : null;
      const detected = r && eventId ? detectedAt.get(`${r.vehicle_id}/${eventId}`) : undefined;
      if (!r || detected === undefined) {
        unmatched++;
        continue;
      }
      total.push(m.acceptedAt - detected);
      toStored.push(Number(r.stored) - detected);
      if (r.job_created !== null && r.job_started !== null && r.attempt !== null) {
        toJob.push(Number(r.job_created) - Number(r.stored));
        pickup.push(Number(r.job_started) - Number(r.job_created));
        toPolicy.push(Number(r.attempt) - Number(r.job_started));
        toAccepted.push(m.acceptedAt - Number(r.attempt));
      }
    }
    const distinct = perAlert.size;
    const duplicates = [...perAlert.values()].reduce((s, n) => s + n - 1, 0);

    const lane = brokerLinkOptions(
      parseAgentConfig({
        tenantId: TENANT,
        vehicleId: 'x',
        obdPort: 'x',
        gpsNmeaPort: 'x',
        mqttUrl: MQTT_URL,
      }),
    );
    const flushMs = lane.eventFlushIntervalMs ?? 2000; // the event lane's own default when unset
    const relayMs = DEFAULT_NOTIFICATION_SETTINGS.relayMs;
    const rttP50 = percentile(rtt, 50);
    const smtpP50 = percentile(bare, 50);
    // What the parts cost at least, on average: half a flush interval of waiting, the publish
    // (half a round trip), half a relay interval, one SMTP send.
    const floor = flushMs / 2 + rttP50 / 2 + relayMs / 2 + smtpP50;

    results.push([
      `detection -> e-mail accepted (${DRAINS} drains, ${VEHICLES} vehicles, ${spreadS.toFixed(0)} s)`,
      stats(total),
      `floor from the parts ${ms(floor)}; p50 / floor ${(percentile(total, 50) / floor).toFixed(2)}`,
    ]);
    results.push([
      'e-mails accepted / drains (exactly once each)',
      `${distinct} / ${DRAINS}`,
      `duplicates ${duplicates}, unmatched ${unmatched}; ingest stored ${ingest.stats.eventsInserted} events, ${ingest.stats.eventsDuplicate} resent`,
    ]);
    results.push([
      '  detection -> alert stored (agent flush + MQTT + ingest)',
      stats(toStored),
      `limit: event lane every ${ms(flushMs)} (default) -> mean wait ${ms(flushMs / 2)}, + MQTT one way ~${ms(rttP50 / 2)}`,
    ]);
    results.push([
      '  alert stored -> pg-boss job created (outbox relay)',
      stats(toJob),
      `limit: relay every ${ms(relayMs)} -> mean wait ${ms(relayMs / 2)}`,
    ]);
    results.push([
      '  job created -> job started (pg-boss pickup)',
      stats(pickup),
      `the relay wakes the worker (notifyWorker); its poll is ${DEFAULT_NOTIFICATION_SETTINGS.pollSeconds} s`,
    ]);
    results.push([
      '  job started -> policy transaction (the send decided)',
      stats(toPolicy),
      'lock, throttle count, mark sending',
    ]);
    results.push([
      '  policy transaction -> DATA accepted (nodemailer + SMTP)',
      stats(toAccepted),
      `limit: bare nodemailer send p50 ${ms(smtpP50)}; ratio ${(percentile(toAccepted, 50) / smtpP50).toFixed(1)}`,
    ]);
    results.push([
      'limit: MQTT QoS 1 round trip (publish -> receive, same broker)',
      `p50 ${percentile(rtt, 50).toFixed(1)} ms  p95 ${percentile(rtt, 95).toFixed(1)} ms`,
      `${rtt.length} messages`,
    ]);
    results.push([
      'limit: bare nodemailer send, warm connection (same server)',
      `p50 ${percentile(bare, 50).toFixed(1)} ms  p95 ${percentile(bare, 95).toFixed(1)} ms`,
      `${bare.length} messages, STARTTLS + AUTH once, server parses each`,
    ]);

    const w0 = Math.max(...results.map((r) => r[0].length));
    const w1 = Math.max(...results.map((r) => r[1].length));
    console.log(
      `\nalert delivery bench (PostgreSQL ${db.schema}, Mosquitto ${MQTT_URL}, smtp-server on loopback; agent defaults: events every ${ms(flushMs)}, ack from ${lane.ackFrom ?? 'cloud'})\n`,
    );
    for (const [a, b, c] of results) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
    if (distinct !== DRAINS || duplicates > 0 || unmatched > 0)
      console.log(`\nNOT exactly once: ${distinct} of ${DRAINS} arrived, ${duplicates} duplicates`);
  } finally {
    setAlertDelivery(null);
    for (const a of agents) {
      await a.link.stop();
      a.store.close();
    }
    await ingest?.stop();
    await worker?.stop();
    // The agents' and the ingest's persistent sessions, and the agents' retained status: gone
    // from the broker.
    for (const clientId of [...agents.map((a) => a.clientId), `${ingestClientId}-events`]) {
      const c = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true }).catch(() => null);
      await c?.endAsync();
    }
    const cleaner = await mqtt.connectAsync(MQTT_URL, { clientId: `${base}-clean`, clean: true });
    for (const a of agents)
      await cleaner.publishAsync(vehicleTopic('status', TENANT, a.vehicleId, base), '', {
        qos: 1,
        retain: true,
      });
    await cleaner.endAsync();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await smtp.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS ${queueSchema} CASCADE`);
    await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.pool.end();
  }

  if (process.env.BENCH_THROUGHPUT !== '0') {
    console.log('\nworker deliveries/s next to bare nodemailer (bench/notifications.ts):\n');
    spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'notifications.ts')], {
      stdio: 'inherit',
      cwd: path.join(import.meta.dirname, '..'),
    });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
