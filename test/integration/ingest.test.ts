import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../cloud/src/db/migrate.ts';
import { TelemetryIngest } from '../../cloud/src/ingest/telemetry-ingest.ts';
import {
  createLogger,
  MAX_PAYLOAD_BYTES,
  mqtt,
  type TelemetryAck,
  type TelemetryBatch,
  type TelemetrySample,
  type VehicleStatus,
  vehicleTopic,
} from '../../cloud/test/support/reexports.ts';
import {
  MIGRATION_FILES,
  MQTT_URL,
  openTestPool,
  requireServices,
  uniqueId,
} from '../../cloud/test/support/services.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { BrokerLink } from '../../edge-agent/src/sync/broker-link.ts';

const log = createLogger('test');
// The dead-lettered payloads below are expected: keep their warnings out of the test output.
const ingestLog = log.child({}, { level: 'error' });
const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const TENANT = 'acme';

let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let ingest: TelemetryIngest;
let publisher: mqtt.MqttClient;
const base = uniqueId('test/ingest').replace('_', '-');
const ingestClientId = uniqueId('ingest-test');

beforeAll(async () => {
  await requireServices({ postgres: true, mqtt: true });
  db = await openTestPool('t_ingest');
  pool = db.pool;
  expect(await migrate(pool, log)).toBe(MIGRATION_FILES.length);
  ingest = new TelemetryIngest({
    pool,
    mqttUrl: MQTT_URL,
    baseTopic: base,
    clientId: ingestClientId,
    autoRegisterVehicles: true,
    log: ingestLog,
    retryDelayMs: 100,
  });
  await ingest.start();
  publisher = await mqtt.connectAsync(MQTT_URL, { clientId: uniqueId('publisher'), clean: true });
});

/** Retained topics and persistent sessions this run leaves on the shared broker. */
const retainedTopics: string[] = [];
const persistentClientIds: string[] = [];
const tempDirs: string[] = [];

afterAll(async () => {
  await ingest?.stop();
  for (const topic of retainedTopics) await publisher?.publishAsync(topic, '', { qos: 1, retain: true });
  await publisher?.endAsync();
  // The ingest (and the agent) keep persistent sessions (clean: false); remove them from the broker.
  for (const clientId of [...(ingest?.clientIds ?? []), ...persistentClientIds]) {
    const cleaner = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true }).catch(() => null);
    await cleaner?.endAsync();
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

function sample(seq: number, overrides: Partial<TelemetrySample> = {}): TelemetrySample {
  return {
    seq,
    ts: T0 + seq * 1000,
    lat: 48.1 + seq / 1e5,
    lon: 11.5 + seq / 1e5,
    speedKmh: 50,
    rpm: 1726.25,
    fuelLevelPct: 62.5,
    coolantC: 90,
    ...overrides,
  };
}

const batchOf = (vehicleId: string, samples: TelemetrySample[]): TelemetryBatch => ({
  v: 1,
  vehicleId,
  samples,
});

async function publish(topic: string, payload: unknown) {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  await publisher.publishAsync(topic, bytes, { qos: 1 });
}

const telemetryTopic = (vehicleId: string, tenantId = TENANT) =>
  vehicleTopic('telemetry', tenantId, vehicleId, base);
const statusTopic = (vehicleId: string, tenantId = TENANT) =>
  vehicleTopic('status', tenantId, vehicleId, base);

async function telemetryRows(vehicleId: string) {
  const { rows } = await pool.query<{
    seq: number;
    ts: Date;
    lat: number | null;
    lon: number | null;
    speed_kmh: number | null;
    rpm: number | null;
    fuel_level_pct: number | null;
    coolant_c: number | null;
  }>('SELECT * FROM telemetry WHERE vehicle_id = $1 ORDER BY seq', [vehicleId]);
  return rows;
}

async function latest(vehicleId: string) {
  const { rows } = await pool.query<{ ts: Date; lat: number; lon: number; rpm: number }>(
    'SELECT ts, lat, lon, rpm FROM vehicle_latest WHERE vehicle_id = $1',
    [vehicleId],
  );
  return rows[0];
}

/** Waits until the ingest has committed `n` more batches than `from` (it acks after commit). */
async function batchesProcessed(from: number, n = 1) {
  await vi.waitFor(() => expect(ingest.stats.batches).toBeGreaterThanOrEqual(from + n), {
    timeout: 10_000,
    interval: 20,
  });
}

describe('TelemetryIngest (real PostgreSQL + Mosquitto)', () => {
  it('stores a valid batch: one row per sample, latest state from the newest sample', async () => {
    const vehicle = 'van-valid';
    // The newest sample is in the middle: latest must not simply be the last element.
    const samples = [
      sample(1),
      sample(3, { lat: 48.5, lon: 11.9, rpm: 3000.5 }),
      sample(2, { lat: null, lon: null }),
    ];
    const before = ingest.stats.batches;
    await publish(telemetryTopic(vehicle), batchOf(vehicle, samples));
    await batchesProcessed(before);

    const rows = await telemetryRows(vehicle);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    for (const r of rows) {
      const s = samples.find((x) => x.seq === r.seq)!;
      expect(r.ts.getTime()).toBe(s.ts);
      expect(r.lat).toBe(s.lat);
      expect(r.lon).toBe(s.lon);
      expect(r.speed_kmh).toBe(s.speedKmh);
      expect(r.rpm).toBe(s.rpm);
      expect(r.fuel_level_pct).toBe(s.fuelLevelPct);
      expect(r.coolant_c).toBe(s.coolantC);
    }
    const l = await latest(vehicle);
    expect(l).toEqual({ ts: new Date(T0 + 3000), lat: 48.5, lon: 11.9, rpm: 3000.5 });
    const { rows: vehicles } = await pool.query('SELECT id, tenant_id FROM vehicles WHERE id = $1', [
      vehicle,
    ]);
    expect(vehicles).toEqual([{ id: vehicle, tenant_id: TENANT }]);
  });

  it('is idempotent: the same batch again inserts nothing and counts duplicates', async () => {
    const vehicle = 'van-redelivered';
    const batch = batchOf(vehicle, [sample(1), sample(2), sample(3), sample(4)]);
    let before = ingest.stats.batches;
    await publish(telemetryTopic(vehicle), batch);
    await batchesProcessed(before);
    expect(await telemetryRows(vehicle)).toHaveLength(4);

    const duplicates = ingest.stats.samplesDuplicate;
    const inserted = ingest.stats.samplesInserted;
    before = ingest.stats.batches;
    await publish(telemetryTopic(vehicle), batch);
    await batchesProcessed(before);
    expect(await telemetryRows(vehicle)).toHaveLength(4);
    expect(ingest.stats.samplesDuplicate - duplicates).toBe(4);
    expect(ingest.stats.samplesInserted - inserted).toBe(0);

    // A batch that overlaps (seq 3, 4 again, 5 new) inserts only the new sample.
    before = ingest.stats.batches;
    await publish(telemetryTopic(vehicle), batchOf(vehicle, [sample(3), sample(4), sample(5)]));
    await batchesProcessed(before);
    expect((await telemetryRows(vehicle)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(ingest.stats.samplesDuplicate - duplicates).toBe(6);
    expect(ingest.stats.samplesInserted - inserted).toBe(1);
  });

  it('does not move vehicle_latest backwards for an older batch (backfill)', async () => {
    const vehicle = 'van-backfill';
    let before = ingest.stats.batches;
    await publish(
      telemetryTopic(vehicle),
      batchOf(vehicle, [sample(100, { ts: T0 + 600_000, lat: 10, lon: 20 })]),
    );
    await batchesProcessed(before);
    expect(await latest(vehicle)).toMatchObject({ ts: new Date(T0 + 600_000), lat: 10, lon: 20 });

    // New seqs, earlier timestamps: stored as history, not as the current position.
    before = ingest.stats.batches;
    await publish(
      telemetryTopic(vehicle),
      batchOf(vehicle, [
        sample(101, { ts: T0 + 1000, lat: 1, lon: 2 }),
        sample(102, { ts: T0 + 2000, lat: 3, lon: 4 }),
      ]),
    );
    await batchesProcessed(before);
    expect((await telemetryRows(vehicle)).map((r) => r.seq)).toEqual([100, 101, 102]);
    expect(await latest(vehicle)).toMatchObject({ ts: new Date(T0 + 600_000), lat: 10, lon: 20 });

    // A newer one moves it forward again.
    before = ingest.stats.batches;
    await publish(
      telemetryTopic(vehicle),
      batchOf(vehicle, [sample(103, { ts: T0 + 601_000, lat: 5, lon: 6 })]),
    );
    await batchesProcessed(before);
    expect(await latest(vehicle)).toMatchObject({ ts: new Date(T0 + 601_000), lat: 5, lon: 6 });
  });

  it('dead-letters each bad payload with a reason and keeps storing the valid ones behind them', async () => {
    const vehicle = 'van-dlq';
    const owned = 'van-owned-by-globex';
    // Another tenant registers `owned` first.
    let before = ingest.stats.batches;
    await publish(telemetryTopic(owned, 'globex'), batchOf(owned, [sample(1)]));
    await batchesProcessed(before);

    const valid = JSON.stringify(batchOf(vehicle, [sample(1)]));
    const bad: { name: string; topic: string; payload: Buffer; reason: RegExp }[] = [
      {
        name: 'malformed JSON',
        topic: telemetryTopic(vehicle),
        payload: Buffer.from(valid.slice(0, -2)),
        reason: /^malformed: /,
      },
      {
        name: 'wrong version',
        topic: telemetryTopic(vehicle),
        payload: Buffer.from(JSON.stringify({ ...batchOf(vehicle, [sample(1)]), v: 2 })),
        reason: /unsupported payload version 2/,
      },
      {
        name: 'oversized',
        topic: telemetryTopic(vehicle),
        payload: Buffer.from(valid + ' '.repeat(MAX_PAYLOAD_BYTES + 1 - valid.length)),
        reason: /^oversized: /,
      },
      {
        name: 'vehicle mismatch',
        topic: telemetryTopic(vehicle),
        payload: Buffer.from(JSON.stringify(batchOf('van-other', [sample(1)]))),
        reason: /payload vehicle "van-other" does not match topic vehicle "van-dlq"/,
      },
      {
        name: 'foreign tenant',
        topic: telemetryTopic(owned, TENANT),
        payload: Buffer.from(JSON.stringify(batchOf(owned, [sample(2)]))),
        reason: /vehicle "van-owned-by-globex" does not belong to tenant "acme"/,
      },
      {
        name: 'bad status',
        topic: statusTopic(vehicle),
        payload: Buffer.from('{"v":1,"state":"asleep","ts":1}'),
        reason: /^bad status payload: /,
      },
    ];
    expect(bad[2]!.payload.byteLength).toBe(MAX_PAYLOAD_BYTES + 1);

    const deadBefore = ingest.stats.deadLetters;
    before = ingest.stats.batches;
    for (const b of bad) await publish(b.topic, b.payload);
    await publish(telemetryTopic(vehicle), Buffer.from(valid));
    await batchesProcessed(before);
    // Several connections share the subscription: the dead letters may commit after the valid one.
    await vi.waitFor(() => expect(ingest.stats.deadLetters - deadBefore).toBe(bad.length), {
      timeout: 10_000,
      interval: 20,
    });

    expect((await telemetryRows(vehicle)).map((r) => r.seq)).toEqual([1]);
    expect(ingest.stats.deadLetters - deadBefore).toBe(bad.length);
    const { rows } = await pool.query<{ topic: string; reason: string; payload: Buffer }>(
      'SELECT topic, reason, payload FROM dead_letters ORDER BY id',
    );
    expect(rows).toHaveLength(bad.length);
    for (const b of bad) {
      const row = rows.find((r) => r.payload.equals(b.payload));
      expect(row, `${b.name}: payload kept byte for byte`).toBeDefined();
      expect(row!.topic, b.name).toBe(b.topic);
      expect(row!.reason, b.name).toMatch(b.reason);
    }
    // The foreign tenant's message changed nothing of the owner's data.
    expect((await telemetryRows(owned)).map((r) => r.seq)).toEqual([1]);
    const { rows: owner } = await pool.query('SELECT tenant_id FROM vehicles WHERE id = $1', [owned]);
    expect(owner).toEqual([{ tenant_id: 'globex' }]);
  });

  it('answers each batch with a batchSeq on the vehicle ack topic after COMMIT: stored, refused; none without one', async () => {
    const vehicle = 'van-acks';
    const acks: { topic: string; ack: TelemetryAck }[] = [];
    const listener = await mqtt.connectAsync(MQTT_URL, { clientId: uniqueId('acks'), clean: true });
    listener.on('message', (topic, payload) => acks.push({ topic, ack: JSON.parse(payload.toString()) }));
    await listener.subscribeAsync(`${base}/v1/+/+/ack`, { qos: 1 });
    try {
      const before = ingest.stats.batches;
      await publish(telemetryTopic(vehicle), {
        ...batchOf(vehicle, [sample(5), sample(6), sample(7)]),
        batchSeq: 41,
      });
      // The same samples again (a resend after a lost ack): acked again, stored once.
      await publish(telemetryTopic(vehicle), {
        ...batchOf(vehicle, [sample(5), sample(6), sample(7)]),
        batchSeq: 42,
      });
      await publish(telemetryTopic(vehicle), batchOf(vehicle, [sample(8)])); // no batchSeq: no ack
      // Another tenant's vehicle: dead-lettered, answered `refused` on the sender's topic.
      await publish(telemetryTopic('van-owned-by-globex', TENANT), {
        ...batchOf('van-owned-by-globex', [sample(9)]),
        batchSeq: 7,
      });
      await batchesProcessed(before, 3);
      await vi.waitFor(() => expect(acks).toHaveLength(3), { timeout: 5000, interval: 20 });
      await new Promise((r) => setTimeout(r, 200));
      expect(acks).toHaveLength(3);
      const byBatch = new Map(acks.map((a) => [a.ack.batchSeq, a]));
      const ackTopic = vehicleTopic('ack', TENANT, vehicle, base);
      expect(byBatch.get(41)).toEqual({
        topic: ackTopic,
        ack: { v: 1, batchSeq: 41, status: 'stored', first: 5, last: 7 },
      });
      expect(byBatch.get(42)).toEqual({
        topic: ackTopic,
        ack: { v: 1, batchSeq: 42, status: 'stored', first: 5, last: 7 },
      });
      expect(byBatch.get(7)!.topic).toBe(vehicleTopic('ack', TENANT, 'van-owned-by-globex', base));
      expect(byBatch.get(7)!.ack).toMatchObject({ status: 'refused', first: 9, last: 9 });
      expect(byBatch.get(7)!.ack.reason).toMatch(/does not belong to tenant "acme"/);
      expect((await telemetryRows(vehicle)).map((r) => r.seq)).toEqual([5, 6, 7, 8]);
    } finally {
      await listener.endAsync();
    }
  });

  it('updates vehicles.online from status messages, ignoring older ones', async () => {
    const vehicle = 'van-status';
    const online = async () =>
      (await pool.query<{ online: boolean | null }>('SELECT online FROM vehicles WHERE id = $1', [vehicle]))
        .rows[0]?.online;
    const status = (state: VehicleStatus['state'], ts: number): VehicleStatus => ({ v: 1, state, ts });

    await publish(statusTopic(vehicle), status('online', T0 + 10_000));
    await vi.waitFor(async () => expect(await online()).toBe(true), { timeout: 10_000, interval: 20 });

    await publish(statusTopic(vehicle), status('offline', T0 + 20_000));
    await vi.waitFor(async () => expect(await online()).toBe(false), { timeout: 10_000, interval: 20 });

    // An older "online" (a redelivered retained message) must not win; the status counter proves
    // it was processed before we look.
    const before = ingest.stats.statuses;
    await publish(statusTopic(vehicle), status('online', T0 + 15_000));
    await vi.waitFor(() => expect(ingest.stats.statuses).toBeGreaterThan(before), {
      timeout: 10_000,
      interval: 20,
    });
    expect(await online()).toBe(false);

    await publish(statusTopic(vehicle), status('online', T0 + 30_000));
    await vi.waitFor(async () => expect(await online()).toBe(true), { timeout: 10_000, interval: 20 });
  });

  // The agent's MQTT will ("offline", shared/src/topics.ts) is built once in BrokerLink.start()
  // with that moment's ts; the "online" it publishes on every connect is newer. The ingest keeps
  // only newer statuses (update-vehicle-status.ts), so the will of a crashed agent is dropped and
  // the vehicle stays online forever.
  it('marks a vehicle offline when its agent dies without a clean disconnect', async () => {
    const vehicle = uniqueId('van').replace('_', '-');
    const dir = mkdtempSync(path.join(tmpdir(), 'fleet-will-'));
    tempDirs.push(dir);
    retainedTopics.push(statusTopic(vehicle));
    persistentClientIds.push(`fleet-agent-${TENANT}-${vehicle}`);
    const observer = await mqtt.connectAsync(MQTT_URL, { clientId: uniqueId('observer'), clean: true });
    const seen: VehicleStatus[] = [];
    observer.on('message', (_topic, payload) => {
      if (payload.length > 0) seen.push(JSON.parse(payload.toString()) as VehicleStatus);
    });
    await observer.subscribeAsync(statusTopic(vehicle), { qos: 1 });

    const store = new AgentDb(path.join(dir, 'agent.db'));
    const sync = new BrokerLink(
      store,
      { url: MQTT_URL, tenantId: TENANT, vehicleId: vehicle, baseTopic: base, flushIntervalMs: 60_000 },
      log.child({}, { level: 'error' }),
    );
    // The will's ts is taken when start() runs; pin it 60 s back so "online" (taken at CONNACK)
    // is later even on a machine fast enough to connect within the same millisecond.
    vi.spyOn(Date, 'now').mockReturnValueOnce(Date.now() - 60_000);
    try {
      sync.start();
      const online = async () =>
        (await pool.query<{ online: boolean | null }>('SELECT online FROM vehicles WHERE id = $1', [vehicle]))
          .rows[0]?.online;
      await vi.waitFor(async () => expect(await online()).toBe(true), { timeout: 10_000, interval: 20 });

      // The agent process dies: the socket closes without DISCONNECT, the broker sends the will.
      (sync as unknown as { client: mqtt.MqttClient }).client.end(true);
      await vi.waitFor(() => expect(seen.at(-1)?.state).toBe('offline'), { timeout: 10_000, interval: 20 });
      await vi.waitFor(async () => expect(await online()).toBe(false), { timeout: 10_000, interval: 20 });
    } finally {
      vi.restoreAllMocks();
      await sync.stop().catch(() => {});
      store.close();
      await observer.endAsync();
    }
  });

  it('never needed a database retry in this run', () => {
    expect(ingest.stats.dbRetries).toBe(0);
  });
});

describe('migrate (real PostgreSQL)', () => {
  it('is idempotent: a second run applies nothing', async () => {
    expect(await migrate(pool, log)).toBe(0);
    const { rows } = await pool.query('SELECT id, name FROM fleet_migrations ORDER BY id');
    expect(rows).toEqual(MIGRATION_FILES.map((name) => ({ id: Number.parseInt(name, 10), name })));
  });

  it('lets two concurrent runs on a fresh schema apply each migration exactly once', async () => {
    const fresh = await openTestPool('t_migrate');
    try {
      const counts = await Promise.all([migrate(fresh.pool, log), migrate(fresh.pool, log)]);
      expect([...counts].sort((a, b) => a - b)).toEqual([0, MIGRATION_FILES.length]);
      const { rows } = await fresh.pool.query('SELECT id FROM fleet_migrations ORDER BY id');
      expect(rows).toEqual(MIGRATION_FILES.map((name) => ({ id: Number.parseInt(name, 10) })));
      const { rows: tables } = await fresh.pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = $1 AND table_name !~ '^telemetry_p[0-9]{8}$' ORDER BY table_name`,
        [fresh.schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'alert_rules',
        'alerts',
        'api_tokens',
        'audit_log',
        'challenge_results',
        'challenges',
        'dead_letters',
        'defect_reports',
        'devices',
        'driver_badges',
        'driver_day_scores',
        'driver_groups',
        'driver_score_settings',
        'event_disputes',
        'fleet_migrations',
        'fuel_budgets',
        'fuel_reconciliations',
        'fuel_transactions',
        'geofence_presence',
        'geofences',
        'ifta_boundaries',
        'ifta_distance_gaps',
        'ifta_tax_rates',
        'ifta_trip_records',
        'low_range_episodes',
        'notification_deliveries',
        'notification_delivery_log',
        'notification_digests',
        'notification_settings',
        'notification_webhooks',
        'password_resets',
        'points_accounts',
        'points_ledger',
        'push_subscriptions',
        'refuel_logs',
        'refuel_receipts',
        'report_runs',
        'report_schedules',
        'reward_redemptions',
        'rewards',
        'saved_reports',
        'saved_searches',
        'service_program_targets',
        'service_programs',
        'sessions',
        'telemetry',
        'telemetry_minute',
        'tenant_secrets',
        'tenants',
        'user_invites',
        'user_preferences',
        'users',
        'vehicle_agent_drops',
        'vehicle_agent_health',
        'vehicle_assignments',
        'vehicle_commands',
        'vehicle_day_distance',
        'vehicle_events',
        'vehicle_groups',
        'vehicle_latest',
        'vehicle_services',
        'vehicles',
        'webhook_inbox',
        'webhook_receipts',
        'work_order_lines',
        'work_orders',
      ]);
    } finally {
      await fresh.drop();
    }
  });
});
