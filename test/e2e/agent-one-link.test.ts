/**
 * One broker connection per agent, shown on the real `fleet-agent run` process: while it sends a
 * backlog of telemetry and events (answered by this test playing the ingest, so the cursors
 * move) and receives a signed model, the process holds exactly one TCP connection to the broker;
 * and its commands lane answers `ping` (and says `unknown` / `invalid` for what it cannot run).
 *
 * The connections are counted from the kernel's view of the child: its socket inodes
 * (/proc/PID/fd) matched against the established TCP connections to the broker's port
 * (/proc/PID/net/tcp and tcp6), sampled every 50 ms for the whole run. A lane that opened a
 * session of its own would show up as a second connection.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModelPayload } from '../../cloud/src/models/publisher.ts';
import { generateSigningKeys, readSigningKey, signArtifact } from '../../cloud/src/models/signing.ts';
import { trainEngineModel } from '../../cloud/src/models/train.ts';
import {
  type AgentCommandResult,
  decodeTelemetryBatch,
  decodeVehicleEventBatch,
  mqtt,
  type TelemetryAck,
  type VehicleEventAck,
  vehicleTopics,
} from '../../cloud/test/support/reexports.ts';
import { uniqueId } from '../../cloud/test/support/services.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { REAL_MQTT_URL, requireRealServices, waitUntil } from './support/services.ts';

const TENANT = 'acme';
const VEHICLE = 'VAN-LINK';
const SAMPLES = 1200; // three batches of 500
const EVENTS = 3;
const T0 = Date.UTC(2026, 10, 3, 7, 0, 0);
const base = uniqueId('test/one-link').replace('_', '-');
const topics = vehicleTopics(TENANT, VEHICLE, base);
const brokerPort = Number(new URL(REAL_MQTT_URL).port || 1883);
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-one-link-'));
const dbFile = path.join(dir, 'agent.db');
const bin = path.join(import.meta.dirname, '../../edge-agent/bin/fleet-agent.js');

let cloud: Awaited<ReturnType<typeof mqtt.connectAsync>>;
let agent: ChildProcess;
let logs = '';
const answers: AgentCommandResult[] = [];
const received = { telemetry: 0, events: 0 };
/** Payloads from the agent that do not decode (must stay empty). */
const refused: string[] = [];
/** Every sample of the connection count while the agent ran (after its first connect). */
const counts: number[] = [];
let sampler: NodeJS.Timeout | undefined;

/** Established TCP connections of `pid` to the broker's port (IPv4 and IPv6). */
function brokerConnections(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed between readdir and readlink
    }
  }
  const port = brokerPort.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // rem_address is HEXIP:PORT, st 01 = ESTABLISHED, inode in column 10.
      if (f.length > 9 && f[2]!.endsWith(`:${port}`) && f[3] === '01' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

const waitLog = (re: RegExp, ms = 90_000) =>
  waitUntil(`agent log ${re}`, async () => re.test(logs) || agent.exitCode !== null, Boolean, ms).then(() => {
    if (!re.test(logs))
      throw new Error(`agent exited ${agent.exitCode} before logging ${re}:\n${logs.slice(-3000)}`);
  });

beforeAll(async () => {
  await requireRealServices();
  // The vehicle's backlog, recorded before this run: samples and detector events.
  const db = new AgentDb(dbFile);
  for (let i = 0; i < SAMPLES; i++) {
    db.samples.append({
      ts: T0 + i * 1000,
      lat: 48.1,
      lon: 11.5,
      speedKmh: 40,
      rpm: 1800,
      fuelLevelPct: 60,
      coolantC: 90,
    });
  }
  for (let i = 0; i < EVENTS; i++) {
    db.events.record({
      type: 'harsh_brake',
      start: T0 + i * 60_000,
      end: T0 + i * 60_000,
      lat: null,
      lon: null,
      driverId: null,
      confidence: 0.8,
      modelVersion: null,
      details: {},
    });
  }
  db.close();

  // The cloud side, played here: acks after "COMMIT", and later a model and commands.
  cloud = await mqtt.connectAsync(REAL_MQTT_URL, {
    clientId: uniqueId('one-link-cloud'),
    protocolVersion: 5,
  });
  await cloud.subscribeAsync([topics.telemetry, topics.events, topics['commands-ack']], { qos: 1 });
  cloud.on('message', (topic, payload) => {
    if (topic === topics.telemetry) {
      const r = decodeTelemetryBatch(payload);
      if (!r.ok) return void refused.push(`telemetry: ${r.reason}`);
      received.telemetry++;
      const seqs = r.batch.samples.map((s) => s.seq);
      const ack: TelemetryAck = {
        v: 1,
        batchSeq: r.batch.batchSeq!,
        status: 'stored',
        first: Math.min(...seqs),
        last: Math.max(...seqs),
      };
      void cloud.publishAsync(topics.ack, JSON.stringify(ack));
    } else if (topic === topics.events) {
      const r = decodeVehicleEventBatch(payload);
      if (!r.ok) return void refused.push(`events: ${r.reason}`);
      received.events++;
      const ids = r.batch.events.map((e) => e.id);
      const ack: VehicleEventAck = {
        v: 1,
        batchSeq: r.batch.batchSeq,
        status: 'stored',
        first: Math.min(...ids),
        last: Math.max(...ids),
      };
      void cloud.publishAsync(topics['events-ack'], JSON.stringify(ack));
    } else if (topic === topics['commands-ack']) {
      answers.push(JSON.parse(payload.toString('utf8')) as AgentCommandResult);
    }
  });

  const keys = generateSigningKeys(path.join(dir, 'publisher.key'), path.join(dir, 'publisher.pub'));
  // No vehicle attached (OBD and GPS refuse): the daemon retries them and syncs its backlog.
  agent = spawn(
    process.execPath,
    [
      bin,
      'run',
      ...['--vehicle', VEHICLE, '--tenant', TENANT, '--db', dbFile],
      ...['--obd-port', 'tcp://127.0.0.1:9', '--gps-nmea', 'tcp://127.0.0.1:9'],
      ...['--mqtt-url', REAL_MQTT_URL, '--base-topic', base, '--session-expiry', '0'],
      ...['--flush-interval', '100', '--backfill-inflight', '1', '--model-public-key', keys.publicKeyFile],
    ],
    { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  agent.stderr!.on('data', (d) => {
    logs += d;
  });
  await waitLog(/connected to broker/);
  sampler = setInterval(() => {
    if (agent.exitCode === null) counts.push(brokerConnections(agent.pid!));
  }, 50);
}, 300_000);

afterAll(async () => {
  clearInterval(sampler);
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
  }
  await publishModelPayload(
    { url: REAL_MQTT_URL, baseTopic: base, tenantId: TENANT, vehicleId: VEHICLE },
    '',
  ).catch(() => {});
  for (const kind of ['status', 'model'] as const) {
    await cloud?.publishAsync(topics[kind], '', { qos: 1, retain: true }).catch(() => {});
  }
  await cloud?.endAsync();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet-agent run: one broker connection for every lane', () => {
  it('sends telemetry and events and takes a model over exactly one connection', async () => {
    // A second connection to the agent's file (WAL: it reads while the daemon writes).
    const db = new AgentDb(dbFile);
    const cursors = () => ({ telemetry: db.samples.ackedSeq(), events: db.events.ackedId() });
    const lastEvent = Math.max(...db.events.list().map((e) => e.id));

    // The model, trained and signed as `fleet-cloud model train|sign` do, published while the
    // backlog is still going out.
    const rows = Array.from({ length: 800 }, (_, i) => [1500 + (i % 50) * 10, 30 + (i % 40), 88 + (i % 5)]);
    const trained = await trainEngineModel(
      { columns: ['rpm', 'speed_kmh', 'coolant_c'], rows, skipped: 0, skippedReasons: [], source: 'test' },
      { vehicleId: VEHICLE, version: 1, epochs: 1 },
    );
    const artifact = signArtifact(
      trained.manifest,
      trained.weights,
      readSigningKey(path.join(dir, 'publisher.key')),
    );
    await publishModelPayload(
      { url: REAL_MQTT_URL, baseTopic: base, tenantId: TENANT, vehicleId: VEHICLE },
      JSON.stringify(artifact),
    );

    const done = await waitUntil(
      'both cursors at the end of the backlog',
      async () => cursors(),
      (c) => {
        return c.telemetry === SAMPLES && c.events === lastEvent;
      },
    );
    db.close();
    db.close();
    expect(done).toEqual({ telemetry: SAMPLES, events: lastEvent });
    await waitLog(/"version":"engine-anomaly@1".*engine model installed and active/);
    expect(received.telemetry).toBeGreaterThanOrEqual(Math.ceil(SAMPLES / 500));
    expect(received.events).toBeGreaterThanOrEqual(1);
    expect(refused).toEqual([]);

    // Sampled all along: never a second connection (nor none, while the broker was up). A fast
    // run ends its sync in about a second; keep sampling the idle link until there are enough.
    await waitUntil(
      'enough connection samples',
      async () => counts.length,
      (n) => n > 20,
    );
    expect(counts.length).toBeGreaterThan(20);
    // Never a second connection. A reading of 0 is a moment between a dropped connection and the
    // reconnect (the broker may drop a keepalive on a loaded machine); it must stay rare.
    expect(Math.max(...counts)).toBe(1);
    expect(counts.filter((n) => n === 1).length / counts.length).toBeGreaterThan(0.9);
    expect(agent.exitCode).toBeNull();
  });

  it('answers ping on the commands lane, and unknown or malformed commands with a reason', async () => {
    const ask = async (payload: string, id: string | null) => {
      await cloud.publishAsync(topics.commands, payload, { qos: 1 });
      const [answer] = await waitUntil(
        `the answer to ${payload}`,
        async () => answers.filter((a) => a.id === id),
        (a) => a.length > 0,
        30_000,
      );
      return answer!;
    };
    const pong = await ask(JSON.stringify({ v: 1, id: 'ping-1', name: 'ping' }), 'ping-1');
    expect(pong).toMatchObject({ v: 1, id: 'ping-1', status: 'ok', result: { pong: true } });
    expect((pong.result as { uptimeMs: number }).uptimeMs).toBeGreaterThan(0);

    const unknown = await ask(JSON.stringify({ v: 1, id: 'dtc-1', name: 'read-dtcs' }), 'dtc-1');
    expect(unknown).toMatchObject({
      id: 'dtc-1',
      status: 'unknown',
      reason: expect.stringMatching(/read-dtcs/),
    });

    const badArgs = await ask(JSON.stringify({ v: 1, id: 'ping-2', name: 'ping', args: { x: 1 } }), 'ping-2');
    expect(badArgs).toMatchObject({ id: 'ping-2', status: 'invalid' });

    const garbage = await ask('{not json', null);
    expect(garbage).toMatchObject({
      id: null,
      status: 'invalid',
      reason: expect.stringMatching(/not a command/),
    });

    // Never a second connection. A reading of 0 is a moment between a dropped connection and the
    // reconnect (the broker may drop a keepalive on a loaded machine); it must stay rare.
    expect(Math.max(...counts)).toBe(1);
    expect(counts.filter((n) => n === 1).length / counts.length).toBeGreaterThan(0.9);
    expect(agent.exitCode).toBeNull();
  });
});
