import type pg from 'pg';
import {
  type StoredVehicleEvent,
  toStoredVehicleEvent,
  type VehicleEventDbRow,
} from './insert-vehicle-events.ts';

/**
 * Bucket sizes a chart may use, in seconds. The smallest one that keeps a range under
 * MAX_POINTS wins: an hour is 60 one-minute points, a year 365 daily ones.
 */
export const BUCKETS_S = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400] as const;
export const MAX_POINTS = 500;

export function bucketFor(fromMs: number, toMs: number): number {
  const spanS = (toMs - fromMs) / 1000;
  return BUCKETS_S.find((b) => spanS / b <= MAX_POINTS) ?? BUCKETS_S[BUCKETS_S.length - 1]!;
}

export interface FuelPoint {
  /** Bucket start, epoch ms. */
  t: number;
  /** Mean of the minute rollups' min/max midpoints in the bucket, and the extremes. */
  pct: number;
  minPct: number;
  maxPct: number;
  /** Raw samples behind the point. */
  samples: number;
}

/**
 * A vehicle's fuel level over [from, to) from the per-minute rollups (telemetry_minute), never
 * the raw rows, in buckets of `bucketS` seconds aligned to the epoch.
 */
export async function fuelLevelSeries(
  db: pg.PoolClient,
  q: { tenantId: string; vehicleId: string; from: number; to: number; bucketS: number },
): Promise<FuelPoint[]> {
  const { rows } = await db.query<{ b: number; pct: number; lo: number; hi: number; n: number }>(
    `SELECT (floor(extract(epoch FROM minute) / $5) * $5)::float8 AS b,
            avg((fuel_min + fuel_max) / 2)::float8 AS pct, min(fuel_min)::float8 AS lo,
            max(fuel_max)::float8 AS hi, sum(samples)::int AS n
       FROM telemetry_minute
      WHERE tenant_id = $1 AND vehicle_id = $2
        AND minute >= to_timestamp($3 / 1000.0) AND minute < to_timestamp($4 / 1000.0)
        AND fuel_min IS NOT NULL
      GROUP BY 1 ORDER BY 1`,
    [q.tenantId, q.vehicleId, q.from, q.to, q.bucketS],
  );
  return rows.map((r) => ({ t: r.b * 1000, pct: r.pct, minPct: r.lo, maxPct: r.hi, samples: r.n }));
}

/** A vehicle's events in [from, to) in time order (after the cursor), optionally of some types. */
export async function listVehicleEvents(
  db: pg.PoolClient,
  q: {
    tenantId: string;
    vehicleId: string;
    from: number;
    to: number;
    types: string[] | null;
    limit: number;
    after: { start: number; eventId: number } | null;
  },
): Promise<StoredVehicleEvent[]> {
  const { rows } = await db.query<Omit<VehicleEventDbRow, 'tenant_id'>>(
    `SELECT vehicle_id, event_id, type, start_ts, end_ts, volume_l, lat, lon,
            coalesce(driver_id, assigned_driver(vehicle_id, start_ts)) AS driver_id, confidence, details
       FROM vehicle_events
      WHERE tenant_id = $1 AND vehicle_id = $2
        AND start_ts >= to_timestamp($3 / 1000.0) AND start_ts < to_timestamp($4 / 1000.0)
        AND ($5::text[] IS NULL OR type = ANY ($5))
        AND ($6::float8 IS NULL OR (start_ts, event_id) > (to_timestamp($6 / 1000.0), $7::bigint))
      ORDER BY start_ts, event_id
      LIMIT $8`,
    [
      q.tenantId,
      q.vehicleId,
      q.from,
      q.to,
      q.types,
      q.after?.start ?? null,
      q.after?.eventId ?? null,
      q.limit,
    ],
  );
  return rows.map(toStoredVehicleEvent);
}
