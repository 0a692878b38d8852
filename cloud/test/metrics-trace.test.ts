/**
 * One trace id from the vehicle to the notification, in the logs of a real cloud process:
 *
 *   agent-like MQTT 5 publisher ── events batch, user property traceparent ──> Mosquitto
 *     ──> cloud (main.ts): event ingest "events stored" ──> rule alert "alert queued for delivery"
 *     ──> notification worker "delivery sent" ──> webhook receiver (data.trace)
 *
 * Real PostgreSQL and Mosquitto; the cloud runs in a process of its own and its JSON log lines
 * are read back. A batch without the property is logged without a trace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { VEHICLE_EVENT_BATCH_VERSION, type VehicleEventBatch, vehicleTopic } from '@fleet/shared';
import { createLogger, newTraceparent, TRACEPARENT, traceIdOf } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { AddressGuard } from '../src/notifications/channels/address-guard.ts';
import { createWebhookEndpoint } from '../src/notifications/endpoints.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { startHttpReceiver, waitFor } from './support/notify-servers.ts';
import { vehicleEvent } from './support/seed.ts';
import { MQTT_URL, openTestPool, POSTGRES_URL, requireServices, uniqueId } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('trace-test').child({}, { level: 'fatal' });
const KEY = Buffer.alloc(32, 9);
const base = uniqueId('trace');
let db: Awaited<ReturnType<typeof openTestPool>>;
let rx: Awaited<ReturnType<typeof startHttpReceiver>>;
let cloud: ChildProcess | undefined;
let publisher: mqtt.MqttClient | undefined;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  await requireServices({ postgres: true, mqtt: true });
  db = await openTestPool('t_trace');
  await migrate(db.pool, log);
  await seedNotifyTenant(db.pool, 'acme', [{ id: 'u-ada', email: 'ada@acme.test', role: 'admin' }]);
  await db.pool.query(
    `INSERT INTO vehicles (id, tenant_id, online, tank_litres) VALUES ('van-1', 'acme', true, 80)`,
  );
  rx = await startHttpReceiver();
  await inTenant(db.pool, 'acme', (c) =>
    createWebhookEndpoint(c, new AddressGuard(['127.0.0.1']), new SecretBox([{ id: 'k1', key: KEY }]), {
      tenantId: 'acme',
      name: 'ops',
      url: `${rx.url}/alerts`,
      format: 'json',
      ratePerMinute: 600,
      actor: 'user:u-ada',
    }),
  );
  await callerAs(db.pool, sessionOf('admin', 'acme')).alertRules.create({
    name: 'Theft',
    source: 'fuel_drain',
    severity: 'critical',
    condition: { minLitres: 5, minConfidence: 0.6 },
    recipients: { roles: ['admin'] },
    channels: { critical: ['in_app', 'webhook'] },
  });

  cloud = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../src/main.ts')], {
    env: {
      ...process.env,
      LOG_LEVEL: 'debug',
      DATABASE_URL: POSTGRES_URL,
      DATABASE_SCHEMA: db.schema,
      DATABASE_POOL_SIZE: '3',
      MQTT_URL,
      FLEET_BASE_TOPIC: base,
      FLEET_INGEST_SHARED_GROUP: base,
      FLEET_INGEST_CONNECTIONS: '1',
      FLEET_API_PORT: '0',
      FLEET_METRICS_PORT: '0',
      FLEET_ALERT_SWEEP_MS: '0',
      FLEET_SECRET_KEYS: `k1:${KEY.toString('base64')}`,
      FLEET_NOTIFY_ALLOW_ADDRESSES: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let ready = false;
  let buffered = '';
  cloud.stdout!.on('data', (d: Buffer) => {
    if (d.toString().includes('fleet cloud ready')) ready = true;
  });
  cloud.stderr!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let end = buffered.indexOf('\n');
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      end = buffered.indexOf('\n');
    }
  });
  await waitFor('the cloud to start', () => ready || cloud!.exitCode !== null, 60_000);
  if (!ready) throw new Error(`cloud exited ${cloud.exitCode}: ${JSON.stringify(lines.slice(-5))}`);
  publisher = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5, clientId: uniqueId('van') });
}, 90_000);

afterAll(async () => {
  await publisher?.endAsync();
  if (cloud && cloud.exitCode === null) {
    const exited = new Promise((r) => cloud!.once('exit', r));
    cloud.kill('SIGTERM');
    await exited;
  }
  await rx?.close();
  await db?.pool.query(`DROP SCHEMA IF EXISTS ${db.schema}_queue CASCADE`);
  await db?.drop();
});

const publish = (batch: VehicleEventBatch, traceparent?: string) =>
  publisher!.publishAsync(vehicleTopic('events', 'acme', 'van-1', base), JSON.stringify(batch), {
    qos: 1,
    ...(traceparent ? { properties: { userProperties: { [TRACEPARENT]: traceparent } } } : {}),
  });

describe('a trace id across MQTT, ingest, alert and notification logs', () => {
  it("the agent's traceparent reaches the ingest, the alert, the delivery and the webhook; no property, no trace", async () => {
    const traceparent = newTraceparent();
    const trace = traceIdOf(traceparent)!;
    const at = Date.now() - 10 * 60_000;
    const drain = vehicleEvent({ id: 7001, type: 'fuel_drain', start: at, end: at + 600_000, volumeL: 30 });
    await publish(
      { v: VEHICLE_EVENT_BATCH_VERSION, vehicleId: 'van-1', batchSeq: 1, events: [drain] },
      traceparent,
    );
    await waitFor('the webhook', () => rx.received.length >= 1);
    await waitFor('the delivery log line', () => lines.some((l) => l.msg === 'delivery sent'));

    const traced = lines.filter((l) => l.trace === trace).map((l) => [l.ns, l.msg]);
    expect(traced).toEqual(
      expect.arrayContaining([
        ['event-ingest', 'events stored'],
        ['alerts', 'alert queued for delivery'],
        ['notifications', 'delivery sent'],
      ]),
    );
    expect(JSON.parse(rx.received[0]!.body)).toMatchObject({ data: { vehicleId: 'van-1', trace } });

    // Without the property (an MQTT 3.1.1 agent): stored, logged, no trace on it.
    const small = vehicleEvent({ id: 7002, type: 'fuel_drain', start: at, end: at + 60_000, volumeL: 1 });
    await publish({ v: VEHICLE_EVENT_BATCH_VERSION, vehicleId: 'van-1', batchSeq: 2, events: [small] });
    await waitFor(
      'the second batch',
      () => lines.some((l) => l.msg === 'events stored' && l.batchSeq === 2),
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(lines.filter((l) => l.ns === 'event-ingest'))}`);
    });
    const second = lines.find((l) => l.msg === 'events stored' && l.batchSeq === 2)!;
    expect(second.trace).toBeUndefined();
  }, 60_000);
});
