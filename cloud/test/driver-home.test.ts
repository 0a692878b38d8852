/**
 * driverHome.get, the driver home page's one read (issue 19, Lighthouse mobile), on the real
 * PostgreSQL with row-level security:
 *   - a driver gets their own session, vehicle, score, refuels, points, challenge standing and the
 *     rest, each part equal to what its own procedure answers them (it is that procedure);
 *   - nothing of a colleague's (their refuels, points, standing), nothing of another tenant's;
 *   - a manager or an admin is refused (FORBIDDEN), an anonymous caller too (UNAUTHORIZED);
 *   - over HTTP it is a plain GET without input (one URL: the driver worker caches it offline).
 */
import { randomUUID } from 'node:crypto';
import type { TelemetrySample } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../src/api/root.ts';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { createUser } from '../src/auth/auth-service.ts';
import type { Session } from '../src/auth/session.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { appendPoints } from '../src/drivers/points/ledger.ts';
import { seedSamples } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('driver-home-test').child({}, { level: 'error' });
const A = 'acme';
const B = 'globex';
const MIN = 60_000;
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let api: ApiServer;

interface Person {
  id: string;
  session: Session;
}
const people: Record<'dora' | 'olga' | 'max' | 'ada' | 'gil', Person> = {} as never;
const refuelOf: Record<'dora' | 'olga' | 'gil', string> = {
  dora: randomUUID(),
  olga: randomUUID(),
  gil: randomUUID(),
};

/** Twenty minutes of driving with the tank going down, ending a minute ago. */
function drive(level: number): TelemetrySample[] {
  const end = Date.now() - MIN;
  return Array.from({ length: 20 }, (_, i) => ({
    seq: i + 1,
    ts: end - (19 - i) * MIN,
    lat: 40.4,
    lon: -3.7 + i / 1000,
    speedKmh: 60,
    rpm: 2000,
    fuelLevelPct: level - i * 0.5,
    coolantC: 90,
  }));
}

async function person(
  key: keyof typeof people,
  tenantId: string,
  role: 'driver' | 'fleet_manager' | 'admin',
  vehicleId: string | null,
) {
  const email = `${key}@${tenantId}.test`;
  const id = await createUser(pool, {
    tenantId,
    email,
    name: key,
    role,
    password: `${key}-long-password-1`,
    ...(vehicleId ? { vehicleId } : {}),
  });
  people[key] = { id, session: { userId: id, tenantId, email, name: key, role, vehicleId } };
}

const as = (key: keyof typeof people) => createCaller({ db: pool, session: people[key].session });

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_driver_home');
  pool = db.pool;
  await migrate(pool, log);
  for (const [tenant, vehicles] of [
    [A, ['van-1', 'van-2']],
    [B, ['truck-1']],
  ] as const) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [tenant]);
    for (const v of vehicles) {
      await pool.query('INSERT INTO vehicles (id, tenant_id, online) VALUES ($1, $2, true)', [v, tenant]);
      await seedSamples(pool, tenant, v, drive(v === 'van-1' ? 70 : 40));
    }
  }
  await person('dora', A, 'driver', 'van-1');
  await person('olga', A, 'driver', 'van-2');
  await person('max', A, 'fleet_manager', null);
  await person('ada', A, 'admin', null);
  await person('gil', B, 'driver', 'truck-1');

  // Each driver's own refuel and points; a running challenge and a reward in tenant A.
  for (const [key, vehicleId, litres] of [
    ['dora', 'van-1', 40],
    ['olga', 'van-2', 55],
    ['gil', 'truck-1', 70],
  ] as const) {
    await as(key).refuels.log({
      clientId: refuelOf[key],
      vehicleId,
      ts: Date.now() - 30 * MIN,
      litres,
      fuelType: 'diesel',
      station: `${key}'s station`,
    });
    const { tenantId } = people[key].session;
    await inTenant(pool, tenantId, (c) =>
      appendPoints(c, {
        tenantId,
        userId: people[key].id,
        delta: litres * 3,
        reason: 'adjustment',
        ref: null,
        note: 'opening balance',
        idemKey: `opening-${key}`,
        actor: 'system',
      }),
    );
  }
  const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  await as('max').challenges.create({
    name: 'Distance week',
    metric: 'distance_km',
    direction: 'at_least',
    target: 10,
    minKm: 0,
    timeZone: 'UTC',
    startsLocal: minute(Date.now() - 86_400_000),
    endsLocal: minute(Date.now() + 7 * 86_400_000),
  });
  await as('max').rewards.create({ name: 'Fuel voucher', costPoints: 100 });
  api = await startApiServer({ pool, host: '127.0.0.1', port: 0, log });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('driverHome.get', () => {
  it("gives a driver their own first paint, each part what that part's procedure answers them", async () => {
    const dora = as('dora');
    const home = await dora.driverHome.get();
    expect(home.me.userId).toBe(people.dora.id);
    expect(home.me.role).toBe('driver');
    expect(home.vehicle?.vehicleId).toBe('van-1');
    expect(home.refuels?.map((r) => r.clientId)).toEqual([refuelOf.dora]);
    expect(home.points).toMatchObject({ userId: people.dora.id, balance: 120 });
    expect(home.burnHistory?.length).toBeGreaterThan(0);
    expect(home.challenges?.items.map((c) => c.name)).toEqual(['Distance week']);
    // Her standing in the running challenge, and nobody else's.
    expect(home.progress).toHaveLength(1);
    const standings = home.progress[0]!.progress!.standings;
    expect(standings.length).toBeLessThanOrEqual(1);
    for (const s of standings) expect(s.members).toEqual([people.dora.id]);
    expect(home.rewards?.items.map((r) => r.name)).toEqual(['Fuel voucher']);
    expect(home.push?.settings).toMatchObject({ lowRange: true, serviceDue: true, challengeResults: true });

    // The same procedures, called one by one as the page did before.
    const to = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    const [me, preferences, vehicle, refuels, allowed, rollingScore, explain, disputes, points, rewards] =
      await Promise.all([
        dora.auth.me(),
        dora.auth.preferences(),
        dora.vehicles.get({ vehicleId: 'van-1' }),
        dora.refuels.mine(),
        dora.assignments.allowed(),
        dora.scores.get(),
        dora.scores.explain(),
        dora.scores.disputes(),
        dora.points.balance(),
        dora.rewards.list(),
      ]);
    expect(home.me).toEqual(me);
    expect(home.preferences).toEqual(preferences);
    expect(home.vehicle).toEqual(vehicle);
    expect(home.refuels).toEqual(refuels.items);
    expect(home.vehicles).toEqual(allowed);
    expect(home.rollingScore).toEqual(rollingScore);
    expect({ ...home.explain, from: 0, to: 0 }).toEqual({ ...explain, from: 0, to: 0 });
    expect(home.disputes).toEqual(disputes);
    expect(home.points).toEqual(points);
    expect(home.rewards).toEqual(rewards);
    const series = await dora.telemetry.fuelSeries({ vehicleId: 'van-1', from: to - 30 * 86_400_000, to });
    expect(home.burnHistory).toEqual(series.points.map((p) => ({ pct: p.pct })));
    const score = await dora.drivers.score();
    expect({ ...home.score, from: 0, to: 0 }).toEqual({ ...score, from: 0, to: 0 });
    const progress = await dora.challenges.progress({ challengeId: home.challenges!.items[0]!.id });
    expect({ ...home.progress[0]!.progress, asOf: 0 }).toEqual({ ...progress, asOf: 0 });
  });

  it("shows a driver nothing of a colleague's, nor of another tenant's", async () => {
    const olga = JSON.stringify(await as('olga').driverHome.get());
    for (const foreign of [people.dora.id, refuelOf.dora, "dora's station", 'van-1'])
      expect(olga, `olga's home shows ${foreign}`).not.toContain(foreign);
    expect(olga).toContain(refuelOf.olga);

    const gil = await as('gil').driverHome.get();
    expect(gil.me.tenantId).toBe(B);
    expect(gil.vehicle?.vehicleId).toBe('truck-1');
    expect(gil.refuels?.map((r) => r.clientId)).toEqual([refuelOf.gil]);
    expect(gil.challenges?.items).toEqual([]);
    expect(gil.rewards?.items).toEqual([]);
    const text = JSON.stringify(gil);
    for (const foreign of [A, 'van-1', 'van-2', people.dora.id, people.olga.id, refuelOf.dora, refuelOf.olga])
      expect(text, `tenant ${B}'s driver sees ${foreign}`).not.toContain(foreign);
  });

  it('refuses a manager and an admin (no driver of theirs to read through it), and anyone not signed in', async () => {
    for (const key of ['max', 'ada'] as const) {
      const refused = await as(key)
        .driverHome.get()
        .catch((e: unknown) => e);
      expect(refused, key).toBeInstanceOf(TRPCError);
      expect((refused as TRPCError).code, key).toBe('FORBIDDEN');
    }
    const anonymous = await createCaller({ db: pool, session: null })
      .driverHome.get()
      .catch((e: unknown) => e);
    expect((anonymous as TRPCError).code).toBe('UNAUTHORIZED');
  });

  it('a driver without a vehicle still gets the rest (the vehicle parts are null)', async () => {
    const home = await createCaller({
      db: pool,
      session: { ...people.olga.session, vehicleId: null },
    }).driverHome.get();
    expect(home.vehicle).toBeNull();
    expect(home.burnHistory).toBeNull();
    expect(home.refuels?.map((r) => r.clientId)).toEqual([refuelOf.olga]);
    expect(home.points?.balance).toBe(165);
  });

  it('over HTTP: one GET without input, with the session cookie; 403 for a manager', async () => {
    const signIn = async (key: keyof typeof people) => {
      const res = await fetch(`${api.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: people[key].session.email, password: `${key}-long-password-1` }),
      });
      expect(res.status).toBe(200);
      return res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
    };
    const res = await fetch(`${api.url}/trpc/driverHome.get`, { headers: { cookie: await signIn('dora') } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      result: { data: { me: { userId: string }; refuels: { clientId: string }[] } };
    };
    expect(body.result.data.me.userId).toBe(people.dora.id);
    expect(body.result.data.refuels.map((r) => r.clientId)).toEqual([refuelOf.dora]);
    const manager = await fetch(`${api.url}/trpc/driverHome.get`, {
      headers: { cookie: await signIn('max') },
    });
    expect(manager.status).toBe(403);
  });
});
