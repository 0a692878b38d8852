/**
 * Devices from the dashboard (devices.provision/rotate/revoke, tRPC) and from `fleet-cloud
 * devices`, against a real Mosquitto with the shipped configuration and ACL, and against the
 * embedded aedes broker: the credentials shown start a real agent; a revoked device is refused
 * at its next connection, and one still connected is dropped. A private Mosquitto (its own port,
 * password file and pid file) so the machine's broker is not touched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCaller } from '../../cloud/src/api/root.ts';
import { handOverByAdmin } from '../../cloud/src/auth/invites.ts';
import { buildCli } from '../../cloud/src/cli/main.ts';
import { migrate } from '../../cloud/src/db/migrate.ts';
import { verifyAuditChain } from '../../cloud/src/db/queries/audit-log.ts';
import { mosquittoPasswordLine, verifyPasswordHash } from '../../cloud/src/devices/broker-auth.ts';
import { deviceProvisioningFrom } from '../../cloud/src/devices/device-provisioning.ts';
import { startEmbeddedBroker } from '../../cloud/src/embedded/broker.ts';
import {
  type PrivateMosquitto,
  startPrivateMosquitto,
  stopAll,
} from '../../cloud/test/support/private-services.ts';
import { createLogger, mqtt, VehicleStatus } from '../../cloud/test/support/reexports.ts';
import { openTestPool, requireServices } from '../../cloud/test/support/services.ts';
import { sessionOf } from '../../cloud/test/support/sessions.ts';
import { SampleClock } from '../../edge-agent/src/gps/clock.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { agentHealth } from '../../edge-agent/src/sync/agent-health.ts';
import { BrokerLink } from '../../edge-agent/src/sync/broker-link.ts';

const ACL = path.join(import.meta.dirname, '../../docker/mosquitto/acl');
const BASE = 'fleet'; // the shipped ACL is written for the production base topic
const TENANT = 'acme';
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-device-revoke-'));
const passwordFile = path.join(dir, 'passwd');
const pidFile = path.join(dir, 'mosquitto.pid');
const INGEST_PASSWORD = 'ingest-password-for-this-test';
let broker: PrivateMosquitto;
let db: Awaited<ReturnType<typeof openTestPool>>;
const quiet = createLogger('device-revocation-test').child({}, { level: 'fatal' });

/** The dashboard's caller: a signed-in manager of acme, with the cloud's device service. */
function dashboard(role: 'admin' | 'fleet_manager' | 'technician' = 'fleet_manager', url = () => broker.url) {
  return createCaller({
    db: db.pool,
    session: sessionOf(role, TENANT),
    admin: {
      devices: deviceProvisioningFrom({
        brokerLogins: { passwordFile, brokerPidFile: pidFile },
        deviceMqttUrl: url(),
        baseTopic: BASE,
      }),
      invites: handOverByAdmin,
    },
  });
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_device_revoke');
  await migrate(db.pool, quiet);
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await db.pool.query(
    `INSERT INTO vehicles (id, tenant_id) VALUES ('van-r1', 'acme'), ('van-r2', 'acme'), ('van-r3', 'acme'),
            ('van-r4', 'acme'), ('truck-g1', 'globex')`,
  );
  // The ingest's login is there before any device: provisioning must keep it.
  writeFileSync(passwordFile, `${mosquittoPasswordLine('fleet-ingest', INGEST_PASSWORD)}\n`, { mode: 0o600 });
  broker = await startPrivateMosquitto([`pid_file ${pidFile}`], { passwordFile, aclFile: ACL });
  await vi.waitFor(() => expect(Number(readFileSync(pidFile, 'utf8'))).toBeGreaterThan(1), { timeout: 5000 });
});

afterAll(async () => {
  await stopAll();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Connects and returns the CONNACK reason code (0 = accepted), never throwing. */
function connackCode(url: string, username: string, password: string, protocolVersion: 4 | 5 = 5) {
  return new Promise<number>((resolve) => {
    const c = mqtt.connect(url, {
      username,
      password,
      protocolVersion,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    c.once('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.once('error', (err) => {
      c.end(true);
      resolve((err as { code?: number }).code ?? -1);
    });
    c.once('close', () => resolve(-1));
  });
}

/** Tries to connect every 10 ms until refused; ms from `since` to the first refusal. */
async function msUntilRefused(url: string, username: string, password: string, since: number, v: 4 | 5 = 5) {
  for (;;) {
    const code = await connackCode(url, username, password, v);
    if (code !== 0) return { ms: performance.now() - since, code };
    if (performance.now() - since > 10_000) throw new Error('still accepted 10 s after the revocation');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const REFUSED = [0x86, 0x87, 4, 5];
const measured: Record<string, number> = {};

describe('devices from the dashboard against the real Mosquitto', () => {
  it('provision: credentials shown once, only the broker hash stored; the real agent starts with them and reports its health', async () => {
    const c = await dashboard().devices.provision({ vehicleId: 'van-r1' });
    expect(c).toMatchObject({
      vehicleId: 'van-r1',
      tenantId: 'acme',
      username: 'van-r1',
      mqttUrl: broker.url,
    });
    expect(c.password.length).toBeGreaterThanOrEqual(32);
    expect(c.environment).toContain(`MQTT_PASSWORD=${c.password}`);
    expect(c.environment).toContain('FLEET_TENANT_ID=acme');

    const { rows } = await db.pool.query<{ password_hash: string; status: string }>(
      `SELECT password_hash, status FROM devices WHERE vehicle_id = 'van-r1'`,
    );
    expect(rows[0]!.status).toBe('active');
    expect(rows[0]!.password_hash).not.toContain(c.password);
    expect(verifyPasswordHash(rows[0]!.password_hash, c.password)).toBe(true);
    // The ingest's login survived the rewrite of the file.
    expect(await connackCode(broker.url, 'fleet-ingest', INGEST_PASSWORD)).toBe(0);
    // Never shown again: the list has no password.
    const list = await dashboard('technician').devices.list();
    expect(JSON.stringify(list)).not.toContain(c.password);
    expect(list.devices.find((d) => d.vehicleId === 'van-r1')).toMatchObject({ status: 'active' });
    expect(list.devices.map((d) => d.vehicleId)).not.toContain('truck-g1');

    // The agent, with what the dashboard showed, and the ingest reading its status.
    const ingest = await mqtt.connectAsync(broker.url, {
      username: 'fleet-ingest',
      password: INGEST_PASSWORD,
      reconnectPeriod: 0,
    });
    const statuses: VehicleStatus[] = [];
    ingest.on('message', (_t, p) => statuses.push(VehicleStatus.parse(JSON.parse(p.toString()))));
    await ingest.subscribeAsync(`${BASE}/v1/acme/van-r1/status`, { qos: 1 });
    const store = new AgentDb(path.join(dir, 'van-r1.db'));
    const link = new BrokerLink(
      store,
      {
        url: c.mqttUrl,
        username: c.username,
        password: c.password,
        tenantId: c.tenantId,
        vehicleId: c.vehicleId,
        baseTopic: c.baseTopic,
        reconnectPeriodMs: 100_000,
      },
      quiet,
      { health: () => agentHealth(store, new SampleClock(), { modelVersion: () => null }) },
    );
    try {
      link.start();
      await link.waitConnected(5000);
      await vi.waitFor(() => expect(statuses.some((s) => s.state === 'online' && s.health)).toBe(true), {
        timeout: 5000,
      });
      const health = statuses.find((s) => s.health)!.health!;
      expect(health.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(health.diskBudgetBytes).toBeGreaterThan(0);

      // Revoking while the agent is connected: Mosquitto re-checks connected clients on reload.
      const t0 = performance.now();
      await dashboard('technician').devices.revoke({ vehicleId: 'van-r1' });
      await vi.waitFor(() => expect(link.connected).toBe(false), { timeout: 5000, interval: 5 });
      measured.mosquittoConnectedDropMs = performance.now() - t0;
    } finally {
      await link.stop();
      store.close();
      await ingest.endAsync(true);
    }
    expect(REFUSED).toContain(await connackCode(broker.url, 'van-r1', c.password));
  });

  it('provision -> connect OK; revoke -> the next connection is refused at once (measured)', async () => {
    const c = await dashboard().devices.provision({ vehicleId: 'van-r2' });
    expect(await connackCode(broker.url, c.username, c.password)).toBe(0);
    const t0 = performance.now();
    await dashboard().devices.revoke({ vehicleId: 'van-r2' });
    const revokeReturnedMs = performance.now() - t0;
    const refused = await msUntilRefused(broker.url, c.username, c.password, t0);
    expect(REFUSED).toContain(refused.code);
    measured.mosquittoRevokeCallMs = revokeReturnedMs;
    measured.mosquittoRevokeToRefusalMs = refused.ms;
    expect(refused.ms).toBeLessThan(2000);
    // The other logins were not touched.
    expect(await connackCode(broker.url, 'fleet-ingest', INGEST_PASSWORD)).toBe(0);
    // Revoked twice: a clear refusal, nothing changes.
    await expect(dashboard().devices.revoke({ vehicleId: 'van-r2' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    // A fresh provisioning after the revocation works, with a new password.
    const again = await dashboard().devices.provision({ vehicleId: 'van-r2' });
    expect(again.password).not.toBe(c.password);
    expect(await connackCode(broker.url, 'van-r2', again.password)).toBe(0);
    expect(REFUSED).toContain(await connackCode(broker.url, 'van-r2', c.password));
  });

  it('rotate: the new password works, the old one is refused; a second provision is refused', async () => {
    const first = await dashboard().devices.provision({ vehicleId: 'van-r3' });
    await expect(dashboard().devices.provision({ vehicleId: 'van-r3' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const rotated = await dashboard('admin').devices.rotate({ vehicleId: 'van-r3' });
    expect(rotated.password).not.toBe(first.password);
    await vi.waitFor(
      async () => expect(REFUSED).toContain(await connackCode(broker.url, 'van-r3', first.password)),
      {
        timeout: 2000,
      },
    );
    expect(await connackCode(broker.url, 'van-r3', rotated.password)).toBe(0);
  });

  it("another tenant's vehicle, an unknown one and the ingest's name are refused, and nothing is written", async () => {
    const before = readFileSync(passwordFile, 'utf8');
    await expect(dashboard().devices.provision({ vehicleId: 'truck-g1' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(dashboard().devices.provision({ vehicleId: 'van-none' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await db.pool.query(
      `INSERT INTO vehicles (id, tenant_id) VALUES ('fleet-ingest', 'acme') ON CONFLICT DO NOTHING`,
    );
    await expect(dashboard().devices.provision({ vehicleId: 'fleet-ingest' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(readFileSync(passwordFile, 'utf8')).toBe(before);
  });

  it('`fleet-cloud devices provision|list|revoke` do the same from the command line', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const cli = (...args: string[]) =>
      buildCli({ out: (l) => out.push(l), err: (l) => err.push(l) })
        .exitOverride()
        .parseAsync([
          'node',
          'fleet-cloud',
          '--database-url',
          'postgres://postgres@127.0.0.1:5432/test',
          '--schema',
          db.schema,
          ...args,
        ]);
    const broker_ = ['--password-file', passwordFile, '--broker-pid-file', pidFile, '--mqtt-url', broker.url];
    await cli(
      'devices',
      'provision',
      'van-r4',
      '--tenant',
      'acme',
      '--actor',
      'user:ops',
      '--json',
      ...broker_,
    );
    expect(err).toEqual([]);
    const c = JSON.parse(out.pop()!) as { username: string; password: string; environment: string };
    expect(c.environment).toContain(`MQTT_URL=${broker.url}`);
    expect(await connackCode(broker.url, c.username, c.password)).toBe(0);

    await cli('devices', 'list', '--tenant', 'acme', '--json');
    const listed = JSON.parse(out.pop()!) as { devices: { vehicleId: string; status: string }[] };
    expect(listed.devices.find((d) => d.vehicleId === 'van-r4')?.status).toBe('active');

    await cli('devices', 'revoke', 'van-r4', '--tenant', 'acme', '--actor', 'user:ops', ...broker_);
    expect(out.pop()).toBe('revoked the device of van-r4');
    expect(REFUSED).toContain(await connackCode(broker.url, c.username, c.password));

    // Refused: a code on stderr, exit status 2.
    process.exitCode = 0;
    await cli('devices', 'revoke', 'van-r4', '--tenant', 'acme', ...broker_);
    expect(err.pop()).toMatch(/^E505: /);
    expect(process.exitCode).toBe(2);
    process.exitCode = 0;
  });

  it('every change is in the audit chain, which verifies; no password is in it', async () => {
    const { rows } = await db.pool.query<{ action: string; entity: string; after: unknown }>(
      `SELECT action, entity, after FROM audit_log WHERE action LIKE 'device.%' ORDER BY id`,
    );
    expect(rows.map((r) => `${r.action} ${r.entity}`)).toEqual([
      'device.provision vehicle:van-r1',
      'device.revoke vehicle:van-r1',
      'device.provision vehicle:van-r2',
      'device.revoke vehicle:van-r2',
      'device.provision vehicle:van-r2',
      'device.provision vehicle:van-r3',
      'device.rotate vehicle:van-r3',
      'device.provision vehicle:van-r4',
      'device.revoke vehicle:van-r4',
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/password|\$7\$/i);
    expect(await verifyAuditChain(db.pool)).toMatchObject({ ok: true });
  });
});

describe('the embedded broker (aedes) follows the same file at once', () => {
  it('revoke: the next connection is refused and a connected client is dropped', async () => {
    const embedded = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      log: quiet,
      auth: { passwordFile, acl: readFileSync(ACL, 'utf8') },
    });
    try {
      // aedes reads the file at every CONNECT: no reload signal (no pid file given).
      const caller = createCaller({
        db: db.pool,
        session: sessionOf('admin', TENANT),
        admin: {
          devices: deviceProvisioningFrom({
            brokerLogins: { passwordFile },
            deviceMqttUrl: embedded.url,
            baseTopic: BASE,
          }),
          invites: handOverByAdmin,
        },
      });
      await db.pool.query(`INSERT INTO vehicles (id, tenant_id) VALUES ('van-e1', 'acme')`);
      const c = await caller.devices.provision({ vehicleId: 'van-e1' });
      const connected = await mqtt.connectAsync(embedded.url, {
        username: c.username,
        password: c.password,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      const closed = new Promise<number>((r) => connected.once('close', () => r(performance.now())));
      const t0 = performance.now();
      await caller.devices.revoke({ vehicleId: 'van-e1' });
      const refused = await msUntilRefused(embedded.url, c.username, c.password, t0, 4);
      measured.aedesRevokeToRefusalMs = refused.ms;
      expect(refused.ms).toBeLessThan(1000);
      measured.aedesConnectedDropMs = (await closed) - t0;
      expect(measured.aedesConnectedDropMs).toBeLessThan(2000);
    } finally {
      await embedded.close();
    }
    // The figures for the report (printed, never asserted beyond the bounds above).
    console.log(`device revocation timings (ms): ${JSON.stringify(measured)}`);
  });
});
