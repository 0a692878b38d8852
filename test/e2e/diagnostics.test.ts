/**
 * Issue 16 §3 / must-show 4: a trouble code set in firmware-sim mid-drive reaches the dashboard's
 * alerts with its SAE J2012 text, and an e-mail, with no technician command. The whole path:
 * firmware-sim (ECU fault memory, PID 01 MIL) -> pty (socat) -> fleet-agent (reads 03/07 at once
 * when the MIL changes; diagnostics watch -> event outbox -> events lane) -> Mosquitto -> event
 * ingest -> the tenant's DTC rule -> alert in PostgreSQL -> tRPC `alerts.list`; and the
 * notifications outbox -> pg-boss worker -> a real SMTP server (smtp-server, STARTTLS + AUTH).
 * Real Mosquitto and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, testCertificate } from '../../cloud/test/support/notify-servers.ts';
import { type Stack, startStack } from '../../scripts/lib/stack.ts';
import { REAL_MQTT_URL, REAL_POSTGRES_URL, requireRealServices, waitUntil } from './support/services.ts';

const run = randomBytes(4).toString('hex');
const schema = `e2e_diag_${run}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'diag-e2e-'));
let stack: Stack;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let cookie: string;

const trpcCall = async (path: string, input: unknown, method: 'GET' | 'POST' = 'GET') => {
  const url =
    method === 'GET'
      ? `${stack.apiUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`
      : `${stack.apiUrl}/trpc/${path}`;
  const res = await fetch(url, {
    method,
    headers: { cookie, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
  });
  const body = (await res.json()) as { result?: { data: unknown }; error?: unknown };
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body.error)}`);
  return body.result!.data;
};

beforeAll(async () => {
  await requireRealServices();
  const scenario = path.join(dir, 'lean.json');
  // Simulated seconds; at 50 ms a tick the code is set about 20 s (wall) into the drive, after
  // the rule below exists.
  writeFileSync(
    scenario,
    JSON.stringify({ name: 'lean', events: [{ type: 'dtc', at: '400s', code: 'P0171' }] }),
  );
  smtp = await startSmtpServer();
  stack = await startStack({
    vehicles: 1,
    epochs: 1200,
    tickMs: 50,
    web: false,
    apiPort: 0,
    mqttPort: 0,
    pgPort: 0,
    tenantId: `t${run}`,
    transport: 'pty',
    dataDir: path.join(dir, 'stack'),
    databaseUrl: REAL_POSTGRES_URL,
    mqttUrl: REAL_MQTT_URL,
    databaseSchema: schema,
    baseTopic: `fleet-diag-${run}`,
    scenarios: [scenario],
    cloudEnv: {
      FLEET_SMTP_URL: smtp.url,
      FLEET_SMTP_CA_FILE: testCertificate().caFile,
      FLEET_SMTP_FROM: 'Fleet <alerts@fleet.test>',
    },
  });
  const login = await fetch(`${stack.apiUrl}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(stack.admin),
  });
  cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  // The technicians' rule: every new code, by e-mail to the admins (the bootstrap admin here).
  await trpcCall(
    'alertRules.create',
    {
      name: 'Engine codes',
      source: 'dtc',
      severity: 'major',
      recipients: { roles: ['admin'] },
      channels: { major: ['in_app', 'email'] },
    },
    'POST',
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await smtp?.close();
  const db = new pg.Pool({ connectionString: REAL_POSTGRES_URL, max: 1 });
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
  if (!process.env.KEEP_E2E) rmSync(dir, { recursive: true, force: true });
});

describe('a trouble code set mid-drive', () => {
  it('reaches the alerts as "P0171 System Too Lean (Bank 1)" and one e-mail, without a technician command', async () => {
    const alerts = async () =>
      (
        (await trpcCall('alerts.list', { types: ['dtc'] })) as {
          items: { title: string; vehicleId: string }[];
        }
      ).items;
    const found = await waitUntil('the DTC alert', alerts, (items) => items.length > 0, 90_000);
    expect(found[0]!.title).toBe('Trouble code P0171 System Too Lean (Bank 1)');
    expect(found[0]!.vehicleId).toBe(stack.vehicles[0]!.id);
    // Read again on the next MIL poll and on the periodic read: still one alert.
    await new Promise((r) => setTimeout(r, 6000));
    expect(await alerts()).toHaveLength(1);
    await waitUntil(
      'the e-mail',
      async () => smtp.arrivals.length,
      (n) => n >= 1,
      30_000,
    );
    expect(smtp.arrivals).toHaveLength(1);
    expect(smtp.arrivals[0]!.rcpt).toEqual([stack.admin.email]);
    expect(smtp.arrivals[0]!.mail.subject).toBe(
      `Trouble code P0171 System Too Lean (Bank 1) — ${stack.vehicles[0]!.id}`,
    );

    // The agent also reported the engine start and its battery check (recorded, not alerted).
    const db = new pg.Pool({
      connectionString: REAL_POSTGRES_URL,
      max: 1,
      options: `-c search_path=${schema}`,
    });
    const { rows } = await db.query<{ type: string; details: Record<string, unknown> }>(
      `SELECT type, details FROM vehicle_events WHERE type IN ('ignition_on', 'battery', 'dtc') ORDER BY start_ts`,
    );
    await db.end();
    expect(rows.map((r) => r.type)).toEqual(['ignition_on', 'battery', 'dtc']);
    expect(rows[1]!.details).toMatchObject({ phase: 'start', low: false });
    expect(rows[2]!.details).toMatchObject({ code: 'P0171', kind: 'stored', milOn: true });
  }, 150_000);
});
