/**
 * What keeps the live feed's cost per stream small (bench/sse-scale.ts measures it at 10,000):
 * streams opening together share one snapshot query per scope and poll (the real API server and
 * PostgreSQL), every stream of a scope receives the same bytes, a refused stream still gets tRPC's
 * own error, and a client that does not read holds one merged message, not a growing queue.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertsMessage,
  follow,
  LiveFeed,
  mergeAlerts,
  mergePositions,
  type PositionsMessage,
} from '../src/api/live-feed.ts';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { createApiToken } from '../src/auth/auth-service.ts';
import { migrate } from '../src/db/migrate.ts';
import type { FleetVehicle } from '../src/db/queries/fleet-overview.ts';
import { openTestPool, requireServices } from './support/services.ts';

LiveFeed.configure({ pollMs: 150 });

const log = createLogger('api-live-scale-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let api: ApiServer;
let token = '';

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_api_live_scale');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme')`);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, online) SELECT 'van-' || i, 'acme', true FROM generate_series(1, 3) i`,
  );
  await pool.query(
    `INSERT INTO vehicle_latest (vehicle_id, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c, received_at)
     SELECT id, now(), 48.1, 11.5, 50, 1500, 60, 90, now() - interval '1 minute' FROM vehicles`,
  );
  token = (
    await createApiToken(pool, {
      tenantId: 'acme',
      name: 'live',
      permissions: ['vehicles:read'],
      createdBy: 'x',
    })
  ).token;
  api = await startApiServer({
    pool,
    host: '127.0.0.1',
    port: 0,
    log,
    limits: { perIp: 1e6, perUser: 1e6 },
  });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** A stream's raw text until `enough` holds (or 5 s), then closed. */
async function read(path: string, auth: Record<string, string>, enough: (text: string) => boolean) {
  const abort = new AbortController();
  const res = await fetch(`${api.url}/trpc/${path}`, {
    headers: { accept: 'text/event-stream', ...auth },
    signal: abort.signal,
  });
  let text = '';
  if (res.status === 200) {
    const decoder = new TextDecoder();
    const deadline = setTimeout(() => abort.abort(), 5000);
    try {
      for await (const chunk of res.body!) {
        text += decoder.decode(chunk, { stream: true });
        if (enough(text)) break;
      }
    } catch {
      // aborted at the deadline
    } finally {
      clearTimeout(deadline);
      abort.abort();
    }
  } else text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text };
}

const dataEvents = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.startsWith('data:'))
    .map((block) => block.slice(5).trim());

describe('the live feed at many streams', () => {
  it('40 streams opening at once: one snapshot query per poll, the same bytes on every stream, then the same update', async () => {
    const feed = LiveFeed.for(pool);
    const before = { ...feed.stats };
    const streams = Array.from({ length: 40 }, () =>
      read('live.positions', { authorization: `Bearer ${token}` }, (t) => dataEvents(t).length >= 2),
    );
    // All 40 subscribed; the first poll to start after that gives each its snapshot: once it has
    // ended (the next one started), one update goes to all of them.
    while (feed.subscribers < 40) await new Promise((r) => setTimeout(r, 25));
    const polls = feed.stats.polls;
    while (feed.stats.polls < polls + 2) await new Promise((r) => setTimeout(r, 25));
    await pool.query(`UPDATE vehicle_latest SET lat = 49.5, received_at = now() WHERE vehicle_id = 'van-2'`);
    const got = await Promise.all(streams);

    const snapshotQueries = feed.stats.snapshotQueries - before.snapshotQueries;
    expect(snapshotQueries).toBeGreaterThanOrEqual(1);
    // One scope (the tenant's fleet): at most one snapshot query per poll, far fewer than streams.
    expect(snapshotQueries).toBeLessThanOrEqual(feed.stats.polls - before.polls);
    expect(snapshotQueries).toBeLessThan(40);
    for (const s of got) {
      expect(s.status).toBe(200);
      expect(s.contentType).toMatch(/^text\/event-stream/);
      // tRPC's wire format: the `connected` event (the client's options) first.
      expect(s.text).toMatch(/^event: connected\ndata: \{"reconnectAfterInactivityMs":30000\}\n\n/);
      const [snapshot, update] = dataEvents(s.text).map((d) => JSON.parse(d) as PositionsMessage);
      expect(snapshot!.snapshot).toBe(true);
      expect(snapshot!.vehicles.map((v) => v.vehicleId)).toEqual(['van-1', 'van-2', 'van-3']);
      expect(update).toMatchObject({ snapshot: false, vehicles: [{ vehicleId: 'van-2', lat: 49.5 }] });
    }
    // The update is one shared message: every stream got exactly the same bytes.
    expect(new Set(got.map((s) => dataEvents(s.text)[1])).size).toBe(1);
    const end = Date.now() + 3000;
    while (feed.subscribers > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(feed.subscribers).toBe(0);
  });

  it("a refused stream keeps tRPC's own answer (its error event): no session, a token without the permission", async () => {
    const anonymous = await read('live.positions', {}, (t) => t.includes('serialized-error'));
    expect(anonymous.text).toMatch(/event: serialized-error\ndata: .*UNAUTHORIZED/);
    const alertsOnly = (
      await createApiToken(pool, {
        tenantId: 'acme',
        name: 'a',
        permissions: ['alerts:read'],
        createdBy: 'x',
      })
    ).token;
    const refused = await read('live.positions', { authorization: `Bearer ${alertsOnly}` }, (t) =>
      t.includes('serialized-error'),
    );
    expect(refused.text).toMatch(/event: serialized-error\ndata: .*FORBIDDEN/);
    expect(refused.text).not.toContain('van-1');
  });
});

describe('a client that does not read', () => {
  const vehicle = (vehicleId: string, lat: number): FleetVehicle => ({
    vehicleId,
    status: 'moving',
    lastSeen: lat,
    lat,
    lon: 11,
    speedKmh: 50,
    fuelLevelPct: 60,
    online: true,
  });

  it('holds one merged message of each vehicle latest state, whatever was sent meanwhile', async () => {
    let push: (m: PositionsMessage) => void = () => {};
    let unsubscribed = false;
    const gone = new AbortController();
    const stream = follow<PositionsMessage>(
      gone.signal,
      (p) => {
        push = p;
        return () => {
          unsubscribed = true;
        };
      },
      mergePositions,
    );
    const first = stream.next(); // subscribes
    push({ snapshot: true, vehicles: [vehicle('van-1', 1), vehicle('van-2', 1)] });
    expect((await first).value).toMatchObject({ snapshot: true });
    for (let i = 2; i <= 10_000; i++) push({ snapshot: false, vehicles: [vehicle(`van-${(i % 2) + 1}`, i)] });
    push({ snapshot: false, vehicles: [vehicle('van-3', 0)] });
    // The client reads what is queued, then goes away (which ends the stream).
    setTimeout(() => gone.abort(), 200);
    const queued: PositionsMessage[] = [];
    for await (const m of stream) queued.push(m);
    // At most the merged one plus the few that came after it, never the 10,000.
    expect(queued.length).toBeLessThanOrEqual(9);
    const latest = mergePositions(queued);
    expect(latest.vehicles.map((v) => [v.vehicleId, v.lat]).sort()).toEqual([
      ['van-1', 10_000],
      ['van-2', 9999],
      ['van-3', 0],
    ]);
    expect(unsubscribed).toBe(true);
  });

  it('alerts merge to the newest 1,000', () => {
    const alert = (id: number) => ({ id }) as unknown as AlertsMessage['alerts'][number];
    const merged = mergeAlerts(
      Array.from({ length: 3 }, (_, m) => ({
        alerts: Array.from({ length: 500 }, (_, i) => alert(m * 500 + i)),
      })),
    );
    expect(merged.alerts.length).toBe(1000);
    expect(merged.alerts[0]!.id).toBe(500);
    expect(merged.alerts.at(-1)!.id).toBe(1499);
  });
});
