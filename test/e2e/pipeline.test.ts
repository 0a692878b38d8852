/**
 * The whole data path, twice: firmware-sim -> pty (socat) -> fleet-agent -> SQLite -> MQTT ->
 * cloud ingest -> PostgreSQL -> tRPC. Once on the embedded defaults (aedes + PGlite), once on
 * the real Mosquitto and PostgreSQL of this machine. Every GPS epoch the simulator emits must
 * become exactly one row, with the position the simulator wrote.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, type StackOptions, startStack } from '../../scripts/lib/stack.ts';
import { REAL_MQTT_URL, REAL_POSTGRES_URL, requireRealServices, waitUntil } from './support/services.ts';

const VEHICLES = 2;
const EPOCHS = 300;
const TICK_MS = 50;

interface Truth {
  epoch: number;
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number;
  rpm: number;
  fuelLevelPct: number;
}

const readTruth = (file: string): Truth[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Truth);

const modes: { name: string; external: boolean; transport: 'pty' | 'tcp' }[] = [
  { name: 'embedded defaults (aedes + PGlite)', external: false, transport: 'pty' },
  { name: 'real services (Mosquitto + PostgreSQL)', external: true, transport: 'pty' },
  // What `npm start` falls back to without socat: adapters over TCP, like WiFi ELM327s.
  { name: 'embedded defaults over TCP adapters (no socat)', external: false, transport: 'tcp' },
];

describe.each(modes)('end-to-end pipeline on $name', ({ external, transport }) => {
  const run = randomBytes(4).toString('hex');
  const schema = `e2e_${run}`;
  let stack: Stack;
  let db: pg.Pool;

  beforeAll(async () => {
    const options: StackOptions = {
      vehicles: VEHICLES,
      epochs: EPOCHS,
      tickMs: TICK_MS,
      web: false,
      apiPort: 0,
      mqttPort: 0,
      pgPort: 0,
      tenantId: `t${run}`,
      transport,
      dataDir: path.join(os.tmpdir(), `fleet-e2e-${run}`),
    };
    if (external) {
      await requireRealServices();
      // Own schema and base topic: runs sharing this machine's services never see each other's data.
      Object.assign(options, {
        databaseUrl: REAL_POSTGRES_URL,
        mqttUrl: REAL_MQTT_URL,
        databaseSchema: schema,
        baseTopic: `fleet-e2e-${run}`,
      });
    }
    stack = await startStack(options);
    db = new pg.Pool({
      connectionString: stack.databaseUrl,
      max: 1,
      ...(external ? { options: `-c search_path=${schema}` } : {}),
    });
    db.on('error', () => {}); // the embedded database goes away with the stack
  });

  afterAll(async () => {
    if (external && db) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db?.end();
    await stack?.stop();
  });

  it('stores every emitted GPS epoch exactly once, with the position the simulator sent', async () => {
    // The simulator stops after EPOCHS epochs; wait until it has written them all.
    await waitUntil(
      'every simulator to emit its epochs',
      async () => stack.vehicles.map((v) => readTruth(v.truthFile).length),
      (counts) => counts.every((c) => c === EPOCHS),
    );
    const generated = stack.vehicles.reduce((n, v) => n + readTruth(v.truthFile).length, 0);
    expect(generated).toBe(VEHICLES * EPOCHS);

    const count = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry')).rows[0]!.n;
    await waitUntil('all samples in PostgreSQL', count, (n) => n >= generated);
    // Give a duplicate the chance to show up before counting for good.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await count()).toBe(generated);

    for (const vehicle of stack.vehicles) {
      const truth = readTruth(vehicle.truthFile);
      const { rows } = await db.query<{
        seq: number;
        ts: Date;
        lat: number;
        lon: number;
        rpm: number | null;
        fuel: number | null;
      }>(
        `SELECT seq::int AS seq, ts, lat, lon, rpm, fuel_level_pct AS fuel FROM telemetry WHERE vehicle_id = $1 ORDER BY ts`,
        [vehicle.id],
      );
      expect(rows).toHaveLength(truth.length);
      rows.forEach((row, i) => {
        expect(row.ts.getTime()).toBe(truth[i]!.ts);
        expect(Math.abs(row.lat - truth[i]!.lat)).toBeLessThan(1e-9);
        expect(Math.abs(row.lon - truth[i]!.lon)).toBeLessThan(1e-9);
      });
      // seq is dense and increasing: nothing was skipped or sent twice by the agent.
      const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: truth.length }, (_, i) => seqs[0]! + i));

      // OBD readings join the samples once the adapter is initialised (a few seconds: ATZ,
      // protocol search, PID discovery); from then on every sample carries them, within the
      // ranges the simulator produced.
      const firstObd = rows.findIndex((r) => r.rpm !== null);
      expect(firstObd).toBeGreaterThanOrEqual(0);
      expect(firstObd).toBeLessThan(rows.length / 2);
      const maxRpm = Math.max(...truth.map((t) => t.rpm));
      for (const row of rows.slice(firstObd)) {
        expect(row.rpm).not.toBeNull();
        expect(row.rpm!).toBeGreaterThanOrEqual(0);
        expect(row.rpm!).toBeLessThanOrEqual(maxRpm);
        expect(row.fuel).not.toBeNull();
        expect(row.fuel!).toBeGreaterThan(0);
        expect(row.fuel!).toBeLessThanOrEqual(100);
      }
    }
  });

  it("serves each vehicle's latest state through the tRPC API", async () => {
    const url = `${stack.apiUrl}/trpc/vehicles.list?input=${encodeURIComponent('{"limit":10}')}`;
    expect((await fetch(url)).status).toBe(401); // nothing without signing in
    const login = await fetch(`${stack.apiUrl}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(stack.admin),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const res = await fetch(url, { headers: { cookie } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      result: { data: { vehicleId: string; ts: number; lat: number; online: boolean }[] };
    };
    const states = body.result.data;
    expect(states.map((s) => s.vehicleId)).toEqual(stack.vehicles.map((v) => v.id));
    for (const vehicle of stack.vehicles) {
      const truth = readTruth(vehicle.truthFile);
      const last = truth[truth.length - 1]!;
      const state = states.find((s) => s.vehicleId === vehicle.id)!;
      expect(state.ts).toBe(last.ts);
      expect(Math.abs(state.lat - last.lat)).toBeLessThan(1e-9);
      expect(state.online).toBe(true);
    }
  });
});
