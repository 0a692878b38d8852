import type { TelemetrySample } from '@fleet/shared';
import type pg from 'pg';

/**
 * A sample dated further ahead of the cloud's clock than this (a receiver with a bad clock, a
 * forged payload) is stored but never becomes "latest": it would freeze the latest state for good.
 */
export const LATEST_FUTURE_TOLERANCE_MS = 10 * 60_000;

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
  /** PID A6 km and the agent's GPS odometer (issue 17); null when the sample has none. */
  odometerKm: (number | null)[];
  gpsDistanceM: (number | null)[];
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
    odometerKm: [],
    gpsDistanceM: [],
  };
}

/** Appends one vehicle's sample to the columns. */
export function pushTelemetrySample(
  cols: TelemetryColumns,
  tenantId: string,
  vehicleId: string,
  s: TelemetrySample,
): void {
  cols.tenantId.push(tenantId);
  cols.vehicleId.push(vehicleId);
  cols.seq.push(s.seq);
  cols.tsMs.push(s.ts);
  cols.lat.push(s.lat);
  cols.lon.push(s.lon);
  cols.speedKmh.push(s.speedKmh);
  cols.rpm.push(s.rpm);
  cols.fuelLevelPct.push(s.fuelLevelPct);
  cols.coolantC.push(s.coolantC);
  cols.odometerKm.push(s.odometerKm ?? null);
  cols.gpsDistanceM.push(s.gpsDistanceM ?? null);
}

/**
 * The statement's parts. `u`: the rows, one per key (an exact copy of a batch delivered twice
 * in one group counts once), sorted by the primary key so that concurrent ingest processes take
 * row locks in the same order. Rollup and latest state are built from `source`: every row of `u`
 * on the fast path, only the rows really inserted (RETURNING) on the careful one.
 */
const ROWS_CTE = `u AS MATERIALIZED (
       SELECT DISTINCT ON (vehicle_id, ts, seq) tenant_id, vehicle_id, seq, ts, lat, lon,
              speed AS speed_kmh, rpm, fuel AS fuel_level_pct, coolant AS coolant_c, odo AS odometer_km,
              gps AS gps_distance_m
         FROM (SELECT tenant_id, vehicle_id, seq, to_timestamp(ts_ms / 1000.0) AS ts, lat, lon, speed,
                      rpm, fuel, coolant, odo, gps
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::float8[],
                             $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
                             $13::float8[], $14::float8[])
                      AS u(tenant_id, vehicle_id, seq, ts_ms, lat, lon, speed, rpm, fuel, coolant, odo, gps)) r
        ORDER BY vehicle_id, ts, seq)`;
const INSERT_ROWS = `INSERT INTO telemetry (tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c,
                              odometer_km, gps_distance_m)
       SELECT tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c,
              odometer_km, gps_distance_m FROM u`;
const derived = (source: 'u' | 'ins') => `roll AS (
       INSERT INTO telemetry_minute AS m
              (tenant_id, vehicle_id, minute, samples, speed_n, speed_min, speed_max, speed_sum,
               rpm_n, rpm_min, rpm_max, rpm_sum, fuel_min, fuel_max, coolant_max)
       SELECT tenant_id, vehicle_id, date_trunc('minute', ts), count(*), count(speed_kmh),
              min(speed_kmh), max(speed_kmh), coalesce(sum(speed_kmh), 0), count(rpm), min(rpm),
              max(rpm), coalesce(sum(rpm), 0), min(fuel_level_pct), max(fuel_level_pct), max(coolant_c)
         FROM ${source}
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
         FROM ${source}
        WHERE ts <= now() + make_interval(secs => $11 / 1000.0)
        ORDER BY vehicle_id, ts DESC, seq DESC
       ON CONFLICT (vehicle_id) DO UPDATE
          SET ts = EXCLUDED.ts, lat = EXCLUDED.lat, lon = EXCLUDED.lon, speed_kmh = EXCLUDED.speed_kmh,
              rpm = EXCLUDED.rpm, fuel_level_pct = EXCLUDED.fuel_level_pct, coolant_c = EXCLUDED.coolant_c,
              received_at = EXCLUDED.received_at
        WHERE l.ts < EXCLUDED.ts
       RETURNING vehicle_id, ts, lat, lon),
     ${FENCED_MOVES(source)}`;

/**
 * What the geofence decisions (cloud/src/alerts) need from the group, read in the same statement:
 * the geofence ids of the group's tenants that have any ($12: the group's tenants; one index
 * probe each), and the positions that moved a vehicle of such a tenant. A group without them
 * returns nothing: the gate is evaluated once and the join never runs.
 */
const FENCED_MOVES = (source: 'u' | 'ins') => `fenced AS (
       SELECT tenant_id, array_agg(id ORDER BY id) AS ids
         FROM geofences WHERE tenant_id = ANY($12::text[]) GROUP BY tenant_id),
     moved AS (
       SELECT t.tenant_id, l.vehicle_id, l.ts, l.lat, l.lon
         FROM latest l
         JOIN (SELECT DISTINCT tenant_id, vehicle_id FROM ${source}
                WHERE tenant_id IN (SELECT tenant_id FROM fenced)) t USING (vehicle_id)
        WHERE EXISTS (SELECT 1 FROM fenced) AND l.lat IS NOT NULL AND l.lon IS NOT NULL)`;
const FENCED_COLUMNS = `(SELECT json_object_agg(tenant_id, ids) FROM fenced) AS geofence_ids,
            (SELECT json_agg(json_build_object('tenantId', tenant_id, 'vehicleId', vehicle_id,
                                               'ts', extract(epoch FROM ts) * 1000, 'lat', lat, 'lon', lon))
               FROM moved) AS moved`;

/** Every row is new (the usual case): a plain INSERT, its rows feed rollup and latest directly. */
const FAST_SQL = `WITH ${ROWS_CTE},
     ins AS (${INSERT_ROWS}),
     ${derived('u')}
     SELECT (SELECT count(*) FROM u)::int AS inserted, ${FENCED_COLUMNS}`;

/** Some rows may be there already (a redelivery): skip those, and count only what was inserted. */
const CAREFUL_SQL = `WITH ${ROWS_CTE},
     ins AS (${INSERT_ROWS}
       ON CONFLICT (vehicle_id, ts, seq) DO NOTHING
       RETURNING tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c),
     ${derived('ins')}
     SELECT (SELECT count(*) FROM ins)::int AS inserted, ${FENCED_COLUMNS}`;

/** A vehicle's new latest position, as stored (time in epoch ms). */
export interface MovedPosition {
  tenantId: string;
  vehicleId: string;
  ts: number;
  lat: number;
  lon: number;
}

export interface StoredTelemetry {
  /** Rows that were new (the rest were stored before). */
  inserted: number;
  /** Geofence ids of the group's tenants that have geofences (an empty map: none has). */
  geofenceIds: Map<string, number[]>;
  /** Positions that moved a vehicle of those tenants forward (with lat and lon). */
  moved: MovedPosition[];
}

interface Outcome {
  inserted: number;
  geofence_ids: Record<string, number[]> | null;
  moved: MovedPosition[] | null;
}

/** Counters of this process: how often the fast path met a key that was already stored. */
export const insertTelemetryStats = { fastPath: 0, fallbacks: 0 };

/**
 * Stores the samples of many batches (a group commit) in one statement and returns how many were
 * new. In order: the raw row, skipped when its key (vehicle_id, ts, seq) is already there (a
 * redelivery carries the same seq and ts: migration 000011), the per-minute rollup from exactly
 * the rows inserted, and each vehicle's latest state moved forward only, from those rows too (the
 * newest new sample, at most LATEST_FUTURE_TOLERANCE_MS ahead of the database clock; a redelivery
 * already moved it when it was first stored). A deadlock that still happens is a database error
 * the caller retries.
 *
 * Two paths: redeliveries are rare (an agent killed before it saw its ack), and INSERT ... ON
 * CONFLICT DO NOTHING RETURNING costs about a quarter of the rate of a plain INSERT on every
 * row (a speculative insertion per row, and the returned rows materialised; measured with
 * the rows of bench/ingest.ts: 170,000 rows/s fast against 132,000 careful). So the statement first runs as a plain INSERT under a savepoint;
 * a unique violation (a key already stored, or being stored by another ingest process that then
 * committed) rolls back to the savepoint and runs the careful statement instead.
 *
 * Must run inside the caller's transaction (the savepoint needs one). The day partitions must
 * exist (telemetry_ensure_partitions).
 */
export async function insertTelemetryRows(
  db: pg.ClientBase,
  rows: TelemetryColumns,
  tenantIds: readonly string[] = [...new Set(rows.tenantId)],
): Promise<StoredTelemetry> {
  if (rows.seq.length === 0) return { inserted: 0, geofenceIds: new Map(), moved: [] };
  const params = [
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
    tenantIds,
    // Last, so the statement's other parameter numbers stay as they were.
    rows.odometerKm,
    rows.gpsDistanceM,
  ];
  await db.query('SAVEPOINT telemetry_fast');
  try {
    const { rows: out } = await db.query<Outcome>(FAST_SQL, params);
    insertTelemetryStats.fastPath++;
    return stored(out[0]!);
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    await db.query('ROLLBACK TO SAVEPOINT telemetry_fast');
  }
  insertTelemetryStats.fallbacks++;
  const { rows: out } = await db.query<Outcome>(CAREFUL_SQL, params);
  return stored(out[0]!);
}

const stored = (o: Outcome): StoredTelemetry => ({
  inserted: o.inserted,
  geofenceIds: new Map(Object.entries(o.geofence_ids ?? {})),
  moved: o.moved ?? [],
});

const UNIQUE_VIOLATION = '23505';
