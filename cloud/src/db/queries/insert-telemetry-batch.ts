import type { TelemetrySample } from '@fleet/shared';
import type pg from 'pg';

/**
 * Inserts one vehicle's samples in a single statement (arrays through unnest, not SQL built from
 * strings) and returns how many were new. Conflicts on (vehicle_id, seq) are redeliveries.
 */
export async function insertTelemetryBatch(
  db: pg.PoolClient,
  vehicleId: string,
  samples: readonly TelemetrySample[],
): Promise<number> {
  const { rows } = await db.query<{ inserted: number }>(
    `WITH ins AS (
       INSERT INTO telemetry (vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c)
       SELECT $1, u.seq, to_timestamp(u.ts_ms / 1000.0), u.lat, u.lon, u.speed, u.rpm, u.fuel, u.coolant
         FROM unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[],
                     $8::float8[], $9::float8[])
              AS u(seq, ts_ms, lat, lon, speed, rpm, fuel, coolant)
       ON CONFLICT (vehicle_id, seq) DO NOTHING
       RETURNING 1)
     SELECT count(*)::int AS inserted FROM ins`,
    [
      vehicleId,
      samples.map((s) => s.seq),
      samples.map((s) => s.ts),
      samples.map((s) => s.lat),
      samples.map((s) => s.lon),
      samples.map((s) => s.speedKmh),
      samples.map((s) => s.rpm),
      samples.map((s) => s.fuelLevelPct),
      samples.map((s) => s.coolantC),
    ],
  );
  return rows[0]?.inserted ?? 0;
}
