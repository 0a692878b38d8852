/**
 * Issue 18 §1, must-show 4 on the real PostgreSQL: days of driving stored as the ingest stores
 * them (telemetry_minute rows: the minute's mean speed and rpm), service programs written through
 * the tRPC API, due dates and forecasts read at a given clock, the alert sweep run with that clock
 * and the real rule delivery (the notifications outbox), work orders costed and completed through
 * the API. Nothing is mocked.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleDelivery } from '../src/alerts/rules/delivery.ts';
import { sweepRules } from '../src/alerts/rules/sweep.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { maintenanceCostByVehicle } from '../src/maintenance/cost.ts';
import { type DueItem, listDue } from '../src/maintenance/due.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('maintenance-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const MIN = 60_000;
const DAY = 86_400_000;
/** The simulated "today" is the real one (the API stamps completions with Date.now()). */
const NOW = Math.floor(Date.now() / MIN) * MIN;
/** The programs start counting 58 days ago. */
const T0 = NOW - 58 * DAY;

const A = 'm_acme';
const B = 'm_other';
const as = (role: Parameters<typeof sessionOf>[0], tenant = A, vehicle: string | null = null) =>
  callerAs(pool, sessionOf(role, tenant, vehicle));
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof TRPCError ? err.code : `not a TRPCError: ${String(err)}`),
  );

/**
 * One day of driving as the ingest's minute rollup holds it: `hours` of engine-on minutes at a
 * constant speed that covers `km` (0 km: idling).
 */
async function drive(tenant: string, vehicle: string, day: number, km: number, hours: number) {
  const minutes = Math.round(hours * 60);
  const speed = km / hours;
  await pool.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_min, speed_max, speed_sum,
                                   rpm_n, rpm_min, rpm_max, rpm_sum, fuel_min, fuel_max, coolant_max)
     SELECT $1, $2, to_timestamp($3 / 1000.0) + make_interval(mins => g + 360), 60, 60, $4::real, $4::real, $4::float8 * 60,
            60, 1400, 1600, 1500 * 60, 50, 51, 88
       FROM generate_series(0, $5 - 1) g`,
    [tenant, vehicle, day, speed, minutes],
  );
}
async function driveDays(vehicle: string, from: number, days: number, km: number, hours: number) {
  for (let d = 0; d < days; d++) await drive(A, vehicle, from + d * DAY, km, hours);
}
const dueAt = (now: number, vehicleId: string, programId: number) =>
  inTenant(pool, A, async (c) =>
    (await listDue(c, A, now, { vehicleId, programId })).find((d) => d.programId === programId),
  ) as Promise<DueItem>;

let oil: number;
let hoursProgram: number;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_maintenance');
  pool = db.pool;
  await migrate(pool, log);
  for (const t of [A, B]) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [t]);
    for (const v of ['van-far', 'van-near', 'van-idle'])
      await pool.query('INSERT INTO vehicles (id, tenant_id, online) VALUES ($1, $2, true)', [
        `${t}-${v}`,
        t,
      ]);
    for (const role of ['fleet_manager', 'technician', 'driver'] as const)
      await pool.query(
        `INSERT INTO users (id, tenant_id, email, name, role, vehicle_id, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, 'x')`,
        [
          `${t}-${role}`,
          t,
          `${role}@${t}.test`,
          `${role} of ${t}`,
          role,
          role === 'driver' ? `${t}-van-far` : null,
        ],
      );
  }
  // 200 km a day for 40 days (8 h): the distance comes first. 20 km a day: the calendar does.
  await driveDays(`${A}-van-far`, T0, 40, 200, 8);
  await driveDays(`${A}-van-near`, T0, 58, 20, 1);
  // Idling 3 h a day, no distance: only an engine-hours program moves.
  await driveDays(`${A}-van-idle`, T0, 10, 0, 3);
  // Tenant B's vehicle drives too: nothing of it may show in tenant A.
  await drive(B, `${B}-van-far`, T0, 300, 5);
  const manager = as('fleet_manager');
  oil = (
    await manager.maintenance.createProgram({
      name: 'Oil',
      template: 'oil', // 15,000 km or 12 months; due soon 1,000 km / 14 days
      startsAt: T0,
      targets: { vehicleIds: [`${A}-van-far`, `${A}-van-near`] },
    })
  ).id;
  hoursProgram = (
    await manager.maintenance.createProgram({
      name: 'Engine 100 h',
      intervalHours: 100,
      soonHours: 10,
      startsAt: T0,
      targets: { vehicleIds: [`${A}-van-idle`] },
    })
  ).id;
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe('the due date: distance, engine hours or the calendar, whichever first', () => {
  it('200 km a day: due by distance in 35 days; 20 km a day: due by the 12-month calendar', async () => {
    const now = T0 + 40 * DAY;
    const far = await dueAt(now, `${A}-van-far`, oil);
    expect(far.kmSince).toBeCloseTo(8000, 0);
    expect(far.kmPerDay).toBeCloseTo(200, 0);
    expect(far.remainingKm).toBeCloseTo(7000, 0);
    expect(far.dueBy).toBe('distance');
    expect((far.forecastDueAt! - now) / DAY).toBeCloseTo(35, 1);
    expect(far.status).toBe('ok');

    const near = await dueAt(now, `${A}-van-near`, oil);
    expect(near.kmSince).toBeCloseTo(800, 0);
    expect(near.dueBy).toBe('calendar');
    const twelveMonths = new Date(T0);
    twelveMonths.setUTCMonth(twelveMonths.getUTCMonth() + 12);
    expect(near.forecastDueAt).toBe(near.calendarDueAt);
    expect(Math.abs(near.calendarDueAt! - twelveMonths.getTime())).toBeLessThanOrEqual(3 * DAY);
  });

  it('engine hours: idling moves the hours program and not the distance', async () => {
    const now = T0 + 10 * DAY;
    const idle = await dueAt(now, `${A}-van-idle`, hoursProgram);
    expect(idle.hoursSince).toBeCloseTo(30, 1);
    expect(idle.kmSince).toBe(0);
    expect(idle.dueBy).toBe('hours');
    // 70 h left at 30 h / 30 days = 1 h a day.
    expect((idle.forecastDueAt! - now) / DAY).toBeCloseTo(70, 0);
  });

  it('the forecast moves with daily use: driving twice as much brings it forward', async () => {
    const before = await dueAt(T0 + 40 * DAY, `${A}-van-far`, oil);
    // 10 more days at 400 km a day.
    await driveDays(`${A}-van-far`, T0 + 40 * DAY, 10, 400, 8);
    const now = T0 + 50 * DAY;
    const after = await dueAt(now, `${A}-van-far`, oil);
    // 12,000 km driven, 3,000 left; the last 30 days average (20×200 + 10×400) / 30 = 266.7 km.
    expect(after.remainingKm).toBeCloseTo(3000, 0);
    expect(after.kmPerDay).toBeCloseTo(266.7, 0);
    expect((after.forecastDueAt! - now) / DAY).toBeCloseTo(3000 / (8000 / 30), 1);
    // At the old pace it would have been day 75; now it is about day 61.
    expect(before.forecastDueAt! - T0).toBeCloseTo(75 * DAY, -5);
    expect(after.forecastDueAt!).toBeLessThan(before.forecastDueAt! - 13 * DAY);
  });
});

describe('a due service raises an alert through the rules engine', () => {
  it('overdue by distance: one alert from the sweep, its e-mail queued; the next sweep adds none', async () => {
    await driveDays(`${A}-van-far`, T0 + 50 * DAY, 8, 400, 8); // 15,200 km: overdue
    const overdue = await dueAt(NOW, `${A}-van-far`, oil);
    expect(overdue.status).toBe('overdue');
    expect(overdue.remainingKm!).toBeLessThan(0);
    // The due list through the API says the same (the API's clock is the real one = NOW).
    const listed = await as('technician').maintenance.due({ status: ['overdue'] });
    expect(listed.items.map((i) => `${i.vehicleId}/${i.programName}`)).toContain(`${A}-van-far/Oil`);

    const ruleId = (
      await as('fleet_manager').alertRules.create({
        name: 'Service due',
        source: 'service_due',
        severity: 'warning',
        recipients: { roles: ['fleet_manager'] },
        channels: { warning: ['in_app', 'email'] },
      })
    ).id;
    const delivery = ruleDelivery('https://fleet.test', log);
    const first = await sweepRules(pool, NOW, log, delivery);
    expect(first.opened).toBe(1);
    const { rows: alerts } = await pool.query<{
      id: number;
      vehicle_id: string;
      type: string;
      title: string;
    }>('SELECT id, vehicle_id, type, title FROM alerts WHERE tenant_id = $1 AND rule_id = $2', [A, ruleId]);
    expect(alerts.map((a) => [a.vehicle_id, a.type, a.title])).toEqual([
      [`${A}-van-far`, 'service_due', 'Service overdue: Oil'],
    ]);
    const { rows: queued } = await pool.query<{
      channel: string;
      target: string;
      status: string;
      subject: string;
    }>('SELECT channel, target, status, subject FROM notification_deliveries WHERE alert_id = $1', [
      alerts[0]!.id,
    ]);
    expect(queued).toEqual([
      {
        channel: 'email',
        target: `fleet_manager@${A}.test`,
        status: 'queued',
        subject: `Service overdue: Oil — ${A}-van-far`,
      },
    ]);
    const again = await sweepRules(pool, NOW + MIN, log, delivery);
    expect(again.opened).toBe(0);
  });
});

describe('work orders', () => {
  let orderId: number;

  it("opened from the due service, costed with parts and labour: the cost appears in the vehicle's cost", async () => {
    const tech = as('technician');
    const opened = await tech.workOrders.create({
      vehicleId: `${A}-van-far`,
      title: 'Oil and filter',
      source: { kind: 'service' },
      programId: oil,
      assigneeId: `${A}-technician`,
    });
    expect(opened.created).toBe(true);
    orderId = opened.workOrder.id;
    // The same due service opened again: the order there is.
    const twice = await as('fleet_manager').workOrders.create({
      vehicleId: `${A}-van-far`,
      title: 'Oil again',
      source: { kind: 'service' },
      programId: oil,
    });
    expect(twice).toMatchObject({ created: false, workOrder: { id: orderId } });
    expect((await dueAt(NOW, `${A}-van-far`, oil)).workOrderId).toBe(orderId);

    await tech.workOrders.addLine({
      workOrderId: orderId,
      kind: 'part',
      description: 'Oil 5W-30 (l)',
      quantity: '6',
      unitCost: '12.40',
    });
    await tech.workOrders.addLine({
      workOrderId: orderId,
      kind: 'part',
      description: 'Oil filter',
      quantity: '1',
      unitCost: '18.90',
    });
    const detail = await tech.workOrders.addLine({
      workOrderId: orderId,
      kind: 'labour',
      description: 'Technician (h)',
      quantity: '1.5',
      unitCost: '60.00',
    });
    expect(detail.lines.map((l) => l.amount)).toEqual(['74.40', '18.90', '90.00']);
    expect(detail.order).toMatchObject({ partsCost: '93.30', labourCost: '90.00', totalCost: '183.30' });
    expect(detail.order.assigneeName).toBe(`technician of ${A}`);

    await pool.query(
      `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, amount, currency)
       VALUES ($1, $2, 'manual', 'm-1', to_timestamp($3 / 1000.0), 60, 95.50, 'EUR')`,
      [A, `${A}-van-far`, NOW - 2 * DAY],
    );
    const cost = await as('finance').maintenance.vehicleCost({
      vehicleId: `${A}-van-far`,
      from: NOW - 90 * DAY,
      to: NOW + DAY,
    });
    expect(cost.byCurrency).toEqual([
      { currency: 'EUR', fuel: '95.50', maintenance: '183.30', total: '278.80' },
    ]);
    const joinable = await inTenant(pool, A, (c) =>
      maintenanceCostByVehicle(c, A, { from: NOW - 90 * DAY, to: NOW + DAY }),
    );
    expect(joinable).toEqual([
      {
        vehicleId: `${A}-van-far`,
        currency: 'EUR',
        parts: '93.30',
        labour: '90.00',
        total: '183.30',
        workOrders: 1,
      },
    ]);
  });

  it('completing it resets the service: counted from now, due again in 15,000 km or 12 months', async () => {
    const tech = as('technician');
    await tech.workOrders.update({ workOrderId: orderId, status: 'in_progress' });
    const done = await tech.workOrders.update({ workOrderId: orderId, status: 'done', odometerKm: 48_210 });
    expect(done.status).toBe('done');
    const after = await dueAt(Date.now() + MIN, `${A}-van-far`, oil);
    expect(after.status).toBe('ok');
    expect(after.lastServiceAt).toBe(done.doneAt);
    expect(after.kmSince).toBe(0);
    expect(after.remainingKm).toBe(15_000);
    expect(after.dueOdometerKm).toBe(63_210);
    expect(after.workOrderId).toBeNull();
    // A done order is history: it cannot be reopened.
    expect(await outcome(tech.workOrders.update({ workOrderId: orderId, status: 'open' }))).toBe('CONFLICT');
    const history = await tech.workOrders.list({ vehicleId: `${A}-van-far` });
    expect(history.map((o) => [o.id, o.status, o.totalCost])).toEqual([[orderId, 'done', '183.30']]);
    // The next sweep sees nothing due for it.
    expect(
      (await sweepRules(pool, Date.now() + MIN, log, ruleDelivery('https://fleet.test', log))).opened,
    ).toBe(0);
  });
});

describe("a driver's defect report", () => {
  it('a marked defect opens one work order; the same report sent again stores nothing new', async () => {
    const driver = as('driver', A, `${A}-van-far`);
    const report = {
      clientId: randomUUID(),
      vehicleId: `${A}-van-far`,
      ts: Date.now() - MIN,
      items: [
        { item: 'brakes' as const, ok: true },
        { item: 'lights' as const, ok: false, note: 'left brake light out' },
      ],
    };
    const first = await driver.maintenance.reportDefect(report);
    expect(first.created).toBe(true);
    expect(first.report.defects).toBe(1);
    const again = await driver.maintenance.reportDefect(report);
    expect(again).toMatchObject({
      created: false,
      report: { id: first.report.id, workOrderId: first.report.workOrderId },
    });
    const order = await as('technician').workOrders.get({ workOrderId: first.report.workOrderId! });
    expect(order.order).toMatchObject({ title: 'Defect reported: lights', source: { kind: 'defect' } });
    expect(order.order.notes).toContain('left brake light out');
    // Another driver's vehicle: not theirs.
    expect(
      await outcome(
        driver.maintenance.reportDefect({ ...report, clientId: randomUUID(), vehicleId: `${A}-van-near` }),
      ),
    ).toBe('NOT_FOUND');
    // All fine: no work order.
    const clean = await driver.maintenance.reportDefect({
      ...report,
      clientId: randomUUID(),
      items: [{ item: 'tyres', ok: true }],
    });
    expect(clean.report.workOrderId).toBeNull();
  });
});

describe('tenants and roles', () => {
  it("another tenant sees none of A's programs, due services, work orders or reports (RLS)", async () => {
    const other = as('fleet_manager', B);
    expect((await other.maintenance.programs()).programs).toEqual([]);
    expect((await other.maintenance.due()).items).toEqual([]);
    expect(await other.workOrders.list()).toEqual([]);
    expect(await outcome(other.workOrders.get({ workOrderId: 1 }))).toBe('NOT_FOUND');
    // Row-level security alone: no tenant filter at all, as fleet_app in tenant B.
    const seen = await inTenant(pool, B, async (c) => {
      const n = async (t: string) =>
        (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
      return {
        programs: await n('service_programs'),
        orders: await n('work_orders'),
        lines: await n('work_order_lines'),
        services: await n('vehicle_services'),
        defects: await n('defect_reports'),
      };
    });
    expect(seen).toEqual({ programs: 0, orders: 0, lines: 0, services: 0, defects: 0 });
  });

  it('a driver cannot create programs or open work orders; finance reads but does not write', async () => {
    const driver = as('driver', A, `${A}-van-far`);
    expect(
      await outcome(
        driver.maintenance.createProgram({
          name: 'mine',
          template: 'oil',
          targets: { vehicleIds: [`${A}-van-far`] },
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      await outcome(
        driver.workOrders.create({ vehicleId: `${A}-van-far`, title: 'x', source: { kind: 'manual' } }),
      ),
    ).toBe('FORBIDDEN');
    expect(await outcome(as('finance').workOrders.list())).toBe('ok');
    expect(await outcome(as('finance').workOrders.update({ workOrderId: 1, status: 'cancelled' }))).toBe(
      'FORBIDDEN',
    );
  });

  it('bad input is refused with a reason: no interval, a line without cost, an unknown vehicle', async () => {
    const manager = as('fleet_manager');
    expect(
      await outcome(
        manager.maintenance.createProgram({ name: 'Nothing', targets: { vehicleIds: [`${A}-van-far`] } }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await outcome(
        manager.maintenance.createProgram({
          name: 'Ghost',
          template: 'tyres',
          targets: { vehicleIds: ['no-such-van'] },
        }),
      ),
    ).toBe('NOT_FOUND');
    const wo = await manager.workOrders.create({
      vehicleId: `${A}-van-near`,
      title: 'Wipers',
      source: { kind: 'manual' },
    });
    expect(
      await outcome(
        manager.workOrders.addLine({
          workOrderId: wo.workOrder.id,
          kind: 'part',
          description: 'x',
          quantity: '0',
          unitCost: '1',
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await outcome(
        manager.workOrders.create({
          vehicleId: `${B}-van-far`,
          title: 'x',
          source: { kind: 'dtc', ref: 'P0301' },
        }),
      ),
    ).toBe('NOT_FOUND');
  });
});
