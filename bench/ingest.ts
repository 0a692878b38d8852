/**
 * End-to-end ingest throughput and latency: simulated vehicles publish QoS 1 batches to the local
 * Mosquitto (127.0.0.1:1883), the cloud ingest (shared subscription, group commits) stores them in
 * the local PostgreSQL (database `test`, a schema of its own, dropped at the end). Printed next to
 * the raw insert of the same rows in the same run:
 *
 *   1. raw COPY (pg-copy-streams, text format) of the same rows into a plain table with the
 *      same primary key -> the ceiling; and a raw multi-row unnest INSERT (5,000 rows/statement)
 *   2. the ingest's own group statement without MQTT (keys + partition + rollup + latest)
 *   3. end to end: MQTT -> ingest -> PostgreSQL, many vehicles, binary v2 batches of 250, the
 *      ingest acking every batch after COMMIT
 *   4. latency sample creation -> COMMIT (and -> the cloud ack back at the vehicle) at
 *      10,000 vehicles x 1 Hz (1 sample per message), published from a second process
 *      (support/live-fleet.ts) as vehicles are; and bytes on the wire per sample, binary v2
 *      against plain JSON
 *   5. a 7-day backlog of one vehicle at 1 Hz (604,800 samples) drained by the real agent
 *      (AgentDb in SQLite + BrokerLink, cursor on cloud acks) while the 10,000 live vehicles
 *      keep publishing; live p50/p99 during the drain
 *
 *   node --import tsx bench/ingest.ts        (about 2 min on 2 cores)
 *   BENCH_BACKFILL_INFLIGHT=N BENCH_BATCH_SIZE=N  try other agent settings for step 5
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { migrate } from '../cloud/src/db/migrate.ts';
import { openPool } from '../cloud/src/db/pool.ts';
import { ensureTelemetryPartitions, utcDay } from '../cloud/src/db/queries/ensure-telemetry-partitions.ts';
import {
  emptyTelemetryColumns,
  insertTelemetryRows,
  insertTelemetryStats,
  pushTelemetrySample,
} from '../cloud/src/db/queries/insert-telemetry-rows.ts';
import { registerVehicles } from '../cloud/src/db/queries/register-vehicles.ts';
import { TelemetryIngest } from '../cloud/src/ingest/telemetry-ingest.ts';
import { type LineChild, startLineChild } from '../cloud/test/support/line-child.ts';
import { mqtt, sampleAt } from '../cloud/test/support/publisher.ts';
import { encodeTelemetryBatch, vehicleTopic } from '../shared/src/index.ts';
import { createLogger } from '../shared/src/log.ts';
import { percentile } from './support/percentile.ts';

const DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MQTT_URL = process.env.BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 128);
const THROUGHPUT_VEHICLES = 2000;
const THROUGHPUT_BATCH = 250;
const THROUGHPUT_SAMPLES = 500_000;
const LIVE_VEHICLES = 10_000;
const LIVE_SECONDS = 10;
const BACKLOG_SAMPLES = 7 * 86_400;

/** Published as the agent does: QoS 1, and `ack=cloud` (it waits for the ingest's ack after COMMIT). */
const AS_AGENT = { qos: 1, properties: { userProperties: { ack: 'cloud' } } } as const;

const log = createLogger('bench');
log.level = 'error';
const id = randomBytes(4).toString('hex');
const schema = `bench_ingest_${id}`;
const base = `bench-${id}`;
const TENANT = 'bench';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const pool = await openPool({ url: DB_URL, schema, max: 10 });
  const results: [string, string, string][] = [];
  let pubs: mqtt.MqttClient[] = [];
  let ingest: TelemetryIngest | undefined;
  let agent: LineChild | undefined;
  let liveFleet: LineChild | undefined;
  const cleanupDirs: string[] = [];
  try {
    await migrate(pool, log);

    // 1. Raw COPY, then raw multi-row insert, of the same rows into plain tables.
    const rawTable = (name: string) =>
      pool.query(`CREATE TABLE ${name} (vehicle_id text, seq bigint, ts timestamptz, lat float8, lon float8,
        speed_kmh real, rpm real, fuel_level_pct real, coolant_c real, PRIMARY KEY (vehicle_id, seq))`);
    const perVehicle = THROUGHPUT_SAMPLES / THROUGHPUT_VEHICLES;
    const t0 = Date.now() - 3600_000;
    const rawRows = 300_000;
    await rawTable('raw_copy');
    /** The rows as COPY text; `lead` starts each line (the tenant column of the telemetry table). */
    const copyLines = function* (prefix = '', lead = '') {
      for (let off = 0; off < rawRows; off += 5000) {
        let chunk = '';
        for (let i = off; i < Math.min(off + 5000, rawRows); i++) {
          const seq = Math.floor(i / THROUGHPUT_VEHICLES);
          const s = sampleAt(seq, t0 + seq * 1000);
          chunk += `${lead}${prefix}veh-${i % THROUGHPUT_VEHICLES}\t${s.seq}\t${new Date(s.ts).toISOString()}\t${s.lat}\t${s.lon}\t${s.speedKmh}\t${s.rpm}\t${s.fuelLevelPct}\t${s.coolantC}\n`;
        }
        yield chunk;
      }
    };
    let t = performance.now();
    {
      const c = await pool.connect();
      await pipeline(Readable.from(copyLines()), c.query(copyFrom('COPY raw_copy FROM STDIN')));
      c.release();
    }
    const copyRate = rawRows / ((performance.now() - t) / 1000);
    results.push(['raw COPY (text, one stream)', `${fmt(copyRate)} rows/s`, `${fmt(rawRows)} rows`]);

    // The same rows by COPY into the ingest's own table (daily partitions, its primary key): what
    // this schema can take without dedupe keys, rollups or latest state. For reference only.
    await ensureTelemetryPartitions(pool, [utcDay(t0), utcDay(Date.now()), utcDay(t0 + perVehicle * 1000)]);
    t = performance.now();
    {
      const c = await pool.connect();
      await pipeline(
        Readable.from(copyLines('copy-', `${TENANT}\t`)),
        c.query(
          copyFrom(
            'COPY telemetry (tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c) FROM STDIN',
          ),
        ),
      );
      c.release();
    }
    const copyTelemetryRate = rawRows / ((performance.now() - t) / 1000);
    results.push([
      'raw COPY into the telemetry table (partitioned, PK)',
      `${fmt(copyTelemetryRate)} rows/s`,
      `${((copyTelemetryRate / copyRate) * 100).toFixed(0)} % of COPY`,
    ]);

    await rawTable('raw_telemetry');
    t = performance.now();
    for (let off = 0; off < rawRows; off += 5000) {
      const r = emptyTelemetryColumns();
      for (let i = off; i < off + 5000; i++) {
        const v = i % THROUGHPUT_VEHICLES;
        const seq = Math.floor(i / THROUGHPUT_VEHICLES);
        pushTelemetrySample(r, TENANT, `veh-${v}`, sampleAt(seq, t0 + seq * 1000)); // tenant unused here
      }
      await pool.query(
        `INSERT INTO raw_telemetry SELECT v, s, to_timestamp(ts / 1000.0), a, o, sp, rp, f, c
           FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
             AS u(v, s, ts, a, o, sp, rp, f, c)`,
        [r.vehicleId, r.seq, r.tsMs, r.lat, r.lon, r.speedKmh, r.rpm, r.fuelLevelPct, r.coolantC],
      );
    }
    const rawRate = rawRows / ((performance.now() - t) / 1000);
    results.push([
      'raw multi-row unnest INSERT (5,000/stmt)',
      `${fmt(rawRate)} rows/s`,
      `${((rawRate / copyRate) * 100).toFixed(0)} % of COPY`,
    ]);

    // 2. The ingest's statement, no MQTT, same rows, groups of 32 x 250.
    await ensureTelemetryPartitions(pool, [utcDay(t0), utcDay(Date.now()), utcDay(t0 + perVehicle * 1000)]);
    {
      const c = await pool.connect();
      await registerVehicles(
        c,
        Array.from({ length: THROUGHPUT_VEHICLES }, (_, v) => ({ tenantId: TENANT, vehicleId: `raw-${v}` })),
      );
      c.release();
    }
    t = performance.now();
    for (let off = 0; off < rawRows; off += 8000) {
      const r = emptyTelemetryColumns();
      for (let i = off; i < Math.min(off + 8000, rawRows); i++) {
        const v = i % THROUGHPUT_VEHICLES;
        const seq = Math.floor(i / THROUGHPUT_VEHICLES);
        pushTelemetrySample(r, TENANT, `raw-${v}`, sampleAt(seq, t0 + seq * 1000));
      }
      const c = await pool.connect();
      await c.query('BEGIN');
      await insertTelemetryRows(c, r);
      await c.query('COMMIT');
      c.release();
    }
    const stmtRate = rawRows / ((performance.now() - t) / 1000);
    results.push([
      'ingest statement, no MQTT (8,000/txn)',
      `${fmt(stmtRate)} rows/s`,
      `${((stmtRate / copyRate) * 100).toFixed(0)} % of COPY`,
    ]);

    // The agent that will drain a 7-day backlog in step 5, in its own process: it fills its
    // SQLite store now (one transaction per sample, as the agent records them), before anything
    // is timed, and waits for "go".
    const agentDir = mkdtempSync(path.join(tmpdir(), 'bench-agent-'));
    cleanupDirs.push(agentDir);
    agent = await startLineChild(
      'backlog agent',
      path.join(import.meta.dirname, 'support/backlog-agent.ts'),
      [path.join(agentDir, 'agent.db'), MQTT_URL, base, TENANT, 'backlog', String(BACKLOG_SAMPLES)],
    );

    // The ingest under test.
    const latencies: number[] = [];
    let recordLatency = false;
    ingest = new TelemetryIngest({
      pool,
      mqttUrl: MQTT_URL,
      baseTopic: base,
      clientId: `bench-ingest-${id}`,
      autoRegisterVehicles: true,
      connections: CONNECTIONS,
      sharedGroup: `bench-${id}`,
      maxConcurrentFlushes: 3,
      log,
      onCommit: (at, batches) => {
        for (const b of batches) {
          // The backlog's samples are days old: not live latency.
          if (b.vehicleId !== 'backlog' && recordLatency) {
            for (const s of b.samples) latencies.push(at - s.ts);
          }
        }
      },
    });
    await ingest.start();
    pubs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        mqtt.connectAsync(MQTT_URL, { clientId: `bench-pub-${id}-${i}`, clean: true, protocolVersion: 5 }),
      ),
    );
    // The agents' side of the end-to-end acknowledgement: every ack the ingest publishes after
    // COMMIT is delivered (to one subscriber standing in for all the vehicles of step 3).
    let acks = 0;
    pubs[0]!.on('message', () => {
      acks++;
    });
    await pubs[0]!.subscribeAsync(`${base}/v1/${TENANT}/+/ack`, { qos: 1 });

    // 3. End-to-end throughput; payloads encoded before the clock starts.
    const payloads: { topic: string; payload: Buffer }[] = [];
    for (let b = 0; b < perVehicle / THROUGHPUT_BATCH; b++) {
      for (let v = 0; v < THROUGHPUT_VEHICLES; v++) {
        const vehicleId = `veh-${v}`;
        const samples = Array.from({ length: THROUGHPUT_BATCH }, (_, k) => {
          const seq = b * THROUGHPUT_BATCH + k + 1;
          return sampleAt(seq, t0 + seq * 1000);
        });
        payloads.push({
          topic: vehicleTopic('telemetry', TENANT, vehicleId, base),
          payload: encodeTelemetryBatch({ v: 2, vehicleId, samples, batchSeq: b + 1 }),
        });
      }
    }
    t = performance.now();
    await Promise.all(
      pubs.map(async (p, i) => {
        for (let k = i; k < payloads.length; k += pubs.length)
          await p.publishAsync(payloads[k]!.topic, payloads[k]!.payload, AS_AGENT);
      }),
    );
    while (ingest.stats.samplesInserted < THROUGHPUT_SAMPLES) await new Promise((r) => setTimeout(r, 5));
    const e2eRate = THROUGHPUT_SAMPLES / ((performance.now() - t) / 1000);
    results.push([
      `end to end MQTT -> PG (${fmt(THROUGHPUT_VEHICLES)} veh x ${THROUGHPUT_BATCH}/batch, ${CONNECTIONS} conn)`,
      `${fmt(e2eRate)} samples/s`,
      `${((e2eRate / copyRate) * 100).toFixed(0)} % of COPY, ${((e2eRate / copyTelemetryRate) * 100).toFixed(0)} % of COPY into telemetry, ${((e2eRate / rawRate) * 100).toFixed(0)} % of INSERT; ${ingest.stats.groups} txns`,
    ]);
    payloads.length = 0;

    // Bytes on the wire per sample: the MQTT PUBLISH (fixed header, topic, packet id, the
    // ack=cloud user property, payload) of a 250-sample batch and of a live 1-sample message,
    // binary v2 (what the agent sends) against the same samples as plain JSON (v1).
    {
      const publishBytes = (topic: string, payload: Buffer) => {
        const props = 1 + 2 + 3 + 2 + 5; // user property 'ack'='cloud'
        const body = 2 + Buffer.byteLength(topic) + 2 + 1 + props + payload.length;
        return 1 + (body < 128 ? 1 : body < 16_384 ? 2 : 3) + body;
      };
      for (const n of [THROUGHPUT_BATCH, 1]) {
        const samples = Array.from({ length: n }, (_, k) => sampleAt(k + 1, t0 + k * 1000));
        const topic = vehicleTopic('telemetry', TENANT, 'veh-1234', base);
        const bin = publishBytes(
          topic,
          encodeTelemetryBatch({ v: 2, vehicleId: 'veh-1234', samples, batchSeq: 7 }),
        );
        const json = publishBytes(
          topic,
          Buffer.from(JSON.stringify({ v: 1, vehicleId: 'veh-1234', samples })),
        );
        results.push([
          `bytes on the wire per sample, ${n}-sample message (MQTT PUBLISH)`,
          `${(bin / n).toFixed(1)} B binary v2`,
          `${(json / n).toFixed(1)} B plain JSON: ${(json / bin).toFixed(1)}x`,
        ]);
      }
    }

    // 4. Live: 10,000 vehicles x 1 Hz, one sample per message, from a process of their own
    //    (bench/support/live-fleet.ts), which also times each sample's cloud ack.
    const fleet = await startLineChild(
      'live fleet',
      path.join(import.meta.dirname, 'support/live-fleet.ts'),
      [MQTT_URL, base, TENANT, String(LIVE_VEHICLES)],
    );
    liveFleet = fleet;
    const fleetAsk = <T>(command: string) => fleet.ask<T>(command);
    type FleetReport = { acks: number; ackP50: number | null; ackP99: number | null; published: number };
    await new Promise((r) => setTimeout(r, 3000)); // first-seen vehicles registered, warm
    recordLatency = true;
    await fleetAsk('record');
    await new Promise((r) => setTimeout(r, LIVE_SECONDS * 1000));
    recordLatency = false;
    const liveAcks = await fleetAsk<FleetReport>('report');
    const liveLat = [...latencies];
    results.push([
      `latency creation -> COMMIT, ${fmt(LIVE_VEHICLES)} veh x 1 Hz`,
      `p50 ${fmt(percentile(liveLat, 50))} ms  p99 ${fmt(percentile(liveLat, 99))} ms`,
      `${fmt(liveLat.length)} samples (${fmt(liveLat.length / LIVE_SECONDS)}/s)`,
    ]);
    results.push([
      `latency creation -> cloud ack at the vehicle`,
      `p50 ${fmt(liveAcks.ackP50 ?? Number.NaN)} ms  p99 ${fmt(liveAcks.ackP99 ?? Number.NaN)} ms`,
      `${fmt(liveAcks.acks)} acks`,
    ]);

    // 5. 7-day backlog of one vehicle, drained by the real agent while the live traffic continues.
    latencies.length = 0;
    recordLatency = true;
    const report = await agent.ask<{ drained: boolean; ms: number; batches: number; ackTimeouts: number }>(
      'go',
    );
    const drainS = report.drained ? report.ms / 1000 : Number.NaN;
    recordLatency = false;
    const drainLat = [...latencies];
    results.push([
      `7-day backlog (604,800 samples) drained by the agent (cloud-acked), live continuing`,
      Number.isNaN(drainS)
        ? 'not drained in 60 s'
        : `${drainS.toFixed(1)} s (${fmt(BACKLOG_SAMPLES / drainS)} samples/s)`,
      `live p50 ${fmt(percentile(drainLat, 50))} ms  p99 ${fmt(percentile(drainLat, 99))} ms during drain; ${report.batches} batches, ${report.ackTimeouts} ack timeouts`,
    ]);
    const { published: livePublished } = await fleetAsk<{ published: number }>('stop');
    liveFleet = undefined;
    // Live sends are not awaited per slice: let the broker and the ingest finish what is queued.
    const expectedIngest = THROUGHPUT_SAMPLES + livePublished + BACKLOG_SAMPLES;
    const settleDeadline = Date.now() + 30_000;
    while (ingest.stats.samplesInserted < expectedIngest && Date.now() < settleDeadline)
      await new Promise((r) => setTimeout(r, 50));

    const { rows } = await pool.query<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (vehicle_id, seq))::int AS distinct
         FROM telemetry WHERE vehicle_id NOT LIKE 'raw-%' AND vehicle_id NOT LIKE 'copy-%'`,
    );
    const published = THROUGHPUT_SAMPLES + livePublished + BACKLOG_SAMPLES;
    results.push([
      'rows stored / published over MQTT (exactness check)',
      `${fmt(rows[0]!.n)} / ${fmt(published)}`,
      `distinct (vehicle, seq) ${fmt(rows[0]!.distinct)}, dup ${ingest.stats.samplesDuplicate}, retries ${ingest.stats.dbRetries}; ` +
        `groups by plain INSERT ${fmt(insertTelemetryStats.fastPath)}, redone with ON CONFLICT ${fmt(insertTelemetryStats.fallbacks)}`,
    ]);
    results.push([
      'cloud acks received / sent by the ingest',
      `${fmt(acks)} / ${fmt(ingest.stats.acksSent)}`,
      '',
    ]);

    const w0 = Math.max(...results.map((r) => r[0].length));
    const w1 = Math.max(...results.map((r) => r[1].length));
    console.log(
      `\ningest bench (PostgreSQL ${DB_URL.replace(/^.*@/, '')}, Mosquitto ${MQTT_URL}, ${CONNECTIONS} ingest connections)\n`,
    );
    for (const [a, b, c] of results) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
    console.log(
      `\ntargets: >= 100,000 samples/s: ${e2eRate >= 100_000 ? 'met' : 'NOT met'}; >= 50 % of raw COPY: ${e2eRate >= copyRate / 2 ? 'met' : 'NOT met'}; ` +
        `p99 < 100 ms: ${percentile(liveLat, 99) < 100 ? 'met' : 'NOT met'}; backlog < 60 s: ${drainS < 60 ? 'met' : 'NOT met'}; ` +
        `live p99 < 100 ms during the drain: ${percentile(drainLat, 99) < 100 ? 'met' : 'NOT met'}`,
    );
  } finally {
    agent?.child.kill();
    liveFleet?.child.kill();
    for (const d of cleanupDirs) rmSync(d, { recursive: true, force: true });
    await ingest?.stop();
    await Promise.all(pubs.map((p) => p.endAsync(true)));
    for (const clientId of ingest?.clientIds ?? []) {
      const c = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true }).catch(() => null);
      await c?.endAsync();
    }
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
