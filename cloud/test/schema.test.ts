/**
 * Migration 000002 (partitioned telemetry, dedupe key, rollups, RLS) on both databases the cloud
 * runs on: the real PostgreSQL 15 and PGlite (the embedded stack), with the same assertions.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { ensureTelemetryPartitions, utcDay } from '../src/db/queries/ensure-telemetry-partitions.ts';
import {
  emptyTelemetryColumns,
  insertTelemetryRows,
  insertTelemetryStats,
  type TelemetryColumns,
} from '../src/db/queries/insert-telemetry-rows.ts';
import { registerVehicles } from '../src/db/queries/register-vehicles.ts';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';
import { MIGRATION_FILES, openTestPool, requireServices } from './support/services.ts';

const log = createLogger('test').child({}, { level: 'error' });
const T0 = Date.UTC(2024, 4, 1, 23, 59, 30); // 30 s before midnight: the rows span two days

interface Backend {
  pool: pg.Pool;
  close(): Promise<void>;
}

const backends: Record<string, () => Promise<Backend>> = {
  postgresql: async () => {
    await requireServices({ postgres: true });
    const t = await openTestPool('t_schema');
    return { pool: t.pool, close: t.drop };
  },
  pglite: async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const db = await startEmbeddedDatabase({ host: '127.0.0.1', port, log });
    // One connection: PGlite has a single session, so a transaction must not interleave.
    const pool = await openPool({ url: db.url, max: 1 });
    return {
      pool,
      close: async () => {
        await pool.end();
        await db.close();
      },
    };
  },
};

function rows(tenant: string, vehicle: string, seqs: number[], ts = (s: number) => T0 + s * 1000) {
  const r: TelemetryColumns = emptyTelemetryColumns();
  for (const s of seqs) {
    r.tenantId.push(tenant);
    r.vehicleId.push(vehicle);
    r.seq.push(s);
    r.tsMs.push(ts(s));
    r.lat.push(48 + s / 1000);
    r.lon.push(11);
    r.speedKmh.push(s * 10);
    r.rpm.push(s % 2 === 0 ? null : 1000 + s);
    r.fuelLevelPct.push(50);
    r.coolantC.push(80 + s);
  }
  return r;
}

async function store(pool: pg.Pool, r: TelemetryColumns): Promise<number> {
  await ensureTelemetryPartitions(pool, [...new Set(r.tsMs.map(utcDay))]);
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    await registerVehicles(
      db,
      r.vehicleId.map((v, i) => ({ vehicleId: v, tenantId: r.tenantId[i]! })),
    );
    const { inserted } = await insertTelemetryRows(db, r);
    await db.query('COMMIT');
    return inserted;
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  } finally {
    db.release();
  }
}

for (const [name, open] of Object.entries(backends)) {
  describe(`schema 000002 on ${name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await open();
      expect(await migrate(b.pool, log)).toBe(MIGRATION_FILES.length);
    });
    afterAll(async () => {
      await b?.close();
    });

    it('stores rows in daily partitions; a redelivery inserts nothing, a reflashed agent reusing a seq loses nothing', async () => {
      const fallbacks = insertTelemetryStats.fallbacks;
      expect(await store(b.pool, rows('acme', 'van-1', [1, 2, 3, 4, 5, 60]))).toBe(6);
      expect(insertTelemetryStats.fallbacks).toBe(fallbacks); // all new: the plain INSERT did it
      // Same batch again and an overlapping one: only seq 61 is new (the careful statement, after
      // the plain INSERT met a stored key and rolled back to its savepoint).
      expect(await store(b.pool, rows('acme', 'van-1', [1, 2, 3, 4, 5, 60]))).toBe(0);
      expect(await store(b.pool, rows('acme', 'van-1', [60, 61]))).toBe(1);
      expect(insertTelemetryStats.fallbacks).toBe(fallbacks + 2);
      // An agent whose database was recreated counts from 1 again: its seq 2 a day later is a new
      // sample and is stored (migration 000011); sent twice, it is stored once.
      expect(await store(b.pool, rows('initech', 'van-r', [1, 2]))).toBe(2);
      const reflashed = rows('initech', 'van-r', [2], () => T0 + 86_400_000);
      expect(await store(b.pool, reflashed)).toBe(1);
      expect(await store(b.pool, reflashed)).toBe(0);
      // A seq repeated inside one batch is stored once.
      expect(await store(b.pool, rows('acme', 'van-1', [70, 70]))).toBe(1);
      // One group holding the old agent's seq 3 and the reflashed agent's seq 3 keeps both.
      const both = rows('initech', 'van-s', [3]);
      const again = rows('initech', 'van-s', [3], () => T0 + 86_400_000);
      for (const k of Object.keys(both) as (keyof TelemetryColumns)[])
        (both[k] as unknown[]).push(...(again[k] as unknown[]));
      expect(await store(b.pool, both)).toBe(2);

      const { rows: parts } = await b.pool.query<{ part: string; n: number }>(
        `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM telemetry
          WHERE vehicle_id = 'van-1' GROUP BY 1 ORDER BY 1`,
      );
      expect(parts.map((p) => [p.part.replace(/^.*\./, ''), p.n])).toEqual([
        ['telemetry_p20240501', 5], // seqs 1..5: 29...25 s before midnight
        ['telemetry_p20240502', 3], // 60, 61, 70
      ]);
    });

    it('maintains per-minute rollups from the inserted rows only', async () => {
      const { rows: m } = await b.pool.query(
        `SELECT to_char(minute AT TIME ZONE 'UTC', 'HH24:MI') AS minute, samples, speed_min, speed_max,
                speed_avg, rpm_n, rpm_min, rpm_max, rpm_avg, coolant_max
           FROM telemetry_minute WHERE vehicle_id = 'van-1' ORDER BY telemetry_minute.minute`,
      );
      expect(m).toEqual([
        {
          minute: '23:59',
          samples: 5,
          speed_min: 10,
          speed_max: 50,
          speed_avg: 30,
          rpm_n: 3,
          rpm_min: 1001,
          rpm_max: 1005,
          rpm_avg: 1003,
          coolant_max: 85,
        },
        {
          minute: '00:00',
          samples: 3,
          speed_min: 600,
          speed_max: 700,
          speed_avg: (600 + 610 + 700) / 3,
          rpm_n: 1,
          rpm_min: 1061,
          rpm_max: 1061,
          rpm_avg: 1061,
          coolant_max: 150,
        },
      ]);
    });

    it('moves vehicle_latest forward only, never to a sample beyond the future tolerance', async () => {
      const latest = async () =>
        (await b.pool.query<{ ts: Date }>(`SELECT ts FROM vehicle_latest WHERE vehicle_id = 'van-1'`)).rows[0]
          ?.ts;
      expect(await latest()).toEqual(new Date(T0 + 70_000));
      await store(
        b.pool,
        rows('acme', 'van-1', [80], () => T0 - 3600_000),
      ); // backfill
      expect(await latest()).toEqual(new Date(T0 + 70_000));
      await store(
        b.pool,
        rows('acme', 'van-1', [81], () => Date.now() + 3600_000),
      ); // bad clock
      expect(await latest()).toEqual(new Date(T0 + 70_000));
      const now = Date.now() - 1000;
      await store(
        b.pool,
        rows('acme', 'van-1', [82], () => now),
      );
      expect(await latest()).toEqual(new Date(now));
    });

    it('row-level security: fleet_app sees only the tenant in app.tenant_id, nothing without it', async () => {
      await store(b.pool, rows('globex', 'truck-9', [1, 2]));
      const db = await b.pool.connect();
      const count = async (table: string) =>
        (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
      try {
        await db.query('BEGIN');
        await db.query('SET LOCAL ROLE fleet_app');
        expect(await count('telemetry')).toBe(0);
        expect(await count('vehicle_latest')).toBe(0);
        await db.query(`SELECT set_config('app.tenant_id', 'globex', true)`);
        expect(await count('telemetry')).toBe(2);
        expect(await count('telemetry_minute')).toBe(1);
        expect(await count('vehicles')).toBe(1);
        expect(await count('tenants')).toBe(1);
        expect(await count('vehicle_latest')).toBe(1);
        await db.query(`SELECT set_config('app.tenant_id', 'acme', true)`);
        expect(await count('telemetry')).toBe(11); // 1-5, 60, 61, 70, 80-82
        await expect(db.query('SELECT count(*) FROM dead_letters')).rejects.toThrow(/permission denied/);
        await db.query('ROLLBACK');
      } finally {
        await db.query('ROLLBACK').catch(() => {});
        db.release();
      }
    });
  });
}
