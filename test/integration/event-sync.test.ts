/**
 * The events lane end to end with the real parts: events recorded in the agent's SQLite store,
 * the agent's broker link (events lane) on the machine's Mosquitto, EventIngest (MQTT 5 shared subscription) into the machine's
 * PostgreSQL. Exactly once, resends harmless, bad payloads dead-lettered without blocking the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../cloud/src/db/migrate.ts';
import { MosquittoAcl } from '../../cloud/src/devices/broker-auth.ts';
import { EventIngest } from '../../cloud/src/ingest/event-ingest.ts';
import { createLogger, mqtt, vehicleTopic } from '../../cloud/test/support/reexports.ts';
import { MQTT_URL, openTestPool, requireServices, uniqueId } from '../../cloud/test/support/services.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { BrokerLink } from '../../edge-agent/src/sync/broker-link.ts';

const log = createLogger('test').child({}, { level: 'error' });
const base = uniqueId('test/events').replace('_', '-');
const TENANT = 'acme';
const VEHICLE = 'van-7';
const N = 230; // three batches of 100
const T0 = Date.UTC(2026, 9, 5, 6, 0, 0);
const INGEST_ID = uniqueId('event-ingest');
const AGENT_ID = `fleet-agent-${VEHICLE}-${base.slice(-12)}`;

let db: Awaited<ReturnType<typeof openTestPool>>;
let ingest: EventIngest;
let dir: string;

beforeAll(async () => {
  await requireServices({ postgres: true, mqtt: true });
  db = await openTestPool('t_events');
  await migrate(db.pool, log);
  ingest = new EventIngest({
    pool: db.pool,
    mqttUrl: MQTT_URL,
    baseTopic: base,
    clientId: INGEST_ID,
    autoRegisterVehicles: true,
    sharedGroup: 'fleet-events-test',
    log,
    retryDelayMs: 100,
  });
  await ingest.start();
  dir = mkdtempSync(path.join(tmpdir(), 'event-sync-'));
});

afterAll(async () => {
  await ingest?.stop();
  // Forget the persistent sessions this run created on the shared broker.
  for (const clientId of [`${INGEST_ID}-events`, AGENT_ID, `${AGENT_ID}-van-9`, `${AGENT_ID}-van-reflash`]) {
    const cleaner = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true }).catch(() => null);
    await cleaner?.endAsync();
  }
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function syncFor(store: AgentDb, vehicleId = VEHICLE) {
  return new BrokerLink(
    store,
    {
      url: MQTT_URL,
      tenantId: TENANT,
      vehicleId,
      baseTopic: base,
      clientId: vehicleId === VEHICLE ? AGENT_ID : `${AGENT_ID}-${vehicleId}`,
      eventBatchSize: 100,
      eventFlushIntervalMs: 100,
      ackTimeoutMs: 3000,
    },
    log,
  );
}

function recordEvents(store: AgentDb): number[] {
  const ids: number[] = [];
  for (let i = 0; i < N; i++) {
    ids.push(
      store.events.append({
        type: i % 2 === 0 ? 'refuel' : 'harsh_brake',
        startTs: T0 + i * 60_000,
        endTs: T0 + i * 60_000 + 30_000,
        payload: {
          volumeL: i % 2 === 0 ? 40 + (i % 7) : undefined,
          lat: 48.1 + i * 1e-4,
          lon: 11.5,
          driverId: 'drv-1',
          confidence: 0.9,
          modelVersion: null,
          details: { levelBeforeL: 12.5, i },
          // A key the contract does not know: kept in details, not lost.
          peakG: 0.41,
        },
      }),
    );
    // Rows that are not VehicleEvents share the table: stepped over, never sent.
    if (i === 50) store.events.append({ type: 'trip', startTs: T0, endTs: T0 + 1 });
  }
  return ids;
}

async function countRows(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

describe('events lane: agent SQLite -> Mosquitto -> PostgreSQL', () => {
  it('delivers N recorded events exactly once, and a resend after a lost cursor changes nothing', async () => {
    expect(ingest.mode).toBe('shared');
    const file = path.join(dir, 'agent.db');
    const store = new AgentDb(file);
    const ids = recordEvents(store);
    // A backup taken before anything was acknowledged.
    store.snapshotTo(path.join(dir, 'restored.db'));
    const sync = syncFor(store);
    sync.start();
    try {
      await vi.waitFor(() => expect(store.events.ackedId()).toBe(Math.max(...ids)), {
        timeout: 15_000,
        interval: 50,
      });
      expect(sync.events.stats.eventsSent).toBe(N);
      expect(sync.events.stats.skipped).toBe(1);
      expect(store.events.pending()).toBe(0);
      expect(
        await countRows('SELECT count(*) AS n FROM vehicle_events WHERE tenant_id = $1 AND vehicle_id = $2', [
          TENANT,
          VEHICLE,
        ]),
      ).toBe(N);
      expect(await countRows('SELECT count(DISTINCT event_id) AS n FROM vehicle_events')).toBe(N);
      const { rows } = await db.pool.query(
        `SELECT type, start_ts, end_ts, volume_l, driver_id, confidence, details
           FROM vehicle_events WHERE event_id = $1`,
        [ids[0]],
      );
      expect(rows[0]).toMatchObject({
        type: 'refuel',
        start_ts: new Date(T0),
        end_ts: new Date(T0 + 30_000),
        volume_l: 40,
        driver_id: 'drv-1',
        details: { levelBeforeL: 12.5, i: 0, peakG: 0.41 },
      });

      // The agent's database restored from the backup taken before the acks (its cursor lost):
      // the same events with the same ids, everything sent again, nothing stored twice.
      const restored = new AgentDb(path.join(dir, 'restored.db'));
      const resend = syncFor(restored);
      const before = ingest.stats.eventsDuplicate;
      resend.start();
      try {
        await vi.waitFor(() => expect(restored.events.ackedId()).toBe(Math.max(...ids)), {
          timeout: 15_000,
          interval: 50,
        });
      } finally {
        await resend.stop();
        restored.close();
      }
      expect(ingest.stats.eventsDuplicate - before).toBe(N);
      expect(await countRows('SELECT count(*) AS n FROM vehicle_events')).toBe(N);
      expect(await countRows('SELECT count(*) AS n FROM dead_letters')).toBe(0);
    } finally {
      await sync.stop();
      store.close();
    }
  });

  it('a recreated agent database (new SD card): its events are new to the cloud, none dropped as duplicates', async () => {
    const vehicle = 'van-reflash';
    const count = () =>
      countRows('SELECT count(*) AS n FROM vehicle_events WHERE vehicle_id = $1', [vehicle]);
    for (const [name, expected] of [
      ['before.db', 3],
      ['after.db', 6],
    ] as const) {
      const file = path.join(dir, name);
      const store = new AgentDb(file);
      const ids = [0, 1, 2].map((i) =>
        store.events.append({
          type: 'harsh_brake',
          startTs: T0 + (name === 'before.db' ? 0 : 86_400_000) + i * 1000,
          endTs: T0 + (name === 'before.db' ? 0 : 86_400_000) + i * 1000 + 500,
          payload: { confidence: 0.9, details: {} },
        }),
      );
      const sync = syncFor(store, vehicle);
      const duplicates = ingest.stats.eventsDuplicate;
      sync.start();
      try {
        await vi.waitFor(() => expect(store.events.ackedId()).toBe(Math.max(...ids)), {
          timeout: 15_000,
          interval: 50,
        });
      } finally {
        await sync.stop();
        store.close();
      }
      expect(await count()).toBe(expected);
      expect(ingest.stats.eventsDuplicate).toBe(duplicates);
    }
  });

  it('moves the cursor only after the COMMIT: while the table is locked nothing is acknowledged', async () => {
    const file = path.join(dir, 'locked.db');
    const store = new AgentDb(file);
    const sync = syncFor(store, 'van-9');
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE vehicle_events IN ACCESS EXCLUSIVE MODE');
      const id = store.events.append({
        type: 'fuel_drain',
        startTs: T0,
        endTs: T0 + 60_000,
        payload: { volumeL: 12, confidence: 0.95, details: {} },
      });
      sync.start();
      await vi.waitFor(() => expect(sync.events.stats.batchesSent).toBe(1), { timeout: 5000, interval: 20 });
      await new Promise((r) => setTimeout(r, 700));
      expect(store.events.ackedId()).toBe(0); // published and PUBACKed maybe, but not stored: not acknowledged
      await locker.query('COMMIT');
      await vi.waitFor(() => expect(store.events.ackedId()).toBe(id), { timeout: 10_000, interval: 20 });
      expect(await countRows("SELECT count(*) AS n FROM vehicle_events WHERE vehicle_id = 'van-9'")).toBe(1);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      locker.release();
      await sync.stop();
      store.close();
    }
  });

  it('dead-letters bad payloads with their reason and still stores the good batch sent among them', async () => {
    const pub = await mqtt.connectAsync(MQTT_URL, {
      clientId: uniqueId('pub'),
      clean: true,
      protocolVersion: 5,
    });
    const topic = vehicleTopic('events', TENANT, 'van-8', base);
    const acks: unknown[] = [];
    await pub.subscribeAsync(vehicleTopic('events-ack', TENANT, 'van-8', base), { qos: 0 });
    pub.on('message', (_t, p) => acks.push(JSON.parse(p.toString())));
    const good = (batchSeq: number, id: number) => ({
      v: 1,
      vehicleId: 'van-8',
      batchSeq,
      events: [
        {
          id,
          type: 'fuel_drain',
          start: T0,
          end: T0 + 90_000,
          volumeL: 18,
          lat: null,
          lon: null,
          driverId: null,
          confidence: 0.8,
          modelVersion: 'm-3',
          details: {},
        },
      ],
    });
    const before = await countRows('SELECT count(*) AS n FROM dead_letters');
    await pub.publishAsync(topic, '{"v":1,', { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify({ ...good(2, 2), vehicleId: 'van-9' }), { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify(good(1, 1)), { qos: 1 });
    await pub.publishAsync(
      topic,
      JSON.stringify({ ...good(3, 3), events: [{ ...good(3, 3).events[0], type: 'x' }] }),
      {
        qos: 1,
      },
    );
    await pub.publishAsync(topic, JSON.stringify(good(1, 1)), { qos: 1 }); // the same batch again
    // van-7 is acme's: a claim from another tenant is refused, every time (no connection leaks).
    const foreign = vehicleTopic('events', 'globex', VEHICLE, base);
    for (let i = 0; i < 7; i++) {
      await pub.publishAsync(foreign, JSON.stringify({ ...good(10 + i, 500 + i), vehicleId: VEHICLE }), {
        qos: 1,
      });
    }
    await pub.publishAsync(topic, JSON.stringify(good(4, 2)), { qos: 1 });
    await vi.waitFor(
      async () => expect(await countRows('SELECT count(*) AS n FROM dead_letters')).toBe(before + 10),
      {
        timeout: 10_000,
        interval: 50,
      },
    );
    const { rows } = await db.pool.query<{ reason: string; topic: string }>(
      'SELECT topic, reason FROM dead_letters ORDER BY id',
    );
    const reasons = rows.slice(before).map((r) => r.reason);
    expect(reasons[0]).toMatch(/^malformed/);
    expect(reasons[1]).toMatch(/payload vehicle "van-9" does not match topic vehicle "van-8"/);
    expect(reasons[2]).toMatch(/^schema:.*type/);
    expect(reasons.slice(3)).toEqual(
      new Array(7).fill(`vehicle "${VEHICLE}" does not belong to tenant "globex"`),
    );
    expect(rows.slice(before, before + 3).every((r) => r.topic === topic)).toBe(true);
    await vi.waitFor(
      async () =>
        expect(await countRows("SELECT count(*) AS n FROM vehicle_events WHERE vehicle_id = 'van-8'")).toBe(
          2,
        ),
      { timeout: 5000, interval: 50 },
    );
    // The agent hears why (refused, so it backs off) and that the good one is stored.
    await vi.waitFor(() => expect(acks).toHaveLength(5), { timeout: 5000, interval: 50 });
    expect(acks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ batchSeq: 1, status: 'stored', first: 1, last: 1 }),
        expect.objectContaining({ batchSeq: 2, status: 'refused' }),
        expect.objectContaining({ batchSeq: 3, status: 'refused' }),
      ]),
    );
    await pub.endAsync();
  });

  it('the shipped ACL lets a vehicle send only its own events and read only its own answers', () => {
    const acl = MosquittoAcl.fromFile(path.join(import.meta.dirname, '../../docker/mosquitto/acl'));
    const t = (kind: 'events' | 'events-ack', vehicle: string) =>
      vehicleTopic(kind, TENANT, vehicle, 'fleet');
    expect(acl.allowed('van-7', 'c', 'write', t('events', 'van-7'))).toBe(true);
    expect(acl.allowed('van-7', 'c', 'write', t('events', 'van-8'))).toBe(false);
    expect(acl.allowed('van-7', 'c', 'read', t('events-ack', 'van-7'))).toBe(true);
    expect(acl.allowed('van-7', 'c', 'read', t('events-ack', 'van-8'))).toBe(false);
    expect(acl.allowed('van-7', 'c', 'write', t('events-ack', 'van-7'))).toBe(false);
    expect(acl.allowed('fleet-ingest', 'c', 'read', t('events', 'van-8'))).toBe(true);
    expect(acl.allowed('fleet-ingest', 'c', 'write', t('events-ack', 'van-8'))).toBe(true);
  });
});
