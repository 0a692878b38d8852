import type { TelemetrySample } from '@fleet/shared';
import type pg from 'pg';

/**
 * A sample dated further ahead of the cloud's clock than this (a receiver with a bad clock, a
 * forged payload) is stored but never becomes "latest": it would freeze the latest state for good.
 */
export const LATEST_FUTURE_TOLERANCE_MS = 10 * 60_000;

/** Moves a vehicle's latest state forward to `sample`, and only forward (late data is ignored). */

export async function upsertVehicleLatest(db: pg.PoolClient, vehicleId: string, sample: TelemetrySample) {
  await db.query(
    `INSERT INTO vehicle_latest AS l
            (vehicle_id, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c, received_at)
     SELECT $1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7, $8, now()
      WHERE to_timestamp($2 / 1000.0) <= now() + make_interval(secs => $9 / 1000.0)
     ON CONFLICT (vehicle_id) DO UPDATE
        SET ts = EXCLUDED.ts, lat = EXCLUDED.lat, lon = EXCLUDED.lon, speed_kmh = EXCLUDED.speed_kmh,
            rpm = EXCLUDED.rpm, fuel_level_pct = EXCLUDED.fuel_level_pct, coolant_c = EXCLUDED.coolant_c,
            received_at = EXCLUDED.received_at
      WHERE l.ts < EXCLUDED.ts`,
    [
      vehicleId,
      sample.ts,
      sample.lat,
      sample.lon,
      sample.speedKmh,
      sample.rpm,
      sample.fuelLevelPct,
      sample.coolantC,
      LATEST_FUTURE_TOLERANCE_MS,
    ],
  );
}
