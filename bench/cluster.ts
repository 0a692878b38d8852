/**
 * The broker cluster (issue 20 §3), must-shows 1 and 2, in one run on this machine:
 *
 *   1. raw COPY of telemetry rows into PostgreSQL (bench/support/raw-copy.ts): the ceiling, measured
 *      now because this machine's speed varies 2-3x with the other work on it
 *   2. the ingest benchmark of bench/ingest.ts step 3 (binary v2 batches of 250, QoS 1, one ingest
 *      process) on the single Mosquitto at 127.0.0.1:1883 (MQTT 5 shared subscription), then on a
 *      3-node NATS JetStream cluster started here (scripts/lib/nats-cluster.ts; publishers on the
 *      three MQTT listeners, the ingest on a durable JetStream consumer): samples/s and % of COPY
 *   3. node loss: 1,000 vehicles at 1 Hz (one connection each, failing over between the three
 *      listeners, each with an outbox that resends what the cloud has not acked after COMMIT),
 *      two ingest workers as OS processes on one durable consumer; kill -9 a broker node, then a
 *      worker, then restart both; every vehicle's samples counted in PostgreSQL against its
 *      outbox (lost, duplicated), the lag peak (oldest unacked sample in the fleet) and the time
 *      to resume (lag back under 3 s) after each step
 *
 *   node --import tsx bench/cluster.ts            (about 3 min on 2 cores)
 *   BENCH_VEHICLES=N BENCH_SAMPLES=N BENCH_PHASE_S=N   other sizes
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { migrate } from '../cloud/src/db/migrate.ts';
import { openPool } from '../cloud/src/db/pool.ts';
import { TelemetryIngest } from '../cloud/src/ingest/telemetry-ingest.ts';
import { mqtt, sampleAt } from '../cloud/test/support/publisher.ts';
import { failoverServers } from '../edge-agent/src/sync/broker-link.ts';
import { startNatsCluster } from '../scripts/lib/nats-cluster.ts';
import { REPO_ROOT } from '../scripts/lib/processes.ts';
import { encodeTelemetryBatch, type TelemetrySample, vehicleTopic } from '../shared/src/index.ts';
import { createLogger } from '../shared/src/log.ts';
import { measureRawCopy } from './support/raw-copy.ts';

const DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MOSQUITTO_URL = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const VEHICLES = Number(process.env.BENCH_VEHICLES ?? 1000);
const THROUGHPUT_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 250_000);
const BATCH = 250;
const PHASE_S = Number(process.env.BENCH_PHASE_S ?? 15);
/** The light outbox resends a batch the cloud has not acked after this long (the agent: 30 s). */
const ACK_TIMEOUT_MS = 5000;
const RESUMED_LAG_MS = 3000;
const TENANT = 'bench';

const log = createLogger('bench');
log.level = 'error';
const id = randomBytes(4).toString('hex');
const schema = `bench_cluster_${id}`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Binary v2 batches of BATCH samples for `vehicles` vehicles, encoded before any clock starts. */
function throughputPayloads(base: string, total: number) {
  const vehicles = Math.max(1, Math.floor(total / BATCH));
  const t0 = Date.now() - 3600_000;
  return Array.from({ length: vehicles }, (_, v) => {
    const vehicleId = `veh-${v}`;
    const samples = Array.from({ length: BATCH }, (_, k) => sampleAt(k + 1, t0 + (k + 1) * 1000));
    return {
      topic: vehicleTopic('telemetry', TENANT, vehicleId, base),
      payload: encodeTelemetryBatch({ v: 2, vehicleId, samples, batchSeq: 1 }),
    };
  });
}

/** Step 2 on one broker: publish everything over 8 connections, time until all is committed. */
async function throughput(
  label: string,
  brokerUrls: string[],
  ingestOpts: Partial<ConstructorParameters<typeof TelemetryIngest>[0]>,
  pool: Awaited<ReturnType<typeof openPool>>,
  protocolVersion: 4 | 5,
) {
  const base = `bench${label}-${id}`;
  const ingest = new TelemetryIngest({
    pool,
    mqttUrl: brokerUrls[0]!,
    baseTopic: base,
    clientId: `bench-ingest-${label}-${id}`,
    autoRegisterVehicles: true,
    connections: 32,
    sharedGroup: `bench-${label}-${id}`,
    maxConcurrentFlushes: 3,
    log,
    ...ingestOpts,
  });
  await ingest.start();
  const payloads = throughputPayloads(base, THROUGHPUT_SAMPLES);
  const total = payloads.length * BATCH;
  const pubs = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      mqtt.connectAsync(brokerUrls[i % brokerUrls.length]!, {
        clientId: `bench-pub-${label}-${id}-${i}`,
        clean: true,
        protocolVersion,
      }),
    ),
  );
  // As the agent publishes: MQTT 5 brokers get `ack=cloud` (early PUBACK); NATS speaks 3.1.1.
  const opts =
    protocolVersion === 5
      ? ({ qos: 1, properties: { userProperties: { ack: 'cloud' } } } as const)
      : ({ qos: 1 } as const);
  const t = performance.now();
  await Promise.all(
    pubs.map(async (p, i) => {
      for (let k = i; k < payloads.length; k += pubs.length)
        await p.publishAsync(payloads[k]!.topic, payloads[k]!.payload, opts);
    }),
  );
  while (ingest.stats.samplesInserted < total) await sleep(5);
  const rate = total / ((performance.now() - t) / 1000);
  const groups = ingest.stats.groups;
  await Promise.all(pubs.map((p) => p.endAsync()));
  await ingest.stop();
  return { rate, total, groups, clientIds: ingest.clientIds, mode: ingest.mode };
}

/** One simulated vehicle: 1 Hz samples into an outbox that only the cloud's ack after COMMIT empties. */
class LightVehicle {
  created = 0;
  /** seq -> creation time, oldest first: what the cloud has not confirmed yet. */
  readonly unacked = new Map<number, number>();
  private readonly inFlight = new Map<number, { seqs: number[]; at: number }>();
  private readonly inFlightSeqs = new Set<number>();
  private batchSeq = 0;
  refused = 0;
  private timer: NodeJS.Timeout | undefined;
  client: mqtt.MqttClient;

  constructor(
    readonly vehicleId: string,
    private readonly base: string,
    brokerUrls: string[],
  ) {
    const clientId = `bench-veh-${id}-${vehicleId}`;
    this.client = mqtt.connect(brokerUrls[0]!, {
      clientId,
      servers: failoverServers(brokerUrls, clientId),
      protocolVersion: 4,
      clean: false,
      // The agent's keepalive (a killed node's sockets close at once: no ping needed to notice),
      // and reconnects spread over 1-2 s: a third of the fleet redialling in lockstep every
      // 500 ms, each CONNECT a JetStream session lookup, kept a loaded cluster from settling.
      keepalive: 30,
      reconnectPeriod: 1000 + Math.floor(Math.random() * 1000),
      connectTimeout: 5000,
    });
    const ackTopic = vehicleTopic('ack', TENANT, vehicleId, base);
    this.client.on('connect', () => {
      // QoS 0 as the ack is published (acks.ts): on NATS a QoS 1 subscription is a JetStream
      // consumer per vehicle (R3 raft groups), which the acks, sent at most once, gain nothing from.
      const map = { [ackTopic]: { qos: 0 }, resubscribe: true };
      this.client.subscribe(map as unknown as mqtt.ISubscriptionMap, () => {});
    });
    this.client.on('error', () => {});
    this.client.on('message', (_topic, payload) => {
      const ack = JSON.parse(payload.toString()) as { batchSeq: number; status: string };
      const b = this.inFlight.get(ack.batchSeq);
      if (!b) return; // a late ack of a batch already resent: the resend's own ack settles it
      this.inFlight.delete(ack.batchSeq);
      for (const s of b.seqs) {
        this.inFlightSeqs.delete(s);
        if (ack.status === 'stored') this.unacked.delete(s);
      }
      if (ack.status !== 'stored') this.refused++;
    });
  }

  start(offsetMs: number, t0: number) {
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => this.tick(t0), 1000);
      this.tick(t0);
    }, offsetMs);
  }

  stopRecording() {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    // Keep sending what is unacked until the outbox is empty.
    this.timer = setInterval(() => this.send(), 1000);
  }

  private tick(t0: number) {
    this.created++;
    this.unacked.set(this.created, t0 + this.created * 1000);
    this.send();
  }

  private send() {
    const now = Date.now();
    for (const [seq, b] of this.inFlight) {
      if (now - b.at < ACK_TIMEOUT_MS) continue;
      this.inFlight.delete(seq);
      for (const s of b.seqs) this.inFlightSeqs.delete(s);
    }
    if (!this.client.connected) return;
    const samples: TelemetrySample[] = [];
    for (const [seq, ts] of this.unacked) {
      if (this.inFlightSeqs.has(seq)) continue;
      samples.push(sampleAt(seq, ts));
      if (samples.length >= 100) break;
    }
    if (samples.length === 0) return;
    const batchSeq = ++this.batchSeq;
    this.inFlight.set(batchSeq, { seqs: samples.map((s) => s.seq), at: now });
    for (const s of samples) this.inFlightSeqs.add(s.seq);
    this.client.publish(
      vehicleTopic('telemetry', TENANT, this.vehicleId, this.base),
      encodeTelemetryBatch({ v: 2, vehicleId: this.vehicleId, samples, batchSeq }),
      { qos: 1 },
      () => {},
    );
  }

  /** ms since the oldest sample the cloud has not confirmed was created; 0 when none. */
  lag(now: number): number {
    for (const ts of this.unacked.values()) return Math.max(0, now - ts);
    return 0;
  }

  async close() {
    clearInterval(this.timer);
    await this.client.endAsync(true);
  }
}

/** An ingest worker in an OS process of its own (cloud/test/support/ingest-process.ts), on JetStream. */
async function startWorker(name: string, base: string, natsUrls: string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'cloud/test/support/ingest-process.ts'),
      DB_URL,
      schema,
      'mqtt://unused.invalid:1883',
      base,
      'fleet-ingest',
      `bench-worker-${id}-${name}`,
      natsUrls.join(','),
    ],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => l === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}) before ready`)));
  });
  return child;
}

const killed = (c: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });

async function main() {
  const pool = await openPool({ url: DB_URL, schema, max: 10 });
  const cluster = await startNatsCluster({ logDir: process.env.BENCH_NATS_LOGS });
  const workers: ChildProcess[] = [];
  const fleet: LightVehicle[] = [];
  const results: [string, string, string][] = [];
  const mosquittoSessions: string[] = [];
  try {
    await migrate(pool, log);
    const copyRate = await measureRawCopy(pool, { table: 'raw_copy', rows: 300_000, vehicles: 2000 });
    results.push(['raw COPY (text, one stream)', `${fmt(copyRate)} rows/s`, '300,000 rows']);

    // Must-show 2: the same ingest benchmark on single Mosquitto and on the cluster.
    const single = await throughput('mosq', [MOSQUITTO_URL], {}, pool, 5);
    mosquittoSessions.push(...single.clientIds);
    results.push([
      `ingest on single Mosquitto (${single.mode}, ${fmt(single.total)} samples x ${BATCH}/batch)`,
      `${fmt(single.rate)} samples/s`,
      `${((single.rate / copyRate) * 100).toFixed(0)} % of COPY; ${single.groups} txns`,
    ]);
    const onCluster = await throughput(
      'nats',
      cluster.mqttUrls,
      { jetstream: { servers: cluster.natsUrls } },
      pool,
      4,
    );
    results.push([
      `ingest on 3-node NATS JetStream (${onCluster.mode}, R3, same load)`,
      `${fmt(onCluster.rate)} samples/s`,
      `${((onCluster.rate / copyRate) * 100).toFixed(0)} % of COPY; ${((onCluster.rate / single.rate) * 100).toFixed(0)} % of single Mosquitto; ${onCluster.groups} txns`,
    ]);
    console.log(results.map((r) => r.join(' | ')).join('\n'));

    // Must-show 1: node loss at VEHICLES x 1 Hz, two workers.
    const base = `benchha-${id}`;
    workers.push(await startWorker('a', base, cluster.natsUrls));
    workers.push(await startWorker('b', base, cluster.natsUrls));
    const t0 = Date.now();
    for (let v = 0; v < VEHICLES; v++) fleet.push(new LightVehicle(`c-${v}`, base, cluster.mqttUrls));
    await Promise.all(
      fleet.map((f) => (f.client.connected ? null : new Promise((r) => f.client.once('connect', r)))),
    );
    for (const [v, f] of fleet.entries()) f.start((v * 1000) / VEHICLES, t0);

    const timeline: { at: number; lag: number }[] = [];
    const sampler = setInterval(() => {
      const now = Date.now();
      let lag = 0;
      for (const f of fleet) lag = Math.max(lag, f.lag(now));
      timeline.push({ at: now, lag });
    }, 250);
    const events: { name: string; at: number }[] = [];
    const mark = (name: string) => events.push({ name, at: Date.now() });
    await sleep(PHASE_S * 1000);
    mark('kill -9 broker node n1');
    await cluster.kill(0);
    await sleep(PHASE_S * 1000);
    mark('kill -9 ingest worker a');
    await killed(workers[0]!);
    await sleep(PHASE_S * 1000);
    mark('restart n1 and worker a');
    await cluster.restart(0);
    workers[0] = await startWorker('a2', base, cluster.natsUrls);
    await sleep(PHASE_S * 1000);
    mark('stop recording');
    for (const f of fleet) f.stopRecording();
    const drainDeadline = Date.now() + 120_000;
    while (fleet.some((f) => f.unacked.size > 0) && Date.now() < drainDeadline) await sleep(250);
    clearInterval(sampler);
    const drained = fleet.every((f) => f.unacked.size === 0);
    if (!drained) {
      const behind = fleet.filter((f) => f.unacked.size > 0);
      console.log(
        `not drained: ${behind.length} vehicles, ${behind.filter((f) => !f.client.connected).length} disconnected; e.g. ${behind
          .slice(0, 5)
          .map((f) => `${f.vehicleId}: ${f.unacked.size} unacked via ${f.client.options.port}`)
          .join(', ')}`,
      );
    }

    const { rows } = await pool.query<{ vehicle_id: string; rows: number; seqs: number[] }>(
      `SELECT vehicle_id, count(*)::int AS rows, array_agg(DISTINCT seq::int) AS seqs
         FROM telemetry WHERE vehicle_id LIKE 'c-%' GROUP BY vehicle_id`,
    );
    const byVehicle = new Map(rows.map((r) => [r.vehicle_id, r]));
    let created = 0;
    /** Confirmed by the cloud (gone from the outbox) but not in PostgreSQL. */
    let lost = 0;
    let duplicated = 0;
    /** Still in an outbox when the drain gave up: not lost, not yet stored. */
    let pending = 0;
    for (const f of fleet) {
      const r = byVehicle.get(f.vehicleId);
      const stored = new Set(r?.seqs ?? []);
      created += f.created;
      pending += f.unacked.size;
      for (let seq = 1; seq <= f.created; seq++) if (!f.unacked.has(seq) && !stored.has(seq)) lost++;
      duplicated += (r?.rows ?? 0) - stored.size;
    }
    const steady = timeline.filter((p) => p.at < events[0]!.at && p.at > t0 + 5000);
    const steadyPeak = Math.max(0, ...steady.map((p) => p.lag));
    results.push([
      `node loss: ${fmt(VEHICLES)} vehicles x 1 Hz, 2 workers, ${PHASE_S} s per step`,
      `${fmt(created)} samples, ${fmt(lost)} lost, ${fmt(duplicated)} duplicated`,
      `outboxes ${drained ? 'drained' : `NOT drained in 120 s (${fmt(pending)} samples still in them)`}; steady lag peak ${(steadyPeak / 1000).toFixed(1)} s`,
    ]);
    for (let i = 0; i < events.length - 1; i++) {
      const e = events[i]!;
      const until = events[i + 1]!.at;
      const window = timeline.filter((p) => p.at >= e.at && p.at < until);
      const peak = Math.max(0, ...window.map((p) => p.lag));
      // Resumed: the first moment after the step's worst lag where every vehicle is current again;
      // looked for past the next step too (then said so), the drain after the last one included.
      const peakAt = window.find((p) => p.lag === peak)?.at ?? e.at;
      const resumed = timeline.find((p) => p.at >= peakAt && p.lag < RESUMED_LAG_MS);
      const late = resumed && resumed.at >= until ? ` (in "${events[i + 1]!.name}")` : '';
      results.push([
        `  after "${e.name}"`,
        `lag peak ${(peak / 1000).toFixed(1)} s`,
        peak < RESUMED_LAG_MS
          ? 'never behind by 3 s'
          : resumed
            ? `resumed (lag < 3 s) ${((resumed.at - e.at) / 1000).toFixed(1)} s after${late}`
            : 'not resumed',
      ]);
    }
    const width = Math.max(...results.map((r) => r[0].length));
    console.log(`\nbench/cluster.ts ${new Date().toISOString()}`);
    for (const [a, b, c] of results) console.log(`${a.padEnd(width)}  ${b.padEnd(44)}  ${c}`);
    if (lost > 0 || duplicated > 0 || !drained) process.exitCode = 1;
  } finally {
    await Promise.all(fleet.map((f) => f.close().catch(() => {})));
    await Promise.all(workers.map(killed));
    await cluster.stop();
    // Leave no persistent session of ours on the shared Mosquitto.
    for (const clientId of mosquittoSessions) {
      const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId, clean: true }).catch(() => null);
      await c?.endAsync();
    }
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
}

await main();
