/**
 * Geofence entries and exits from backfilled positions (GeofenceWatch.applyHistory), on real
 * PostgreSQL and on PGlite (the same statements, but PGlite's one session and its own timestamp
 * arithmetic are where a match by time could differ): the week a vehicle backfills after the
 * live batch is recorded in time order, once, as history; the live state stays.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeofenceWatch } from '../src/alerts/geofence-watch.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { alertsCreatedSince } from '../src/db/queries/alerts.ts';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';
import { seedSamples } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('geofence-history-test').child({}, { level: 'error' });
const HOUR = 3_600_000;
/** A square yard around (50.5, 8.5). */
const YARD = { lats: [50, 50, 51, 51], lons: [8, 9, 9, 8] };
const IN = { lat: 50.5, lon: 8.5 };
const OUT = { lat: 52, lon: 8.5 };

function cases(name: string, open: () => Promise<{ pool: pg.Pool; close(): Promise<void> }>) {
  describe(name, () => {
    let pool: pg.Pool;
    let close: () => Promise<void>;
    const watch = new GeofenceWatch();
    let seq = 1;
    const at = (ts: number, p: { lat: number; lon: number }) => ({
      seq: seq++,
      ts,
      ...p,
      speedKmh: 20,
      rpm: 1200,
      fuelLevelPct: 50,
      coolantC: 90,
    });
    const store = (vehicle: string, samples: ReturnType<typeof at>[], historical: boolean) =>
      seedSamples(pool, 'acme', vehicle, samples, watch, historical);
    const history = async (vehicle: string) =>
      (
        await pool.query<{ type: string; ts: Date; status: string }>(
          `SELECT type, ts, status FROM alerts WHERE vehicle_id = $1 ORDER BY ts, id`,
          [vehicle],
        )
      ).rows.map((r) => [r.type.replace('geofence_', ''), r.ts.getTime(), r.status]);
    const inside = async (vehicle: string) =>
      (await pool.query('SELECT 1 FROM geofence_presence WHERE vehicle_id = $1', [vehicle])).rowCount;

    beforeAll(async () => {
      ({ pool, close } = await open());
      await migrate(pool, log);
      await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme')`);
      for (const v of ['van-1', 'van-2', 'van-3', 'van-4', 'van-5'])
        await pool.query(`INSERT INTO vehicles (id, tenant_id, online) VALUES ($1, 'acme', true)`, [v]);
      await pool.query(
        `INSERT INTO geofences (tenant_id, name, lats, lons, min_lat, max_lat, min_lon, max_lon, created_by)
         VALUES ('acme', 'Yard', $1, $2, 50, 51, 8, 9, 'test')`,
        [YARD.lats, YARD.lons],
      );
    }, 60_000);
    afterAll(() => close?.());

    it('a week backfilled after the live batch: its visits in time order, once, the live state kept', async () => {
      const t0 = Date.now() - 7 * 24 * HOUR;
      await store('van-1', [at(t0, OUT)], false); // last heard of a week ago, outside
      const live = Date.now() - 60_000;
      await store('van-1', [at(live - 1000, IN), at(live, IN)], false); // back online, in the yard
      expect(await history('van-1')).toEqual([['enter', live, 'open']]);
      // Backfill, oldest first: in the yard on Tuesday, out, back in Sunday night (parked since).
      const b1 = [at(t0 + HOUR, OUT), at(t0 + 2 * HOUR, IN), at(t0 + 3 * HOUR, IN)];
      const b2 = [at(t0 + 4 * HOUR, OUT), at(t0 + 5 * HOUR, IN), at(live - 2 * HOUR, IN)];
      await store('van-1', b1, true);
      await store('van-1', b2, true);
      const week = [
        ['enter', t0 + 2 * HOUR, 'resolved'],
        ['exit', t0 + 4 * HOUR, 'resolved'],
        ['enter', t0 + 5 * HOUR, 'resolved'],
      ];
      // The live "entered" was the vehicle coming online, not arriving: taken back.
      expect(await history('van-1')).toEqual(week);
      // A batch replayed after a lost ack stores nothing new, records nothing twice.
      await store('van-1', b1, true);
      await store('van-1', b2, true);
      expect(await history('van-1')).toEqual(week);
      expect(await inside('van-1')).toBe(1);
    });

    it('backfill older than the live position never flips the current state', async () => {
      const t0 = Date.now() - 3 * 24 * HOUR;
      const live = Date.now() - 30_000;
      await store('van-2', [at(live, OUT)], false); // first position: outside, nothing to record
      await store('van-2', [at(t0, IN), at(t0 + HOUR, IN)], true); // history ends inside
      expect(await inside('van-2')).toBe(0);
      // Inside from the first stored position, left by the live one: both recorded, not alerted.
      expect(await history('van-2')).toEqual([
        ['enter', t0, 'resolved'],
        ['exit', live, 'resolved'],
      ]);
      const later = Date.now();
      await store('van-2', [at(later, IN)], false); // the live path still judges the live state
      expect((await history('van-2')).at(-1)).toEqual(['enter', later, 'open']);
      expect(await inside('van-2')).toBe(1);
    });

    it('backfill with nothing live yet moves presence, records its changes, alerts none', async () => {
      const t0 = Date.now() - 5 * 24 * HOUR;
      // Oldest first, each batch newer than the vehicle's latest: presence follows, nothing opens.
      await store('van-5', [at(t0, OUT), at(t0 + HOUR, IN)], true);
      expect(await inside('van-5')).toBe(1);
      await store('van-5', [at(t0 + 2 * HOUR, IN), at(t0 + 3 * HOUR, OUT)], true);
      expect(await inside('van-5')).toBe(0);
      expect(await history('van-5')).toEqual([
        ['enter', t0 + HOUR, 'resolved'],
        ['exit', t0 + 3 * HOUR, 'resolved'],
      ]);
      // Not news for an open dashboard either (the live feed's query).
      const c = await pool.connect();
      try {
        const pushed = await alertsCreatedSince(c, 'acme', Date.now() - 60_000);
        expect(pushed.filter((a) => a.vehicleId === 'van-5')).toEqual([]);
        expect(pushed.filter((a) => a.status === 'open').length).toBeGreaterThan(0); // the live ones
      } finally {
        c.release();
      }
    });

    it("a deleted geofence's records are left as they are", async () => {
      const t0 = Date.now() - 4 * 24 * HOUR;
      const live = Date.now() - 20_000;
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO geofences (tenant_id, name, lats, lons, min_lat, max_lat, min_lon, max_lon, created_by)
         VALUES ('acme', 'Old yard', $1, $2, 50, 51, 8, 9, 'test') RETURNING id`,
        [YARD.lats, YARD.lons],
      );
      await store('van-4', [at(t0, OUT)], false);
      await store('van-4', [at(live, IN)], false); // enters both yards
      await pool.query('DELETE FROM geofences WHERE id = $1', [rows[0]!.id]);
      await store('van-4', [at(t0 + HOUR, IN)], true);
      const { rows: left } = await pool.query<{ geofence_id: number; ts: Date; status: string }>(
        `SELECT geofence_id, ts, status FROM alerts WHERE vehicle_id = 'van-4' ORDER BY ts, geofence_id`,
      );
      expect(
        left.map((r) => [r.geofence_id === rows[0]!.id ? 'old' : 'yard', r.ts.getTime(), r.status]),
      ).toEqual([
        ['yard', t0 + HOUR, 'resolved'],
        ['old', live, 'open'],
      ]);
    });

    it('an acknowledged live alert is never taken back', async () => {
      const t0 = Date.now() - 2 * 24 * HOUR;
      await store('van-3', [at(t0, OUT)], false);
      const live = Date.now() - 10_000;
      await store('van-3', [at(live, IN)], false);
      await pool.query(`UPDATE alerts SET status = 'acknowledged' WHERE vehicle_id = 'van-3'`);
      await store('van-3', [at(t0 + HOUR, IN)], true);
      expect(await history('van-3')).toEqual([
        ['enter', t0 + HOUR, 'resolved'],
        ['enter', live, 'acknowledged'],
      ]);
    });
  });
}

cases('PostgreSQL', async () => {
  await requireServices({ postgres: true });
  const db = await openTestPool('t_geofence_history');
  return { pool: db.pool, close: () => db.drop() };
});

cases('PGlite', async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const embedded = await startEmbeddedDatabase({ host: '127.0.0.1', port, log });
  // One connection: PGlite has a single session, so a transaction must not interleave.
  const pool = await openPool({ url: embedded.url, max: 1 });
  return {
    pool,
    async close() {
      await pool.end();
      await embedded.close();
    },
  };
});
