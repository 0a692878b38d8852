/**
 * The web API's database parts on PGlite (the one-command stack's embedded database), through the
 * same server-side caller as on PostgreSQL: alerts from stored events, geofence entry/exit from
 * positions stored by the ingest's group statement (cloud/src/alerts), full-text
 * search with facets (tsvector, websearch_to_tsquery), the idempotent refuel log, and the rollup
 * chart. Row-level security runs there too (inTenant's SET LOCAL ROLE).
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { GeofenceWatch } from '../src/alerts/geofence-watch.ts';
import { configureSharedAnswers } from '../src/api/shared-answers.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';
import { seedEvents, seedSample, vehicleEvent } from './support/seed.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('api-pglite-test').child({}, { level: 'error' });
let pool: pg.Pool;
let dbUrl: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const db = await startEmbeddedDatabase({ host: '127.0.0.1', port, log });
  // One connection: PGlite has a single session, so a transaction must not interleave.
  dbUrl = db.url;
  pool = await openPool({ url: db.url, max: 1 });
  close = async () => {
    await pool.end();
    await db.close();
  };
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, online) VALUES ('van-1', 'acme', true), ('truck-b1', 'globex', true)`,
  );
}, 60_000);

afterAll(async () => {
  await close?.();
});

const geofences = new GeofenceWatch();
async function move(vehicle: string, ts: number, lat: number, lon: number) {
  await seedSample(pool, geofences, 'acme', vehicle, {
    seq: 1,
    ts,
    lat,
    lon,
    speedKmh: 30,
    rpm: 1500,
    fuelLevelPct: 40,
    coolantC: 90,
  });
}

describe('web API on PGlite', () => {
  it('alerts, geofences, search, refuel log and charts work as on PostgreSQL', async () => {
    const m = callerAs(pool, sessionOf('fleet_manager', 'acme'));
    const now = Date.now();
    await move('van-1', now - 10_000, 10, 10);
    const g = await m.geofences.create({
      name: 'Yard',
      polygon: [
        { lat: 40, lon: 0 },
        { lat: 40, lon: 1 },
        { lat: 41, lon: 1 },
        { lat: 41, lon: 0 },
      ],
    });
    expect(g.vehiclesInside).toBe(0);
    await move('van-1', now - 9000, 40.5, 0.5);
    await move('van-1', now - 8000, 42, 0.5);
    const drain = vehicleEvent({ id: 1, type: 'fuel_drain', start: Date.now(), volumeL: 25 });
    await seedEvents(pool, 'acme', 'van-1', [drain]);
    await seedEvents(pool, 'globex', 'truck-b1', [drain]);
    const alerts = await m.alerts.list();
    expect(alerts.items.map((a) => a.type).sort()).toEqual(['fuel_drain', 'geofence_enter', 'geofence_exit']);
    const acked = await m.alerts.acknowledge({ alertId: alerts.items[0]!.id });
    expect(acked.status).toBe('acknowledged');

    const driver = callerAs(pool, sessionOf('driver', 'acme', 'van-1'));
    const entry = {
      clientId: randomUUID(),
      vehicleId: 'van-1',
      ts: now - 60_000,
      litres: 30,
      fuelType: 'diesel' as const,
    };
    expect((await driver.refuels.log({ ...entry, station: 'Shell Yard' })).created).toBe(true);
    expect((await driver.refuels.log({ ...entry, station: 'Shell Yard' })).created).toBe(false);

    const found = await m.search.query({ q: 'shell yard' });
    expect(found.hits.map((h) => h.title)).toEqual(['Shell Yard']);
    expect(found.facets.kind).toEqual([{ value: 'fuel', label: 'fuel', count: 1 }]);
    expect((await m.search.query({ q: 'drain' })).total).toBe(1); // acme's only

    await pool.query(
      `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_sum, rpm_n, rpm_sum,
                                     fuel_min, fuel_max)
       SELECT 'acme', 'van-1', date_trunc('minute', t), 60, 60, 1800, 0, 0, 40, 41
         FROM generate_series(now() - interval '2 hours', now() - interval '1 minute', interval '1 minute') AS t
       ON CONFLICT DO NOTHING`, // the minutes of the moves above are there already
    );
    const chart = await m.telemetry.fuelSeries({
      vehicleId: 'van-1',
      from: now - 3 * 3_600_000,
      to: Date.now() + 60_000,
    });
    expect(chart.bucketS).toBe(60);
    expect(chart.points.length).toBeGreaterThanOrEqual(119);
    expect(chart.markers.map((x) => x.type)).toEqual(['fuel_drain']);
  }, 60_000);
});

describe('the fleet overview on PGlite', () => {
  it('answers on every new connection (PGlite keeps one session across connections)', async () => {
    // The one-command stack's pool closes idle connections and opens new ones; a named prepared
    // statement from the first connection was still in PGlite's session for the next one.
    await move('van-1', Date.now() - 1000, 48.1, 11.5);
    // Every call to the database: shared answers (1 s) would answer the later ones from memory.
    configureSharedAnswers({ ttlMs: 0 });
    onTestFinished(() => configureSharedAnswers({ ttlMs: 1000 }));
    for (let i = 0; i < 3; i++) {
      const p = await openPool({ url: dbUrl, max: 1 });
      try {
        const fleet = await callerAs(p, sessionOf('fleet_manager', 'acme')).telemetry.fleet({ limit: 10 });
        expect(fleet.vehicles.map((v) => v.vehicleId)).toEqual(['van-1']);
      } finally {
        await p.end();
      }
    }
  });
});

describe('the fleet register on PGlite', () => {
  it('vehicles with a calibration, groups, assignments and a check-in; overlaps refused by the database', async () => {
    await pool.query(
      `INSERT INTO users (id, tenant_id, email, name, role, password_hash)
       VALUES ('pg-dana', 'acme', 'dana@pglite.test', 'Dana', 'driver', 'x'),
              ('pg-eli', 'acme', 'eli@pglite.test', 'Eli', 'driver', 'x')`,
    );
    const m = callerAs(pool, sessionOf('fleet_manager', 'acme'));
    const g = await m.groups.create({ name: 'Depot' });
    const v = await m.registry.create({
      id: 'pg-van',
      plate: 'PG-1',
      tankLitres: 100,
      groupId: g.id,
      calibration: [
        { pct: 0, litres: 0 },
        { pct: 50, litres: 30 },
        { pct: 100, litres: 100 },
      ],
    });
    expect(v).toMatchObject({ groupName: 'Depot', calibration: [{ pct: 0 }, { pct: 50 }, { pct: 100 }] });
    const from = Date.now() - 3_600_000;
    await m.assignments.assign({ vehicleId: 'pg-van', userId: 'pg-dana', from });
    await expect(
      m.assignments.assign({
        vehicleId: 'pg-van',
        userId: 'pg-eli',
        from: from + 60_000,
        to: from + 120_000,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await m.roster.setGroups({ userId: 'pg-eli', groupIds: [g.id] });
    const eli = callerAs(pool, { ...sessionOf('driver', 'acme'), userId: 'pg-eli' });
    expect(await eli.assignments.checkIn({ vehicleId: 'pg-van' })).toEqual({
      vehicleId: 'pg-van',
      changed: true,
    });
    const history = await m.assignments.list({ vehicleId: 'pg-van' });
    expect(history.items.map((a) => [a.userId, a.to === null])).toEqual([
      ['pg-eli', true],
      ['pg-dana', false],
    ]);
  });
});
