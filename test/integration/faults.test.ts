/**
 * "Zero loss, zero duplicates" under faults, with exact counts. Every broker and database that
 * is killed or restarted here is a PRIVATE instance (support/private-services.ts) so the
 * machine's shared Mosquitto and PostgreSQL are never restarted; the ingest that is not under
 * test writes to the shared PostgreSQL in a schema of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../cloud/src/db/migrate.ts';
import { openPool } from '../../cloud/src/db/pool.ts';
import { TelemetryIngest, type TelemetryIngestOptions } from '../../cloud/src/ingest/telemetry-ingest.ts';
import {
  type PrivateMosquitto,
  type PrivatePostgres,
  startPrivateMosquitto,
  startPrivatePostgres,
  stopAll,
} from '../../cloud/test/support/private-services.ts';
import { publishBatches, sampleAt } from '../../cloud/test/support/publisher.ts';
import {
  createLogger,
  encodeTelemetryBatch,
  mqtt,
  type TelemetrySample,
  vehicleTopic,
} from '../../cloud/test/support/reexports.ts';
import { openTestPool, requireServices, uniqueId } from '../../cloud/test/support/services.ts';
import { AgentDb, type AgentDbOptions } from '../../edge-agent/src/store/agent-db.ts';
import type { NewSample } from '../../edge-agent/src/store/sample-outbox.ts';
import { BrokerLink, type BrokerLinkOptions } from '../../edge-agent/src/sync/broker-link.ts';

// Reconnect warnings are the point of these tests: keep them out of the output.
const log = createLogger('faults').child({}, { level: 'fatal' });
const T0 = Date.UTC(2024, 6, 1, 6, 0, 0);
const TENANT = 'acme';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      console.warn(`cleanup failed: ${(err as Error).message}`);
    }
  }
  await stopAll();
});

beforeAll(async () => {
  await requireServices({ postgres: true });
});

async function testPool(prefix: string): Promise<pg.Pool> {
  const db = await openTestPool(prefix);
  cleanups.push(() => db.drop());
  await migrate(db.pool, log);
  return db.pool;
}

async function startIngest(
  opts: Pick<TelemetryIngestOptions, 'pool' | 'mqttUrl'> & Partial<TelemetryIngestOptions>,
): Promise<TelemetryIngest & { base: string }> {
  const base = opts.baseTopic ?? uniqueId('faults').replace('_', '-');
  const ingest = new TelemetryIngest({
    baseTopic: base,
    clientId: uniqueId('ingest'),
    autoRegisterVehicles: true,
    log,
    retryDelayMs: 100,
    ...opts,
  });
  cleanups.push(() => ingest.stop());
  await ingest.start();
  return Object.assign(ingest, { base });
}

interface Counts {
  rows: number;
  distinct: number;
  maxSeq: number;
  minSeq: number;
  rollup: number;
}

async function counts(pool: pg.Pool, vehicleId: string): Promise<Counts> {
  const { rows } = await pool.query<Counts>(
    `SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS distinct,
            coalesce(max(seq), 0)::int AS "maxSeq", coalesce(min(seq), 0)::int AS "minSeq",
            (SELECT coalesce(sum(samples), 0)::int FROM telemetry_minute WHERE vehicle_id = $1) AS rollup
       FROM telemetry WHERE vehicle_id = $1`,
    [vehicleId],
  );
  return rows[0]!;
}

/** Exactly 1..k, each once, rollups counting each once. */
const exactly = (k: number): Counts => ({
  rows: k,
  distinct: k,
  maxSeq: k,
  minSeq: k > 0 ? 1 : 0,
  rollup: k,
});

const newSample = (i: number): NewSample => {
  const { seq: _seq, ...rest } = sampleAt(i, T0 + i * 100);
  return rest;
};

/** The real agent: AgentDb (SQLite in a temp dir) + BrokerLink. */
function startAgent(
  url: string,
  baseTopic: string,
  vehicleId: string,
  extra: Partial<BrokerLinkOptions> = {},
  storeOptions: AgentDbOptions = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-faults-agent-'));
  const store = new AgentDb(path.join(dir, 'agent.db'), storeOptions);
  const sync = new BrokerLink(
    store,
    {
      url,
      tenantId: TENANT,
      vehicleId,
      baseTopic,
      clientId: uniqueId('agent'),
      batchSize: 50,
      flushIntervalMs: 50,
      flushJitterMs: 0,
      reconnectPeriodMs: 200,
      // Short, so a batch the broker lost is resent within the test's patience.
      ackTimeoutMs: 1500,
      ...extra,
    },
    log,
  );
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  cleanups.push(() => sync.stop());
  sync.start();
  return { store, sync };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Appends `k` samples over about `ms`, in steps, so the stream spans the fault. */
async function appendStream(store: AgentDb, k: number, ms: number, from = 0) {
  const steps = 50;
  const per = Math.ceil(k / steps);
  for (let i = 0; i < k; ) {
    for (let j = 0; j < per && i < k; j++, i++) store.samples.append(newSample(from + i + 1));
    await sleep(ms / steps);
  }
}

describe('broker restarted mid-stream (private Mosquitto, shipped config)', () => {
  async function brokerRestart(shared: boolean) {
    const K = 3000;
    const vehicle = `van-broker-restart-${shared ? 'shared' : 'plain'}`;
    const broker = await startPrivateMosquitto();
    const pool = await testPool('t_fault_broker');
    const ingest = await startIngest({
      pool,
      mqttUrl: broker.url,
      connections: 4,
      ...(shared ? {} : { sharedGroup: false as const }),
    });
    expect(ingest.mode).toBe(shared ? 'shared' : 'plain');
    const { store, sync } = startAgent(broker.url, ingest.base, vehicle);
    await sync.waitConnected(5000);

    const stream = appendStream(store, K, 2000);
    await vi.waitFor(() => expect(ingest.stats.samplesInserted).toBeGreaterThan(300), { timeout: 10_000 });
    await broker.kill('SIGTERM'); // mid-stream: the agent keeps recording into SQLite
    await sleep(700);
    await broker.start();
    await stream;

    await vi.waitFor(() => expect(store.stats().unsent).toBe(0), { timeout: 30_000, interval: 50 });
    expect(store.stats().lastSeq).toBe(K);
    expect(sync.stats.connects).toBeGreaterThanOrEqual(2);
    await vi.waitFor(async () => expect((await counts(pool, vehicle)).rows).toBe(K), {
      timeout: 10_000,
      interval: 100,
    });
    await sleep(300); // anything redelivered late would land now
    expect(await counts(pool, vehicle)).toEqual(exactly(K));
    expect(ingest.stats.samplesInserted).toBe(K);
  }

  it('plain subscription: SIGTERM + restart (same port, same persistence dir): exactly K = 3000 rows', async () => {
    await brokerRestart(false);
  }, 60_000);

  /**
   * Mosquitto 2.0.11 restores the ingest's persistent session after a restart but not its $share
   * subscription, and agents that reconnect before the ingest resubscribes publish into a shared
   * group with no member: the broker PUBACKs and drops those batches (~2,500 of 3,000 here when
   * the agent's cursor moved on PUBACK). The cloud ack after COMMIT closes that: unanswered
   * batches are sent again.
   */
  it('shared subscription (default): SIGTERM + restart: exactly K = 3000 rows', async () => {
    await brokerRestart(true);
  }, 60_000);

  /**
   * Mosquitto writes its persistence file only every `autosave_interval` seconds and on a clean
   * shutdown. A broker crash (SIGKILL, OOM, power) loses every message it already PUBACKed to the
   * agent but had not yet delivered to the ingest, and the ingest's sessions with them. With the
   * cursor on the broker's PUBACK (`ackFrom: 'broker'`) they are lost for good (the first half,
   * kept as the counter-example); with the cloud ack (default) the agent still holds them and
   * sends them again (the second half: exactly K rows).
   */
  async function brokerCrash(ackFrom: 'broker' | 'cloud') {
    const K = 2000;
    const vehicle = `van-broker-crash-${ackFrom}`;
    const broker = await startPrivateMosquitto();
    const pool = await testPool('t_fault_crash');
    // A slow ingest, so a backlog sits in the broker when it dies.
    const ingest = await startIngest({
      pool,
      mqttUrl: broker.url,
      connections: 2,
      maxConcurrentFlushes: 1,
      beforeCommit: () => sleep(100),
    });
    const { store, sync } = startAgent(broker.url, ingest.base, vehicle, { ackFrom });
    await sync.waitConnected(5000);
    for (let i = 0; i < K; i++) store.samples.append(newSample(i + 1));
    if (ackFrom === 'broker') {
      // Every sample PUBACKed by the broker (agent cursor at K), the ingest still behind.
      await vi.waitFor(() => expect(store.stats().unsent).toBe(0), { timeout: 20_000, interval: 20 });
    } else {
      await vi.waitFor(async () => expect((await counts(pool, vehicle)).rows).toBeGreaterThan(300), {
        timeout: 20_000,
        interval: 20,
      });
    }
    const before = await counts(pool, vehicle);
    expect(before.rows).toBeLessThan(K);
    await broker.kill('SIGKILL');
    await broker.start();
    return { K, pool, store, vehicle, before };
  }

  it('COUNTER-EXAMPLE, cursor on PUBACK (ackFrom broker): a broker SIGKILL loses the backlog it had PUBACKed since the last autosave', async () => {
    const { K, pool, store, vehicle, before } = await brokerCrash('broker');
    await sleep(3000); // ingest reconnects (its session is gone; mqtt.js resubscribes)
    const after = await counts(pool, vehicle);
    expect(store.stats().unsent).toBe(0); // the agent believes everything was delivered
    expect(after.rows, 'samples lost for good by a broker crash').toBeLessThan(K);
    expect(after.rows).toBe(after.distinct); // still no duplicates
    console.warn(
      `counter-example: broker SIGKILL lost ${K - after.rows} of ${K} PUBACKed samples (ingest had ${before.rows} at the kill)`,
    );
  }, 60_000);

  it('cursor on the cloud ack (default): a broker SIGKILL mid-stream loses nothing: exactly K = 2000 rows', async () => {
    const { K, pool, store, vehicle } = await brokerCrash('cloud');
    await vi.waitFor(() => expect(store.stats().unsent).toBe(0), { timeout: 30_000, interval: 50 });
    await vi.waitFor(async () => expect((await counts(pool, vehicle)).rows).toBe(K), {
      timeout: 10_000,
      interval: 100,
    });
    await sleep(300);
    expect(await counts(pool, vehicle)).toEqual(exactly(K));
  }, 60_000);
});

describe('ingest stopped mid-stream with messages PUBACKed on arrival (early PUBACK)', () => {
  it('the agent resends what was never acked after COMMIT: exactly K = 2000 rows', async () => {
    const K = 2000;
    const vehicle = 'van-ingest-crash';
    const broker = await startPrivateMosquitto();
    const pool = await testPool('t_fault_ingest');
    const clientId = uniqueId('ingest');
    // Slow commits, so many messages sit PUBACKed but uncommitted when the ingest goes away.
    const first = await startIngest({ pool, mqttUrl: broker.url, clientId, beforeCommit: () => sleep(150) });
    const { store, sync } = startAgent(broker.url, first.base, vehicle);
    await sync.waitConnected(5000);
    for (let i = 0; i < K; i++) store.samples.append(newSample(i + 1));
    await vi.waitFor(() => expect(first.stats.earlyAcks).toBeGreaterThan(0), {
      timeout: 10_000,
      interval: 10,
    });
    await vi.waitFor(() => expect(first.stats.samplesInserted).toBeGreaterThan(0), {
      timeout: 10_000,
      interval: 10,
    });
    await first.stop(); // what it held uncommitted is gone; the broker has PUBACKed it
    expect(first.stats.samplesInserted).toBeLessThan(K);
    const second = await startIngest({ pool, mqttUrl: broker.url, clientId, baseTopic: first.base });
    await vi.waitFor(() => expect(store.stats().unsent).toBe(0), { timeout: 30_000, interval: 50 });
    await vi.waitFor(async () => expect((await counts(pool, vehicle)).rows).toBe(K), {
      timeout: 10_000,
      interval: 100,
    });
    await sleep(300);
    expect(await counts(pool, vehicle)).toEqual(exactly(K));
    expect(sync.telemetry.stats.ackTimeouts).toBeGreaterThan(0); // the lost ones came back by resend
    expect(first.stats.samplesInserted + second.stats.samplesInserted).toBe(K);
  }, 60_000);
});

describe('disk budget while offline (private Mosquitto stopped)', () => {
  it('evicts synced then oldest unsynced samples, keeps recording, and the cloud learns the exact counts', async () => {
    const vehicle = 'van-disk-budget';
    const budget = 256 * 1024;
    const broker = await startPrivateMosquitto();
    const pool = await testPool('t_fault_budget');
    const ingest = await startIngest({ pool, mqttUrl: broker.url });
    const { store, sync } = startAgent(
      broker.url,
      ingest.base,
      vehicle,
      {},
      { diskBudgetBytes: budget, budgetCheckEvery: 100 },
    );
    await sync.waitConnected(5000);
    for (let i = 1; i <= 500; i++) store.samples.append(newSample(i));
    await vi.waitFor(() => expect(store.samples.ackedSeq()).toBe(500), { timeout: 10_000, interval: 20 });

    await broker.kill('SIGTERM'); // offline: the vehicle keeps recording into SQLite
    let i = 500;
    while (store.stats().evictions.rawUnsynced < 2000) store.samples.append(newSample(++i));
    const offline = store.stats();
    expect(offline.fileBytes).toBeLessThanOrEqual(budget);
    // Policy: every synced sample went before the first unsynced one, oldest first; nothing else.
    expect(offline.evictions).toEqual({
      rawSynced: 500,
      rawUnsynced: offline.evictions.rawUnsynced,
      rollups: 0,
      events: 0,
    });
    expect(store.samples.pending(1)[0]!.seq).toBe(501 + offline.evictions.rawUnsynced);
    expect(store.samples.append(newSample(++i))).toBe(i); // still recording
    const K = i;

    await broker.start();
    await vi.waitFor(() => expect(store.stats().unsent).toBe(0), { timeout: 30_000, interval: 50 });
    const lost = store.stats().evictions.rawUnsynced;
    // In the cloud: every sample except the ones evicted unsynced, each once...
    await vi.waitFor(async () => expect((await counts(pool, vehicle)).rows).toBe(K - lost), {
      timeout: 10_000,
      interval: 100,
    });
    const c = await counts(pool, vehicle);
    expect(c.distinct).toBe(K - lost);
    const { rows: gap } = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id = $1 AND seq BETWEEN 501 AND $2',
      [vehicle, 500 + lost],
    );
    expect(gap[0]!.n).toBe(0); // ...the evicted ones are exactly the oldest unsynced
    // ...and the drop counts, as the agent counted them.
    const { rows } = await pool.query(
      'SELECT tenant_id, raw_synced::int, raw_unsynced::int, rollups::int, events::int FROM vehicle_agent_drops WHERE vehicle_id = $1',
      [vehicle],
    );
    expect(rows).toEqual([{ tenant_id: TENANT, raw_synced: 500, raw_unsynced: lost, rollups: 0, events: 0 }]);
    expect(ingest.stats.agentEvictedSamples).toBe(lost);
  }, 60_000);
});

describe('PostgreSQL restarted mid-ingest (private PostgreSQL 15 cluster)', () => {
  let pgc: PrivatePostgres;
  let broker: PrivateMosquitto;
  beforeAll(async () => {
    pgc = await startPrivatePostgres();
    broker = await startPrivateMosquitto();
  });

  it('pg_ctl stop -m fast, then start: exactly K rows, the ingest retried', async () => {
    const pool = await openPool({ url: pgc.url, max: 5 });
    cleanups.push(() => pool.end());
    // Test-side guard for the bug below: pg-pool removes its error listener from a checked-out
    // client, so a server shutdown while the ingest holds one (between queries) is an uncaught
    // exception. Without this line the run dies about one time in three.
    pool.on('connect', (client) => client.on('error', () => {}));
    await migrate(pool, log);
    const ingest = await startIngest({ pool, mqttUrl: broker.url, connections: 4 });
    const pub = await mqtt.connectAsync(broker.url, { clientId: uniqueId('pub'), clean: false });
    cleanups.push(() => pub.endAsync());
    const BATCHES = 200;
    const SIZE = 20;
    const K = BATCHES * SIZE;
    const sending = (async () => {
      let seq = 0;
      for (let b = 0; b < BATCHES; b++) {
        seq = await publishBatches(pub, {
          base: ingest.base,
          tenantId: TENANT,
          vehicleId: 'van-pg-restart',
          fromSeq: seq,
          batches: 1,
          size: SIZE,
          t0: T0,
        });
        await sleep(10);
      }
    })();
    await vi.waitFor(() => expect(ingest.stats.samplesInserted).toBeGreaterThan(400), { timeout: 10_000 });
    await pgc.stop('fast');
    await sleep(1500);
    await pgc.start();
    await sending;
    await vi.waitFor(() => expect(ingest.stats.samplesInserted).toBe(K), { timeout: 40_000, interval: 100 });
    await sleep(300);
    expect(await counts(pool, 'van-pg-restart')).toEqual(exactly(K));
    expect(ingest.stats.dbRetries, 'the outage really hit the ingest').toBeGreaterThan(0);
    expect(ingest.stats.batches).toBeGreaterThanOrEqual(BATCHES);
  }, 60_000);

  /**
   * Regression: TelemetryIngest.store() held a pool client for the whole group transaction without an
   * 'error' listener (pg-pool removes its own on checkout). A connection error between two
   * queries (server shutdown, network reset) is emitted as 'error' with no listener: the ingest
   * process crashes with "terminating connection due to administrator command" (seen in this
   * file's first runs). Fix: `db.on('error', ...)` after pool.connect(), removed before release.
   */
  it('the client the ingest holds during a transaction has an error listener', async () => {
    const pool = await openPool({ url: pgc.url, max: 2 });
    cleanups.push(() => pool.end());
    await migrate(pool, log);
    const listeners: number[] = [];
    const ingest = await startIngest({
      pool,
      mqttUrl: broker.url,
      connections: 1,
      beforeCommit: async (db) => {
        listeners.push(db.listenerCount('error'));
      },
    });
    const pub = await mqtt.connectAsync(broker.url, { clientId: uniqueId('pub'), clean: true });
    cleanups.push(() => pub.endAsync());
    await publishBatches(pub, {
      base: ingest.base,
      tenantId: TENANT,
      vehicleId: 'van-listener',
      fromSeq: 0,
      batches: 1,
      size: 1,
      t0: T0,
    });
    await vi.waitFor(() => expect(listeners.length).toBe(1), { timeout: 10_000 });
    expect(listeners[0]).toBeGreaterThan(0);
  });
});

describe('slow consumer (private Mosquitto)', () => {
  const PUBLISHERS = 20;
  const PER = 250;
  const SENT = PUBLISHERS * PER;

  async function flood(url: string, base: string) {
    const pubs = await Promise.all(
      Array.from({ length: PUBLISHERS }, () =>
        mqtt.connectAsync(url, { clientId: uniqueId('pub'), clean: true }),
      ),
    );
    cleanups.push(() => Promise.all(pubs.map((p) => p.endAsync())));
    await Promise.all(
      pubs.map((p, v) =>
        Promise.all(
          Array.from({ length: PER }, (_, i) =>
            p.publishAsync(
              vehicleTopic('telemetry', TENANT, `van-slow-${v}`, base),
              encodeTelemetryBatch({
                v: 1,
                vehicleId: `van-slow-${v}`,
                samples: [sampleAt(i + 1, T0 + i * 1000)],
              }),
              { qos: 1 },
            ),
          ),
        ),
      ),
    );
  }

  async function totals(pool: pg.Pool) {
    const { rows } = await pool.query<{ rows: number; keys: number }>(
      'SELECT count(*)::int AS rows, count(DISTINCT (vehicle_id, seq))::int AS keys FROM telemetry',
    );
    return rows[0]!;
  }

  it('shipped config: 20 publishers x 250 messages faster than a 20 ms/commit ingest; all 5,000 arrive', async () => {
    const broker = await startPrivateMosquitto();
    const pool = await testPool('t_fault_slow');
    const ingest = await startIngest({
      pool,
      mqttUrl: broker.url,
      connections: 8,
      beforeCommit: () => sleep(20),
    });
    await flood(broker.url, ingest.base);
    const atPublishEnd = ingest.stats.batches;
    expect(atPublishEnd, 'a backlog existed when the publishers were done').toBeLessThan(SENT);
    await vi.waitFor(() => expect(ingest.stats.batches).toBe(SENT), { timeout: 50_000, interval: 100 });
    await sleep(300);
    expect(await totals(pool)).toEqual({ rows: SENT, keys: SENT });
    expect(ingest.stats.samplesDuplicate).toBe(0);
    console.warn(`slow consumer: backlog ${SENT - atPublishEnd} of ${SENT} at publish end; drained`);
  }, 60_000);

  it('COUNTER-EXAMPLE: with max_queued_messages 100 the same flood is silently dropped (count < sent)', async () => {
    const broker = await startPrivateMosquitto(['max_queued_messages 100']);
    const pool = await testPool('t_fault_drop');
    const ingest = await startIngest({
      pool,
      mqttUrl: broker.url,
      connections: 2,
      beforeCommit: () => sleep(20),
    });
    await flood(broker.url, ingest.base); // every PUBACK arrives all the same
    // Settled: no new batch for 1.5 s.
    let last = -1;
    while (ingest.stats.batches !== last) {
      last = ingest.stats.batches;
      await sleep(1500);
    }
    const got = await totals(pool);
    expect(got.rows).toBe(got.keys);
    expect(got.rows, 'messages the broker dropped while every publisher got its PUBACK').toBeLessThan(SENT);
    console.warn(`counter-example: max_queued_messages 100 delivered ${got.rows} of ${SENT}`);
  }, 60_000);
});

describe('late, duplicate and out-of-order data', () => {
  let broker: PrivateMosquitto;
  let pool: pg.Pool;
  let ingest: TelemetryIngest & { base: string };
  let pub: mqtt.MqttClient;
  beforeAll(async () => {
    broker = await startPrivateMosquitto();
    pool = await testPool('t_fault_late');
    ingest = await startIngest({ pool, mqttUrl: broker.url, connections: 2 });
    pub = await mqtt.connectAsync(broker.url, { clientId: uniqueId('pub'), clean: true });
    cleanups.push(() => pub.endAsync());
  });

  const s = (seq: number, ts: number, lat = 48): TelemetrySample => ({ ...sampleAt(seq, ts), lat });

  async function send(vehicleId: string, samples: TelemetrySample[], historical?: boolean) {
    const before = ingest.stats.batches;
    await pub.publishAsync(
      vehicleTopic('telemetry', TENANT, vehicleId, ingest.base),
      encodeTelemetryBatch({ v: 2, vehicleId, samples, ...(historical ? { historical } : {}) }),
      { qos: 1 },
    );
    await vi.waitFor(() => expect(ingest.stats.batches).toBe(before + 1), { timeout: 10_000, interval: 10 });
  }

  async function latest(vehicleId: string) {
    const { rows } = await pool.query<{ ts: Date; lat: number }>(
      'SELECT ts, lat FROM vehicle_latest WHERE vehicle_id = $1',
      [vehicleId],
    );
    return rows[0];
  }

  it('a historical (backfill) batch older than live data: stored, counted historical, latest unchanged', async () => {
    const v = 'van-late';
    const live = Array.from({ length: 10 }, (_, i) => s(101 + i, T0 + 3_600_000 + i * 1000, 10));
    await send(v, live);
    expect(await latest(v)).toEqual({ ts: new Date(T0 + 3_600_000 + 9000), lat: 10 });
    const hist0 = ingest.stats.samplesHistorical;
    // The outage's backlog: lower seqs, an hour older, flagged historical (binary v2 payload).
    await send(
      v,
      Array.from({ length: 100 }, (_, i) => s(1 + i, T0 + i * 1000, 20)),
      true,
    );
    expect(ingest.stats.samplesHistorical - hist0).toBe(100);
    expect(await latest(v)).toEqual({ ts: new Date(T0 + 3_600_000 + 9000), lat: 10 });
    expect(await counts(pool, v)).toEqual(exactly(110));
  });

  it('a backfill behind live data records the geofence entries and exits it holds, once, as history', async () => {
    const v = 'van-fenced';
    // A band around latitude 20 (every longitude the samples use): 10 is outside, 20 inside.
    await pool.query(
      `INSERT INTO geofences (tenant_id, name, lats, lons, min_lat, max_lat, min_lon, max_lon, created_by)
       VALUES ($1, 'Band', '{19,19,21,21}', '{-90,90,90,-90}', 19, 21, -90, 90, 'test')`,
      [TENANT],
    );
    await send(v, [s(101, T0 + 3_600_000, 10)]); // back online, outside
    // The outage: outside, 10 s inside the band, outside again.
    const backlog = Array.from({ length: 30 }, (_, i) =>
      s(1 + i, T0 + i * 1000, i >= 10 && i < 20 ? 20 : 10),
    );
    const records = async () =>
      (
        await pool.query<{ type: string; ts: Date; status: string }>(
          `SELECT type, ts, status FROM alerts WHERE vehicle_id = $1 ORDER BY ts`,
          [v],
        )
      ).rows.map((r) => [r.type, r.ts.getTime() - T0, r.status]);
    await send(v, backlog, true);
    const week = [
      ['geofence_enter', 10_000, 'resolved'],
      ['geofence_exit', 20_000, 'resolved'],
    ];
    expect(await records()).toEqual(week);
    await send(v, backlog, true); // replayed after a lost ack
    expect(await records()).toEqual(week);
    expect((await pool.query('SELECT 1 FROM geofence_presence WHERE vehicle_id = $1', [v])).rowCount).toBe(0);
    expect(await latest(v)).toEqual({ ts: new Date(T0 + 3_600_000), lat: 10 });
  });

  it('out-of-order and duplicated batches: every seq exactly once, rollups and latest unaffected', async () => {
    const v = 'van-shuffled';
    const batches = Array.from({ length: 10 }, (_, b) =>
      Array.from({ length: 10 }, (_, i) => s(b * 10 + i + 1, T0 + (b * 10 + i) * 1000, b)),
    );
    // 9, 0, 8, 1, ... then every batch again, then the newest once more.
    const order = [9, 0, 8, 1, 7, 2, 6, 3, 5, 4];
    const ins0 = ingest.stats.samplesInserted;
    const dup0 = ingest.stats.samplesDuplicate;
    for (const b of order) await send(v, batches[b]!);
    for (const b of order) await send(v, batches[b]!);
    await send(v, batches[9]!);
    expect(ingest.stats.samplesInserted - ins0).toBe(100);
    expect(ingest.stats.samplesDuplicate - dup0).toBe(110);
    expect(await counts(pool, v)).toEqual(exactly(100));
    expect(await latest(v)).toEqual({ ts: new Date(T0 + 99_000), lat: 9 });
  });
});

describe('backfill yields to slow live traffic', () => {
  /**
   * Every commit is slowed to 80 ms (beforeCommit), so live messages take longer than the 40 ms
   * yield threshold from arrival to COMMIT. Six backfill messages wait from the start, one per
   * group (maxGroupBytes at its minimum), while a live vehicle publishes every 20 ms. With the
   * yield, the backfill groups start `backfillMaxHoldMs` apart; without it (the counter-example),
   * one right after the other. Either way every sample is stored. Published as the agent does
   * (`ack=cloud`: PUBACK on arrival), so a held backfill message does not hold up the live ones
   * behind it on the same connection.
   */
  async function run(backfillYieldMs: number) {
    const HOLD = 600;
    const pool = await testPool(`t_fault_yield_${backfillYieldMs}`);
    const backfillCommits: number[] = [];
    const ingest = await startIngest({
      pool,
      mqttUrl: 'mqtt://127.0.0.1:1883',
      connections: 4,
      maxGroupBytes: 1024,
      // Room for live groups beside the backfill one: live must be slow here, not saturated
      // (a saturated live lane is always first in line and starves the backfill by itself).
      maxConcurrentFlushes: 4,
      backfillYieldMs,
      backfillMaxHoldMs: HOLD,
      beforeCommit: () => sleep(80),
      onCommit: (at, batches) => {
        if (batches.some((b) => b.historical === true)) backfillCommits.push(at);
      },
    });
    const pub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      clientId: uniqueId('pub'),
      clean: true,
      protocolVersion: 5,
    });
    cleanups.push(() => pub.endAsync());
    const topic = (v: string) => vehicleTopic('telemetry', TENANT, v, ingest.base);
    // Live first, so the ingest has seen slow live commits when the backlog arrives. Twenty
    // vehicles in turn, each at 2.5 Hz: one vehicle's groups would queue on its vehicle_latest
    // row lock (held through the slowed commit) and saturate the live lane by themselves.
    let liveSent = 0;
    const liveSeq = new Array<number>(20).fill(0);
    const sendLive = () => {
      const v = liveSent++ % 20;
      const vehicleId = `van-live-${v}`;
      return pub.publishAsync(
        topic(vehicleId),
        encodeTelemetryBatch({ v: 2, vehicleId, samples: [sampleAt(++liveSeq[v]!, Date.now())] }),
        { qos: 1, properties: { userProperties: { ack: 'cloud' } } },
      );
    };
    for (let i = 0; i < 25; i++) {
      await sendLive();
      await sleep(20);
    }
    for (let b = 0; b < 6; b++) {
      const samples = Array.from({ length: 100 }, (_, i) =>
        sampleAt(b * 100 + i + 1, T0 + (b * 100 + i) * 1000),
      );
      await pub.publishAsync(
        topic('van-backlog'),
        encodeTelemetryBatch({ v: 2, vehicleId: 'van-backlog', samples, historical: true }),
        { qos: 1, properties: { userProperties: { ack: 'cloud', historical: 'true' } } },
      );
    }
    const liveUntil = Date.now() + 3000;
    while (Date.now() < liveUntil) {
      await sendLive();
      await sleep(20);
    }
    await vi.waitFor(() => expect(backfillCommits.length).toBe(6), { timeout: 20_000, interval: 50 });
    expect(await counts(pool, 'van-backlog')).toEqual(exactly(600));
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM telemetry WHERE vehicle_id LIKE 'van-live-%'",
        );
        expect(rows[0]!.n).toBe(liveSent);
      },
      { timeout: 10_000 },
    );
    const gaps = backfillCommits.slice(1).map((t, i) => t - backfillCommits[i]!);
    console.warn(
      `backfill yield ${backfillYieldMs} ms: gaps between backfill commits ${gaps.map(Math.round).join(', ')} ms`,
    );
    return { gaps, hold: HOLD };
  }

  it('holds each backfill group back while live commits are slow, and stores everything', async () => {
    const { gaps, hold } = await run(40);
    // The first gaps fall inside the 3 s of live traffic: the hold between two starts, give or
    // take the spread of one commit (80 ms and more) between two COMMITs.
    // The median of the first three, so one scheduling hiccup of a loaded machine (a second
    // without a live commit lets a backfill group go at once) does not decide the verdict.
    const first = gaps.slice(0, 3).sort((a, b) => a - b);
    expect(first[1]!).toBeGreaterThanOrEqual(hold * 0.6);
  }, 60_000);

  it('COUNTER-EXAMPLE, backfillYieldMs 0: the backfill groups go one right after the other', async () => {
    const { gaps, hold } = await run(0);
    const sorted = [...gaps].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThan(hold / 2);
  }, 60_000);
});
