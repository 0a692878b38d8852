/**
 * Live updates over SSE against the real API server (node:http + tRPC's adapter) and the real
 * PostgreSQL: a position stored by the ingest path reaches an open `live.positions` stream, tenant-
 * and driver-scoped; a new alert reaches `live.alerts`; many streams share one poller; and the web
 * app's proxy route handler passes the stream through as it arrives (not buffered to the end).
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LiveFeed } from '../src/api/live-feed.ts';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { createApiToken, createUser } from '../src/auth/auth-service.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedEvents, seedSamples, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';

// A fast poll keeps the test short; production polls every second.
LiveFeed.configure({ pollMs: 150 });

const log = createLogger('api-live-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let api: ApiServer;
let token = '';
let driverCookie = '';

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_api_live');
  pool = db.pool;
  await migrate(pool, log);
  for (const [tenant, vehicles] of [
    ['acme', ['van-1', 'van-2']],
    ['globex', ['truck-b1']],
  ] as const) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [tenant]);
    for (const v of vehicles) {
      await pool.query('INSERT INTO vehicles (id, tenant_id, online) VALUES ($1, $2, true)', [v, tenant]);
      await move(v, 48, 11, tenant);
    }
  }
  token = (
    await createApiToken(pool, {
      tenantId: 'acme',
      name: 'live',
      permissions: ['vehicles:read', 'alerts:read'],
      createdBy: 'x',
    })
  ).token;
  await createUser(pool, {
    tenantId: 'acme',
    email: 'dana@acme.test',
    name: 'Dana',
    role: 'driver',
    vehicleId: 'van-2',
    password: 'danas-long-password',
  });
  api = await startApiServer({ pool, host: '127.0.0.1', port: 0, log });
  const res = await fetch(`${api.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'dana@acme.test', password: 'danas-long-password' }),
  });
  driverCookie = res.headers.get('set-cookie')!.split(';')[0]!;
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

let ts = Date.now() - 60_000;
async function move(vehicleId: string, lat: number, lon: number, tenant = 'acme') {
  await seedSamples(pool, tenant, vehicleId, [
    { seq: 1, ts: ts++, lat, lon, speedKmh: 40, rpm: 1500, fuelLevelPct: 50, coolantC: 90 },
  ]);
}

/** An open SSE stream: its data messages as parsed JSON, in order. */
class SseStream {
  readonly messages: unknown[] = [];
  private done: Promise<void> = Promise.resolve();
  status = 0;
  contentType = '';
  cacheControl = '';

  private constructor(private readonly abort: AbortController) {}

  static async open(response: Promise<Response>, abort: AbortController) {
    const s = new SseStream(abort);
    const res = await response;
    s.status = res.status;
    s.contentType = res.headers.get('content-type') ?? '';
    s.cacheControl = res.headers.get('cache-control') ?? '';
    s.done = s.read(res.body!);
    return s;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let end = buf.indexOf('\n\n');
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const lines = block.split('\n');
          const event = lines
            .find((l) => l.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!event && data) this.messages.push(JSON.parse(data));
          end = buf.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by close()
    }
  }

  /** Waits (up to 5 s) for a message that satisfies `test`. */
  async waitFor<T>(test: (m: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const found = (this.messages as T[]).find(test);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching message in 5 s; got ${JSON.stringify(this.messages)}`);
  }

  async close() {
    this.abort.abort();
    await this.done;
  }
}

function subscribe(path: string, auth: Record<string, string>) {
  const abort = new AbortController();
  return SseStream.open(
    fetch(`${api.url}/trpc/${path}`, {
      headers: { accept: 'text/event-stream', ...auth },
      signal: abort.signal,
    }),
    abort,
  );
}

type Positions = { snapshot: boolean; vehicles: { vehicleId: string; lat: number; lon: number }[] };
type Alerts = { alerts: { vehicleId: string; type: string; title: string }[] };

describe('live updates over SSE (real HTTP server)', () => {
  it('positions: a snapshot, then each stored position of the tenant (a driver: own vehicle only); alerts as created; one poller for all', async () => {
    const fleet = await subscribe('live.positions', { authorization: `Bearer ${token}` });
    const mine = await subscribe('live.positions', { cookie: driverCookie });
    const alerts = await subscribe('live.alerts', { authorization: `Bearer ${token}` });
    try {
      expect(fleet.status).toBe(200);
      expect(fleet.contentType).toMatch(/^text\/event-stream/);
      const snap = await fleet.waitFor<Positions>((m) => m.snapshot);
      expect(snap.vehicles.map((v) => v.vehicleId)).toEqual(['van-1', 'van-2']);
      const ownSnap = await mine.waitFor<Positions>((m) => m.snapshot);
      expect(ownSnap.vehicles.map((v) => v.vehicleId)).toEqual(['van-2']);
      // The positions streams subscribe before their snapshot; the alerts one when it starts.
      await vi.waitUntil(() => LiveFeed.for(pool).subscribers === 3, { timeout: 5000 });

      await move('van-1', 48.5, 11.25);
      await move('truck-b1', 52, 13, 'globex'); // another tenant: never on acme's streams
      const update = await fleet.waitFor<Positions>(
        (m) => !m.snapshot && m.vehicles.some((v) => v.vehicleId === 'van-1' && v.lat === 48.5),
      );
      expect(update.vehicles.find((v) => v.vehicleId === 'van-1')).toMatchObject({ lat: 48.5, lon: 11.25 });
      await move('van-2', 47.25, 10.5);
      await mine.waitFor<Positions>((m) => !m.snapshot && m.vehicles.some((v) => v.lat === 47.25));

      const drain = vehicleEvent({
        id: 1,
        type: 'fuel_drain',
        start: Date.now(),
        volumeL: 18,
        confidence: 0.95,
      });
      await seedEvents(pool, 'acme', 'van-1', [drain]);
      await seedEvents(pool, 'globex', 'truck-b1', [drain]);
      const alert = await alerts.waitFor<Alerts>((m) => m.alerts.length > 0);
      expect(alert.alerts.map((a) => [a.vehicleId, a.type, a.title])).toEqual([
        ['van-1', 'fuel_drain', 'Fuel drain: 18.0 L lost'],
      ]);

      // Three streams of one tenant: one query per poll, not one per stream.
      const feed = LiveFeed.for(pool);
      expect(feed.subscribers).toBe(3);
      const before = { ...feed.stats };
      await new Promise((r) => setTimeout(r, 1000));
      const polls = feed.stats.polls - before.polls;
      expect(polls).toBeGreaterThanOrEqual(3);
      expect(feed.stats.tenantPolls - before.tenantPolls).toBe(polls);

      const everything = JSON.stringify([...fleet.messages, ...mine.messages, ...alerts.messages]);
      expect(everything).not.toContain('truck-b1');
      expect(JSON.stringify(mine.messages)).not.toContain('van-1');
    } finally {
      await Promise.all([fleet.close(), mine.close(), alerts.close()]);
    }
    // The streams' listeners are gone once the clients are.
    const deadline = Date.now() + 3000;
    while (LiveFeed.for(pool).subscribers > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(LiveFeed.for(pool).subscribers).toBe(0);
  });

  it("GET queries answered directly carry the tRPC envelope; errors and malformed requests keep tRPC's own answers", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const get = (path: string) => fetch(`${api.url}/trpc/${path}`, { headers: auth });
    const ok = await get(`vehicles.get?input=${encodeURIComponent(JSON.stringify({ vehicleId: 'van-1' }))}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(((await ok.json()) as { result: { data: { vehicleId: string } } }).result.data.vehicleId).toBe(
      'van-1',
    );
    const foreign = await get(
      `vehicles.get?input=${encodeURIComponent(JSON.stringify({ vehicleId: 'truck-b1' }))}`,
    );
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'NOT_FOUND',
    );
    const bounds = await get(`telemetry.fleet?input=${encodeURIComponent(JSON.stringify({ limit: 5000 }))}`);
    expect(bounds.status).toBe(400);
    expect(
      ((await bounds.json()) as { error: { data: { zodError: unknown } } }).error.data.zodError,
    ).not.toBeNull();
    expect((await get('vehicles.get?input=%7Bnot-json')).status).toBe(400);
    // Sign-in and permission hold on the direct path: anonymous 401, a token without the
    // permission 403, an unknown token 401 (each with tRPC's error shape).
    const van1 = `vehicles.get?input=${encodeURIComponent(JSON.stringify({ vehicleId: 'van-1' }))}`;
    expect((await fetch(`${api.url}/trpc/${van1}`)).status).toBe(401);
    const alertsOnly = (
      await createApiToken(pool, {
        tenantId: 'acme',
        name: 'alerts',
        permissions: ['alerts:read'],
        createdBy: 'x',
      })
    ).token;
    const forbidden = await fetch(`${api.url}/trpc/${van1}`, {
      headers: { authorization: `Bearer ${alertsOnly}` },
    });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'FORBIDDEN',
    );
    const unknown = `flt_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    expect(
      (await fetch(`${api.url}/trpc/${van1}`, { headers: { authorization: `Bearer ${unknown}` } })).status,
    ).toBe(401);
    expect((await get('%E0%A4%A')).status).toBe(400); // a malformed path: refused, nothing crashes
    const batch = await get(
      `telemetry.fleet,vehicles.list?batch=1&input=${encodeURIComponent('{"0":{},"1":{}}')}`,
    );
    expect(batch.status).toBe(200);
    expect(((await batch.json()) as unknown[]).length).toBe(2);
  });

  it("through the web app's proxy route, events arrive while the stream is still open", async () => {
    process.env.FLEET_API_URL = api.url;
    // The web app's proxy, loaded as a module (a path the web package's own typecheck covers):
    // its handler needs only the standard Request API.
    const route = '../../web/app/api/trpc/[trpc]/route.ts';
    const { GET: proxyGet } = (await import(route)) as { GET: (req: Request) => Promise<Response> };
    const abort = new AbortController();
    const url = 'http://web.test/api/trpc/live.positions';
    // What Next hands the route handler: a standard Request plus nextUrl.
    const req = Object.assign(
      new Request(url, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
        signal: abort.signal,
      }),
      { nextUrl: new URL(url) },
    );
    const stream = await SseStream.open(proxyGet(req), abort);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toMatch(/^text\/event-stream/);
      // no-transform: compression middleware (Next's included) must not hold events back.
      expect(stream.cacheControl).toContain('no-transform');
      // A positions stream subscribes to the poller before it reads its snapshot.
      await stream.waitFor<Positions>((m) => m.snapshot);
      expect(LiveFeed.for(pool).subscribers).toBe(1);
      await move('van-1', 49.75, 9.5);
      await stream.waitFor<Positions>((m) => !m.snapshot && m.vehicles.some((v) => v.lat === 49.75));
    } finally {
      await stream.close();
    }
  });
});
