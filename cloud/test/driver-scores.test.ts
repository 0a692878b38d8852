/**
 * Fair driver scores on the real PostgreSQL (issue 19 §1-3), data written through the production
 * ingest paths (seedSamples, seedEvents):
 *   - attribution follows the assignment history: one van, two drivers in turn, each credited
 *     with their own distance and events, and reassigning the van later moves nothing;
 *   - daily stored scores (the CLI and the API read the same rows), percentile in the peer group,
 *     no score under the minimum distance, a metric the vehicle does not report left out;
 *   - a dispute takes the event out at once; accepted it stays out, rejected it counts again;
 *     a driver can dispute only their own events and sees only their own disputes;
 *   - the leaderboard (drivers: their peer group, anonymised); RLS on the new tables.
 */
import type { TelemetrySample } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../src/auth/session.ts';
import { buildCli } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { addDays, dayOf, rescoreDay, scoresForDay } from '../src/drivers/scoring/rescore.ts';
import { seedEvents, seedSamples, vehicleEvent } from './support/seed.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('driver-scores-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;

const H = 3_600_000;
// Yesterday (UTC): the scored day D; today is D+1.
const D = dayOf(Date.now() - 86_400_000);
const at = (hour: number, min = 0) => Date.parse(`${D}T00:00:00Z`) + hour * H + min * 60_000;

const driver = (id: string, name: string, vehicleId: string | null = null): Session => ({
  userId: id,
  tenantId: 'acme',
  email: `${id}@acme.test`,
  name,
  role: 'driver',
  vehicleId,
});
const manager = sessionOf('fleet_manager', 'acme');

/** One sample every 30 s at `kmh` (1 km per minute at 60), rpm and fuel when given. */
function drive(from: number, to: number, o: { kmh: number; rpm: number | null; fuelFrom: number | null }) {
  const out: TelemetrySample[] = [];
  const n = Math.floor((to - from) / 30_000);
  for (let i = 0; i < n; i++)
    out.push({
      seq: Math.floor(from / 1000) + i,
      ts: from + i * 30_000,
      lat: 48 + i * 1e-4,
      lon: 11,
      speedKmh: o.kmh,
      rpm: o.rpm,
      fuelLevelPct: o.fuelFrom === null ? null : o.fuelFrom - (i / n) * 20,
      coolantC: 90,
    });
  return out;
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_driver_scores');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, vehicle_class, tank_litres) VALUES
       ('van-1', 'acme', 'van', 80), ('van-2', 'acme', 'van', 80), ('truck-1', 'acme', 'truck', NULL),
       ('g-van', 'globex', 'van', 80)`,
  );
  await pool.query(
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES
       ('dana', 'acme', 'dana@acme.test', 'Dana', 'driver', 'x'),
       ('eli', 'acme', 'eli@acme.test', 'Eli', 'driver', 'x'),
       ('fay', 'acme', 'fay@acme.test', 'Fay', 'driver', 'x'),
       ('gil', 'acme', 'gil@acme.test', 'Gil', 'driver', 'x'),
       ('acme-fleet_manager', 'acme', 'fm@acme.test', 'Manager', 'fleet_manager', 'x'),
       ('gus', 'globex', 'gus@globex.test', 'Gus', 'driver', 'x')`,
  );
  // van-1: Dana 08-10, Eli 10-12 (a reassignment mid-day); van-2: Fay for one hour (60 km);
  // truck-1: Gil, 150 km, no rpm and no tank size (rpm band and fuel economy left out).
  await pool.query(
    `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, ends_at, source, created_by) VALUES
       ('acme', 'van-1', 'dana', $1, $2, 'admin', 'test'),
       ('acme', 'van-1', 'eli', $2, $3, 'admin', 'test'),
       ('acme', 'van-2', 'fay', $1, $3, 'admin', 'test'),
       ('acme', 'truck-1', 'gil', $1, NULL, 'admin', 'test'),
       ('globex', 'g-van', 'gus', $1, NULL, 'admin', 'test')`,
    [new Date(at(8)), new Date(at(10)), new Date(at(12))],
  );
  await seedSamples(pool, 'acme', 'van-1', drive(at(8), at(12), { kmh: 60, rpm: 1800, fuelFrom: 90 }));
  await seedSamples(pool, 'acme', 'van-2', drive(at(9), at(10), { kmh: 60, rpm: 1800, fuelFrom: 90 }));
  await seedSamples(
    pool,
    'acme',
    'truck-1',
    drive(at(8), at(10, 30), { kmh: 60, rpm: null, fuelFrom: null }),
  );
  await seedSamples(pool, 'globex', 'g-van', drive(at(8), at(10, 30), { kmh: 60, rpm: 1800, fuelFrom: 90 }));
  // Dana: one harsh brake at 09:00 and 60 s at 25 km/h over the limit; Eli: two harsh brakes.
  await seedEvents(pool, 'acme', 'van-1', [
    vehicleEvent({ id: 1, type: 'harsh_brake', start: at(9), lat: 48.01, lon: 11 }),
    vehicleEvent({
      id: 2,
      type: 'speeding',
      start: at(9, 30),
      end: at(9, 31),
      details: { limitKmh: 50, maxSpeedKmh: 75 },
    }),
    vehicleEvent({ id: 3, type: 'harsh_brake', start: at(10, 30) }),
    vehicleEvent({ id: 4, type: 'harsh_brake', start: at(11, 30) }),
  ]);
  await seedEvents(pool, 'globex', 'g-van', [vehicleEvent({ id: 1, type: 'harsh_brake', start: at(9) })]);
});

afterAll(async () => {
  await db?.drop();
});

const stored = async (day: string) =>
  Object.fromEntries(
    (await inTenant(pool, 'acme', (c) => scoresForDay(c, 'acme', day))).map((s) => [s.userId, s]),
  );

describe('daily stored scores', () => {
  it('the CLI rescores D and D+1 for every tenant, and the rows are the ones scoresForDay reads', async () => {
    const out: string[] = [];
    process.exitCode = undefined;
    await buildCli({ out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`) })
      .exitOverride()
      .parseAsync([
        'node',
        'fleet-cloud',
        '--database-url',
        POSTGRES_URL,
        '--schema',
        db.schema,
        'drivers',
        'rescore',
        '--day',
        addDays(D, 1),
        '--days',
        '2',
        '--json',
      ]);
    expect(process.exitCode ?? 0).toBe(0);
    const r = JSON.parse(out.at(-1)!);
    expect(r).toMatchObject({ tenants: 2, days: [D, addDays(D, 1)] });
    // acme: 4 drivers with periods on both days; globex: 1. Scored: Dana, Eli, Gil, Gus (Fay: 60 km).
    expect(r.drivers).toBe(10);
    expect(r.scored).toBe(8);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM driver_day_scores WHERE tenant_id = 'acme'`,
    );
    expect(rows[0].n).toBe(8);
  });

  it('attributes each half of a reassigned van to the driver who drove it', async () => {
    const s = await stored(D);
    expect(s.dana!.km).toBeCloseTo(120, 0);
    expect(s.eli!.km).toBeCloseTo(120, 0);
    // Dana: 1 brake per 120 km; Eli: 2.
    expect(s.dana!.metrics.harsh_brake!.value).toBeCloseTo(100 / 120, 2);
    expect(s.eli!.metrics.harsh_brake!.value).toBeCloseTo(200 / 120, 2);
    // Dana's speeding: 60 s at grade 3 over her 2 h moving.
    expect(s.dana!.metrics.speeding!.value).toBeCloseTo((60 * 3) / (120 * 60), 3);
    expect(s.eli!.metrics.speeding!.value).toBe(0);
    expect(s.eli!.score!).toBeLessThan(100);
  });

  it('gives a percentile within the peer group, no score under the minimum distance, and leaves out what a vehicle cannot report', async () => {
    const s = await stored(D);
    expect(s.dana!.peerGroup).toBe('van');
    expect(s.gil!.peerGroup).toBe('truck');
    const [better, worse] = s.dana!.score! > s.eli!.score! ? ['dana', 'eli'] : ['eli', 'dana'];
    expect(s[better]!.percentile).toBe(100);
    expect(s[worse]!.percentile).toBe(0);
    expect(s.gil!.percentile).toBe(100); // alone among trucks
    expect(s.fay!.km).toBeCloseTo(60, 0);
    expect(s.fay!.score).toBeNull();
    expect(s.fay!.percentile).toBeNull();
    // The truck reports neither rpm nor a tank: both left out (null), so a clean drive is 100.
    expect(s.gil!.metrics.rpm_band).toBeNull();
    expect(s.gil!.metrics.fuel_economy).toBeNull();
    expect(s.gil!.score).toBe(100);
    // The vans report both: rpm 1800 is in the default band all the way.
    expect(s.dana!.metrics.rpm_band!.subScore).toBeCloseTo(100, 6);
    expect(s.dana!.metrics.fuel_economy).not.toBeNull();
  });

  it('reassigning the van now changes no past score', async () => {
    const before = await stored(D);
    await pool.query(
      `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
       VALUES ('acme', 'van-1', 'fay', now(), 'admin', 'test')`,
    );
    await inTenant(pool, 'acme', (c) => rescoreDay(c, 'acme', D));
    const after = await stored(D);
    for (const id of ['dana', 'eli', 'fay', 'gil']) expect(after[id]!.score).toBe(before[id]!.score);
  });

  it('the trend is one stored row per day', async () => {
    const t = await callerAs(pool, driver('dana', 'Dana')).scores.get({ days: 28 });
    expect(t.trend.map((x) => x.day)).toEqual([D, addDays(D, 1)]);
    expect(t.score).toBeCloseTo(t.trend[1]!.score!, 6);
  });
});

describe('explanation and disputes', () => {
  it('explains every point lost by its events, with place and the speed trace around them', async () => {
    const e = await callerAs(pool, driver('dana', 'Dana')).scores.explain({ day: D });
    const brake = e.metrics.find((m) => m.metric === 'harsh_brake')!;
    expect(brake.pointsLost).toBeGreaterThan(0);
    expect(brake.eventCount).toBe(1);
    expect(brake.events[0]).toMatchObject({ vehicleId: 'van-1', eventId: 1, lat: 48.01, counted: true });
    // ±60 s of samples every 30 s around 09:00.
    expect(brake.events[0]!.speedTrace.length).toBeGreaterThanOrEqual(4);
    expect(brake.events[0]!.speedTrace.every((p) => p.speedKmh === 60)).toBe(true);
    const lost = e.metrics.reduce((s, m) => s + m.pointsLost, 0);
    expect(100 - lost).toBeCloseTo(e.score!, 3);
    // Eli's events are not Dana's.
    const eli = await callerAs(pool, driver('eli', 'Eli')).scores.explain({ day: D });
    expect(
      eli.metrics
        .find((m) => m.metric === 'harsh_brake')!
        .events.map((x) => x.eventId)
        .sort(),
    ).toEqual([3, 4]);
  });

  it('a driver cannot read or dispute another driver', async () => {
    const dana = callerAs(pool, driver('dana', 'Dana'));
    await expect(dana.scores.explain({ userId: 'eli' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      dana.scores.dispute({ vehicleId: 'van-1', eventId: 3, comment: 'not me' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('dispute → left out at once; accepted stays out; rejected counts again; both sides see the history', async () => {
    const eli = callerAs(pool, driver('eli', 'Eli'));
    const fm = callerAs(pool, manager);
    const s0 = (await stored(D)).eli!;
    const d1 = await eli.scores.dispute({ vehicleId: 'van-1', eventId: 3, comment: 'pothole, not me' });
    expect(d1.rescoredDays).toEqual([D, addDays(D, 1)]);
    const s1 = (await stored(D)).eli!;
    expect(s1.metrics.harsh_brake!.value).toBeCloseTo(100 / 120, 2);
    expect(s1.score!).toBeGreaterThan(s0.score!);
    await expect(
      eli.scores.dispute({ vehicleId: 'van-1', eventId: 3, comment: 'again' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });

    await fm.scores.decideDispute({ disputeId: d1.id, accept: true, comment: 'confirmed by the dashcam' });
    expect((await stored(D)).eli!.score).toBeCloseTo(s1.score!, 6);
    await expect(
      fm.scores.decideDispute({ disputeId: d1.id, accept: false, comment: 'changed my mind' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });

    const d2 = await eli.scores.dispute({ vehicleId: 'van-1', eventId: 4, comment: 'also not me' });
    expect((await stored(D)).eli!.metrics.harsh_brake!.value).toBe(0); // reported, none counted
    await fm.scores.decideDispute({ disputeId: d2.id, accept: false, comment: 'the video shows it' });
    expect((await stored(D)).eli!.metrics.harsh_brake!.value).toBeCloseTo(100 / 120, 2);

    const mine = await eli.scores.disputes({});
    expect(mine.map((d) => [d.eventId, d.status, d.decisionComment])).toEqual([
      [4, 'rejected', 'the video shows it'],
      [3, 'accepted', 'confirmed by the dashcam'],
    ]);
    expect(mine[0]!.decidedBy).toBe('Manager');
    expect(await callerAs(pool, driver('dana', 'Dana')).scores.disputes({})).toEqual([]);
    expect((await fm.scores.disputes({})).length).toBe(2);
    const explained = await eli.scores.explain({ day: D });
    const events = explained.metrics.find((m) => m.metric === 'harsh_brake')!.events;
    expect(events.find((x) => x.eventId === 3)).toMatchObject({
      counted: false,
      dispute: { status: 'accepted' },
    });
    expect(events.find((x) => x.eventId === 4)).toMatchObject({
      counted: true,
      dispute: { status: 'rejected' },
    });
    // Audited, both sides.
    const { rows } = await pool.query(
      `SELECT action FROM audit_log WHERE tenant_id = 'acme' AND action LIKE 'dispute.%' ORDER BY id`,
    );
    expect(rows.map((r) => r.action)).toEqual([
      'dispute.create',
      'dispute.accept',
      'dispute.create',
      'dispute.reject',
    ]);
  });
});

describe('leaderboard', () => {
  it('managers see everyone; a driver sees their peer group with the others anonymised', async () => {
    const all = await callerAs(pool, manager).scores.leaderboard({ period: 'week' });
    expect(all.rows.map((r) => r.name).sort()).toEqual(['Dana', 'Eli', 'Gil']);
    expect(all.peerGroups).toEqual(['truck', 'van']);
    const vans = await callerAs(pool, manager).scores.leaderboard({ period: 'month', peerGroup: 'van' });
    expect(vans.rows.map((r) => r.name).sort()).toEqual(['Dana', 'Eli']);

    const seen = await callerAs(pool, driver('dana', 'Dana')).scores.leaderboard({ period: 'week' });
    expect(seen.anonymised).toBe(true);
    expect(seen.rows).toHaveLength(2);
    const me = seen.rows.find((r) => r.you)!;
    expect(me.name).toBe('Dana');
    const other = seen.rows.find((r) => !r.you)!;
    expect(other.userId).toBeNull();
    expect(other.name).toMatch(/^Driver \d$/);
    expect(JSON.stringify(seen)).not.toContain('Eli');
    expect(JSON.stringify(seen)).not.toContain('Gil');
    // Ranks follow the values.
    expect(seen.rows[0]!.value).toBeGreaterThanOrEqual(seen.rows[1]!.value);
  });

  it('with anonymity off, a driver sees names; weights are the tenant setting and rescore today', async () => {
    const fm = callerAs(pool, manager);
    const s = await fm.scores.updateSettings({ anonymise: false, weights: { harsh_brake: 0 } });
    expect(s.weights.harsh_brake).toBe(0);
    const seen = await callerAs(pool, driver('dana', 'Dana')).scores.leaderboard({ period: 'week' });
    expect(seen.rows.map((r) => r.name).sort()).toEqual(['Dana', 'Eli']);
    const today = (await stored(addDays(D, 1))).eli!;
    expect(today.metrics.harsh_brake).toBeNull();
    await expect(fm.scores.updateSettings({ rpmLow: 3000, rpmHigh: 2000 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      callerAs(pool, driver('dana', 'Dana')).scores.updateSettings({ anonymise: true }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
  it('most improved: the last 7 days against the same 7 days four weeks earlier', async () => {
    // Four weeks before the latest day (D+1): Dana at 40, Eli at 99.
    await pool.query(
      `INSERT INTO driver_day_scores (tenant_id, user_id, day, window_days, km, score, percentile, peer_group, metrics)
       VALUES ('acme', 'dana', $1, 28, 150, 40, 0, 'van', '{}'), ('acme', 'eli', $1, 28, 150, 99, 100, 'van', '{}')`,
      [addDays(D, 1 - 30)],
    );
    const fm = callerAs(pool, manager);
    const week = await fm.scores.leaderboard({ period: 'week', peerGroup: 'van' });
    const improved = await fm.scores.leaderboard({ period: 'improved', peerGroup: 'van' });
    const weekOf = (name: string) => week.rows.find((r) => r.name === name)!.value;
    expect(improved.rows.map((r) => r.name)).toEqual(['Dana', 'Eli']);
    expect(improved.rows[0]!.value).toBeCloseTo(weekOf('Dana') - 40, 0);
    expect(improved.rows[1]!.value).toBeCloseTo(weekOf('Eli') - 99, 0);
    // (A day outside the last 30 does not move the monthly mean.)
    const month = await fm.scores.leaderboard({ period: 'month', peerGroup: 'van' });
    expect(month.rows.find((r) => r.name === 'Dana')!.value).toBeCloseTo(weekOf('Dana'), 0);
  });
});

describe('row-level security', () => {
  it('fleet_app sees only its tenant in the score, dispute and settings tables', async () => {
    const seen = await inTenant(pool, 'globex', async (c) => {
      const a = await c.query(`SELECT DISTINCT tenant_id FROM driver_day_scores`);
      const b = await c.query(`SELECT DISTINCT tenant_id FROM event_disputes`);
      const s = await c.query(`SELECT DISTINCT tenant_id FROM driver_score_settings`);
      return [...a.rows, ...b.rows, ...s.rows].map((r) => r.tenant_id);
    });
    expect(seen).toEqual(['globex']);
    const gus = await callerAs(pool, { ...driver('gus', 'Gus'), tenantId: 'globex' }).scores.leaderboard({});
    expect(gus.rows.map((r) => r.name)).toEqual(['Gus']);
    // Writing another tenant's row is refused by the policy.
    await expect(
      inTenant(pool, 'globex', (c) =>
        c.query(
          `INSERT INTO driver_day_scores (tenant_id, user_id, day, window_days, km, peer_group, metrics)
           VALUES ('acme', 'dana', '2020-01-01', 28, 0, 'x', '{}')`,
        ),
      ),
    ).rejects.toThrow(/row-level security/);
  });
});
