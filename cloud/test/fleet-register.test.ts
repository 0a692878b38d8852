/**
 * The fleet register on the real PostgreSQL (issue 15, "must show" 2, 3 and 6):
 *   - a tank calibration table changes the litres of the same sensor readings, and a table that
 *     does not rise strictly is refused with a field error naming its row;
 *   - after a reassignment, new events and refuels count for the new driver and the old ones stay
 *     with the old driver (late-arriving old data too); the database refuses a second current
 *     driver and overlapping periods whatever the application does;
 *   - groups filter the register and decide where a driver may check in; a retired vehicle leaves
 *     the fleet and its driver; every change is in the audit chain and it verifies.
 */
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodError } from 'zod';
import { createUser, login, sessionFromToken } from '../src/auth/auth-service.ts';
import { migrate } from '../src/db/migrate.ts';
import { verifyAuditChain } from '../src/db/queries/audit-log.ts';
import { loadReconciliationInputs } from '../src/db/queries/fuel-reconciliation.ts';
import { inTenant } from '../src/db/tenant.ts';
import { seedEvents, seedSamples, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('fleet-register-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const HOUR = 3_600_000;
const SADDLE = [
  { pct: 0, litres: 0 },
  { pct: 20, litres: 30 },
  { pct: 80, litres: 270 },
  { pct: 100, litres: 300 },
];

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_fleet_register');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
  // Drivers exist as users (assignments refer to them); sessionOf() gives them these ids.
  await pool.query(
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES
       ('dana', 'acme', 'dana@acme.test', 'Dana', 'driver', 'x'),
       ('eli', 'acme', 'eli@acme.test', 'Eli', 'driver', 'x'),
       ('acme-fleet_manager', 'acme', 'm@acme.test', 'Manager', 'fleet_manager', 'x'),
       ('gus', 'globex', 'gus@globex.test', 'Gus', 'driver', 'x')`,
  );
});

afterAll(async () => {
  await db?.drop();
});

const admin = () => callerAs(pool, sessionOf('admin', 'acme'));
const driver = (userId: string, vehicleId: string | null = null) =>
  callerAs(pool, { ...sessionOf('driver', 'acme', vehicleId), userId });
/** The input error's zod issues (tRPC keeps the ZodError as the cause). */
const issuesOf = (e: unknown): unknown => (e as TRPCError).cause;
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof TRPCError ? e.code : `not a TRPCError: ${(e as Error).message}`),
  );

describe('tank calibration', () => {
  it('the same sensor readings give other litres with a calibration table', async () => {
    const linear = await admin().registry.create({ id: 'cal-linear', plate: 'CAL-1', tankLitres: 300 });
    const shaped = await admin().registry.create({
      id: 'cal-saddle',
      plate: 'CAL-2',
      vin: 'wdb9066331s123456', // upper-cased on the way in
      tankLitres: 300,
      calibration: SADDLE,
    });
    expect(linear.calibration).toBeNull();
    expect(shaped).toMatchObject({ vin: 'WDB9066331S123456', calibration: SADDLE });
    // Six hours at 30 km/h, the sender falling 60 % -> 10 %, the same readings on both vehicles.
    const start = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
    for (const id of ['cal-linear', 'cal-saddle']) {
      const samples = [];
      for (let h = 0; h < 6; h++)
        for (let m = 0; m < 60; m += 10)
          samples.push({
            seq: samples.length + 1,
            ts: start + h * HOUR + m * 60_000,
            lat: 48,
            lon: 11,
            speedKmh: 30,
            rpm: 1500,
            fuelLevelPct: 60 - 10 * h,
            coolantC: 90,
          });
      await seedSamples(pool, 'acme', id, samples);
    }
    const range = { from: start, to: start + 6 * HOUR };
    const a = await admin().fuel.consumption({ vehicleId: 'cal-linear', ...range });
    const b = await admin().fuel.consumption({ vehicleId: 'cal-saddle', ...range });
    expect(a.usedPct).toBe(b.usedPct); // the same readings...
    expect(a.usedPct).toBe(50);
    expect(a.consumedL).toBe(150); // ...50 % of a 300 L box
    expect(b.consumedL).toBe(175); // ...but 190 L at 60 % and 15 L at 10 % on the saddle tank
    expect(b.litresPer100Km).not.toBe(a.litresPer100Km);

    // The reconciliation's level before a purchase goes through the same table: 10 % is 15 L on
    // the saddle tank (30 L on the box), so the free volume it checks a purchase against differs.
    await pool.query(
      `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres)
       VALUES ('acme', 'cal-saddle', 'manual', 'cal-1', to_timestamp($1 / 1000.0), 200),
              ('acme', 'cal-linear', 'manual', 'cal-2', to_timestamp($1 / 1000.0), 200)`,
      [start + 5 * HOUR + 50 * 60_000],
    );
    const inputs = await inTenant(pool, 'acme', (c) =>
      loadReconciliationInputs(c, 'acme', start, start + 6 * HOUR, 30 * 60_000),
    );
    expect(inputs.purchases.map((p) => [p.vehicleId, p.levelBeforeL])).toEqual([
      ['cal-saddle', 15],
      ['cal-linear', 30],
    ]);

    // Editing the table changes the figure: the table is read, not a copy taken at creation.
    await admin().registry.update({ vehicleId: 'cal-linear', calibration: SADDLE });
    expect((await admin().fuel.consumption({ vehicleId: 'cal-linear', ...range })).consumedL).toBe(175);
  });

  it('a table that does not rise strictly is refused with a field error naming the row', async () => {
    const bad = [
      { pct: 0, litres: 0 },
      { pct: 50, litres: 100 },
      { pct: 60, litres: 90 },
      { pct: 100, litres: 200 },
    ];
    const err = await admin()
      .registry.create({ plate: 'CAL-3', tankLitres: 200, calibration: bad })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    const issues = (issuesOf(err) as { issues: { path: unknown[]; message: string }[] }).issues;
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      [['calibration', 2, 'litres'], "row 3: litres must be greater than row 2's (100)"],
    ]);
    // On an edit, checked against the tank the vehicle will have: a smaller tank than the table's top.
    const shrink = await admin()
      .registry.update({ vehicleId: 'cal-saddle', tankLitres: 250 })
      .catch((e: unknown) => e);
    expect((issuesOf(shrink) as { issues: unknown[] }).issues).toEqual([
      expect.objectContaining({
        path: ['calibration', 3, 'litres'],
        message: "row 4: 300 L is more than the tank's capacity (250 L)",
      }),
    ]);
    const edit = await admin()
      .registry.update({ vehicleId: 'cal-saddle', calibration: bad })
      .catch((e: unknown) => e);
    expect((issuesOf(edit) as { issues: { path: unknown[]; message: string }[] }).issues[0]!.path).toEqual([
      'calibration',
      2,
      'litres',
    ]);
    expect((await admin().registry.get({ vehicleId: 'cal-saddle' })).calibration).toEqual(SADDLE);
    expect(await pool.query(`SELECT 1 FROM vehicles WHERE plate = 'CAL-3'`)).toMatchObject({ rowCount: 0 });
  });
});

describe('drivers and assignments', () => {
  const T0 = Date.now() - 5 * HOUR;
  let eventId = 1;
  const harsh = (ts: number) => vehicleEvent({ id: eventId++, type: 'harsh_brake', start: ts });
  const refuel = (ts: number, volumeL: number) =>
    vehicleEvent({ id: eventId++, type: 'refuel', start: ts, volumeL });

  it('after a reassignment, new events and refuels count for the new driver; old ones stay with the old one', async () => {
    const depot = await admin().groups.create({ name: 'Depot North' });
    await admin().registry.create({ id: 'van-9', plate: 'M-VN-9', groupId: depot.id, tankLitres: 90 });
    await admin().roster.setGroups({ userId: 'eli', groupIds: [depot.id] });
    // Dana drives van-9 since T0 (an administrator records it).
    await admin().assignments.assign({ vehicleId: 'van-9', userId: 'dana', from: T0 });
    await seedEvents(pool, 'acme', 'van-9', [harsh(T0 + HOUR), refuel(T0 + 2 * HOUR, 40)]);

    // Eli checks in from the PWA: Dana's period ends now, Eli's begins.
    expect(await driver('eli').assignments.allowed()).toEqual([
      expect.objectContaining({ id: 'van-9', plate: 'M-VN-9', takenBy: 'Dana', mine: false }),
    ]);
    expect(await driver('eli').assignments.checkIn({ vehicleId: 'van-9' })).toEqual({
      vehicleId: 'van-9',
      changed: true,
    });
    await new Promise((r) => setTimeout(r, 20));
    const after = Date.now();
    // New data, and one old event that only arrives now (an agent that was offline).
    await seedEvents(pool, 'acme', 'van-9', [
      harsh(after),
      harsh(after + 1000),
      refuel(after + 2000, 25),
      harsh(T0 + 3 * HOUR),
    ]);

    const range = { from: T0 - HOUR, to: after + HOUR };
    const dana = await admin().drivers.score({ userId: 'dana', ...range });
    const eli = await admin().drivers.score({ userId: 'eli', ...range });
    expect(dana).toMatchObject({ harshEvents: 2, refuels: 1, refuelledL: 40, vehicleId: null });
    expect(eli).toMatchObject({ harshEvents: 2, refuels: 1, refuelledL: 25, vehicleId: 'van-9' });
    // The event list names the driver of each event's own time.
    const events = await admin().telemetry.events({ vehicleId: 'van-9', ...range, limit: 100 });
    expect(events.items.map((e) => [e.start >= after ? 'new' : 'old', e.driverId])).toEqual([
      ['old', 'dana'],
      ['old', 'dana'],
      ['old', 'dana'],
      ['new', 'eli'],
      ['new', 'eli'],
      ['new', 'eli'],
    ]);

    // The history: two periods, Dana's closed when Eli's began; the register shows Eli.
    const history = await admin().assignments.list({ vehicleId: 'van-9' });
    expect(history.items.map((a) => [a.userId, a.source, a.to === null])).toEqual([
      ['eli', 'check-in', true],
      ['dana', 'admin', false],
    ]);
    expect(history.items[1]!.to).toBe(history.items[0]!.from);
    expect((await admin().registry.get({ vehicleId: 'van-9' })).driverName).toBe('Eli');
  });

  it('the database refuses a second current driver and overlapping periods, whatever writes them', async () => {
    const insert = (user: string, from: string, to: string | null) =>
      pool
        .query(
          `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, ends_at, source, created_by)
           VALUES ('acme', 'van-9', $1, $2, $3, 'admin', 'sql')`,
          [user, from, to],
        )
        .then(
          () => 'stored',
          (e: { code?: string }) => e.code,
        );
    // Straight SQL as the owner, past the API: unique index (current) and trigger (periods).
    // (The trigger's check runs first and says 23P01; the unique index on open periods is the backstop.)
    expect(await insert('dana', new Date().toISOString(), null)).toBe('23P01');
    expect(
      await insert('dana', new Date(T0 + HOUR).toISOString(), new Date(T0 + 2 * HOUR).toISOString()),
    ).toBe('23P01');
    expect(
      await insert('dana', new Date(T0 - 3 * HOUR).toISOString(), new Date(T0 - 2 * HOUR).toISOString()),
    ).toBe('stored'); // before anyone drove it: allowed
    // Through the API: an overlapping period is CONFLICT, not a server error.
    expect(
      await code(admin().assignments.assign({ vehicleId: 'van-9', userId: 'dana', from: T0, to: T0 + HOUR })),
    ).toBe('CONFLICT');
  });

  it('a driver checks in only to the vehicles of their groups; the session follows the assignment', async () => {
    await admin().registry.create({ id: 'van-10', plate: 'M-VN-10' }); // no group
    expect(await code(driver('dana').assignments.checkIn({ vehicleId: 'van-10' }))).toBe('NOT_FOUND');
    expect(await code(driver('dana').assignments.checkIn({ vehicleId: 'van-9' }))).toBe('NOT_FOUND'); // not her group
    expect(await code(driver('eli').assignments.checkIn({ vehicleId: 'truck-b1' }))).toBe('NOT_FOUND');
    expect(await driver('eli').assignments.checkIn({ vehicleId: 'van-9' })).toEqual({
      vehicleId: 'van-9',
      changed: false,
    });
    // A real sign-in: the session's vehicle is the current assignment, and it moves with it.
    await createUser(pool, {
      tenantId: 'acme',
      email: 'fay@acme.test',
      name: 'Fay',
      role: 'driver',
      password: 'fays-long-password',
    });
    const signed = await login(pool, 'fay@acme.test', 'fays-long-password');
    if (!signed.ok) throw new Error('sign-in failed');
    expect(signed.session.vehicleId).toBeNull();
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM users WHERE email = 'fay@acme.test'`);
    await admin().assignments.assign({ vehicleId: 'van-10', userId: rows[0]!.id });
    expect((await sessionFromToken(pool, signed.token))!.vehicleId).toBe('van-10');
    // A driver sees the vehicle they are assigned to, and no other.
    const fay = callerAs(pool, (await sessionFromToken(pool, signed.token))!);
    expect((await fay.assignments.allowed()).map((v) => [v.id, v.mine])).toEqual([['van-10', true]]);
    expect(await fay.assignments.checkOut()).toMatchObject({ ended: [expect.any(Number)] });
    expect((await sessionFromToken(pool, signed.token))!.vehicleId).toBeNull();
  });

  it('roles: a driver reaches no admin procedure, a technician reads the register but changes nothing', async () => {
    const d = driver('eli', 'van-9');
    for (const p of [
      d.registry.list(),
      d.registry.create({ plate: 'X-1' }),
      d.groups.list(),
      d.groups.create({ name: 'x' }),
      d.assignments.list(),
      d.assignments.assign({ vehicleId: 'van-9', userId: 'eli' }),
      d.roster.list(),
      d.roster.import({ csv: 'email,name\n' }),
    ])
      expect(await code(p)).toBe('FORBIDDEN');
    const tech = callerAs(pool, sessionOf('technician', 'acme'));
    expect((await tech.registry.list()).items.length).toBeGreaterThan(0);
    expect(await code(tech.registry.update({ vehicleId: 'van-9', make: 'Ford' }))).toBe('FORBIDDEN');
    expect(await code(tech.assignments.checkIn({ vehicleId: 'van-9' }))).toBe('FORBIDDEN');
    expect(await code(tech.roster.list())).toBe('FORBIDDEN');
    // Another tenant's ids are NOT_FOUND.
    const globex = callerAs(pool, sessionOf('admin', 'globex'));
    expect(await code(globex.registry.get({ vehicleId: 'van-9' }))).toBe('NOT_FOUND');
    expect(await code(globex.assignments.assign({ vehicleId: 'van-9', userId: 'eli' }))).toBe('NOT_FOUND');
    expect((await globex.registry.list()).items).toEqual([]);
  });
});

describe('groups, retirement and the audit chain', () => {
  it('the register filters by group; a retired vehicle leaves the fleet and its driver; all of it audited', async () => {
    const south = await admin().groups.create({ name: 'Depot South', kind: 'depot' });
    expect(await code(admin().groups.create({ name: 'Depot South' }))).toBe('CONFLICT');
    await admin().registry.update({ vehicleId: 'cal-linear', groupId: south.id, make: 'Iveco', year: 2019 });
    expect((await admin().registry.list({ groupId: south.id })).items.map((v) => v.id)).toEqual([
      'cal-linear',
    ]);
    expect(await code(admin().registry.create({ plate: 'CAL-1' }))).toBe('CONFLICT'); // plate in service
    expect(await code(admin().registry.update({ vehicleId: 'cal-linear', vin: 'WDB-TOO-SHORT' }))).toBe(
      'BAD_REQUEST',
    );

    const retired = await admin().registry.retire({ vehicleId: 'van-9' });
    expect(retired).toMatchObject({ driverId: null, retiredAt: expect.any(Number) });
    expect((await admin().registry.list()).items.map((v) => v.id)).not.toContain('van-9');
    expect((await admin().registry.list({ includeRetired: true })).items.map((v) => v.id)).toContain('van-9');
    expect(await driver('eli').assignments.allowed()).toEqual([]);
    // Retired, its plate may be given to a new vehicle; its history stays.
    await admin().registry.create({ id: 'van-9b', plate: 'M-VN-9' });
    expect((await admin().assignments.list({ vehicleId: 'van-9' })).items).toHaveLength(3);

    await admin().groups.delete({ groupId: south.id });
    expect((await admin().registry.get({ vehicleId: 'cal-linear' })).groupId).toBeNull();

    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true });
    const { rows } = await pool.query<{ action: string }>(
      `SELECT DISTINCT action FROM audit_log WHERE tenant_id = 'acme' ORDER BY action`,
    );
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'assignment.check-in',
        'assignment.check-out',
        'assignment.create',
        'driver.groups',
        'group.create',
        'group.delete',
        'vehicle.create',
        'vehicle.retire',
        'vehicle.update',
      ]),
    );
    const { rows: update } = await pool.query<{ before: { make: string | null }; after: { make: string } }>(
      `SELECT before, after FROM audit_log WHERE action = 'vehicle.update' AND entity = 'vehicle:cal-linear'
        ORDER BY id DESC LIMIT 1`,
    );
    expect(update[0]).toMatchObject({ before: { make: null }, after: { make: 'Iveco' } });
  });
});
