/**
 * Device identity against the real Mosquitto with the shipped configuration and ACL
 * (docker/mosquitto/mosquitto.conf + acl, auth kept on): per-vehicle passwords made by
 * MosquittoCredentials (Debian's mosquitto_passwd), a vehicle confined to its own topics, and a
 * revoked credential refused. A private broker, so the machine's Mosquitto is not touched.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../../cloud/src/db/migrate.ts';
import { mosquittoPasswordLine } from '../../cloud/src/devices/broker-auth.ts';
import { MosquittoCredentials } from '../../cloud/src/devices/mosquitto-credentials.ts';
import { startEmbeddedBroker } from '../../cloud/src/embedded/broker.ts';
import {
  type PrivateMosquitto,
  startPrivateMosquitto,
  stopAll,
} from '../../cloud/test/support/private-services.ts';
import { createLogger, mqtt, vehicleTopic } from '../../cloud/test/support/reexports.ts';
import { openTestPool, requireServices } from '../../cloud/test/support/services.ts';
import { parseCredentials, writeCredentialsFile } from '../../edge-agent/src/cli/provision.ts';
import { syncConfigFrom } from '../../edge-agent/src/cli/sync.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { BrokerLink, brokerLinkOptions } from '../../edge-agent/src/sync/broker-link.ts';

const ACL = path.join(import.meta.dirname, '../../docker/mosquitto/acl');
const BASE = 'fleet'; // the shipped ACL is written for the production base topic
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-devices-'));
const passwordFile = path.join(dir, 'passwd');
let broker: PrivateMosquitto;
let db: Awaited<ReturnType<typeof openTestPool>>;
let creds: MosquittoCredentials;
const clients: mqtt.MqttClient[] = [];

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_devices');
  await migrate(db.pool, createLogger('devices-test').child({}, { level: 'error' }));
  writeFileSync(passwordFile, '', { mode: 0o600 }); // no one may sign in yet
  broker = await startPrivateMosquitto([], { passwordFile, aclFile: ACL });
  creds = new MosquittoCredentials({
    passwordFile,
    reload: async () => {
      broker.reload();
      await new Promise((r) => setTimeout(r, 300)); // the broker re-reads on its next loop
    },
    audit: { db: db.pool, actor: 'user:admin-test' },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await stopAll();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(username: string, password: string) {
  const c = await mqtt.connectAsync(broker.url, {
    username,
    password,
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `${username}-${clients.length}`,
  });
  clients.push(c);
  return c;
}

/** Connects and returns the CONNACK reason code (0 = accepted), never throwing. */
function connackCode(username: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(broker.url, { username, password, protocolVersion: 5, reconnectPeriod: 0 });
    c.once('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.once('error', (err) => {
      c.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
  });
}

const REFUSED = [0x86, 0x87];
const topic = (kind: 'telemetry' | 'status' | 'ack', vehicle: string, tenant = 'acme') =>
  vehicleTopic(kind, tenant, vehicle, BASE);

describe('per-vehicle MQTT credentials with the shipped Mosquitto ACL', () => {
  it('a vehicle writes only its own topics, reads only its own acks; the ingest reads all and writes acks', async () => {
    const van1 = await creds.provision('van-1', 'acme');
    const van2 = await creds.provision('van-2', 'acme');
    const ingestCreds = await creds.provision('fleet-ingest', null);
    expect(van1.password).not.toBe(van2.password);
    expect(van1.password.length).toBeGreaterThanOrEqual(32);

    const ingest = await connect(ingestCreds.username, ingestCreds.password);
    const seen: string[] = [];
    ingest.on('message', (t) => seen.push(t));
    const granted = await ingest.subscribeAsync([`${BASE}/v1/+/+/telemetry`, `${BASE}/v1/+/+/status`], {
      qos: 1,
    });
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);

    const v1 = await connect('van-1', van1.password);
    // Own telemetry: accepted and delivered.
    await v1.publishAsync(topic('telemetry', 'van-1'), 'own', { qos: 1 });
    // Another vehicle's topic: MQTT 5 PUBACK reason 0x87 "not authorized", never delivered.
    await expect(v1.publishAsync(topic('telemetry', 'van-2'), 'forged', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });
    // Subscribing to others' data or to everything: Mosquitto 2.0 grants the SUBACK and checks
    // the read ACL per message, so the proof is what is delivered (below).
    // (Mosquitto may close a connection that tried a forbidden publish: check on a fresh one.)
    const v1b = await connect('van-1', van1.password);
    await v1b.subscribeAsync([topic('ack', 'van-2'), `${BASE}/v1/#`, topic('ack', 'van-1')], { qos: 1 });

    // The ingest may answer on ack topics; van-1 gets its own ack and not van-2's.
    const acks: string[] = [];
    v1b.on('message', (t) => acks.push(t));
    await ingest.publishAsync(topic('ack', 'van-2'), 'for van-2', { qos: 1 });
    await ingest.publishAsync(topic('ack', 'van-1'), 'for van-1', { qos: 1 });
    const v2 = await connect('van-2', van2.password);
    await v2.publishAsync(topic('telemetry', 'van-2'), 'van-2 own data', { qos: 1 });
    // The ingest itself may not forge vehicle data.
    await expect(ingest.publishAsync(topic('telemetry', 'van-2'), 'x', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });

    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toEqual([topic('telemetry', 'van-1'), topic('telemetry', 'van-2')]);
    // Its own ack (once per matching subscription: `#` and the ack topic), nothing of van-2's.
    expect(new Set(acks)).toEqual(new Set([topic('ack', 'van-1')]));

    // Wrong password, unknown user: refused (CONNACK 0x86 bad credentials or 0x87 not authorized).
    expect(REFUSED).toContain(await connackCode('van-1', `${van1.password}x`));
    expect(REFUSED).toContain(await connackCode('van-9', 'whatever'));
  });

  it('a revoked credential is refused at its next connection; the others keep working; both audited', async () => {
    const van3 = await creds.provision('van-3', 'acme');
    const van4 = await creds.provision('van-4', 'acme');
    expect(await connackCode('van-3', van3.password)).toBe(0);
    await creds.revoke('van-3', 'acme');
    expect(REFUSED).toContain(await connackCode('van-3', van3.password));
    expect(await connackCode('van-4', van4.password)).toBe(0);

    const { rows } = await db.pool.query<{ action: string; entity: string; actor: string }>(
      `SELECT action, entity, actor FROM audit_log WHERE entity = 'mqtt-user:van-3' ORDER BY id`,
    );
    expect(rows).toEqual([
      { action: 'device.provision', entity: 'mqtt-user:van-3', actor: 'user:admin-test' },
      { action: 'device.revoke', entity: 'mqtt-user:van-3', actor: 'user:admin-test' },
    ]);
  });

  it('the real agent signs in with credentials stored by `fleet-agent provision` and its data arrives', async () => {
    const issued = await creds.provision('van-5', 'acme');
    const ingestCreds = await creds.provision('fleet-ingest-2', null);
    const file = path.join(dir, 'van-5.json');
    // What `fleet-cloud device provision --json | fleet-agent provision` does on the vehicle.
    writeCredentialsFile(file, parseCredentials(JSON.stringify(issued)));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = syncConfigFrom(
      {
        vehicle: 'van-5',
        tenant: 'acme',
        db: path.join(dir, 'van-5.db'),
        mqttUrl: broker.url,
        credentialsFile: file,
      },
      {},
    );
    expect(config.mqttUsername).toBe('van-5');

    // fleet-ingest-2 is not in the shipped ACL: it may not read vehicles' data.
    const stranger = await connect(ingestCreds.username, ingestCreds.password);
    const strangerSeen: string[] = [];
    stranger.on('message', (t) => strangerSeen.push(t));
    await stranger.subscribeAsync(`${BASE}/v1/#`, { qos: 1 });
    const ingestPw = (await creds.provision('fleet-ingest', null)).password;
    const ingest = await connect('fleet-ingest', ingestPw);
    const seen: string[] = [];
    ingest.on('message', (t) => seen.push(t));
    await ingest.subscribeAsync(`${BASE}/v1/+/+/telemetry`, { qos: 1 });

    const store = new AgentDb(config.dbPath);
    const sync = new BrokerLink(
      store,
      { ...brokerLinkOptions(config), ackFrom: 'broker', flushIntervalMs: 50 },
      createLogger('van-5').child({}, { level: 'fatal' }),
    );
    try {
      store.samples.append({
        ts: Date.UTC(2024, 0, 1),
        lat: 48,
        lon: 11,
        speedKmh: 10,
        rpm: 900,
        fuelLevelPct: 50,
        coolantC: 80,
      });
      sync.start();
      await vi.waitFor(() => expect(seen).toContain(topic('telemetry', 'van-5')), {
        timeout: 10_000,
        interval: 50,
      });
      // Seen on the broker before the agent has its acknowledgement: wait for that too.
      await vi.waitFor(() => expect(store.stats().unsent).toBe(0), { timeout: 10_000, interval: 50 });
      expect(strangerSeen).toEqual([]);
    } finally {
      await sync.stop();
      store.close();
    }
  });

  it('a password line written without mosquitto_passwd (the embedded stack does so) is accepted by the real Mosquitto', async () => {
    appendFileSync(passwordFile, `${mosquittoPasswordLine('van-7', 'node-written-password-7')}\n`);
    broker.reload();
    await new Promise((r) => setTimeout(r, 300));
    expect(await connackCode('van-7', 'node-written-password-7')).toBe(0);
    expect(REFUSED).toContain(await connackCode('van-7', 'wrong-password'));
  });

  it('the embedded broker (aedes) enforces the same password file and ACL the same way', async () => {
    const acl = readFileSync(ACL, 'utf8');
    const embedded = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      log: createLogger('aedes-test').child({}, { level: 'fatal' }),
      auth: { passwordFile, acl },
    });
    const open = (username: string, password: string) =>
      mqtt.connectAsync(embedded.url, {
        username,
        password,
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: `${username}-aedes-${Math.random()}`,
      });
    const refused = (username: string, password: string) =>
      open(username, password).then(
        async (c) => {
          await c.endAsync(true);
          return false;
        },
        () => true,
      );
    try {
      const van8 = await creds.provision('van-8', 'acme'); // mosquitto_passwd's own format
      const ingestPw = (await creds.provision('fleet-ingest', null)).password;
      const ingest = await open('fleet-ingest', ingestPw);
      const seen: string[] = [];
      ingest.on('message', (t) => seen.push(t));
      await ingest.subscribeAsync(`${BASE}/v1/+/+/telemetry`, { qos: 1 });
      const v8 = await open('van-8', van8.password);
      const got: string[] = [];
      v8.on('message', (t) => got.push(t));
      await v8.subscribeAsync(`${BASE}/v1/#`, { qos: 1 });
      await v8.publishAsync(topic('telemetry', 'van-8'), 'own', { qos: 1 });
      await ingest.publishAsync(topic('ack', 'van-2'), 'not for van-8', { qos: 1 });
      await ingest.publishAsync(topic('ack', 'van-8'), 'for van-8', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      // A forbidden publish: refused (aedes then drops the connection), never delivered.
      // (the PUBACK may never come: do not wait for it)
      v8.publish(topic('telemetry', 'van-2'), 'forged', { qos: 1 }, () => {});
      await new Promise((r) => setTimeout(r, 500));
      expect(seen).toEqual([topic('telemetry', 'van-8')]);
      expect(got.filter((t) => t.endsWith('/ack'))).toEqual([topic('ack', 'van-8')]);
      expect(got).not.toContain(topic('telemetry', 'van-2'));
      expect(await refused('van-8', 'wrong')).toBe(true);
      expect(await refused('nobody', 'x')).toBe(true);
      await creds.revoke('van-8', 'acme');
      expect(await refused('van-8', van8.password)).toBe(true);
      v8.end(true);
      ingest.end(true);
    } finally {
      await embedded.close();
    }
  });

  it('refuses a username that could escape its topic level', async () => {
    await expect(creds.provision('van/+', 'acme')).rejects.toThrow(/not a valid MQTT username/);
    await expect(creds.provision('#', 'acme')).rejects.toThrow(/not a valid MQTT username/);
  });
});
