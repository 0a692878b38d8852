import type pg from 'pg';
import { LATEST_FUTURE_TOLERANCE_MS } from './upsert-vehicle-latest.ts';

/** Samples of several vehicles flattened into columns: one array per column, same length. */
export interface TelemetryColumns {
  tenantId: string[];
  vehicleId: string[];
  seq: number[];
  tsMs: number[];
  lat: (number | null)[];
  lon: (number | null)[];
  speedKmh: (number | null)[];
  rpm: (number | null)[];
  fuelLevelPct: (number | null)[];
  coolantC: (number | null)[];
}

export function emptyTelemetryColumns(): TelemetryColumns {
  return {
    tenantId: [],
    vehicleId: [],
    seq: [],
    tsMs: [],
    lat: [],
    lon: [],
    speedKmh: [],
    rpm: [],
    fuelLevelPct: [],
    coolantC: [],
  };
}

/**
 * Stores the samples of many batches (a group commit) in one statement and returns how many were
 * new. In order: the raw row, skipped when its key (vehicle_id, ts, seq) is already there (a
 * redelivery carries the same seq and ts: migration 000011), the per-minute rollup from exactly
 * the rows inserted, and each vehicle's latest state moved forward only, from those rows too (the
 * newest new sample, at most LATEST_FUTURE_TOLERANCE_MS ahead of the database clock; a redelivery
 * already moved it when it was first stored). Rows are sorted by key so concurrent ingest
 * processes take row locks in the same order; a deadlock that still happens is a database error
 * the caller retries.
 * The day partitions must exist (telemetry_ensure_partitions).
 */
export async function insertTelemetryRows(db: pg.PoolClient, rows: TelemetryColumns): Promise<number> {
  if (rows.seq.length === 0) return 0;
  const { rows: out } = await db.query<{ inserted: number }>(
    `WITH u AS (
       SELECT DISTINCT ON (vehicle_id, seq) tenant_id, vehicle_id, seq,
              to_timestamp(ts_ms / 1000.0) AS ts, lat, lon, speed, rpm, fuel, coolant
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[],
                     $7::float8[], $8::float8[], $9::float8[], $10::float8[])
              AS u(tenant_id, vehicle_id, seq, ts_ms, lat, lon, speed, rpm, fuel, coolant)
        ORDER BY vehicle_id, seq),
     ins AS (
       INSERT INTO telemetry (tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c)
       SELECT tenant_id, vehicle_id, seq, ts, lat, lon, speed, rpm, fuel, coolant FROM u
       ON CONFLICT (vehicle_id, ts, seq) DO NOTHING
       RETURNING tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c),
     roll AS (
       INSERT INTO telemetry_minute AS m
              (tenant_id, vehicle_id, minute, samples, speed_n, speed_min, speed_max, speed_sum,
               rpm_n, rpm_min, rpm_max, rpm_sum, fuel_min, fuel_max, coolant_max)
       SELECT tenant_id, vehicle_id, date_trunc('minute', ts), count(*), count(speed_kmh),
              min(speed_kmh), max(speed_kmh), coalesce(sum(speed_kmh), 0), count(rpm), min(rpm),
              max(rpm), coalesce(sum(rpm), 0), min(fuel_level_pct), max(fuel_level_pct), max(coolant_c)
         FROM ins
        GROUP BY tenant_id, vehicle_id, date_trunc('minute', ts)
        ORDER BY vehicle_id, date_trunc('minute', ts)
       ON CONFLICT (vehicle_id, minute) DO UPDATE
          SET samples = m.samples + EXCLUDED.samples,
              speed_n = m.speed_n + EXCLUDED.speed_n,
              speed_min = LEAST(m.speed_min, EXCLUDED.speed_min),
              speed_max = GREATEST(m.speed_max, EXCLUDED.speed_max),
              speed_sum = m.speed_sum + EXCLUDED.speed_sum,
              rpm_n = m.rpm_n + EXCLUDED.rpm_n,
              rpm_min = LEAST(m.rpm_min, EXCLUDED.rpm_min),
              rpm_max = GREATEST(m.rpm_max, EXCLUDED.rpm_max),
              rpm_sum = m.rpm_sum + EXCLUDED.rpm_sum,
              fuel_min = LEAST(m.fuel_min, EXCLUDED.fuel_min),
              fuel_max = GREATEST(m.fuel_max, EXCLUDED.fuel_max),
              coolant_max = GREATEST(m.coolant_max, EXCLUDED.coolant_max)
       RETURNING 1),
     latest AS (
       INSERT INTO vehicle_latest AS l
              (vehicle_id, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c, received_at)
       SELECT DISTINCT ON (vehicle_id) vehicle_id, ts, lat, lon, speed_kmh, rpm, fuel_level_pct,
              coolant_c, now()
         FROM ins
        WHERE ts <= now() + make_interval(secs => $11 / 1000.0)
        ORDER BY vehicle_id, ts DESC, seq DESC
       ON CONFLICT (vehicle_id) DO UPDATE
          SET ts = EXCLUDED.ts, lat = EXCLUDED.lat, lon = EXCLUDED.lon, speed_kmh = EXCLUDED.speed_kmh,
              rpm = EXCLUDED.rpm, fuel_level_pct = EXCLUDED.fuel_level_pct, coolant_c = EXCLUDED.coolant_c,
              received_at = EXCLUDED.received_at
        WHERE l.ts < EXCLUDED.ts
       RETURNING 1)
     SELECT (SELECT count(*) FROM ins)::int AS inserted,
            (SELECT count(*) FROM roll)::int AS minutes,
            (SELECT count(*) FROM latest)::int AS latest`,
    [
      rows.tenantId,
      rows.vehicleId,
      rows.seq,
      rows.tsMs,
      rows.lat,
      rows.lon,
      rows.speedKmh,
      rows.rpm,
      rows.fuelLevelPct,
      rows.coolantC,
      LATEST_FUTURE_TOLERANCE_MS,
    ],
  );
  return out[0]?.inserted ?? 0;
}
