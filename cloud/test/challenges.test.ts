/**
 * Challenges on the real PostgreSQL (issue 19 §3, must-show 3): a simulated November for 20
 * vehicles and 20 drivers, generated with a seeded PRNG and stored through the real ingest paths
 * (samples: the telemetry group statement with its minute rollups; events: the event ingest's
 * store). Drivers swap vehicles mid-month (assignments), one vehicle has nobody assigned, one
 * driver barely drives, trips cross the challenge's window edges.
 *
 *   - mid-month progress equals a recomputation done here in plain JS from the generated data;
 *   - the sweep freezes the ended challenges once (and not the running one); the frozen results
 *     and the points paid equal the same recomputation over the whole month;
 *   - data that arrives after the freeze changes neither the results nor the points (while a
 *     fresh computation from the raw rows would now differ: the late data is really in the window).
 */
import type { TelemetrySample, VehicleEvent } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../src/api/root.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { challengeProgress, computeStandings, getChallenge } from '../src/drivers/challenges/challenges.ts';
import { sweepDriverProgramme } from '../src/drivers/programme-sweep.ts';
import { seedEvents, seedSamples, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('challenges-test').child({}, { level: 'error' });
const T = 'acme';
const MIN = 60_000;
const DAY = 86_400_000;
const utc = (s: string) => Date.parse(`${s}Z`);
// November 2026 in Europe/Madrid (CET, UTC+1): [Oct 31 23:00Z, Nov 30 23:00Z).
const WINDOW = { from: utc('2026-10-31T23:00:00'), to: utc('2026-11-30T23:00:00') };
const SWAP_AT = utc('2026-11-16T00:00:00');
const MID = SWAP_AT; // the first half of the data ends here
const DATA_FROM = utc('2026-10-30T00:00:00');
const DATA_TO = utc('2026-12-02T00:00:00');

/** mulberry32: a small seeded PRNG, so every run generates the same month. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(20261101);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

const pad = (n: number) => String(n).padStart(2, '0');
const VEHICLES = Array.from({ length: 20 }, (_, i) => `v${pad(i + 1)}`);
const DRIVERS = Array.from({ length: 20 }, (_, i) => `d${pad(i + 1)}`);
/** Four teams of five (vehicle groups the drivers belong to). */
const TEAM_OF = (d: number) => Math.floor(d / 5); // index 0..3

/** Who drives what: d01-d16 swap in pairs at SWAP_AT; d17, d18 and d20 keep theirs; d19 has none. */
type Period = { driver: string; vehicle: string; from: number; to: number };
const PERIODS: Period[] = [];
for (let i = 0; i < 20; i++) {
  if (i === 18) continue; // d19: no vehicle; v19 drives with nobody assigned
  if (i < 16) {
    const partner = i % 2 === 0 ? i + 1 : i - 1;
    PERIODS.push({ driver: DRIVERS[i]!, vehicle: VEHICLES[i]!, from: -Infinity, to: SWAP_AT });
    PERIODS.push({ driver: DRIVERS[i]!, vehicle: VEHICLES[partner]!, from: SWAP_AT, to: Infinity });
  } else PERIODS.push({ driver: DRIVERS[i]!, vehicle: VEHICLES[i]!, from: -Infinity, to: Infinity });
}

interface Generated {
  samples: Map<string, TelemetrySample[]>;
  events: Map<string, VehicleEvent[]>;
}

/** One trip a day per vehicle (v20: one day only), 30-90 one-minute samples, events inside it. */
function generate(): Generated {
  const samples = new Map<string, TelemetrySample[]>();
  const events = new Map<string, VehicleEvent[]>();
  VEHICLES.forEach((v, vi) => {
    const harshRate = 0.2 + rand() * 3; // per trip: vehicles (and so drivers) differ
    const idleRate = rand();
    const speedingRate = rand() * 1.5;
    const s: TelemetrySample[] = [];
    const e: VehicleEvent[] = [];
    let seq = 0;
    let eventId = 0;
    for (let day = DATA_FROM; day < DATA_TO; day += DAY) {
      if (vi === 19 && day !== utc('2026-11-10T00:00:00')) continue;
      const length = int(30, 90);
      const start = day + int(0, 24 * 60 - length - 1) * MIN;
      for (let m = 0; m < length; m++) {
        const idle = rand() < 0.1;
        s.push({
          seq: ++seq,
          ts: start + m * MIN + int(0, 59) * 1000,
          lat: 40.4 + vi / 100,
          lon: -3.7 + m / 1000,
          speedKmh: idle ? 0 : int(20, 110),
          rpm: idle ? 800 : int(1200, 3200),
          fuelLevelPct: 50,
          coolantC: 90,
        });
      }
      const inTrip = () => start + int(0, length * 60 - 1) * 1000;
      const count = (rate: number) => Math.floor(rate + rand());
      for (let k = count(harshRate); k > 0; k--) {
        const type = (['harsh_brake', 'harsh_accel', 'harsh_corner'] as const)[int(0, 2)]!;
        const at = inTrip();
        e.push(vehicleEvent({ id: ++eventId, type, start: at, end: at + 1500 }));
      }
      for (let k = count(speedingRate); k > 0; k--) {
        const at = inTrip();
        e.push(vehicleEvent({ id: ++eventId, type: 'speeding', start: at, end: at + int(5, 120) * 1000 }));
      }
      for (let k = count(idleRate); k > 0; k--) {
        const at = inTrip();
        const durationS = int(120, 900);
        e.push(
          vehicleEvent({
            id: ++eventId,
            type: 'long_idle',
            start: at,
            end: at + durationS * 1000,
            details: { durationS },
          }),
        );
      }
    }
    samples.set(v, s);
    events.set(v, e);
  });
  return { samples, events };
}

// ---- The independent recomputation (plain JS over the generated data) ------------------------------
interface Sums {
  km: number;
  driveMin: number;
  engineMin: number;
  harsh: number;
  speedingS: number;
  idleS: number;
}
const zero = (): Sums => ({ km: 0, driveMin: 0, engineMin: 0, harsh: 0, speedingS: 0, idleS: 0 });

function sumsByDriver(data: Generated, from: number, to: number): Map<string, Sums> {
  const out = new Map(DRIVERS.map((d) => [d, zero()]));
  for (const p of PERIODS) {
    const s = Math.max(p.from, from);
    const e = Math.min(p.to, to);
    if (s >= e) continue;
    const acc = out.get(p.driver)!;
    for (const x of data.samples.get(p.vehicle)!) {
      const minute = Math.floor(x.ts / MIN) * MIN; // the rollup's minute
      if (minute < s || minute >= e) continue;
      acc.km += x.speedKmh! / 60;
      if (x.speedKmh! > 0) acc.driveMin++;
      if (x.rpm! > 0) acc.engineMin++;
    }
    for (const ev of data.events.get(p.vehicle)!) {
      if (ev.start < s || ev.start >= e) continue;
      if (ev.type.startsWith('harsh_')) acc.harsh++;
      if (ev.type === 'speeding') acc.speedingS += (ev.end - ev.start) / 1000;
      if (ev.type === 'long_idle') acc.idleS += (ev.end - ev.start) / 1000;
    }
  }
  return out;
}

type Metric = 'distance_km' | 'harsh_per_100km' | 'speeding_share' | 'idle_share';
interface Spec {
  name: string;
  kind: 'individual' | 'team';
  metric: Metric;
  direction: 'at_least' | 'at_most';
  target: number;
  minKm: number;
  rewardPoints: number;
}
function metricOf(metric: Metric, s: Sums): number | null {
  if (metric === 'distance_km') return s.km;
  if (metric === 'harsh_per_100km') return s.km > 0 ? (100 * s.harsh) / s.km : null;
  if (metric === 'speeding_share') return s.driveMin > 0 ? (100 * s.speedingS) / (60 * s.driveMin) : null;
  return s.engineMin > 0 ? (100 * s.idleS) / (60 * s.engineMin) : null;
}
interface Expected {
  participant: string;
  value: number | null;
  eligible: boolean;
  met: boolean;
  rank: number | null;
  points: number;
  members: string[];
}
function expected(spec: Spec, byDriver: Map<string, Sums>, groupIds: number[]): Expected[] {
  const rows: Expected[] = [];
  const met = (v: number | null) =>
    v !== null && (spec.direction === 'at_least' ? v >= spec.target : v <= spec.target);
  if (spec.kind === 'individual') {
    for (const [d, s] of byDriver) {
      const eligible = s.km >= spec.minKm;
      const v = metricOf(spec.metric, s);
      rows.push({
        participant: `user:${d}`,
        value: v,
        eligible,
        met: eligible && met(v),
        rank: null,
        points: 0,
        members: [d],
      });
    }
  } else {
    for (let t = 0; t < 4; t++) {
      const members = DRIVERS.filter((_, i) => TEAM_OF(i) === t).filter(
        (d) => byDriver.get(d)!.km >= spec.minKm,
      );
      const total = zero();
      for (const d of members)
        for (const k of Object.keys(total) as (keyof Sums)[]) total[k] += byDriver.get(d)![k];
      const eligible = members.length > 0;
      const v = eligible ? metricOf(spec.metric, total) : null;
      rows.push({
        participant: `group:${groupIds[t]}`,
        value: v,
        eligible,
        met: eligible && met(v),
        rank: null,
        points: 0,
        members,
      });
    }
  }
  const ranked = rows
    .filter((r) => r.eligible && r.value !== null)
    .sort((a, b) => (spec.direction === 'at_most' ? a.value! - b.value! : b.value! - a.value!));
  ranked.forEach((r, i) => {
    r.rank = i > 0 && ranked[i - 1]!.value === r.value ? ranked[i - 1]!.rank : i + 1;
  });
  for (const r of rows) r.points = r.met ? spec.rewardPoints : 0;
  return rows.sort((a, b) => a.participant.localeCompare(b.participant));
}

// ---- The database side ------------------------------------------------------------------------------
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const data = generate();
let groupIds: number[] = [];
const manager = () =>
  createCaller({
    db: pool,
    session: {
      userId: 'boss',
      tenantId: T,
      email: 'boss@acme.test',
      name: 'Boss',
      role: 'fleet_manager',
      vehicleId: null,
    },
  });

async function store(from: number, to: number, late = false) {
  for (const v of VEHICLES) {
    const samples = data.samples.get(v)!.filter((s) => s.ts >= from && s.ts < to);
    if (samples.length > 0) await seedSamples(pool, T, v, samples, undefined, late);
    const events = data.events.get(v)!.filter((e) => e.start >= from && e.start < to);
    if (events.length > 0) await seedEvents(pool, T, v, events);
  }
}

const SPECS: Spec[] = [
  {
    name: 'Smooth November',
    kind: 'individual',
    metric: 'harsh_per_100km',
    direction: 'at_most',
    target: 2.5,
    minKm: 100,
    rewardPoints: 100,
  },
  {
    name: 'Team idle',
    kind: 'team',
    metric: 'idle_share',
    direction: 'at_most',
    target: 6,
    minKm: 20,
    rewardPoints: 40,
  },
  {
    name: 'Road month',
    kind: 'individual',
    metric: 'distance_km',
    direction: 'at_least',
    target: 1500,
    minKm: 0,
    rewardPoints: 25,
  },
  {
    name: 'Within limits',
    kind: 'individual',
    metric: 'speeding_share',
    direction: 'at_most',
    target: 1,
    minKm: 100,
    rewardPoints: 10,
  },
];
const ids: number[] = [];

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_challenges');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ($1, $1)`, [T]);
  await pool.query(
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash)
     VALUES ('boss', $1, 'boss@acme.test', 'Boss', 'fleet_manager', 'not-a-hash')`,
    [T],
  );
  for (const v of VEHICLES) await pool.query('INSERT INTO vehicles (id, tenant_id) VALUES ($1, $2)', [v, T]);
  for (const d of DRIVERS)
    await pool.query(
      `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, 'driver', 'not-a-hash')`,
      [d, T, `${d}@acme.test`, `Driver ${d}`],
    );
  for (let t = 0; t < 4; t++) {
    const { rows } = await pool.query<{ id: number }>(
      `INSERT INTO vehicle_groups (tenant_id, name) VALUES ($1, $2) RETURNING id`,
      [T, `Team ${t + 1}`],
    );
    groupIds.push(rows[0]!.id);
  }
  groupIds = [...groupIds];
  for (let i = 0; i < 20; i++)
    await pool.query('INSERT INTO driver_groups (tenant_id, user_id, group_id) VALUES ($1, $2, $3)', [
      T,
      DRIVERS[i],
      groupIds[TEAM_OF(i)],
    ]);
  for (const p of PERIODS)
    await pool.query(
      `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, ends_at, source, created_by)
       VALUES ($1, $2, $3, $4, $5, 'admin', 'test')`,
      [
        T,
        p.vehicle,
        p.driver,
        p.from === -Infinity ? '-infinity' : new Date(p.from),
        p.to === Infinity ? null : new Date(p.to),
      ],
    );
  for (const s of SPECS) {
    const c = await manager().challenges.create({
      ...s,
      timeZone: 'Europe/Madrid',
      startsLocal: '2026-11-01T00:00',
      endsLocal: '2026-12-01T00:00',
    });
    ids.push(c.id);
  }
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

function compare(
  actual: {
    participant: string;
    value: number | null;
    eligible: boolean;
    met: boolean;
    rank: number | null;
    points: number;
    members: string[];
  }[],
  want: Expected[],
) {
  const got = [...actual].sort((a, b) => a.participant.localeCompare(b.participant));
  expect(got.map((r) => r.participant)).toEqual(want.map((r) => r.participant));
  got.forEach((r, i) => {
    const w = want[i]!;
    if (w.value === null) expect(r.value, r.participant).toBeNull();
    else expect(r.value, r.participant).toBeCloseTo(w.value, 6);
    expect(
      { eligible: r.eligible, met: r.met, rank: r.rank, points: r.points, members: [...r.members].sort() },
      r.participant,
    ).toEqual({
      eligible: w.eligible,
      met: w.met,
      rank: w.rank,
      points: w.points,
      members: [...w.members].sort(),
    });
  });
}

describe('a simulated month for 20 vehicles', () => {
  it('the challenge window is the local month', async () => {
    const c = await inTenant(pool, T, (c) => getChallenge(c, ids[0]!));
    expect([Date.parse(c!.startsAt), Date.parse(c!.endsAt)]).toEqual([WINDOW.from, WINDOW.to]);
    expect(c!.startsLocal).toBe('2026-11-01T00:00');
  });

  it('mid-month progress equals the recomputation from the generated events', async () => {
    const began = performance.now();
    await store(DATA_FROM, MID);
    const seededMs = performance.now() - began;
    const half = sumsByDriver(data, WINDOW.from, MID);
    // Sanity of the simulation: everyone assigned drove, the spread is real.
    expect([...half.values()].filter((s) => s.km > 0)).toHaveLength(19);
    for (const [i, spec] of SPECS.entries()) {
      const p = await inTenant(pool, T, (c) =>
        challengeProgress(c, { tenantId: T, challengeId: ids[i]!, asOf: new Date(MID) }),
      );
      expect(p!.frozen).toBe(false);
      compare(p!.standings, expected(spec, half, groupIds));
    }
    // Through the API (the challenge is over but not yet frozen: computed up to its end, same data).
    const api = await manager().challenges.progress({ challengeId: ids[0]! });
    compare(api.standings, expected(SPECS[0]!, half, groupIds));
    const samples = [...data.samples.values()].reduce((n, s) => n + s.filter((x) => x.ts < MID).length, 0);
    console.log(`first half: ${samples} samples stored through the ingest path in ${seededMs.toFixed(0)} ms`);
  }, 120_000);

  it('the sweep freezes the ended challenges once; results and points equal the recomputation', async () => {
    await store(MID, DATA_TO);
    const running = await manager().challenges.create({
      ...SPECS[2]!,
      name: 'December',
      timeZone: 'Europe/Madrid',
      startsLocal: '2026-12-01T00:00',
      endsLocal: '2027-01-01T00:00',
    });
    const first = await sweepDriverProgramme(pool, log, { badges: false });
    expect(first).toEqual({ finalized: 4, badges: 0, failed: 0 });
    const whole = sumsByDriver(data, WINDOW.from, WINDOW.to);
    const paid = new Map<string, number>();
    for (const [i, spec] of SPECS.entries()) {
      const p = await manager().challenges.progress({ challengeId: ids[i]! });
      expect(p.frozen).toBe(true);
      expect(p.challenge.state).toBe('final');
      const want = expected(spec, whole, groupIds);
      compare(p.standings, want);
      for (const r of want)
        for (const m of r.members) if (r.points > 0) paid.set(m, (paid.get(m) ?? 0) + r.points);
    }
    // Not every participant met every target, and some did: the targets discriminate.
    const { rows: met } = await pool.query<{ met: boolean; n: number }>(
      'SELECT met, count(*)::int AS n FROM challenge_results GROUP BY met ORDER BY met',
    );
    expect(met.map((r) => r.met)).toEqual([false, true]);
    // Points: exactly the recomputation's, each once, with reason and reference.
    const { rows } = await pool.query<{ user_id: string; total: number; n: number }>(
      `SELECT user_id, sum(delta)::int AS total, count(*)::int AS n FROM points_ledger WHERE reason = 'challenge' GROUP BY user_id`,
    );
    expect(new Map(rows.map((r) => [r.user_id, r.total]))).toEqual(paid);
    expect((await manager().challenges.progress({ challengeId: running.id })).frozen).toBe(false);
    // A driver sees their own standing only.
    const driver = createCaller({
      db: pool,
      session: {
        userId: 'd03',
        tenantId: T,
        email: 'd03@acme.test',
        name: 'd03',
        role: 'driver',
        vehicleId: null,
      },
    });
    const mine = await driver.challenges.progress({ challengeId: ids[0]! });
    expect(mine.standings.map((s) => s.participant)).toEqual(['user:d03']);
    expect(mine.participants).toBe(20);
    // Frozen means frozen: not editable, not deletable.
    await expect(manager().challenges.delete({ challengeId: ids[0]! })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  }, 120_000);

  it('late data after the freeze changes neither the results nor the points', async () => {
    const before = await Promise.all(ids.map((id) => manager().challenges.progress({ challengeId: id })));
    const { rows: ledgerBefore } = await pool.query(
      'SELECT id, user_id, delta FROM points_ledger ORDER BY id',
    );
    // A backfill arrives: 40 harsh events and an hour of driving in d01's November.
    const at = utc('2026-11-05T03:00:00');
    await seedEvents(
      pool,
      T,
      'v01',
      Array.from({ length: 40 }, (_, k) =>
        vehicleEvent({ id: 100_000 + k, type: 'harsh_brake', start: at + k * 1000 }),
      ),
    );
    await seedSamples(
      pool,
      T,
      'v01',
      Array.from({ length: 60 }, (_, m) => ({
        seq: 1_000_000 + m,
        ts: at + m * MIN,
        lat: 40.4,
        lon: -3.7,
        speedKmh: 100,
        rpm: 2500,
        fuelLevelPct: 50,
        coolantC: 90,
      })),
      undefined,
      true,
    );
    expect(await sweepDriverProgramme(pool, log, { badges: false })).toEqual({
      finalized: 0,
      badges: 0,
      failed: 0,
    });
    const after = await Promise.all(ids.map((id) => manager().challenges.progress({ challengeId: id })));
    expect(after.map((p) => p.standings)).toEqual(before.map((p) => p.standings));
    const { rows: ledgerAfter } = await pool.query(
      'SELECT id, user_id, delta FROM points_ledger ORDER BY id',
    );
    expect(ledgerAfter).toEqual(ledgerBefore);
    // The late rows are in the window: computing afresh would now give d01 another value.
    const c = (await inTenant(pool, T, (c) => getChallenge(c, ids[0]!)))!;
    const fresh = await inTenant(pool, T, (db) =>
      computeStandings(db, { ...c, tenantId: T }, new Date(c.endsAt)),
    );
    const frozenD01 = before[0]!.standings.find((s) => s.participant === 'user:d01')!;
    expect(fresh.find((s) => s.participant === 'user:d01')!.value).not.toBeCloseTo(frozenD01.value!, 3);
  }, 60_000);

  it('badges are awarded once each, with their points', async () => {
    const first = await sweepDriverProgramme(pool, log, { badges: true });
    const second = await sweepDriverProgramme(pool, log, { badges: true });
    expect(second.badges).toBe(0);
    const { rows } = await pool.query<{ n: number; pts: number }>(
      `SELECT (SELECT count(*)::int FROM driver_badges) AS n,
              (SELECT count(*)::int FROM points_ledger WHERE reason = 'badge') AS pts`,
    );
    expect(rows[0]!.n).toBe(first.badges);
    expect(rows[0]!.pts).toBe(first.badges); // every v1 badge pays points
  }, 60_000);
});
