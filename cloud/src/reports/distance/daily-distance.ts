/**
 * Telemetry → the kept distance records (vehicle_day_distance, ifta_trip_records,
 * ifta_distance_gaps), one vehicle and UTC day at a time (a day of 1 Hz samples is 86,400 rows;
 * a quarter would not fit in memory). A day without telemetry keeps what was stored for it: the
 * raw rows may be gone to retention while the records must stay 4 years.
 *
 * Runs as the tenant (inside inTenant / ctx.tenant): row-level security scopes every statement.
 */
import type pg from 'pg';
import type { JurisdictionMap } from '../jurisdictions/jurisdiction-map.ts';
import { summariseTrack, type TrackSample } from './track.ts';

type Db = Pick<pg.PoolClient, 'query'>;
const DAY_MS = 86_400_000;

export interface RollupSummary {
  vehicles: number;
  days: number;
  records: number;
  gaps: number;
}

export async function rollupDailyDistance(
  db: Db,
  tenantId: string,
  range: { from: number; to: number },
  map: JurisdictionMap,
): Promise<RollupSummary> {
  const from = Math.floor(range.from / DAY_MS) * DAY_MS;
  const to = Math.ceil(range.to / DAY_MS) * DAY_MS;
  const { rows: vehicles } = await db.query<{ id: string }>(
    'SELECT id FROM vehicles WHERE tenant_id = $1 ORDER BY id',
    [tenantId],
  );
  const out: RollupSummary = { vehicles: 0, days: 0, records: 0, gaps: 0 };
  for (const { id } of vehicles) {
    let odometerBefore = await lastOdometerBefore(db, tenantId, id, from);
    let before = await lastSampleBefore(db, tenantId, id, from);
    let touched = false;
    for (let day = from; day < to; day += DAY_MS) {
      const samples = await daySamples(db, tenantId, id, day);
      if (samples.length === 0) continue;
      touched = true;
      const s = summariseTrack(samples, map, {}, odometerBefore, before);
      before = samples.at(-1)!;
      const dayIso = new Date(day).toISOString().slice(0, 10);
      const d = s.days.find((x) => x.day === dayIso);
      await db.query(
        `INSERT INTO vehicle_day_distance (tenant_id, vehicle_id, day, odometer_start_km, odometer_end_km, gps_m, by_jurisdiction)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, vehicle_id, day) DO UPDATE SET odometer_start_km = EXCLUDED.odometer_start_km,
           odometer_end_km = EXCLUDED.odometer_end_km, gps_m = EXCLUDED.gps_m,
           by_jurisdiction = EXCLUDED.by_jurisdiction, computed_at = now()`,
        [
          tenantId,
          id,
          dayIso,
          d?.odometerStartKm ?? null,
          d?.odometerEndKm ?? null,
          d?.gpsMetres ?? 0,
          JSON.stringify(Object.fromEntries(d?.byJurisdiction ?? [])),
        ],
      );
      const end = new Date(day + DAY_MS);
      await db.query(
        'DELETE FROM ifta_trip_records WHERE tenant_id = $1 AND vehicle_id = $2 AND ts >= $3 AND ts < $4',
        [tenantId, id, new Date(day), end],
      );
      await db.query(
        `INSERT INTO ifta_trip_records (tenant_id, vehicle_id, ts, kind, lat, lon, odometer_km, jurisdiction)
         SELECT $1, $2, to_timestamp(u.ts / 1000.0), u.kind, u.lat, u.lon, u.odo, u.j
           FROM unnest($3::float8[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::text[])
             AS u(ts, kind, lat, lon, odo, j)
         ON CONFLICT DO NOTHING`,
        [
          tenantId,
          id,
          s.records.map((r) => r.ts),
          s.records.map((r) => r.kind),
          s.records.map((r) => r.lat),
          s.records.map((r) => r.lon),
          s.records.map((r) => r.odometerKm),
          s.records.map((r) => r.jurisdiction),
        ],
      );
      await db.query(
        'DELETE FROM ifta_distance_gaps WHERE tenant_id = $1 AND vehicle_id = $2 AND from_ts >= $3 AND from_ts < $4',
        [tenantId, id, new Date(day), end],
      );
      for (const g of s.gaps)
        await db.query(
          `INSERT INTO ifta_distance_gaps (tenant_id, vehicle_id, from_ts, to_ts, from_jurisdiction, to_jurisdiction, metres)
           VALUES ($1, $2, to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), $5, $6, $7) ON CONFLICT DO NOTHING`,
          [tenantId, id, g.from, g.to, g.fromJurisdiction, g.toJurisdiction, g.metres],
        );
      out.days++;
      out.records += s.records.length;
      out.gaps += s.gaps.length;
      odometerBefore = d?.odometerEndKm ?? odometerBefore;
    }
    if (touched) out.vehicles++;
  }
  return out;
}

async function lastOdometerBefore(db: Db, tenantId: string, vehicleId: string, before: number) {
  // A week back at most: older than that, the day's first reading starts the count.
  const { rows } = await db.query<{ odometer_km: number }>(
    `SELECT odometer_km FROM telemetry
      WHERE tenant_id = $1 AND vehicle_id = $2 AND ts >= $3 AND ts < $4 AND odometer_km IS NOT NULL
      ORDER BY ts DESC LIMIT 1`,
    [tenantId, vehicleId, new Date(before - 7 * DAY_MS), new Date(before)],
  );
  return rows[0]?.odometer_km ?? null;
}

/** The last sample of the day before `before` (the step and the gap across midnight). */
async function lastSampleBefore(db: Db, tenantId: string, vehicleId: string, before: number) {
  const rows = await samplesBetween(db, tenantId, vehicleId, before - DAY_MS, before, 'DESC LIMIT 1');
  return rows[0] ?? null;
}

function daySamples(db: Db, tenantId: string, vehicleId: string, day: number): Promise<TrackSample[]> {
  return samplesBetween(db, tenantId, vehicleId, day, day + DAY_MS, 'ASC');
}

async function samplesBetween(
  db: Db,
  tenantId: string,
  vehicleId: string,
  from: number,
  to: number,
  order: 'ASC' | 'DESC LIMIT 1',
): Promise<TrackSample[]> {
  const { rows } = await db.query<{
    ts: number;
    lat: number | null;
    lon: number | null;
    speed_kmh: number | null;
    rpm: number | null;
    odometer_km: number | null;
  }>(
    `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, lat, lon, speed_kmh, rpm, odometer_km
       FROM telemetry
      WHERE tenant_id = $1 AND vehicle_id = $2 AND ts >= $3 AND ts < $4
      ORDER BY ts ${order === 'ASC' ? 'ASC, seq ASC' : 'DESC, seq DESC LIMIT 1'}`,
    [tenantId, vehicleId, new Date(from), new Date(to)],
  );
  return rows.map((r) => ({
    ts: r.ts,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed_kmh,
    rpm: r.rpm,
    odometerKm: r.odometer_km,
  }));
}
