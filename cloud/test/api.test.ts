import { decodeTelemetryBatch, VehicleState } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/api/rate-limit.ts';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { createUser, login } from '../src/auth/auth-service.ts';
import type { Session } from '../src/auth/session.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedSamples } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

// Lives in test/ rather than next to routers/vehicles.ts because it needs a real PostgreSQL.

const log = createLogger('test');
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_api');
  pool = db.pool;
  await migrate(pool, log);
});

afterAll(async () => {
  await db?.drop();
});

interface LatestRow {
  vehicleId: string;
  tenantId: string;
  online: boolean | null;
  ts: number;
  lat: number | null;
  lon: number | null;
  speedKmh: number | null;
  rpm: number | null;
  fuelLevelPct: number | null;
  coolantC: number | null;
  receivedAt: number;
}

/** Inserts tenant, vehicle and latest state the way the ingest leaves them. */
async function insertLatest(r: LatestRow) {
  await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [r.tenantId]);
  await pool.query('INSERT INTO vehicles (id, tenant_id, online) VALUES ($1, $2, $3)', [
    r.vehicleId,
    r.tenantId,
    r.online,
  ]);
  await pool.query(
    `INSERT INTO vehicle_latest
       (vehicle_id, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c, received_at)
     VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7, $8, to_timestamp($9 / 1000.0))`,
    [r.vehicleId, r.ts, r.lat, r.lon, r.speedKmh, r.rpm, r.fuelLevelPct, r.coolantC, r.receivedAt],
  );
}

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

// Values exactly representable as float4 (`real` columns), so they come back unchanged.
const ROWS: LatestRow[] = [
  {
    vehicleId: 'van-2',
    tenantId: 'acme',
    online: true,
    ts: T0 + 1500,
    lat: 48.1391,
    lon: 11.5659,
    speedKmh: 50,
    rpm: 1726.25,
    fuelLevelPct: 62.5,
    coolantC: 90,
    receivedAt: T0 + 2250,
  },
  {
    vehicleId: 'truck-9',
    tenantId: 'globex',
    online: false,
    ts: T0,
    lat: -45.8775915,
    lon: 170.500124833,
    speedKmh: 0,
    rpm: 0,
    fuelLevelPct: 0,
    coolantC: -40,
    receivedAt: T0 + 10,
  },
  {
    vehicleId: 'van-1',
    tenantId: 'acme',
    online: null,
    ts: T0 + 999,
    lat: null,
    lon: null,
    speedKmh: null,
    rpm: null,
    fuelLevelPct: null,
    coolantC: null,
    receivedAt: T0 + 1000,
  },
];

/** What vehicles.list must return for ROWS: the VehicleState shape, in vehicle id order. */
const EXPECTED: VehicleState[] = [...ROWS]
  .sort((a, b) => (a.vehicleId < b.vehicleId ? -1 : 1))
  .map((r) => ({
    vehicleId: r.vehicleId,
    tenantId: r.tenantId,
    ts: r.ts,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speedKmh,
    rpm: r.rpm,
    fuelLevelPct: r.fuelLevelPct,
    coolantC: r.coolantC,
    online: r.online,
    receivedAt: r.receivedAt,
  }));

// A fleet manager of each tenant: RLS (and the query's own filter) give each its own vehicles.
const acme = () => callerAs(pool, sessionOf('fleet_manager', 'acme'));
const globex = () => callerAs(pool, sessionOf('fleet_manager', 'globex'));
const ACME = EXPECTED.filter((v) => v.tenantId === 'acme');

describe('vehicles.list (tRPC server-side caller, real PostgreSQL)', () => {
  it('refuses an anonymous caller with UNAUTHORIZED', async () => {
    await expect(callerAs(pool, null).vehicles.list({ limit: 10 })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('returns an empty list before any vehicle reported', async () => {
    await expect(acme().vehicles.list({ limit: 10 })).resolves.toEqual([]);
  });

  it('maps the latest states to VehicleState, ordered by vehicle id', async () => {
    for (const r of ROWS) await insertLatest(r);
    // A registered vehicle without any telemetry yet has no latest state: not listed.
    await pool.query("INSERT INTO vehicles (id, tenant_id) VALUES ('van-silent', 'acme')");

    const list = await acme().vehicles.list({ limit: 10 });
    expect(list.map((v) => v.vehicleId)).toEqual(['van-1', 'van-2']);
    expect(list).toEqual(ACME);
    for (const v of list) expect(VehicleState.safeParse(v).success).toBe(true);
    expect(await globex().vehicles.list({ limit: 10 })).toEqual(
      EXPECTED.filter((v) => v.tenantId === 'globex'),
    );
    // A driver sees the vehicle they drive, nothing else.
    expect(await callerAs(pool, sessionOf('driver', 'acme', 'van-2')).vehicles.list()).toEqual(
      ACME.filter((v) => v.vehicleId === 'van-2'),
    );
  });

  it('defaults to limit 100 and honours smaller limits', async () => {
    const caller = acme();
    await expect(caller.vehicles.list()).resolves.toEqual(ACME);
    await expect(caller.vehicles.list({})).resolves.toEqual(ACME);
    await expect(caller.vehicles.list({ limit: 1 })).resolves.toEqual(ACME.slice(0, 1));
    await expect(caller.vehicles.list({ limit: 500 })).resolves.toEqual(ACME);
  });

  it.each([0, 501, 1.5, -1, Number.NaN])('rejects limit %s with BAD_REQUEST', async (limit) => {
    const err = await acme()
      .vehicles.list({ limit })
      .then(
        (v) => {
          throw new Error(`expected BAD_REQUEST, got ${JSON.stringify(v)}`);
        },
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
  });

  it('rejects a limit of the wrong type with BAD_REQUEST', async () => {
    const caller = acme();
    // @ts-expect-error: a client that bypasses the types
    await expect(caller.vehicles.list({ limit: '10' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  // Runs last: it may leave a row that breaks listing. A ts beyond the JS Date range (8.64e15 ms)
  // once went through: pg parsed it to an Invalid Date, the output schema failed, and every
  // tenant's list was INTERNAL_SERVER_ERROR because of one forged sample.
  it('keeps listing after a vehicle sent a sample from the far future', async () => {
    const sample = {
      seq: 1,
      ts: 8_700_000_000_000_000,
      lat: 1,
      lon: 2,
      speedKmh: 3,
      rpm: 4,
      fuelLevelPct: 5,
      coolantC: 6,
    };
    const forged = { v: 1, vehicleId: 'van-forged', samples: [sample] };
    // The decoder refuses anything from 2100 on: the ingest dead-letters it, nothing is stored.
    const decoded = decodeTelemetryBatch(Buffer.from(JSON.stringify(forged)));
    expect(decoded.ok).toBe(false);
    // The farthest time it lets through is stored by the ingest's statement, and never becomes
    // the vehicle's latest state (LATEST_FUTURE_TOLERANCE_MS).
    await pool.query("INSERT INTO vehicles (id, tenant_id) VALUES ('van-forged', 'acme')");
    expect(await seedSamples(pool, 'acme', 'van-forged', [{ ...sample, ts: Date.UTC(2099, 11, 31) }])).toBe(
      1,
    );
    const latest = await pool.query("SELECT 1 FROM vehicle_latest WHERE vehicle_id = 'van-forged'");
    expect(latest.rowCount).toBe(0);
    const list = await acme().vehicles.list({ limit: 10 });
    expect(list.map((v) => v.vehicleId)).toEqual(expect.arrayContaining(['van-1', 'van-2']));
  });
});

describe('vehicles.get from the tenant snapshot shared 1 s (real PostgreSQL)', () => {
  const at = (vehicleId: string, tenantId: string, speedKmh: number): LatestRow => ({
    vehicleId,
    tenantId,
    online: true,
    ts: T0,
    lat: 1,
    lon: 2,
    speedKmh,
    rpm: 800,
    fuelLevelPct: 50,
    coolantC: 88,
    receivedAt: T0 + 5,
  });

  it("answers each vehicle of the caller's tenant; another tenant's and a missing one are NOT_FOUND", async () => {
    await insertLatest(at('snap-a1', 'snap-a', 10));
    await insertLatest(at('snap-a2', 'snap-a', 20));
    await insertLatest(at('snap-b1', 'snap-b', 30));
    const a = callerAs(pool, sessionOf('fleet_manager', 'snap-a'));
    const b = callerAs(pool, sessionOf('fleet_manager', 'snap-b'));
    // The first call reads tenant snap-a's snapshot; the rest are answered from it.
    expect((await a.vehicles.get({ vehicleId: 'snap-a1' })).speedKmh).toBe(10);
    expect(await a.vehicles.get({ vehicleId: 'snap-a2' })).toMatchObject({
      tenantId: 'snap-a',
      speedKmh: 20,
    });
    await expect(a.vehicles.get({ vehicleId: 'snap-b1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(a.vehicles.get({ vehicleId: 'snap-zz' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Tenant snap-b's own snapshot holds its vehicle and not snap-a's.
    expect(await b.vehicles.get({ vehicleId: 'snap-b1' })).toMatchObject({
      tenantId: 'snap-b',
      speedKmh: 30,
    });
    await expect(b.vehicles.get({ vehicleId: 'snap-a1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("a driver gets their own vehicle only, though the tenant's snapshot holds the others", async () => {
    const driver = callerAs(pool, sessionOf('driver', 'snap-a', 'snap-a1'));
    expect((await driver.vehicles.get({ vehicleId: 'snap-a1' })).vehicleId).toBe('snap-a1');
    await expect(driver.vehicles.get({ vehicleId: 'snap-a2' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a vehicle that reported after the snapshot was read is found at once (a miss asks the database)', async () => {
    const a = callerAs(pool, sessionOf('fleet_manager', 'snap-a'));
    await a.vehicles.get({ vehicleId: 'snap-a1' }); // the snapshot, without snap-a3
    await insertLatest(at('snap-a3', 'snap-a', 40));
    expect(await a.vehicles.get({ vehicleId: 'snap-a3' })).toMatchObject({
      tenantId: 'snap-a',
      speedKmh: 40,
    });
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate per minute, per key', () => {
    const limiter = new RateLimiter(60, 3); // one a second, three at once
    const t = 1_000_000;
    expect([limiter.take('a', t), limiter.take('a', t), limiter.take('a', t)]).toEqual([0, 0, 0]);
    expect(limiter.take('a', t)).toBe(1000); // empty: the next token in a second
    expect(limiter.take('b', t)).toBe(0); // another key has its own bucket
    expect(limiter.take('a', t + 500)).toBe(500);
    expect(limiter.take('a', t + 1000)).toBe(0);
    expect(limiter.take('a', t + 1000)).toBeGreaterThan(0);
  });
});

describe("the direct GET answers (server.ts) answer as tRPC's own caller and its HTTP adapter", () => {
  let api: ApiServer;
  /** Real sign-ins: the HTTP path looks the token up as production does. */
  const users: Record<'manager' | 'driver', { token: string; session: Session }> = {} as never;
  beforeAll(async () => {
    api = await startApiServer({ pool, host: '127.0.0.1', port: 0, log });
    for (const [who, role, vehicleId] of [
      ['manager', 'fleet_manager', null],
      ['driver', 'driver', 'van-1'],
    ] as const) {
      const email = `${who}-direct@acme.test`;
      await createUser(pool, {
        tenantId: 'acme',
        email,
        name: who,
        role,
        password: 'a-long-password',
        vehicleId,
      });
      const r = await login(pool, email, 'a-long-password');
      if (!r.ok) throw new Error(`sign-in of ${email} failed: ${r.reason}`);
      users[who] = { token: r.token, session: r.session };
    }
  });
  afterAll(async () => {
    await api?.close();
  });

  type Outcome = { data?: unknown; code?: string };
  type Envelope = { result?: { data: unknown }; error?: { data: { code: string } } };
  const fromEnvelope = (body: Envelope): Outcome =>
    body.result ? { data: body.result.data } : { code: body.error!.data.code };

  /** `{ data }` or `{ code }`, from the caller, a single GET (the direct path) and a batched GET (the adapter). */
  const outcomes = async (who: 'manager' | 'driver' | null, path: string, input: unknown) => {
    const fn = path
      .split('.')
      .reduce<unknown>(
        (o, k) => (o as Record<string, unknown>)[k],
        callerAs(pool, who ? users[who].session : null) as unknown,
      ) as (i: unknown) => Promise<unknown>;
    const caller = await fn(input).then(
      (data): Outcome => ({ data: JSON.parse(JSON.stringify(data)) as unknown }),
      (err: TRPCError): Outcome => ({ code: err.code }),
    );
    const headers = who ? { authorization: `Bearer ${users[who].token}` } : undefined;
    const q = encodeURIComponent(JSON.stringify(input));
    const single = (await (
      await fetch(`${api.url}/trpc/${path}?input=${q}`, { headers })
    ).json()) as Envelope;
    const batchInput = encodeURIComponent(JSON.stringify({ 0: input }));
    const [batched] = (await (
      await fetch(`${api.url}/trpc/${path}?batch=1&input=${batchInput}`, { headers })
    ).json()) as Envelope[];
    return { caller, direct: fromEnvelope(single), adapter: fromEnvelope(batched!) };
  };

  it('the same data, and the same error codes for not found, invalid input, anonymous and forbidden', async () => {
    const cases: ['manager' | 'driver' | null, string, unknown][] = [
      ['manager', 'vehicles.list', { limit: 10 }],
      ['manager', 'vehicles.get', { vehicleId: 'van-1' }],
      ['manager', 'vehicles.get', { vehicleId: 'truck-9' }], // another tenant's: NOT_FOUND
      ['manager', 'vehicles.list', { limit: 'ten' }], // BAD_REQUEST
      [null, 'vehicles.list', {}], // UNAUTHORIZED
      ['driver', 'audit.list', {}], // FORBIDDEN
    ];
    const seen: string[] = [];
    for (const [who, path, input] of cases) {
      const { caller, direct, adapter } = await outcomes(who, path, input);
      expect(direct, `${path} ${JSON.stringify(input)}`).toEqual(caller);
      expect(adapter, `${path} ${JSON.stringify(input)}`).toEqual(caller);
      seen.push(direct.code ?? 'ok');
    }
    expect(seen).toEqual(['ok', 'ok', 'NOT_FOUND', 'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN']);
  });
});
