/**
 * Issue 17 §5-§6 on the real PostgreSQL: spend against budget with variance and the month-end
 * forecast, weekly consumption against the median of the vehicle's class, idling, the driver
 * table across a reassignment, one query behind a table and its CSV, saved reports with RLS.
 * Every expected figure below is worked out by hand from the fixture in the comments.
 */
import { createLogger } from '@fleet/shared/log';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../src/auth/auth-service.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { idlingReport } from '../src/reports/consumption/idling.ts';
import { weeklyConsumption } from '../src/reports/consumption/weekly-consumption.ts';
import { costVsBudget } from '../src/reports/cost/cost-vs-budget.ts';
import { driverPerformance } from '../src/reports/drivers/driver-performance.ts';
import { seedEvents, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const H = 3_600_000;
const DAY = 86_400_000;
/** The consumption week: Monday 2 March 2026 (UTC) to Monday 9 March. */
const WEEK = Date.UTC(2026, 2, 2);
const WEEK_END = WEEK + 7 * DAY;
/** "Now" of the cost report: 16 July 2026, noon. */
const NOW = Date.UTC(2026, 6, 16, 12);
let d1: string;
let d2: string;

/** `km` minute rollups of 60 km/h (1 km each) from `start`. */
async function drive(vehicleId: string, start: number, km: number) {
  await pool.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_sum, rpm_n)
     SELECT 'acme', $1, to_timestamp($2 / 1000.0) + i * interval '1 minute', 1, 1, 60, 0
       FROM generate_series(0, $3 - 1) i`,
    [vehicleId, start, km],
  );
}

async function buy(vehicleId: string, ts: number, litres: number, amount: number, currency = 'EUR') {
  await pool.query(
    `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, amount, currency)
     VALUES ('acme', $1, 'csv', $2, $3, $4, $5, $6)`,
    [vehicleId, `${vehicleId}-${ts}-${amount}`, new Date(ts), litres, amount, currency],
  );
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_repcost');
  pool = db.pool;
  await migrate(pool, createLogger('reports-cost-test').child({}, { level: 'error' }));
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await pool.query(`INSERT INTO vehicle_groups (tenant_id, name, kind) VALUES ('acme', 'North', 'depot')`);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, plate, vehicle_class, cost_centre, monthly_fuel_budget, group_id) VALUES
       ('v1', 'acme', 'VAN-1', 'van', 'CC-A', 200, (SELECT id FROM vehicle_groups WHERE name = 'North')),
       ('v2', 'acme', 'VAN-2', 'van', 'CC-A', NULL, NULL),
       ('v3', 'acme', 'VAN-3', 'van', 'CC-B', NULL, NULL),
       ('t1', 'acme', 'TRK-1', 'truck', NULL, NULL, NULL),
       ('t2', 'acme', 'TRK-2', 'truck', NULL, NULL, NULL),
       ('g1', 'globex', 'GLX-1', 'van', NULL, NULL, NULL)`,
  );

  // Consumption week. Vans: v1 150 km / 12 L = 8.00; v2 100 km / 10 L = 10.00; v3 200 km and no
  // purchase, a detected 30 L refuel = 15.00: class median 10.00. Trucks: t1 100 km / 30 L = 30;
  // t2 kept daily distance 1000 → 1100 km = 100 km (its 50 rollup km that day are not added) /
  // 40 L = 40: median 35.00. Fuel at 1.50 EUR/L throughout.
  await drive('v1', WEEK + DAY + 10 * H, 100); // Tuesday, driver d1
  await drive('v1', WEEK + 3 * DAY + 10 * H, 50); // Thursday, driver d2
  await drive('v2', WEEK + 10 * H, 100);
  await drive('v3', WEEK + 10 * H, 200);
  await drive('t1', WEEK + 10 * H, 100);
  await drive('t2', WEEK + 10 * H, 50);
  await pool.query(
    `INSERT INTO vehicle_day_distance (tenant_id, vehicle_id, day, odometer_start_km, odometer_end_km, gps_m)
     VALUES ('acme', 't2', '2026-03-02', 1000, 1100, 99000)`,
  );
  await buy('v1', WEEK + DAY + 12 * H, 12, 18);
  await buy('v2', WEEK + 12 * H, 10, 15);
  await buy('t1', WEEK + 12 * H, 30, 45);
  await buy('t2', WEEK + 12 * H, 40, 60);
  await seedEvents(pool, 'acme', 'v3', [
    vehicleEvent({ id: 1, type: 'refuel', start: WEEK + 9 * H, volumeL: 30 }),
  ]);

  // Drivers: d1 drives v1 until Wednesday 00:00, then v1 is reassigned to d2.
  d1 = await createUser(pool, {
    tenantId: 'acme',
    email: 'd1@acme.test',
    name: 'Ada',
    role: 'driver',
    password: 'x'.repeat(12),
  });
  d2 = await createUser(pool, {
    tenantId: 'acme',
    email: 'd2@acme.test',
    name: 'Bo',
    role: 'driver',
    password: 'x'.repeat(12),
  });
  await pool.query(
    `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, ends_at, source, created_by) VALUES
       ('acme', 'v1', $1, $3, $4, 'admin', 'test'), ('acme', 'v1', $2, $4, NULL, 'admin', 'test')`,
    [d1, d2, new Date(WEEK), new Date(WEEK + 2 * DAY)],
  );
  // Tuesday (d1): a harsh brake and two idles (30 min, 0.5 L; 60 min, 1.0 L). Thursday (d2): a harsh
  // acceleration and a harsh corner.
  await seedEvents(pool, 'acme', 'v1', [
    vehicleEvent({ id: 1, type: 'harsh_brake', start: WEEK + DAY + 11 * H }),
    vehicleEvent({
      id: 2,
      type: 'long_idle',
      start: WEEK + DAY + 13 * H,
      details: { durationS: 1800, fuelL: 0.5 },
    }),
    vehicleEvent({
      id: 3,
      type: 'long_idle',
      start: WEEK + DAY + 14 * H,
      details: { durationS: 3600, fuelL: 1.0 },
    }),
    vehicleEvent({ id: 4, type: 'harsh_accel', start: WEEK + 3 * DAY + 10 * H }),
    vehicleEvent({ id: 5, type: 'harsh_corner', start: WEEK + 3 * DAY + 10.5 * H }),
  ]);

  // Cost: v1 bought 10.00 EUR every day of the 56 before 16 July (21 May .. 15 July); v2 25.00 EUR
  // on 16 July at 09:00; v1 also 99.00 USD on 10 July (another currency: left out).
  await pool.query(
    `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, amount, currency)
     SELECT 'acme', 'v1', 'csv', 'daily-' || i, to_timestamp($1 / 1000.0) - i * interval '1 day', 6, 10, 'EUR'
       FROM generate_series(1, 56) i`,
    [Date.UTC(2026, 6, 16, 8)],
  );
  await buy('v2', Date.UTC(2026, 6, 16, 9), 16, 25);
  await buy('v1', Date.UTC(2026, 6, 10, 9), 50, 99, 'USD');
  // Budgets for July: the fleet 300.00, v2 20.00 (v1: its register budget, 200.00).
  const finance = callerAs(pool, sessionOf('finance', 'acme'));
  await finance.reports.setBudget({ scope: 'fleet', month: '2026-07', amount: 300, currency: 'EUR' });
  await finance.reports.setBudget({
    scope: 'vehicle',
    scopeKey: 'v2',
    month: '2026-07',
    amount: 20,
    currency: 'EUR',
  });
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const row = (rows: Record<string, unknown>[], key: string, value: string) =>
  rows.find((r) => r[key] === value);

describe('cost against budget', () => {
  const july = { from: Date.UTC(2026, 6, 1), to: Date.UTC(2026, 7, 1) };

  it('per vehicle: spend, budget (own row or the register), variance and month-end forecast', async () => {
    const t = await inTenant(pool, 'acme', (c) =>
      costVsBudget(c, { tenantId: 'acme', ...july, scope: 'vehicle', filters: {}, now: NOW }),
    );
    // v1: 15 July days x 10.00 = 150.00 against 200.00 (-50.00, -25 %); the model (10.00 a day on
    // every weekday) adds 17..31 July, 15 days: 300.00, +100.00 over budget.
    expect(row(t.rows, 'scope', 'VAN-1')).toMatchObject({
      month: '2026-07',
      spend: 150,
      budget: 200,
      variance: -50,
      variancePct: -25,
      forecast: 300,
      forecastVariance: 100,
    });
    // v2: 25.00 today against its own 20.00; no history, so the model adds nothing.
    expect(row(t.rows, 'scope', 'VAN-2')).toMatchObject({ spend: 25, budget: 20, variance: 5, forecast: 25 });
    expect(row(t.rows, 'scope', 'VAN-3')).toMatchObject({ spend: 0, budget: null, variance: null });
    expect(t.notes.join(' ')).toMatch(/1 purchase\(s\) in another currency than EUR left out/);
  });

  it('for the fleet: its own budget; a closed month has no forecast', async () => {
    const t = await inTenant(pool, 'acme', (c) =>
      costVsBudget(c, {
        tenantId: 'acme',
        from: Date.UTC(2026, 5, 1),
        to: july.to,
        scope: 'fleet',
        filters: {},
        now: NOW,
      }),
    );
    expect(t.rows.map((r) => r.month)).toEqual(['2026-06', '2026-07']);
    // June: 30 days x 10.00, closed. July: 150.00 + 25.00, forecast 175.00 + 150.00 = 325.00.
    expect(t.rows[0]).toMatchObject({ spend: 300, budget: 200, forecast: null });
    expect(t.rows[1]).toMatchObject({
      spend: 175,
      budget: 300,
      variance: -125,
      forecast: 325,
      forecastVariance: 25,
    });
  });

  it('per cost centre: the sum of its vehicles budgets', async () => {
    const t = await inTenant(pool, 'acme', (c) =>
      costVsBudget(c, { tenantId: 'acme', ...july, scope: 'cost_centre', filters: {}, now: NOW }),
    );
    expect(row(t.rows, 'scope', 'CC-A')).toMatchObject({ spend: 175, budget: 220, variance: -45 });
  });
});

describe('consumption, idling, drivers', () => {
  const week = { tenantId: 'acme', from: WEEK, to: WEEK_END, filters: {}, units: 'metric' as const };

  it('L/100 km per vehicle and week against the median of its class', async () => {
    const t = await inTenant(pool, 'acme', (c) => weeklyConsumption(c, week));
    const got = Object.fromEntries(
      t.rows.map((r) => [
        r.vehicle,
        [r.week, r.distance, r.fuel, r.consumption, r.classMedian, r.vsMedianPct],
      ]),
    );
    expect(got).toEqual({
      'VAN-1': ['2026-03-02', 150, 12, 8, 10, -20],
      'VAN-2': ['2026-03-02', 100, 10, 10, 10, 0],
      'VAN-3': ['2026-03-02', 200, 30, 15, 10, 50],
      'TRK-1': ['2026-03-02', 100, 30, 30, 35, -14.3],
      'TRK-2': ['2026-03-02', 100, 40, 40, 35, 14.3],
    });
    expect(row(t.rows, 'vehicle', 'VAN-3')!.fuelSource).toBe('detected refuels');
    // US units: 8 L/100 km = 29.40 mpg (100 / 1.609344 / (8 / 3.785411784)).
    const us = await inTenant(pool, 'acme', (c) => weeklyConsumption(c, { ...week, units: 'us' }));
    expect(row(us.rows, 'vehicle', 'VAN-1')!.consumption).toBe(29.4);
  });

  it('idling: hours, litres and cost at the price paid', async () => {
    const t = await inTenant(pool, 'acme', (c) => idlingReport(c, week));
    expect(t.rows).toEqual([
      { vehicle: 'VAN-1', vehicleId: 'v1', idles: 2, hours: 1.5, fuel: 1.5, cost: 2.25 },
    ]);
    const onlyBo = await inTenant(pool, 'acme', (c) =>
      idlingReport(c, { ...week, filters: { driverIds: [d2] } }),
    );
    expect(onlyBo.rows).toEqual([]);
  });

  it('the driver table credits each event to the driver assigned when it happened', async () => {
    const t = await inTenant(pool, 'acme', (c) => driverPerformance(c, week));
    expect(t.rows).toEqual([
      {
        driver: 'Ada',
        driverId: d1,
        distance: 100,
        fuel: 12,
        consumption: 12,
        idleHours: 1.5,
        idleFuel: 1.5,
        harshEvents: 1,
        harshPer100: 1,
        speeding: 0,
      },
      {
        driver: 'Bo',
        driverId: d2,
        distance: 50,
        fuel: 0,
        consumption: null,
        idleHours: 0,
        idleFuel: 0,
        harshEvents: 2,
        harshPer100: 4,
        speeding: 0,
      },
    ]);
  });

  it('one query behind the table and its CSV: the same numbers', async () => {
    const fm = callerAs(pool, sessionOf('fleet_manager', 'acme'));
    const input = {
      kind: 'consumption' as const,
      from: WEEK,
      to: WEEK_END,
      columns: ['vehicle', 'consumption', 'classMedian'],
    };
    const table = await fm.reports.run(input);
    const file = await fm.reports.export({ ...input, format: 'csv' });
    expect(file.filename).toBe('consumption-2026-03-02_2026-03-08.csv');
    const csv = parse(Buffer.from(file.base64, 'base64').toString('utf8')) as string[][];
    expect(csv[0]).toEqual(['Vehicle', 'L/100 km', 'Class median L/100 km']);
    expect(csv.slice(1)).toEqual(
      table.rows.map((r) => [String(r.vehicle), String(r.consumption), String(r.classMedian)]),
    );
    // The XLSX holds the same rows: title, header, then the figures as numbers.
    const xlsx = await fm.reports.export({ ...input, format: 'xlsx' });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(xlsx.base64, 'base64') as unknown as ArrayBuffer);
    const sheet = wb.getWorksheet('consumption')!;
    const cells = (n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
    expect(cells(2)).toEqual(['Vehicle', 'L/100 km', 'Class median L/100 km']);
    expect(table.rows.map((_, i) => cells(3 + i))).toEqual(
      table.rows.map((r) => [r.vehicle, r.consumption, r.classMedian]),
    );
    // IFTA and carbon stay with the roles that file them.
    await expect(fm.reports.run({ kind: 'carbon', from: WEEK, to: WEEK_END })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(fm.reports.export({ ...input, format: 'pdf' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});

describe('saved reports', () => {
  it('create, list, update, delete; another tenant neither sees nor changes them', async () => {
    const acme = callerAs(pool, sessionOf('finance', 'acme'));
    const globex = callerAs(pool, sessionOf('admin', 'globex'));
    const saved = await acme.reports.savedCreate({
      name: 'Vans weekly',
      kind: 'consumption',
      period: { preset: 'last-30-days' },
      filters: { vehicleIds: ['v1', 'v2'] },
      columns: ['vehicle', 'consumption'],
    });
    expect(saved).toMatchObject({
      name: 'Vans weekly',
      kind: 'consumption',
      units: 'metric',
      createdBy: 'acme-finance',
    });
    await expect(acme.reports.savedCreate({ name: 'Vans weekly' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const updated = await acme.reports.savedUpdate({
      id: saved.id,
      name: 'Vans weekly (US)',
      kind: 'consumption',
      units: 'us',
    });
    expect(updated).toMatchObject({ id: saved.id, units: 'us', filters: {} });
    expect((await acme.reports.savedList()).map((s) => s.name)).toEqual(['Vans weekly (US)']);

    expect(await globex.reports.savedList()).toEqual([]);
    await expect(globex.reports.savedUpdate({ id: saved.id, name: 'taken over' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(globex.reports.savedDelete({ id: saved.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Row-level security alone, without the tenant condition of the queries.
    const seen = await inTenant(pool, 'globex', (c) => c.query('SELECT id FROM saved_reports'));
    expect(seen.rowCount).toBe(0);
    const budgets = await inTenant(pool, 'globex', (c) => c.query('SELECT * FROM fuel_budgets'));
    expect(budgets.rowCount).toBe(0);

    await acme.reports.savedDelete({ id: saved.id });
    expect(await acme.reports.savedList()).toEqual([]);
  });

  it('budgets: finance sets them, compliance may not', async () => {
    const compliance = callerAs(pool, sessionOf('compliance', 'acme'));
    await expect(
      compliance.reports.setBudget({ scope: 'fleet', month: '2026-08', amount: 1, currency: 'EUR' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const list = await compliance.reports.budgets({ fromMonth: '2026-07', toMonth: '2026-07' });
    expect(list.map((b) => [b.scope, b.scopeKey, b.amount])).toEqual([
      ['fleet', '', 300],
      ['vehicle', 'v2', 20],
    ]);
    await expect(
      callerAs(pool, sessionOf('finance', 'acme')).reports.setBudget({
        scope: 'vehicle',
        month: '2026-07',
        amount: 1,
        currency: 'EUR',
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
