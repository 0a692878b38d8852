/**
 * Store-and-forward against the real Mosquitto on 127.0.0.1:1883 (unique base topic per test),
 * through a TCP proxy the test can cut to simulate the vehicle losing its link.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeTelemetryBatch, type TelemetryAck, type TelemetryBatch } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dbStats } from '../src/cli/db.ts';
import { syncFlush, syncStatus } from '../src/cli/sync.ts';
import { AgentDb } from '../src/store/agent-db.ts';
import type { NewSample } from '../src/store/sample-outbox.ts';
import { BrokerLink, type BrokerLinkOptions } from '../src/sync/broker-link.ts';
import { startBrokerProxy } from './support/broker-proxy.ts';

const BROKER = { host: '127.0.0.1', port: 1883 };
const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const sample = (i: number): NewSample => ({
  ts: T0 + i * 1000,
  lat: 48.1 + i / 1e4,
  lon: 11.5,
  speedKmh: i % 100,
  rpm: 800,
  fuelLevelPct: 50,
  coolantC: 90,
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(async () => {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(BROKER, () => {
      s.end();
      resolve();
    });
    s.on('error', () =>
      reject(
        new Error(
          'Mosquitto is not reachable on 127.0.0.1:1883; start it with: mosquitto -d -c /etc/mosquitto/mosquitto.conf',
        ),
      ),
    );
  });
});

let n = 0;
function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-sync-'));
  const base = `synctest-${process.pid}-${Date.now()}-${n++}`;
  const vehicleId = `van-${n}`;
  const store = new AgentDb(path.join(dir, 'agent.db'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  return { dir, base, vehicleId, store, db: path.join(dir, 'agent.db') };
}

/** A proxy to the broker that can be cut (every connection dropped, new ones refused). */
async function proxy() {
  const p = await startBrokerProxy(BROKER);
  cleanups.push(() => p.close());
  return p;
}

/**
 * Stands in for the cloud ingest (which cloud/test runs for real): records every batch and
 * answers it on the vehicle's ack topic as the ingest does after COMMIT, per `answer`.
 */
async function subscriber(
  base: string,
  answer: (b: TelemetryBatch) => 'stored' | 'refused' | 'silent' = () => 'stored',
) {
  const received: TelemetryBatch[] = [];
  const client = mqtt.connect(`mqtt://${BROKER.host}:${BROKER.port}`, { protocolVersion: 5 });
  client.on('message', (topic, payload) => {
    const r = decodeTelemetryBatch(payload);
    if (!r.ok) throw new Error(r.reason);
    received.push(r.batch);
    const status = answer(r.batch);
    if (status === 'silent') return;
    const ack: TelemetryAck = {
      v: 1,
      batchSeq: r.batch.batchSeq!,
      status,
      first: r.batch.samples[0]!.seq,
      last: r.batch.samples.at(-1)!.seq,
      ...(status === 'refused' ? { reason: 'vehicle "x" is not registered' } : {}),
    };
    client.publish(topic.replace(/telemetry$/, 'ack'), JSON.stringify(ack), { qos: 1 });
  });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await client.subscribeAsync(`${base}/v1/+/+/telemetry`, { qos: 1 });
  cleanups.push(() => client.endAsync());
  return received;
}

async function waitFor(what: string, check: () => boolean, ms = 15_000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const seqsOf = (batches: TelemetryBatch[]) => batches.flatMap((b) => b.samples.map((s) => s.seq));

describe('BrokerLink telemetry lane against Mosquitto', () => {
  it('drains the backlog oldest-first flagged historical while live batches keep flowing; batchSeq monotonic', async () => {
    const { base, vehicleId, store } = setup();
    for (let i = 0; i < 1000; i++) store.samples.append(sample(i)); // the outage's backlog
    const received = await subscriber(base);
    const p = await proxy();
    const sync = new BrokerLink(
      store,
      {
        url: p.url,
        tenantId: 't1',
        vehicleId,
        baseTopic: base,
        batchSize: 50,
        backfillInflight: 2,
        flushIntervalMs: 50,
        flushJitterMs: 0,
      },
      createLogger('sync-test'),
    );
    cleanups.push(() => sync.stop());
    let i = 1000;
    const live = setInterval(() => store.samples.append(sample(i++)), 5);
    cleanups.push(() => clearInterval(live));
    sync.start();
    await waitFor('backlog drained', () => received.filter((b) => b.historical).length >= 20);
    clearInterval(live);
    await waitFor('everything sent', () => store.stats().unsent === 0 && seqsOf(received).length >= i);
    expect(sync.stats.protocolVersion).toBe(5);

    const historical = received.filter((b) => b.historical);
    const hseqs = seqsOf(historical);
    expect(hseqs.slice(0, 1000)).toEqual(Array.from({ length: 1000 }, (_, k) => k + 1)); // oldest first
    // Live batches arrived while the backlog was still draining, not after it.
    const firstLive = received.findIndex((b) => !b.historical);
    const lastHistorical = received.findLastIndex((b) => b.historical && b.samples[0]!.seq <= 1000);
    expect(firstLive).toBeGreaterThanOrEqual(0);
    expect(firstLive).toBeLessThan(lastHistorical);
    const batchSeqs = received.map((b) => b.batchSeq!);
    for (let k = 1; k < batchSeqs.length; k++) expect(batchSeqs[k]).toBeGreaterThan(batchSeqs[k - 1]!);
    expect(new Set(seqsOf(received))).toEqual(new Set(Array.from({ length: i }, (_, k) => k + 1)));
    expect(received[0]!.dropped).toEqual({ rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 });
    expect(store.samples.ackedSeq()).toBe(i);
  });

  it('reconnects after the link drops; the outage is sent as historical backfill, nothing lost', async () => {
    const { base, vehicleId, store } = setup();
    const received = await subscriber(base);
    const p = await proxy();
    const sync = new BrokerLink(
      store,
      {
        url: p.url,
        tenantId: 't1',
        vehicleId,
        baseTopic: base,
        batchSize: 20,
        flushIntervalMs: 50,
        flushJitterMs: 0,
        reconnectPeriodMs: 200,
      },
      createLogger('sync-test'),
    );
    cleanups.push(() => sync.stop());
    sync.start();
    await sync.waitConnected(5000);
    for (let i = 0; i < 30; i++) store.samples.append(sample(i));
    await waitFor('first samples', () => seqsOf(received).length >= 30);
    // Their acks are still on the way when the batches arrive: cut once the cursor has them.
    await waitFor('first samples acknowledged', () => store.samples.ackedSeq() === 30);
    p.cut();
    await waitFor('disconnect noticed', () => !sync.connected);
    for (let i = 30; i < 130; i++) store.samples.append(sample(i));
    await new Promise((r) => setTimeout(r, 300));
    expect(store.stats().unsent).toBe(100);
    p.restore();
    await waitFor(
      'reconnected and drained',
      () => store.stats().unsent === 0 && new Set(seqsOf(received)).size >= 130,
    );
    expect(sync.stats.connects).toBeGreaterThanOrEqual(2);
    const outage = received.filter((b) => b.samples.some((s) => s.seq > 30));
    expect(outage.every((b) => b.historical)).toBe(true);
    expect(new Set(seqsOf(received))).toEqual(new Set(Array.from({ length: 130 }, (_, k) => k + 1)));
  });

  it('falls back to MQTT 3.1.1 by config', async () => {
    const { base, vehicleId, store } = setup();
    const received = await subscriber(base);
    store.samples.append(sample(0));
    const sync = new BrokerLink(
      store,
      {
        url: 'mqtt://127.0.0.1:1883',
        tenantId: 't1',
        vehicleId,
        baseTopic: base,
        protocol: '4',
        flushIntervalMs: 50,
      },
      createLogger('sync-test'),
    );
    cleanups.push(() => sync.stop());
    sync.start();
    await waitFor('sent', () => received.length === 1);
    expect(sync.stats.protocolVersion).toBe(4);
  });
});

describe('cloud acknowledgement (the cursor moves on the ack after COMMIT, not on PUBACK)', () => {
  function agent(base: string, vehicleId: string, store: AgentDb, extra: Partial<BrokerLinkOptions> = {}) {
    const sync = new BrokerLink(
      store,
      {
        url: `mqtt://${BROKER.host}:${BROKER.port}`,
        tenantId: 't1',
        vehicleId,
        baseTopic: base,
        batchSize: 10,
        flushIntervalMs: 50,
        flushJitterMs: 0,
        ackTimeoutMs: 300,
        ...extra,
      },
      createLogger('sync-test').child({}, { level: 'fatal' }),
    );
    cleanups.push(() => sync.stop());
    sync.start();
    return sync;
  }

  it('a batch the cloud never answers is sent again until it is answered; each sample acked once', async () => {
    const { base, vehicleId, store } = setup();
    // The cloud "loses" the first two deliveries of batches carrying seq 1 (like a broker that
    // PUBACKed and then dropped them), then answers.
    let lost = 0;
    const received = await subscriber(base, (b) => {
      if (b.samples[0]!.seq !== 1 || lost === 2) return 'stored';
      lost++;
      return 'silent';
    });
    for (let i = 0; i < 30; i++) store.samples.append(sample(i));
    const sync = agent(base, vehicleId, store);
    await waitFor('drained', () => store.stats().unsent === 0);
    expect(lost).toBe(2);
    expect(sync.telemetry.stats.ackTimeouts).toBeGreaterThanOrEqual(2);
    expect(store.samples.ackedSeq()).toBe(30);
    // Resent, so seq 1 arrived 3 times; every seq arrived at least once.
    expect(seqsOf(received).filter((s) => s === 1)).toHaveLength(3);
    expect(new Set(seqsOf(received))).toEqual(new Set(Array.from({ length: 30 }, (_, k) => k + 1)));
  });

  it('the broker PUBACK alone does not move the cursor', async () => {
    const { base, vehicleId, store } = setup();
    const received = await subscriber(base, () => 'silent');
    for (let i = 0; i < 5; i++) store.samples.append(sample(i));
    const sync = agent(base, vehicleId, store, { ackTimeoutMs: 60_000 });
    await waitFor('published', () => received.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(store.samples.ackedSeq()).toBe(0);
    expect(store.stats().unsent).toBe(5);
    expect(sync.telemetry.stats.cloudAcks).toBe(0);
  });

  it('a refused batch stays on the vehicle and the sync backs off', async () => {
    const { base, vehicleId, store } = setup();
    const received = await subscriber(base, () => 'refused');
    for (let i = 0; i < 5; i++) store.samples.append(sample(i));
    const sync = agent(base, vehicleId, store, { refusedBackoffMs: 60_000 });
    await waitFor('refused', () => sync.telemetry.stats.refusedBatches === 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(received).toHaveLength(1); // backing off: not resent every flush
    expect(store.stats().unsent).toBe(5);
  });
});

describe('CLI: sync status, sync flush, db stats (--json)', () => {
  it('reports the backlog, flushes it, and shows stats', async () => {
    const { base, vehicleId, store, db } = setup();
    for (let i = 0; i < 120; i++) store.samples.append(sample(i));
    store.samples.acknowledge(20);
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(syncStatus({ db, json: true, batchSize: 50 }, io, T0 + 200_000)).toBe(0);
    expect(JSON.parse(out.pop()!)).toMatchObject({
      connected: false,
      unsentSamples: 100,
      unsentBatches: 2,
      oldestUnsentTs: T0 + 20_000,
      oldestUnsentAgeMs: 180_000,
      ackedSeq: 20,
      lastSeq: 120,
      evictions: { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 },
    });

    const received = await subscriber(base);
    const code = await syncFlush(
      {
        db,
        vehicle: vehicleId,
        tenant: 't1',
        mqttUrl: 'mqtt://127.0.0.1:1883',
        baseTopic: base,
        timeout: '10',
        json: true,
      },
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out.pop()!)).toMatchObject({ drained: true, sentSamples: 100, remaining: 0 });
    await waitFor('received', () => seqsOf(received).length === 100);
    expect(received.every((b) => b.historical)).toBe(true);

    expect(dbStats({ db, json: true }, io)).toBe(0);
    const stats = JSON.parse(out.pop()!);
    expect(stats).toMatchObject({
      samples: 120,
      ackedSeq: 120,
      unsent: 0,
      rows: { samples: 120, rollups_minute: 2, events: 0 },
    });
    expect(stats.fileBytes).toBeGreaterThan(0);
    expect(stats.evictions).toEqual({ rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 });

    const failed = await syncFlush(
      {
        db,
        vehicle: vehicleId,
        tenant: 't1',
        mqttUrl: 'mqtt://127.0.0.1:1',
        baseTopic: base,
        timeout: '1',
        json: true,
      },
      io,
    );
    expect(failed).toBe(1);
  });
});
