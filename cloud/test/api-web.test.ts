/**
 * The web product's tRPC API (issue 6), through the server-side caller on the real PostgreSQL:
 * input bounds and errors (BAD_REQUEST, NOT_FOUND across tenants, FORBIDDEN by role), cursor
 * pagination, the idempotent refuel log, alert acknowledge/resolve with the audit trail, alerts
 * decided by cloud/src/alerts (events as the event ingest stores them; geofence entry/exit from
 * positions stored as the telemetry ingest stores them), fuel charts from rollups, driver scores, and search with facet counts.
 * Live updates over SSE are in api-live.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { VehicleEvent, VehicleEventType } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeofenceWatch } from '../src/alerts/geofence-watch.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedEvents, seedSamples, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('api-web-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;

const NOW = Date.now();
const HOUR = 3_600_000;
const DAY = 86_400_000;
const manager = () => callerAs(pool, sessionOf('fleet_manager', 'acme'));
const driver = () => callerAs(pool, sessionOf('driver', 'acme', 'van-1'));

/** The error code a call ends with ('ok' when it succeeds). */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof TRPCError ? err.code : `not a TRPCError: ${String(err)}`),
  );

let eventId = 1;
/** Stores one event as the event ingest does (with its alert) and returns it. */
async function event(
  tenant: string,
  vehicle: string,
  type: VehicleEventType,
  at: number,
  extra: { volumeL?: number; details?: Record<string, unknown>; driverId?: string } = {},
): Promise<VehicleEvent> {
  const e = vehicleEvent({ id: eventId++, type, start: at, ...extra });
  await seedEvents(pool, tenant, vehicle, [e]);
  return e;
}

/** Minute rollups as the ingest leaves them: one every `stepMs` in [from, to), steady fuel and speed. */
async function minutes(
  vehicle: string,
  from: number,
  to: number,
  stepMs: number,
  fuel: number,
  speed: number,
) {
  await pool.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_min, speed_max, speed_sum,
                                   rpm_n, rpm_sum, fuel_min, fuel_max)
     SELECT 'acme', $1, date_trunc('minute', t), 60, 60, $5::real, $5::real, $5::float8 * 60, 0, 0, $4::real, $4::real
       FROM generate_series(to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0) - interval '1 microsecond',
                            make_interval(secs => $6 / 1000.0)) AS t
     ON CONFLICT DO NOTHING`,
    [vehicle, from, to, fuel, speed, stepMs],
  );
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_api_web');
  pool = db.pool;
  await migrate(pool, log);
  for (const t of ['acme', 'globex']) await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [t]);
  for (let i = 1; i <= 5; i++)
    await pool.query(
      `INSERT INTO vehicles (id, tenant_id, online, tank_litres) VALUES ($1, 'acme', true, 80)`,
      [`van-${i}`],
    );
  await pool.query(`INSERT INTO vehicles (id, tenant_id, online) VALUES ('truck-b1', 'globex', true)`);
  for (const [id, tenant, name, vehicle] of [
    ['acme-driver', 'acme', 'Dana Driver', 'van-1'],
    ['acme-driver-2', 'acme', 'Eli Early', 'van-2'],
    ['globex-driver', 'globex', 'Gus Globex', 'truck-b1'],
  ] as const) {
    await pool.query(
      `INSERT INTO users (id, tenant_id, email, name, role, vehicle_id, password_hash)
       VALUES ($1, $2, $3, $4, 'driver', $5, 'x')`,
      [id, tenant, `${id}@${tenant}.test`, name, vehicle],
    );
    // Who drives what is the assignment history (migration 000013): each drives theirs throughout.
    await pool.query(
      `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
       VALUES ($1, $2, $3, '-infinity', 'admin', 'test')`,
      [tenant, vehicle, id],
    );
  }
  const states: [string, string, number, number, number, number][] = [
    ['acme', 'van-1', 48.1, 11.5, 50, 1500],
    ['acme', 'van-2', 48.2, 11.6, 0, 800],
    ['acme', 'van-3', 48.3, 11.7, 0, 0],
  ];
  for (const [tenant, v, lat, lon, speedKmh, rpm] of states)
    await seedSamples(pool, tenant, v, [
      { seq: 1, ts: NOW - 1000, lat, lon, speedKmh, rpm, fuelLevelPct: 60, coolantC: 90 },
    ]);
  await seedSamples(pool, 'acme', 'van-4', [
    { seq: 1, ts: NOW - 2 * HOUR, lat: 1, lon: 1, speedKmh: 0, rpm: 0, fuelLevelPct: 10, coolantC: 20 },
  ]);
  await seedSamples(pool, 'globex', 'truck-b1', [
    { seq: 1, ts: NOW - 1000, lat: 1, lon: 1, speedKmh: 80, rpm: 2000, fuelLevelPct: 70, coolantC: 90 },
  ]);
});

afterAll(async () => {
  await db?.drop();
});

describe('input bounds and errors', () => {
  it('limits, spans, inverted ranges, cursors, polygons and strings out of bounds are BAD_REQUEST', async () => {
    const m = manager();
    const bad = [
      m.telemetry.fleet({ limit: 0 }),
      m.telemetry.fleet({ limit: 1001 }),
      m.telemetry.fleet({ limit: 10, cursor: 'not a cursor' }),
      m.telemetry.fuelSeries({ vehicleId: 'van-1', from: NOW - 401 * DAY, to: NOW }),
      m.telemetry.fuelSeries({ vehicleId: 'van-1', from: NOW, to: NOW - 1 }),
      m.telemetry.events({ vehicleId: 'van-1', from: NOW - 93 * DAY, to: NOW }),
      m.telemetry.events({ vehicleId: 'van 1; DROP TABLE', from: NOW - DAY, to: NOW }),
      m.alerts.list({ limit: 201 }),
      m.alerts.list({ from: NOW - 500 * DAY, to: NOW }),
      m.geofences.create({
        name: 'two points',
        polygon: [
          { lat: 1, lon: 1 },
          { lat: 2, lon: 2 },
        ],
      }),
      m.geofences.create({
        name: 'too many',
        polygon: Array.from({ length: 201 }, (_, i) => ({ lat: Math.sin(i), lon: Math.cos(i) })),
      }),
      m.geofences.create({
        name: 'x'.repeat(101),
        polygon: [
          { lat: 0, lon: 0 },
          { lat: 0, lon: 1 },
          { lat: 1, lon: 0 },
        ],
      }),
      m.geofences.create({
        name: 'flat',
        polygon: [
          { lat: 0, lon: 0 },
          { lat: 0, lon: 1 },
          { lat: 0, lon: 2 },
        ],
      }),
      m.search.query({ q: 'x'.repeat(201) }),
      m.search.query({ vehicleIds: Array.from({ length: 21 }, (_, i) => `v${i}`) }),
      m.drivers.score({ userId: 'acme-driver', from: NOW - 400 * DAY, to: NOW }),
      m.fuel.transactions({ from: NOW, to: NOW - DAY }),
      driver().refuels.log({
        clientId: 'not-a-uuid',
        vehicleId: 'van-1',
        ts: NOW,
        litres: 10,
        fuelType: 'diesel',
      }),
      driver().refuels.log({
        clientId: randomUUID(),
        vehicleId: 'van-1',
        ts: NOW,
        litres: 0,
        fuelType: 'diesel',
      }),
      driver().refuels.log({
        clientId: randomUUID(),
        vehicleId: 'van-1',
        ts: NOW + HOUR,
        litres: 10,
        fuelType: 'diesel',
      }),
      driver().refuels.log({
        clientId: randomUUID(),
        vehicleId: 'van-1',
        ts: NOW,
        litres: 10,
        fuelType: 'kerosene' as 'diesel',
      }),
    ];
    const codes = await Promise.all(bad.map(outcome));
    expect(codes).toEqual(bad.map(() => 'BAD_REQUEST'));
  });

  it("another tenant's ids are NOT_FOUND (and a driver's colleague's vehicle too)", async () => {
    const m = manager();
    await event('globex', 'truck-b1', 'fuel_drain', NOW - HOUR, { volumeL: 30 });
    const { rows } = await pool.query<{ id: number }>(`SELECT id FROM alerts WHERE tenant_id = 'globex'`);
    const { rows: g } = await pool.query<{ id: number }>(
      `INSERT INTO geofences (tenant_id, name, lats, lons, min_lat, max_lat, min_lon, max_lon, created_by)
       VALUES ('globex', 'b', '{0,0,1}', '{0,1,1}', 0, 1, 0, 1, 'x') RETURNING id`,
    );
    const calls = [
      m.telemetry.fuelSeries({ vehicleId: 'truck-b1', from: NOW - DAY, to: NOW }),
      m.telemetry.events({ vehicleId: 'truck-b1', from: NOW - DAY, to: NOW }),
      m.alerts.acknowledge({ alertId: rows[0]!.id }),
      m.alerts.resolve({ alertId: rows[0]!.id }),
      m.geofences.delete({ geofenceId: g[0]!.id }),
      m.fuel.consumption({ vehicleId: 'truck-b1', from: NOW - DAY, to: NOW }),
      m.drivers.score({ userId: 'globex-driver' }),
      m.refuels.log({
        clientId: randomUUID(),
        vehicleId: 'truck-b1',
        ts: NOW,
        litres: 10,
        fuelType: 'diesel',
      }),
      m.search.deleteSaved({ savedSearchId: 999_999 }),
      driver().telemetry.fuelSeries({ vehicleId: 'van-2', from: NOW - DAY, to: NOW }),
      driver().refuels.log({
        clientId: randomUUID(),
        vehicleId: 'van-2',
        ts: NOW,
        litres: 10,
        fuelType: 'diesel',
      }),
      driver().drivers.score({ userId: 'acme-driver-2' }),
    ];
    expect(await Promise.all(calls.map(outcome))).toEqual(calls.map(() => 'NOT_FOUND'));
    // Nothing of globex changed on the way.
    const { rows: after } = await pool.query(`SELECT status FROM alerts WHERE tenant_id = 'globex'`);
    expect(after).toEqual([{ status: 'open' }]);
  });

  it('roles outside a permission are FORBIDDEN; no session is UNAUTHORIZED', async () => {
    const as = (role: Parameters<typeof sessionOf>[0]) =>
      callerAs(pool, sessionOf(role, 'acme', role === 'driver' ? 'van-1' : null));
    const calls = [
      as('driver').alerts.list(),
      as('finance').alerts.acknowledge({ alertId: 1 }),
      as('finance').geofences.create({
        name: 'x',
        polygon: [
          { lat: 0, lon: 0 },
          { lat: 0, lon: 1 },
          { lat: 1, lon: 0 },
        ],
      }),
      as('technician').fuel.transactions(),
      as('driver').drivers.list(),
      as('compliance').search.query({ q: 'van' }),
      as('finance').refuels.log({
        clientId: randomUUID(),
        vehicleId: 'van-1',
        ts: NOW,
        litres: 1,
        fuelType: 'diesel',
      }),
      as('driver').live.alerts(),
    ];
    expect(await Promise.all(calls.map(outcome))).toEqual(calls.map(() => 'FORBIDDEN'));
    expect(await outcome(callerAs(pool, null).telemetry.fleet())).toBe('UNAUTHORIZED');
  });
});

describe('fleet overview', () => {
  it('status per vehicle and counts for the whole fleet; pages follow the cursor without gaps or repeats', async () => {
    const first = await manager().telemetry.fleet({ limit: 2 });
    expect(first.counts).toEqual({ moving: 1, idle: 1, parked: 1, offline: 1, no_data: 1 });
    const seen = [...first.vehicles];
    let cursor = first.nextCursor;
    while (cursor) {
      const next = await manager().telemetry.fleet({ limit: 2, cursor });
      seen.push(...next.vehicles);
      cursor = next.nextCursor;
    }
    expect(seen.map((v) => [v.vehicleId, v.status])).toEqual([
      ['van-1', 'moving'],
      ['van-2', 'idle'],
      ['van-3', 'parked'],
      ['van-4', 'offline'],
      ['van-5', 'no_data'],
    ]);
    expect(seen[0]).toMatchObject({ lat: 48.1, lon: 11.5, speedKmh: 50, fuelLevelPct: 60 });
    const own = await driver().telemetry.fleet();
    expect(own.vehicles.map((v) => v.vehicleId)).toEqual(['van-1']);
    expect(own.counts.moving).toBe(1);
  });
});

describe('fuel chart from rollups', () => {
  it('a year comes back as daily points, six hours as minutes, with refuel and drain markers', async () => {
    const start = Math.floor((NOW - 365 * DAY) / DAY) * DAY;
    // One rollup every 6 hours for a year, and every minute in the last six hours.
    await minutes('van-5', start, NOW - 6 * HOUR - 60_000, 6 * HOUR, 50, 40);
    await minutes('van-5', NOW - 6 * HOUR, NOW, 60_000, 30, 40);
    await event('acme', 'van-5', 'refuel', NOW - 100 * DAY, { volumeL: 45 });
    await event('acme', 'van-5', 'fuel_drain', NOW - 2 * HOUR, { volumeL: 12 });
    await event('acme', 'van-5', 'harsh_brake', NOW - 3 * HOUR);

    const year = await manager().telemetry.fuelSeries({ vehicleId: 'van-5', from: NOW - 365 * DAY, to: NOW });
    expect(year.bucketS).toBe(86_400);
    expect(year.points.length).toBeGreaterThanOrEqual(364);
    expect(year.points.length).toBeLessThanOrEqual(366);
    expect(year.markers.map((m) => [m.type, m.volumeL])).toEqual([
      ['refuel', 45],
      ['fuel_drain', 12],
    ]);
    const lastDay = year.points[year.points.length - 1]!;
    expect(lastDay.minPct).toBe(30);

    const recent = await manager().telemetry.fuelSeries({
      vehicleId: 'van-5',
      from: NOW - 6 * HOUR,
      to: NOW,
    });
    expect(recent.bucketS).toBe(60);
    expect(recent.points.length).toBeGreaterThanOrEqual(359);
    expect(recent.points.every((p) => p.pct === 30 && p.samples === 60)).toBe(true);

    const events = await manager().telemetry.events({
      vehicleId: 'van-5',
      from: NOW - 6 * HOUR,
      to: NOW,
      limit: 1,
    });
    expect(events.items.map((e) => e.type)).toEqual(['harsh_brake']);
    const more = await manager().telemetry.events({
      vehicleId: 'van-5',
      from: NOW - 6 * HOUR,
      to: NOW,
      limit: 1,
      cursor: events.nextCursor!,
    });
    expect(more.items.map((e) => e.type)).toEqual(['fuel_drain']);
    expect(more.nextCursor).toBeNull();

    // Consumption over the last six hours: 40 km/h for 360 minutes = 240 km; flat fuel, one 12 L drain.
    const used = await manager().fuel.consumption({
      vehicleId: 'van-5',
      from: NOW - 6 * HOUR + 60_000,
      to: NOW,
    });
    expect(used.km).toBeCloseTo(240, -1);
    expect(used.lostL).toBe(12);
    expect(used.usedPct).toBe(0);
  });
});

describe('refuel log', () => {
  it('a retried submit returns the first row; concurrent duplicates store one; another user cannot reuse the id', async () => {
    const clientId = randomUUID();
    const entry = {
      clientId,
      vehicleId: 'van-1',
      ts: NOW - 5 * 60_000,
      litres: 41.5,
      fuelType: 'diesel' as const,
    };
    const first = await driver().refuels.log({
      ...entry,
      amount: 70.55,
      currency: 'EUR',
      station: 'Aral Nord',
    });
    expect(first.created).toBe(true);
    const retry = await driver().refuels.log({
      ...entry,
      amount: 70.55,
      currency: 'EUR',
      station: 'Aral Nord',
    });
    expect(retry).toEqual({ created: false, refuel: first.refuel });

    const racing = randomUUID();
    const both = await Promise.all([1, 2, 3].map(() => driver().refuels.log({ ...entry, clientId: racing })));
    expect(both.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(both.map((r) => r.refuel.id)).size).toBe(1);

    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM refuel_logs WHERE client_id = ANY ($1::uuid[])`,
      [[clientId, racing]],
    );
    expect(rows[0]!.n).toBe(2);
    const other = callerAs(pool, { ...sessionOf('driver', 'acme', 'van-1'), userId: 'someone-else' });
    expect(await outcome(other.refuels.log(entry))).toBe('CONFLICT');

    const mine = await driver().refuels.mine({ limit: 1 });
    expect(mine.items).toHaveLength(1);
    const rest = await driver().refuels.mine({ limit: 10, cursor: mine.nextCursor! });
    expect([...mine.items, ...rest.items].map((r) => r.clientId).sort()).toEqual([clientId, racing].sort());
    expect(first.refuel).toMatchObject({
      amount: 70.55,
      currency: 'EUR',
      station: 'Aral Nord',
      litres: 41.5,
    });
    const { rows: audit } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'refuel.log'`,
    );
    expect(audit[0]!.n).toBe(2); // one per stored refuel, none for the retries
  });
});

describe('alerts', () => {
  it('events that need attention become open alerts (once each); acknowledge and resolve are audited', async () => {
    const dtc = await event('acme', 'van-2', 'dtc', NOW - 30 * 60_000, { details: { code: 'P0301' } });
    const harsh = await event('acme', 'van-2', 'harsh_accel', NOW - 20 * 60_000); // scored, not an alert
    await event('acme', 'van-3', 'long_idle', NOW - 10 * 60_000, { details: { durationS: 1200 } });
    // A redelivered event stores nothing and alerts nothing.
    expect(await seedEvents(pool, 'acme', 'van-2', [dtc, harsh])).toBe(0);
    const m = manager();
    const open = await m.alerts.list({ statuses: ['open'], vehicleId: 'van-2' });
    expect(open.items.map((a) => [a.type, a.title, a.severity])).toEqual([
      ['dtc', 'Trouble code P0301', 'warning'],
    ]);
    const all = await m.alerts.list({ from: NOW - HOUR, to: NOW });
    expect(all.items.map((a) => a.type)).toEqual(['long_idle', 'dtc']);
    expect(all.items[0]!.title).toBe('Long idle: 20 min');

    const id = open.items[0]!.id;
    const acked = await m.alerts.acknowledge({ alertId: id });
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'user:acme-fleet_manager' });
    expect(await m.alerts.acknowledge({ alertId: id })).toEqual(acked); // a double click changes nothing
    const resolved = await m.alerts.resolve({ alertId: id, note: 'misfire: coil replaced' });
    expect(resolved).toMatchObject({ status: 'resolved', resolutionNote: 'misfire: coil replaced' });
    expect(await outcome(m.alerts.acknowledge({ alertId: id }))).toBe('CONFLICT');

    const counts = (await m.alerts.list({ vehicleId: 'van-2', statuses: ['resolved'] })).counts;
    expect(counts).toEqual({ open: 0, acknowledged: 0, resolved: 1 });
    const { rows } = await pool.query(
      `SELECT action, before, after FROM audit_log WHERE entity = $1 ORDER BY id`,
      [`alert:${id}`],
    );
    expect(rows).toEqual([
      { action: 'alert.acknowledge', before: { status: 'open' }, after: { status: 'acknowledged' } },
      {
        action: 'alert.resolve',
        before: { status: 'acknowledged' },
        after: { status: 'resolved', note: 'misfire: coil replaced' },
      },
    ]);
  });
});

describe('geofences', () => {
  const DEPOT = [
    { lat: 50, lon: 8 },
    { lat: 50, lon: 9 },
    { lat: 51, lon: 9 },
    { lat: 51, lon: 8.5 },
    { lat: 50.5, lon: 8 },
  ];

  /** Positions as the ingest stores them (rollups, latest state, geofence entries and exits). */
  const geofences = new GeofenceWatch();
  let seq = 100;
  async function drive(vehicle: string, lat: number, lon: number) {
    await seedSamples(
      pool,
      'acme',
      vehicle,
      [{ seq: seq++, ts: Date.now(), lat, lon, speedKmh: 30, rpm: 1500, fuelLevelPct: 50, coolantC: 90 }],
      geofences,
    );
    await new Promise((r) => setTimeout(r, 2)); // the next sample is newer
  }
  const geofenceAlerts = async () =>
    (await manager().alerts.list({ types: ['geofence_enter', 'geofence_exit'], limit: 50 })).items
      .map((a) => [a.vehicleId, a.type, a.title])
      .reverse();

  it('entering and leaving make one alert each; standing inside when it is drawn does not', async () => {
    await drive('van-3', 50.5, 8.5); // inside before the geofence exists
    const m = manager();
    const g = await m.geofences.create({ name: 'Depot Frankfurt', polygon: DEPOT });
    expect(g.vehiclesInside).toBe(1);
    await drive('van-4', 49, 8.5); // outside
    await drive('van-4', 50.9, 8.2); // in the bounding box, outside the cut corner
    await drive('van-4', 50.4, 8.6); // inside
    await drive('van-4', 50.45, 8.6); // still inside
    await drive('van-3', 50.6, 8.6); // was inside, still inside
    await drive('van-4', 52, 8.6); // out
    expect(await geofenceAlerts()).toEqual([
      ['van-4', 'geofence_enter', 'Entered Depot Frankfurt'],
      ['van-4', 'geofence_exit', 'Left Depot Frankfurt'],
    ]);
    const listed = await m.geofences.list();
    expect(listed.items.map((x) => [x.name, x.vehiclesInside, x.polygon.length])).toEqual([
      ['Depot Frankfurt', 1, 5],
    ]);
    await m.geofences.delete({ geofenceId: g.id });
    await drive('van-3', 55, 8.5); // the geofence is gone: no exit
    expect(await geofenceAlerts()).toHaveLength(2);
    expect(await outcome(m.geofences.delete({ geofenceId: g.id }))).toBe('NOT_FOUND');
    const { rows } = await pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE entity = $1 ORDER BY id`,
      [`geofence:${g.id}`],
    );
    expect(rows.map((r) => r.action)).toEqual(['geofence.create', 'geofence.delete']);
  });
});

describe('drivers', () => {
  it('score and badges follow the documented formula; a driver sees their own', async () => {
    // van-2 / Eli: 200 km (100 minutes at 120 km/h), 1 harsh event, 6 idle minutes, 0 speeding:
    // per 100 km 0.5 harsh, 3 idle min -> 100 - 2.5 - 1.5 = 96.
    const from = NOW - 7 * DAY;
    await minutes('van-2', from + DAY, from + DAY + 100 * 60_000, 60_000, 50, 120);
    await event('acme', 'van-2', 'harsh_brake', from + DAY);
    await event('acme', 'van-2', 'long_idle', from + DAY, { details: { durationS: 360 } });
    await event('acme', 'van-2', 'speeding', from + DAY, { driverId: 'someone-else' }); // not Eli's
    const to = from + 2 * DAY; // (the alerts test's events on van-2 are later)
    const eli = await manager().drivers.score({ userId: 'acme-driver-2', from, to });
    expect(eli).toMatchObject({
      km: 200,
      harshEvents: 1,
      speedingEvents: 0,
      idleMinutes: 6,
      score: 96,
      badges: ['smooth-operator', 'within-limits', 'low-idle', 'top-score'],
    });
    const own = await callerAs(pool, {
      ...sessionOf('driver', 'acme', 'van-2'),
      userId: 'acme-driver-2',
    }).drivers.score({ from, to });
    expect(own.score).toBe(96);
    const list = await manager().drivers.list({ limit: 1 });
    expect(list.items.map((d) => d.name)).toEqual(['Dana Driver']);
    const next = await manager().drivers.list({ limit: 1, cursor: list.nextCursor! });
    expect(next.items.map((d) => [d.name, d.vehicleId])).toEqual([['Eli Early', 'van-2']]);
    expect(next.nextCursor).toBeNull();
  });
});

describe('search', () => {
  beforeAll(async () => {
    for (const [i, station, fuelType, vehicle] of [
      [1, 'Shell Hauptbahnhof', 'diesel', 'van-1'],
      [2, 'Shell Ostbahnhof', 'diesel', 'van-2'],
      [3, 'Aral Messe', 'petrol', 'van-1'],
      [4, 'Shell Flughafen', 'adblue', 'van-1'],
    ] as const) {
      await pool.query(
        `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, fuel_type, station)
         VALUES ('acme', $1, 'csv', $2, to_timestamp($3 / 1000.0), 50, $4, $5)`,
        [vehicle, `tx-${i}`, NOW - i * HOUR, fuelType, station],
      );
    }
    await pool.query(
      `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, fuel_type, station)
       VALUES ('globex', 'truck-b1', 'csv', 'g-1', now(), 50, 'diesel', 'Shell Globex')`,
    );
  });

  it('full text with facet counts (each facet counted under the other filters), pages and saved searches', async () => {
    const m = manager();
    const shell = await m.search.query({ q: 'shell' });
    expect(shell.total).toBe(3);
    expect(shell.hits.map((h) => h.title)).toEqual([
      'Shell Hauptbahnhof',
      'Shell Ostbahnhof',
      'Shell Flughafen',
    ]);
    expect(shell.facets.vehicle).toEqual([
      { value: 'van-1', label: 'van-1', count: 2 },
      { value: 'van-2', label: 'van-2', count: 1 },
    ]);
    expect(shell.facets.fuelType).toEqual([
      { value: 'diesel', label: 'diesel', count: 2 },
      { value: 'adblue', label: 'adblue', count: 1 },
    ]);
    expect(shell.facets.status).toEqual([{ value: 'pending', label: 'pending', count: 3 }]);

    // Filtering by van-1 narrows the hits and the other facets, not the vehicle facet itself.
    const van1 = await m.search.query({ q: 'shell', vehicleIds: ['van-1'] });
    expect(van1.total).toBe(2);
    expect(van1.facets.vehicle.map((f) => [f.value, f.count])).toEqual([
      ['van-1', 2],
      ['van-2', 1],
    ]);
    expect(van1.facets.fuelType.map((f) => [f.value, f.count])).toEqual([
      ['adblue', 1],
      ['diesel', 1],
    ]);

    // Across kinds: a vehicle id finds the vehicle, its driver, its alerts and its fuel logs.
    const all = await m.search.query({ q: 'van-2' });
    const kinds = Object.fromEntries(all.facets.kind.map((f) => [f.value, f.count]));
    expect(kinds.vehicle).toBe(1);
    expect(kinds.driver).toBe(1);
    expect(kinds.fuel).toBe(1);
    expect(kinds.alert).toBeGreaterThanOrEqual(1);
    expect(all.facets.driver.find((d) => d.value === 'acme-driver-2')?.label).toBe('Eli Early');

    // Pages: every hit once.
    const ids: string[] = [];
    let cursor: string | null | undefined;
    do {
      const p = await m.search.query({ q: 'van-1', limit: 2, ...(cursor ? { cursor } : {}) });
      ids.push(...p.hits.map((h) => `${h.kind}:${h.id}`));
      cursor = p.nextCursor;
    } while (cursor);
    const total = (await m.search.query({ q: 'van-1' })).total;
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);

    // Nothing of globex, whatever the words.
    expect((await m.search.query({ q: 'globex' })).total).toBe(0);

    const saved = await m.search.save({ name: 'Shell diesel', query: { q: 'shell', fuelTypes: ['diesel'] } });
    expect(await outcome(m.search.save({ name: 'Shell diesel', query: {} }))).toBe('CONFLICT');
    expect((await m.search.saved()).map((s) => [s.name, s.query])).toEqual([
      ['Shell diesel', { q: 'shell', fuelTypes: ['diesel'] }],
    ]);
    const colleague = callerAs(pool, sessionOf('admin', 'acme'));
    expect(await colleague.search.saved()).toEqual([]);
    expect(await outcome(colleague.search.deleteSaved({ savedSearchId: saved.id }))).toBe('NOT_FOUND');
    await m.search.deleteSaved({ savedSearchId: saved.id });
    expect(await m.search.saved()).toEqual([]);
  });

  it('transactions carry their reconciliation status and filter by it', async () => {
    const { rows } = await pool.query<{ id: number }>(
      `SELECT id FROM fuel_transactions WHERE external_id = 'tx-3'`,
    );
    await pool.query(
      `INSERT INTO fuel_reconciliations (tenant_id, transaction_id, vehicle_id, status, flags, reasons, ts)
       VALUES ('acme', $1, 'van-1', 'flagged', '{no_tank_rise}', '{"tank did not rise"}', now())`,
      [rows[0]!.id],
    );
    const finance = callerAs(pool, sessionOf('finance', 'acme'));
    const flagged = await finance.fuel.transactions({ statuses: ['flagged'] });
    expect(flagged.items.map((t) => [t.station, t.flags])).toEqual([['Aral Messe', ['no_tank_rise']]]);
    const pending = await finance.fuel.transactions({ statuses: ['pending'], limit: 2 });
    const rest = await finance.fuel.transactions({
      statuses: ['pending'],
      limit: 2,
      cursor: pending.nextCursor!,
    });
    expect([...pending.items, ...rest.items].map((t) => t.station)).toEqual([
      'Shell Hauptbahnhof',
      'Shell Ostbahnhof',
      'Shell Flughafen',
    ]);
    expect((await manager().search.query({ q: 'aral', statuses: ['flagged'] })).total).toBe(1);
  });
});

describe('trips from the minute rollups', () => {
  it('groups driving minutes into trips (short stops inside, long ones between), newest first', async () => {
    const t0 = Math.floor((NOW - 30 * DAY) / 60_000) * 60_000;
    const MIN = 60_000;
    // Trip A: 10 min at 60 km/h, a 3-minute stop at a standstill (rows at 0 km/h), 5 min at 30.
    await minutes('van-3', t0, t0 + 10 * MIN, MIN, 70, 60);
    await minutes('van-3', t0 + 10 * MIN, t0 + 13 * MIN, MIN, 69, 0);
    await minutes('van-3', t0 + 13 * MIN, t0 + 18 * MIN, MIN, 68, 30);
    // 20 minutes parked (no rows: ignition off), then trip B: 8 min at 90 km/h.
    await minutes('van-3', t0 + 38 * MIN, t0 + 46 * MIN, MIN, 60, 90);

    const { items } = await manager().trips.list({ vehicleId: 'van-3', from: t0 - HOUR, to: t0 + 2 * HOUR });
    expect(items).toEqual([
      {
        start: t0 + 38 * MIN,
        end: t0 + 46 * MIN,
        drivingMinutes: 8,
        distanceKm: 12,
        maxSpeedKmh: 90,
        fuelStartPct: 60,
        fuelEndPct: 60,
      },
      {
        start: t0,
        end: t0 + 18 * MIN,
        drivingMinutes: 15,
        distanceKm: 12.5,
        maxSpeedKmh: 60,
        fuelStartPct: 70,
        fuelEndPct: 68,
      },
    ]);
    // The window cuts: only what lies inside [from, to) counts; limit keeps the newest.
    expect(
      (await manager().trips.list({ vehicleId: 'van-3', from: t0 + 40 * MIN, to: t0 + HOUR })).items,
    ).toEqual([expect.objectContaining({ start: t0 + 40 * MIN, drivingMinutes: 6 })]);
    expect(
      (await manager().trips.list({ vehicleId: 'van-3', from: t0 - HOUR, to: t0 + 2 * HOUR, limit: 1 }))
        .items,
    ).toHaveLength(1);
  });

  it('refuses other vehicles, other tenants and bad ranges', async () => {
    const range = { from: NOW - DAY, to: NOW };
    expect(await outcome(driver().trips.list({ vehicleId: 'van-3', ...range }))).toBe('NOT_FOUND');
    expect(await outcome(driver().trips.list({ vehicleId: 'van-1', ...range }))).toBe('ok');
    expect(await outcome(manager().trips.list({ vehicleId: 'truck-b1', ...range }))).toBe('NOT_FOUND');
    expect(await outcome(manager().trips.list({ vehicleId: 'van-3', from: NOW, to: NOW - DAY }))).toBe(
      'BAD_REQUEST',
    );
    expect(await outcome(manager().trips.list({ vehicleId: 'van-3', from: NOW - 100 * DAY, to: NOW }))).toBe(
      'BAD_REQUEST',
    );
    expect(await outcome(manager().trips.list({ vehicleId: 'van-3', ...range, limit: 201 }))).toBe(
      'BAD_REQUEST',
    );
  });
});
